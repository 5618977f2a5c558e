/**
 * A local Kubernetes control plane from the binaries test/cluster/build.ts makes: etcd, a secure
 * kube-apiserver, kube-controller-manager and kube-scheduler, all on 127.0.0.1 at free ports.
 *
 *   npm run cluster:up       start (or report the running cluster); writes .cluster/kubeconfig
 *   npm run cluster:status   components, pids, ports, health; exit 1 unless all are healthy
 *   npm run cluster:down     SIGTERM, then SIGKILL after 10 s; removes etcd's data
 *
 * State: .cluster/state.json (pids, ports), logs: .cluster/logs/<component>.log, certificates: .cluster/pki/.
 * Every function takes the cluster directory, so tests can run their own cluster beside a developer's.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAll } from "./build.js";
import { bin, clusterPaths, DEFAULT_CLUSTER_DIR, REPO_ROOT, type ClusterPaths } from "./paths.js";
import { ensurePki, kubeconfigYaml, SERVICE_CIDR, type Pki } from "./pki.js";
import { NODE_NAMES, startNodes, stopNodes } from "./nodes.js";

export type ComponentName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler";
const ORDER: ComponentName[] = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

export interface ComponentState {
  pid: number;
  /** the port health is checked on (etcd: client port) */
  port: number;
  /** further ports it listens on */
  extraPorts?: Record<string, number>;
  log: string;
  args: string[];
}

export interface ClusterState {
  dir: string;
  startedAt: string;
  server: string;
  kubeconfig: string;
  components: Partial<Record<ComponentName, ComponentState>>;
}

export interface ComponentStatus {
  name: ComponentName;
  pid: number | null;
  alive: boolean;
  healthy: boolean;
  port: number | null;
  detail: string;
}

type Log = (line: string) => void;
const defaultLog: Log = (l) => console.log(l);

// ---------------------------------------------------------------------------------------------- helpers

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a recycled pid is not ours: the command line must still name our binary.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/\) Z /.test(stat)) return false;
  } catch {
    return false;
  }
  return true;
}

/** True if `pid` is still the process we started for `name` (guards against pid reuse before a kill). */
function isOurs(pid: number, name: ComponentName): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return cmd === bin(name);
  } catch {
    return false;
  }
}

interface HttpResult { status: number; body: string }

function get(url: string, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecure?: boolean }, timeoutMs = 2000):
  Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const opts = {
      method: "GET",
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      timeout: timeoutMs,
      agent: false, // no keep-alive sockets left open to the apiserver (they delay its graceful shutdown)
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure } : {}),
    };
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(opts, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

async function waitUntil(what: string, deadline: number, check: () => Promise<boolean>, onFail?: () => string | null):
  Promise<void> {
  let last = "";
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    const dead = onFail?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
    await sleep(200);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function readState(p: ClusterPaths): ClusterState | null {
  if (!existsSync(p.state)) return null;
  try {
    return JSON.parse(readFileSync(p.state, "utf8")) as ClusterState;
  } catch {
    return null;
  }
}

function writeState(p: ClusterPaths, s: ClusterState): void {
  writeFileSync(p.state, JSON.stringify(s, null, 2) + "\n");
}

function adminTls(pki: Pki) {
  return { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clients.admin.cert), key: readFileSync(pki.clients.admin.key) };
}

// ---------------------------------------------------------------------------------------------- status

async function componentHealth(name: ComponentName, c: ComponentState, pki: Pki): Promise<string> {
  switch (name) {
    case "etcd": {
      const r = await get(`http://127.0.0.1:${c.port}/health`);
      return r.status === 200 && r.body.includes('"health":"true"') ? "ok" : `HTTP ${r.status} ${r.body.trim()}`;
    }
    case "kube-apiserver": {
      const r = await get(`https://127.0.0.1:${c.port}/readyz`, adminTls(pki));
      return r.status === 200 ? "ok" : `HTTP ${r.status} ${r.body.trim().split("\n").filter((l) => l.includes("failed")).join("; ")}`;
    }
    default: {
      // KCM and scheduler serve /healthz on their secure port with a self-signed certificate.
      const r = await get(`https://127.0.0.1:${c.port}/healthz`, { insecure: true });
      return r.status === 200 ? "ok" : `HTTP ${r.status} ${r.body.trim()}`;
    }
  }
}

export async function clusterStatus(dir = DEFAULT_CLUSTER_DIR): Promise<{ state: ClusterState | null; components: ComponentStatus[]; healthy: boolean }> {
  const p = clusterPaths(dir);
  const state = readState(p);
  const pki = ensurePkiPathsOnly(p);
  const components: ComponentStatus[] = [];
  for (const name of ORDER) {
    const c = state?.components[name];
    if (!c) {
      components.push({ name, pid: null, alive: false, healthy: false, port: null, detail: "not started" });
      continue;
    }
    const alive = isOurs(c.pid, name);
    let detail = alive ? "" : "not running";
    if (alive && pki) {
      try {
        detail = await componentHealth(name, c, pki);
      } catch (e) {
        detail = e instanceof Error ? e.message : String(e);
      }
    }
    components.push({ name, pid: c.pid, alive, healthy: alive && detail === "ok", port: c.port, detail });
  }
  return { state, components, healthy: state !== null && components.every((c) => c.healthy) };
}

function ensurePkiPathsOnly(p: ClusterPaths): Pki | null {
  return existsSync(join(p.pki, "ca.crt")) ? ensurePki(p.pki) : null;
}

function formatStatus(s: Awaited<ReturnType<typeof clusterStatus>>): string {
  const rows = s.components.map((c) => {
    const extra = s.state?.components[c.name]?.extraPorts;
    const ports = [c.port, ...Object.values(extra ?? {})].filter((x) => x != null).join(",");
    return `  ${c.name.padEnd(24)} pid ${String(c.pid ?? "-").padEnd(8)} port ${ports.padEnd(12)} ${c.healthy ? "healthy" : c.detail}`;
  });
  const head = s.state
    ? `cluster ${relative(REPO_ROOT, s.state.dir) || "."}: ${s.healthy ? "running" : "NOT healthy"}; server ${s.state.server}; ` +
      `KUBECONFIG=${s.state.kubeconfig}; started ${s.state.startedAt}`
    : "cluster: not running";
  return [head, ...rows].join("\n");
}

// ---------------------------------------------------------------------------------------------- down

/** Stops every component (reverse start order): SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
export async function stopCluster(dir = DEFAULT_CLUSTER_DIR, opts: { log?: Log; graceMs?: number; keepData?: boolean } = {}):
  Promise<void> {
  const log = opts.log ?? defaultLog;
  const p = clusterPaths(dir);
  const state = readState(p);
  if (state) {
    // Clients first, then the apiserver, then etcd (an apiserver whose etcd is gone shuts down slowly).
    const stages: ComponentName[][] = [["kube-scheduler", "kube-controller-manager"], ["kube-apiserver"], ["etcd"]];
    let stopped = 0;
    for (const stage of stages) {
      const ours = stage
        .map((name) => ({ name, pid: state.components[name]?.pid }))
        .filter((x): x is { name: ComponentName; pid: number } => x.pid !== undefined && isOurs(x.pid, x.name));
      for (const { name, pid } of ours) {
        log(`[cluster] stopping ${name} (pid ${pid})`);
        try {
          process.kill(pid, "SIGTERM");
        } catch { /* already gone */ }
      }
      const deadline = Date.now() + (opts.graceMs ?? 10_000);
      while (ours.some((x) => pidAlive(x.pid)) && Date.now() < deadline) await sleep(50);
      for (const { name, pid } of ours) {
        if (pidAlive(pid) && isOurs(pid, name)) {
          log(`[cluster] ${name} (pid ${pid}) still running ${((opts.graceMs ?? 10_000) / 1000).toFixed(0)} s after SIGTERM; SIGKILL`);
          try {
            process.kill(pid, "SIGKILL");
          } catch { /* gone */ }
        }
      }
      stopped += ours.length;
    }
    rmSync(p.state, { force: true });
    log(stopped ? "[cluster] stopped" : "[cluster] nothing was running (stale state removed)");
  } else {
    log("[cluster] not running");
  }
  if (!opts.keepData) rmSync(p.data, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------- up

function startProcess(p: ClusterPaths, name: ComponentName, args: string[]): { pid: number; log: string } {
  const log = join(p.logs, `${name}.log`);
  if (existsSync(log)) renameSync(log, join(p.logs, `${name}.previous.log`)); // one log per start, one kept
  const fd = openSync(log, "w");
  writeFileSync(fd, `\n===== ${new Date().toISOString()} ${bin(name)} ${args.join(" ")}\n`);
  // detached: own process group, survives the `npm run cluster:up` process; stopped by pid in stopCluster
  const child = spawn(bin(name), args, { cwd: p.dir, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${bin(name)}`);
  child.unref();
  return { pid: child.pid, log };
}

export interface StartOptions {
  log?: Log;
  /** build stale binaries first (default true) */
  build?: boolean;
  /** overall readiness timeout (default 90 s) */
  timeoutMs?: number;
  /** extra kube-apiserver flags */
  apiserverArgs?: string[];
}

/**
 * Starts the cluster in `dir` unless it is already running and healthy (then returns its state).
 * A half-running cluster is stopped and started afresh. Returns when the apiserver is ready, KCM and
 * scheduler are healthy and the `default` ServiceAccount exists in `default`.
 */
export async function startCluster(dir = DEFAULT_CLUSTER_DIR, opts: StartOptions = {}): Promise<ClusterState> {
  const log = opts.log ?? defaultLog;
  const p = clusterPaths(dir);
  const t0 = Date.now();

  const current = await clusterStatus(dir);
  if (current.healthy && current.state) {
    log(`[cluster] already running (${relative(REPO_ROOT, dir) || "."}); KUBECONFIG=${current.state.kubeconfig}`);
    return current.state;
  }
  if (current.state) {
    log("[cluster] found a partly running cluster; restarting it");
    await stopCluster(dir, { log });
  }
  if (opts.build !== false) await buildAll({ log });
  for (const name of ORDER) {
    if (!existsSync(bin(name))) throw new Error(`missing ${bin(name)}: run npm run cluster:build`);
  }

  const tStart = Date.now();
  for (const d of [p.dir, p.logs]) mkdirSync(d, { recursive: true });
  rmSync(p.data, { recursive: true, force: true });
  mkdirSync(join(p.data, "etcd"), { recursive: true, mode: 0o700 });
  const pki = ensurePki(p.pki);

  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await distinctFreePorts(5);
  const server = `https://127.0.0.1:${apiPort}`;
  const state: ClusterState = {
    dir, startedAt: new Date().toISOString(), server, kubeconfig: p.kubeconfig, components: {},
  };
  const kcmKubeconfig = join(p.pki, "kube-controller-manager.kubeconfig");
  const schedKubeconfig = join(p.pki, "kube-scheduler.kubeconfig");
  writeFileSync(p.kubeconfig, kubeconfigYaml(pki, "admin", server), { mode: 0o600 });
  writeFileSync(kcmKubeconfig, kubeconfigYaml(pki, "kcm", server), { mode: 0o600 });
  writeFileSync(schedKubeconfig, kubeconfigYaml(pki, "scheduler", server), { mode: 0o600 });
  const schedConfig = join(p.pki, "kube-scheduler.yaml");
  writeFileSync(schedConfig, [
    "apiVersion: kubescheduler.config.k8s.io/v1",
    "kind: KubeSchedulerConfiguration",
    "clientConnection:",
    `  kubeconfig: ${schedKubeconfig}`,
    "leaderElection:",
    "  leaderElect: false",
    "",
  ].join("\n"));

  const launch = (name: ComponentName, port: number, args: string[], extraPorts?: Record<string, number>) => {
    const { pid, log: logFile } = startProcess(p, name, args);
    state.components[name] = { pid, port, log: logFile, args, ...(extraPorts ? { extraPorts } : {}) };
    writeState(p, state);
  };
  const diedCheck = (name: ComponentName) => () => {
    const c = state.components[name];
    return c && !pidAlive(c.pid) ? `${name} exited; last log lines (${c.log}):\n${tail(c.log)}` : null;
  };

  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const peerUrl = `http://127.0.0.1:${etcdPeer}`;
  launch("etcd", etcdClient, [
    "--name=weir", `--data-dir=${join(p.data, "etcd")}`,
    `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=weir=${peerUrl}`, "--initial-cluster-state=new",
    "--unsafe-no-fsync=true", // test data: durability is not needed, speed is
    "--log-level=warn",
  ], { peer: etcdPeer });

  // The apiserver retries etcd while it starts, so no need to wait for etcd's /health first.
  launch("kube-apiserver", apiPort, [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${apiPort}`,
    `--tls-cert-file=${pki.apiserverCert}`, `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction", // on top of the default set, which includes ServiceAccount
    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--allow-privileged=true",
    // request-header (front proxy) authentication, as kubeadm sets it up: aggregated APIs work, and KCM and
    // the scheduler find the CA they look for in kube-system/extension-apiserver-authentication
    `--requestheader-client-ca-file=${pki.frontProxyCaCert}`, "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${pki.frontProxyClientCert}`, `--proxy-client-key-file=${pki.frontProxyClientKey}`,
    "--enable-aggregator-routing=true", // no kube-proxy: reach aggregated APIs at endpoint IPs, not the ClusterIP
    // The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints validation rejects (loopback).
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    ...(opts.apiserverArgs ?? []),
  ]);

  // KCM and the scheduler exit if their RBAC bindings do not exist yet: start them once /readyz (which
  // includes the RBAC bootstrap post-start hook) passes.
  const launchControllers = () => {
    launch("kube-controller-manager", kcmPort, [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`, `--authorization-kubeconfig=${kcmKubeconfig}`,
      "--bind-address=127.0.0.1", `--secure-port=${kcmPort}`,
      "--leader-elect=false",
      // '*' = the default set: garbage collector, deployment, replicaset, statefulset, serviceaccount(-token),
      // namespace, endpointslice, node-lifecycle, taint-eviction, root-ca publisher (kube-root-ca.crt for
      // projected tokens), PV binder, job, daemonset, pod GC, ... (bootstrap-token controllers stay off)
      "--controllers=*",
      "--use-service-account-credentials=true", // each controller acts as its own kube-system ServiceAccount
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--profiling=false",
    ]);

    launch("kube-scheduler", schedPort, [
      `--config=${schedConfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`, `--authorization-kubeconfig=${schedKubeconfig}`,
      "--bind-address=127.0.0.1", `--secure-port=${schedPort}`,
      "--profiling=false",
    ]);
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const tls = adminTls(pki);
  try {
    await waitUntil("etcd /health", deadline, async () => (await componentHealth("etcd", state.components.etcd!, pki)) === "ok",
      diedCheck("etcd"));
    await waitUntil("kube-apiserver /readyz", deadline,
      async () => (await get(`${server}/readyz`, tls)).status === 200, diedCheck("kube-apiserver"));
    const tApi = Date.now();
    launchControllers();
    await Promise.all([
      waitUntil("kube-controller-manager /healthz", deadline,
        async () => (await componentHealth("kube-controller-manager", state.components["kube-controller-manager"]!, pki)) === "ok",
        diedCheck("kube-controller-manager")),
      waitUntil("kube-scheduler /healthz", deadline,
        async () => (await componentHealth("kube-scheduler", state.components["kube-scheduler"]!, pki)) === "ok",
        diedCheck("kube-scheduler")),
      waitUntil("ServiceAccount default/default", deadline,
        async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls)).status === 200,
        diedCheck("kube-controller-manager")),
    ]);
    const now = Date.now();
    log(`[cluster] ready in ${((now - tStart) / 1000).toFixed(1)} s (apiserver ${((tApi - tStart) / 1000).toFixed(1)} s` +
      `${tStart - t0 > 500 ? `; plus ${((tStart - t0) / 1000).toFixed(1)} s build check` : ""}); server ${server}`);
    log(`[cluster] export KUBECONFIG=${p.kubeconfig}`);
  } catch (e) {
    log(`[cluster] start failed; logs in ${p.logs}`);
    await stopCluster(dir, { log });
    throw e;
  }
  return state;
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

// ---------------------------------------------------------------------------------------------- CLI

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  switch (cmd) {
    case "up": {
      const state = await startCluster(DEFAULT_CLUSTER_DIR);
      await startNodes(DEFAULT_CLUSTER_DIR, state.kubeconfig, { detached: true });
      console.log(formatStatus(await clusterStatus(DEFAULT_CLUSTER_DIR)));
      console.log(`nodes: ${NODE_NAMES.join(", ")} (node agents; logs in ${join(DEFAULT_CLUSTER_DIR, "logs")})`);
      return 0;
    }
    case "down":
      await stopNodes(DEFAULT_CLUSTER_DIR);
      await stopCluster(DEFAULT_CLUSTER_DIR);
      return 0;
    case "status": {
      const s = await clusterStatus(DEFAULT_CLUSTER_DIR);
      console.log(formatStatus(s));
      return s.healthy ? 0 : 1;
    }
    default:
      console.error("usage: tsx test/cluster/cluster.ts up|down|status");
      return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
