/** Helpers for suites that run against the cluster started by test/cluster/global-setup.ts. */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { describe, inject } from "vitest";
import { bin } from "./paths.js";

export { eventually, errorText, statusOf } from "./api-helpers.js";

export { k8s };

const execFileAsync = promisify(execFile);

const KUBECONFIG: string | undefined = process.env.WEIR_TEST_KUBECONFIG || inject("kubeconfig") || undefined;

/** True when test/cluster/global-setup.ts started (or was given) a cluster. */
export const HAVE_CLUSTER = KUBECONFIG !== undefined;

/**
 * describe() for suites that need the cluster: under a plain `vitest run` (no cluster global setup) they are
 * reported as skipped instead of failing. vitest still runs the body to collect the tests, so bodies may
 * build clients (adminConfig() then points nowhere) but must not call the API outside hooks and tests.
 */
export const describeCluster: ReturnType<typeof describe.skipIf> = describe.skipIf(!HAVE_CLUSTER);

export function kubeconfigPath(): string {
  if (!KUBECONFIG) throw new Error("no cluster: run these suites with `npm run test:cluster`");
  return KUBECONFIG;
}

export function adminConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (KUBECONFIG) kc.loadFromFile(KUBECONFIG);
  else {
    kc.loadFromOptions({
      clusters: [{ name: "none", server: "https://127.0.0.1:1", skipTLSVerify: false }],
      users: [{ name: "none" }],
      contexts: [{ name: "none", cluster: "none", user: "none" }],
      currentContext: "none",
    });
  }
  return kc;
}

/** A KubeConfig for the same server and CA, authenticating with a bearer token. */
export function tokenConfig(admin: k8s.KubeConfig, token: string, user = "token-user"): k8s.KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return kc;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** The ApiException of a call expected to fail (its body parsed as a Status when possible). */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      const body: unknown = e.body;
      let message = typeof body === "string" ? body : JSON.stringify(body);
      try {
        const parsed = (typeof body === "string" ? JSON.parse(body) : body) as { message?: string };
        if (parsed?.message) message = parsed.message;
      } catch { /* not JSON */ }
      return { code: e.code, message };
    }
    throw e;
  }
  throw new Error("expected the API call to fail, but it succeeded");
}

export async function createNamespace(kc: k8s.KubeConfig, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(kc: k8s.KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
}

export interface RunResult { stdout: string; stderr: string }

/** Runs a built binary (kubectl, helm) against the test cluster. */
export async function runBin(name: "kubectl" | "helm", args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const helmHome = name === "helm" ? helmDirs() : {};
  try {
    const { stdout, stderr } = await execFileAsync(bin(name), args, {
      env: { ...process.env, KUBECONFIG: kubeconfigPath(), ...helmHome, ...env },
      maxBuffer: 16 << 20,
    });
    return { stdout, stderr };
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${name} ${args.join(" ")} failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

let helmHome: Record<string, string> | undefined;
/** helm's cache/config/data in a temporary directory, so tests never touch ~/.config/helm. */
function helmDirs(): Record<string, string> {
  if (!helmHome) {
    const d = mkdtempSync(join(tmpdir(), "weir-helm-"));
    helmHome = { HELM_CACHE_HOME: join(d, "cache"), HELM_CONFIG_HOME: join(d, "config"), HELM_DATA_HOME: join(d, "data") };
  }
  return helmHome;
}

/** The generated StreamJob CRD file (crds/). */
export const STREAM_JOB_CRD_FILE = join(import.meta.dirname, "../../crds/streamjobs.weir.dev.yaml");

/**
 * Install the StreamJob CRD and wait until it is served. Server-side apply is idempotent and safe when
 * suites running in parallel both install it; suites never delete it (the test cluster goes at the end).
 */
export async function ensureStreamJobCrd(): Promise<void> {
  await runBin("kubectl", ["apply", "--server-side", "--force-conflicts", "--field-manager=weir-tests", "-f", STREAM_JOB_CRD_FILE]);
  await runBin("kubectl", ["wait", "--for=condition=Established", "crd/streamjobs.weir.dev", "--timeout=60s"]);
}
