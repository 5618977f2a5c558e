/**
 * The local Kubernetes as `npm run bench:operator` uses it: start (or keep) the cluster with
 * `npm run cluster:up`, API clients from its kubeconfig, the built kubectl and helm, namespaces of its
 * own, and the node agents' state files (container pids) and pod logs. Standalone (no vitest): it
 * shares test/cluster/api-helpers.ts with the suites and mirrors test/cluster/paths.ts' overrides.
 *
 *   const kube = await startKube();            // runs `npm run cluster:up`; throws ClusterUnavailable
 *   const ns = await kube.createNamespace("weir-bench-jobs");
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { errorText, eventually, statusOf } from "../../test/cluster/api-helpers.js";

export { k8s };

const execFileAsync = promisify(execFile);

/** The repository checkout: `npm run bench:operator` runs in it (the chart, examples and job modules are read from there). */
export const REPO_ROOT = resolve(".");
/** Same overrides as test/cluster/paths.ts. */
export const CLUSTER_DIR = process.env.WEIR_CLUSTER_DIR ?? join(REPO_ROOT, ".cluster");
const BIN_DIR = process.env.WEIR_CLUSTER_BIN_DIR ?? join(REPO_ROOT, ".cluster", "bin");

/** The cluster could not be started or reached: the bench exits with this message. */
export class ClusterUnavailable extends Error {
  override name = "ClusterUnavailable";
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` every `everyMs` (default 50 ms) until it returns something other than undefined/false. */
export function poll<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  return eventually(what, fn, timeoutMs, everyMs);
}

export { errorText, statusOf };

/** `npm run cluster:up` (starts the cluster, or reports the running one), its output on stderr. */
async function clusterUp(): Promise<void> {
  const child = spawn("npm", ["run", "--silent", "cluster:up"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d: Buffer) => {
    output += d.toString();
    process.stderr.write(d);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const code = await new Promise<number | null>((r) => {
    child.on("error", (e) => {
      output += e.message;
      r(-1);
    });
    child.on("exit", r);
  });
  if (code !== 0) {
    const tail = output.trim().split("\n").slice(-5).join("\n");
    throw new ClusterUnavailable(`cannot start the local Kubernetes cluster: \`npm run cluster:up\` exited with ${code}; logs in ${join(CLUSTER_DIR, "logs")}\n${tail}`);
  }
}

/** Clients and tools bound to the local cluster. */
export interface Kube {
  kc: k8s.KubeConfig;
  kubeconfig: string;
  custom: k8s.CustomObjectsApi;
  core: k8s.CoreV1Api;
  coordination: k8s.CoordinationV1Api;
  run(name: "kubectl" | "helm", args: string[]): Promise<string>;
  createNamespace(prefix: string): Promise<string>;
  deleteNamespaces(names: readonly string[], timeoutMs: number): Promise<string[]>;
}

/** Start (or keep) the cluster, then check that its apiserver answers. */
export async function startKube(): Promise<Kube> {
  await clusterUp();
  const kubeconfig = join(CLUSTER_DIR, "kubeconfig");
  if (!existsSync(kubeconfig)) throw new ClusterUnavailable(`\`npm run cluster:up\` succeeded but ${kubeconfig} is missing`);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await core.listNamespace({ limit: 1 });
  } catch (e) {
    throw new ClusterUnavailable(`the cluster's apiserver (${kc.getCurrentCluster()?.server}) does not answer: ${errorText(e)}`);
  }
  const helmHome = mkdtempSync(join(tmpdir(), "weir-bench-helm-"));
  process.once("exit", () => rmSync(helmHome, { recursive: true, force: true }));
  const helmEnv = { HELM_CACHE_HOME: join(helmHome, "cache"), HELM_CONFIG_HOME: join(helmHome, "config"), HELM_DATA_HOME: join(helmHome, "data") };
  const run = async (name: "kubectl" | "helm", args: string[]) => {
    try {
      const env = { ...process.env, KUBECONFIG: kubeconfig, ...(name === "helm" ? helmEnv : {}) };
      return (await execFileAsync(join(BIN_DIR, name), args, { env, maxBuffer: 16 << 20 })).stdout;
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw new Error(`${name} ${args.join(" ")} failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  };
  return {
    kc,
    kubeconfig,
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    core,
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    run,
    async createNamespace(prefix) {
      const name = `${prefix}-${randomBytes(3).toString("hex")}`;
      await core.createNamespace({ body: { metadata: { name, labels: { "app.kubernetes.io/created-by": "weir-bench-operator" } } } });
      return name;
    },
    async deleteNamespaces(names, timeoutMs) {
      await Promise.all(names.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
      const deadline = Date.now() + timeoutMs;
      let left = [...names];
      while (left.length > 0 && Date.now() < deadline) {
        await sleep(500);
        left = (await Promise.all(left.map(async (n) => ((await statusOf(core.readNamespace({ name: n }))) === 404 ? undefined : n)))).filter((n): n is string => !!n);
      }
      return left;
    },
  };
}

/** The pid of a pod's (first) container, from the node agents' state files `<cluster>/agent/<node>/state.json`. */
export function containerPid(podName: string): number | undefined {
  const root = join(CLUSTER_DIR, "agent");
  for (const node of existsSync(root) ? readdirSync(root) : []) {
    const file = join(root, node, "state.json");
    if (!existsSync(file)) continue;
    const state = JSON.parse(readFileSync(file, "utf8")) as { pods: Record<string, { name: string; containers: Record<string, { pid?: number }> }> };
    for (const p of Object.values(state.pods)) if (p.name === podName) return Object.values(p.containers)[0]?.pid;
  }
  return undefined;
}

/** The log directories of a namespace's pods: `<cluster>/logs/pods/<namespace>_<pod>_<uid>`. */
export function podLogDirs(namespace: string): string[] {
  const root = join(CLUSTER_DIR, "logs", "pods");
  return existsSync(root) ? readdirSync(root).filter((d) => d.startsWith(`${namespace}_`)).map((d) => join(root, d)) : [];
}
