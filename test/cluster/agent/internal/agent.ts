/**
 * The agent: registers the node, heartbeats, list-watches the pods bound to it and keeps one
 * PodWorker per pod, syncing all of them every `syncEveryMs`. Its state file lets a restarted agent
 * re-adopt running processes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Watch, type V1Pod } from "@kubernetes/client-node";
import { allocateIP } from "./ipam.js";
import { compileConfig, type AgentConfig, type NodeAgentOptions } from "./config.js";
import { kubeFromFile, type Kube } from "./kube.js";
import { deletePodNetwork, ensureBridge, podNetNames } from "./netns.js";
import { hostCapacity, patchNodeStatus, registerNode, renewLease, type NodeIdentity } from "./node.js";
import { PodWorker } from "./pod-worker.js";
import { processAlive, signalContainer } from "./process.js";
import { loadState, saveState, type AgentState } from "./state.js";

/** A running node agent. */
export interface NodeAgent {
  readonly nodeName: string;
  /**
   * Stops the agent. By default it also kills its pods' processes and removes their network
   * namespaces (the API objects stay); `{ keepPods: true }` leaves them running for a later agent.
   */
  stop(opts?: { keepPods?: boolean }): Promise<void>;
}

function apiserverAddress(kube: Kube): { host: string; port: number } {
  const server = kube.kc.getCurrentCluster()?.server;
  if (!server) throw new Error("kubeconfig has no current cluster server");
  const u = new URL(server);
  const host = u.hostname === "localhost" ? "127.0.0.1" : u.hostname.replace(/^\[|\]$/g, "");
  return { host, port: Number(u.port || 443) };
}

/** Starts a node agent; resolves once the node is registered and the existing pods are adopted. */
export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const cfg = compileConfig(options);
  const kube = kubeFromFile(cfg.kubeconfig);
  const agent = new Agent(cfg, kube);
  await agent.start();
  return { nodeName: cfg.nodeName, stop: (o) => agent.stop(o?.keepPods ?? false) };
}

class Agent {
  private readonly state: AgentState;
  private readonly workers = new Map<string, PodWorker>();
  /** Clean-ups of pods gone from the API that are still running; stop() waits for them. */
  private readonly removing = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private watchAbort?: AbortController;
  private stopped = false;
  private readonly identity: NodeIdentity;
  private readonly apiserver: { host: string; port: number };

  constructor(private readonly cfg: AgentConfig, private readonly kube: Kube) {
    this.state = loadState(cfg.stateDir);
    this.apiserver = apiserverAddress(kube);
    this.identity = { name: cfg.nodeName, internalIP: cfg.bridge.gateway, capacity: hostCapacity(cfg.maxPods), labels: cfg.labels, taints: cfg.taints };
  }

  async start(): Promise<void> {
    claimNode(this.cfg.stateDir, this.cfg.nodeName);
    await ensureBridge(this.cfg.bridge);
    const uid = await registerNode(this.kube, this.identity);
    await renewLease(this.kube, this.cfg.nodeName, uid, 40);
    this.every(this.cfg.leaseRenewMs, () => renewLease(this.kube, this.cfg.nodeName, uid, 40));
    this.every(this.cfg.statusEveryMs, () => patchNodeStatus(this.kube, this.identity));
    const rv = await this.relist();
    void this.watch(rv);
    this.every(this.cfg.syncEveryMs, async () => { for (const w of this.workers.values()) void w.sync(); });
    this.cfg.log(`node ${this.cfg.nodeName} registered; pods get ${this.cfg.podPrefix}.0/24 on bridge ${this.cfg.bridge.name}; ${this.workers.size} pod(s) adopted`);
  }

  private every(ms: number, fn: () => Promise<void>): void {
    this.timers.push(setInterval(() => { fn().catch((e: Error) => this.cfg.log(e.message)); }, ms));
  }

  private async relist(): Promise<string> {
    const list = await this.kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.cfg.nodeName}` });
    const seen = new Set<string>();
    for (const pod of list.items) {
      seen.add(pod.metadata!.uid!);
      this.upsert(pod);
    }
    for (const [uid, w] of this.workers) if (!seen.has(uid)) await this.remove(uid, w);
    for (const uid of Object.keys(this.state.pods)) if (!seen.has(uid) && !this.workers.has(uid)) await this.reapOrphan(uid);
    return list.metadata?.resourceVersion ?? "";
  }

  private async watch(resourceVersion: string): Promise<void> {
    if (this.stopped) return;
    const w = new Watch(this.kube.kc);
    let rv = resourceVersion;
    const restart = (err: unknown) => {
      if (this.stopped) return;
      if (err) this.cfg.log(`pod watch ended: ${(err as Error).message ?? String(err)}`);
      setTimeout(() => void this.relist().then((v) => this.watch(v), (e: Error) => { this.cfg.log(`relist failed: ${e.message}`); void this.watch(""); }), 500);
    };
    try {
      this.watchAbort = await w.watch("/api/v1/pods", { fieldSelector: `spec.nodeName=${this.cfg.nodeName}`, resourceVersion: rv, allowWatchBookmarks: true }, (type, obj: V1Pod) => {
        rv = obj.metadata?.resourceVersion ?? rv;
        if (type === "ADDED" || type === "MODIFIED") this.upsert(obj);
        else if (type === "DELETED") { const w2 = this.workers.get(obj.metadata!.uid!); if (w2) void this.remove(obj.metadata!.uid!, w2); }
      }, restart);
    } catch (err) {
      restart(err);
    }
  }

  private upsert(pod: V1Pod): void {
    const uid = pod.metadata!.uid!;
    const existing = this.workers.get(uid);
    if (existing) {
      existing.update(pod);
      void existing.sync();
      return;
    }
    const terminal = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    if (!this.state.pods[uid] && terminal && !pod.metadata?.deletionTimestamp) return;
    const rec = (this.state.pods[uid] ??= {
      namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, ip: pod.spec?.hostNetwork ? this.cfg.bridge.gateway : this.allocateIP(),
      startTime: Date.now(), containers: {},
    });
    const worker = new PodWorker(pod, rec, { kube: this.kube, cfg: this.cfg, apiserver: this.apiserver, persist: () => this.persist() });
    this.workers.set(uid, worker);
    this.persist();
    void worker.sync();
  }

  private allocateIP(): string {
    const { ip, octet } = allocateIP(this.cfg.podPrefix, new Set(Object.values(this.state.pods).map((p) => p.ip)), this.state.lastIP);
    this.state.lastIP = octet;
    return ip;
  }

  private remove(uid: string, w: PodWorker): Promise<void> {
    this.workers.delete(uid);
    const p = w.forget().catch((e: Error) => this.cfg.log(e.message)).then(() => {
      delete this.state.pods[uid];
      this.persist();
    });
    this.removing.add(p);
    return p.finally(() => this.removing.delete(p));
  }

  private async reapOrphan(uid: string): Promise<void> {
    const rec = this.state.pods[uid]!;
    for (const c of Object.values(rec.containers)) if (c.pid && c.startTicks !== undefined && processAlive(c.pid, c.startTicks)) signalContainer(c.pid, "SIGKILL");
    await deletePodNetwork(podNetNames(uid)).catch(() => undefined);
    delete this.state.pods[uid];
    this.persist();
    this.cfg.log(`reaped pod ${rec.namespace}/${rec.name} (${uid}), gone from the API`);
  }

  private persist(): void {
    saveState(this.cfg.stateDir, this.state);
  }

  async stop(keepPods: boolean): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.watchAbort?.abort();
    this.cfg.log(`stopping (${keepPods ? "leaving" : "killing"} ${this.workers.size} pod(s))`);
    await Promise.all([...this.workers].map(async ([uid, w]) => {
      if (keepPods) return w.detach();
      try {
        await w.forget();
        delete this.state.pods[uid];
      } catch (err) {
        this.cfg.log(`stop: pod ${uid}: ${(err as Error).message}`);
      }
    }));
    this.workers.clear();
    await Promise.all([...this.removing]);
    this.persist();
    rmSync(join(this.cfg.stateDir, "agent.pid"), { force: true });
  }
}

/** Refuses to run a second agent for the same node: `<stateDir>/agent.pid` names the live owner. */
function claimNode(stateDir: string, nodeName: string): void {
  const file = join(stateDir, "agent.pid");
  mkdirSync(stateDir, { recursive: true });
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, "utf8"));
    let alive = false;
    try { alive = pid !== process.pid && pid > 0 && (process.kill(pid, 0), true); } catch { alive = false; }
    if (alive && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(nodeName)) {
      throw new Error(`another node agent (pid ${pid}) already runs node ${nodeName} with state dir ${stateDir}`);
    }
  }
  writeFileSync(file, String(process.pid));
}
