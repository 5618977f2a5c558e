/**
 * One pod's lifecycle on this node: sandbox (network namespace, apiserver proxy, volumes), container
 * processes with probes and restart back-off, status writes, graceful deletion and cleanup.
 * `sync()` is level-triggered: it looks at the latest Pod and the processes and does the next step.
 */
import { constants } from "node:os";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { openApiProxy, type ApiProxy } from "./apiproxy.js";
import { backoffDelay, nextFailureCount, shouldRestart } from "./backoff.js";
import type { AgentConfig } from "./config.js";
import { MERGE_PATCH, statusOf, type Kube } from "./kube.js";
import { createPodNetwork, deletePodNetwork, netnsExists, podNetNames, type PodNetNames } from "./netns.js";
import { hostsFileContent, planContainer, referencedObjects, type ProcessPlan } from "./plan.js";
import { INITIAL_PROBE_STATE, probeAction, probeDue, probeTiming, recordProbe, type ProbeState } from "./probe.js";
import { runProbe } from "./probe-exec.js";
import { execInContainer, processAlive, signalContainer, startContainer } from "./process.js";
import type { ContainerRecord, PodRecord } from "./state.js";
import { exitCodeOf, exitReason, podStatus, type ContainerState, type ContainerView, type Termination } from "./status.js";
import { materializeVolumes, writeToken, type TokenFile, type VolumeDeps } from "./volumes.js";

/** How often configMap/secret volume files are re-synced from the API (the kubelet: about a minute). */
const VOLUME_REFRESH_MS = 10_000;

/** What a worker shares with the agent. */
export interface WorkerContext {
  readonly kube: Kube;
  readonly cfg: AgentConfig;
  readonly apiserver: { readonly host: string; readonly port: number };
  /** Called after the pod's record changed, to persist the state file. */
  readonly persist: () => void;
}

type ProbeKind = "startup" | "liveness" | "readiness";

interface Run {
  readonly spec: V1Container;
  readonly init: boolean;
  pid?: number;
  startTicks?: number;
  child?: ChildProcess;
  startedAt?: number;
  exited?: { code: number | null; signal: NodeJS.Signals | null; at: number; unknown?: boolean };
  waiting: { reason: string; message?: string };
  restartCount: number;
  failures: number;
  lastTermination?: Termination;
  final?: Termination;
  nextStartAt: number;
  probes: Record<ProbeKind, ProbeState>;
  probing: Set<ProbeKind>;
  started: boolean;
  killDeadline?: number;
  killReason?: string;
}

const signalNumber = (s: NodeJS.Signals | null): number | undefined => (s ? constants.signals[s] : undefined);

/** Runs one pod. */
export class PodWorker {
  readonly uid: string;
  private pod: V1Pod;
  private readonly names: PodNetNames;
  private readonly runs = new Map<string, Run>();
  private plans = new Map<string, ProcessPlan>();
  private planError?: { reason: string; message: string };
  private tokens: TokenFile[] = [];
  private tokensAt = 0;
  private volumesAt = 0;
  private nextPrepareAt = 0;
  private network: "none" | "ready" = "none";
  private proxy?: ApiProxy;
  private message?: string;
  private terminating?: { deadline: number; killed: boolean };
  private lastStatus = "";
  private syncing?: Promise<void>;
  private again = false;
  private lastError = "";
  private cleaning?: Promise<void>;
  private lastErrorAt = 0;
  /** True once the pod is gone from the API and everything is cleaned up. */
  done = false;

  constructor(pod: V1Pod, private readonly rec: PodRecord, private readonly ctx: WorkerContext) {
    this.pod = pod;
    this.uid = pod.metadata!.uid!;
    this.names = podNetNames(this.uid);
    for (const c of pod.spec?.initContainers ?? []) this.runs.set(c.name, this.adopt(c, rec.containers[c.name], true));
    for (const c of pod.spec?.containers ?? []) this.runs.set(c.name, this.adopt(c, rec.containers[c.name], false));
  }

  /** The pod's IP. */
  get ip(): string {
    return this.rec.ip;
  }

  /** Hands the worker a newer version of its Pod. */
  update(pod: V1Pod): void {
    this.pod = pod;
  }

  /** Runs one sync pass; concurrent calls are merged into one follow-up pass. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = this.syncLoop().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.syncOnce(Date.now());
      } catch (err) {
        const msg = `pod ${this.key()}: ${(err as Error).message}`;
        if (msg !== this.lastError || Date.now() - this.lastErrorAt > 10_000) this.ctx.cfg.log(msg);
        this.lastError = msg;
        this.lastErrorAt = Date.now();
      }
    } while (this.again && !this.done);
  }

  private key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  private adopt(spec: V1Container, r: ContainerRecord | undefined, init: boolean): Run {
    const run: Run = {
      spec, init, restartCount: r?.restartCount ?? 0, failures: r?.failures ?? 0, lastTermination: r?.lastTermination, final: r?.final,
      nextStartAt: 0, waiting: { reason: "ContainerCreating" }, probes: { startup: INITIAL_PROBE_STATE, liveness: INITIAL_PROBE_STATE, readiness: INITIAL_PROBE_STATE },
      probing: new Set(), started: false,
    };
    if (r?.pid && r.startTicks !== undefined) {
      run.pid = r.pid;
      run.startTicks = r.startTicks;
      run.startedAt = r.startedAt ?? Date.now();
      run.started = !spec.startupProbe;
      if (!processAlive(r.pid, r.startTicks)) run.exited = { code: null, signal: null, at: Date.now(), unknown: true };
    }
    return run;
  }

  private async syncOnce(now: number): Promise<void> {
    if (this.done) return;
    if (this.pod.metadata?.deletionTimestamp) return this.syncTerminating(now);
    await this.ensureNetwork();
    if (now >= this.nextPrepareAt && (this.plans.size === 0 || this.planError)) await this.prepare(now);
    await this.refreshTokens(now);
    await this.refreshVolumes(now);
    const init = this.pendingInit();
    if (init) this.syncContainer(init, now);
    else if (!this.initFailed()) for (const run of this.mainRuns()) this.syncContainer(run, now);
    this.save();
    await this.writeStatus(now);
  }

  private initRuns(): Run[] {
    return [...this.runs.values()].filter((r) => r.init);
  }

  private mainRuns(): Run[] {
    return [...this.runs.values()].filter((r) => !r.init);
  }

  /** The first init container that has not completed successfully, if it can still run. */
  private pendingInit(): Run | undefined {
    return this.initRuns().find((r) => !r.final);
  }

  private initFailed(): boolean {
    return this.initRuns().some((r) => r.final && r.final.exitCode !== 0);
  }

  private hostNetwork(): boolean {
    return this.pod.spec?.hostNetwork === true;
  }

  private async ensureNetwork(): Promise<void> {
    if (this.network === "ready") return;
    if (this.hostNetwork()) {
      this.network = "ready";
      return;
    }
    const ip = this.rec.ip;
    const adopted = netnsExists(this.names.netns) && [...this.runs.values()].some((r) => r.pid && !r.exited);
    if (!adopted) await createPodNetwork(this.ctx.cfg.bridge, this.names, ip);
    this.proxy = await openApiProxy(this.names.netns, this.ctx.apiserver.port, this.ctx.apiserver);
    this.network = "ready";
  }

  /** Fetches the ConfigMaps and Secrets the pod refers to (missing ones are left out). */
  private async fetchRefs(): Promise<Pick<VolumeDeps, "configMaps" | "secrets">> {
    const ns = this.pod.metadata!.namespace!;
    const refs = referencedObjects(this.pod);
    const configMaps = new Map<string, Record<string, string>>();
    const secrets = new Map<string, Record<string, string>>();
    for (const name of refs.configMaps) {
      const cm = await this.ctx.kube.core.readNamespacedConfigMap({ name, namespace: ns }).catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));
      if (cm) configMaps.set(name, { ...(cm.data ?? {}) });
    }
    for (const name of refs.secrets) {
      const s = await this.ctx.kube.core.readNamespacedSecret({ name, namespace: ns }).catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));
      if (s) secrets.set(name, Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])));
    }
    return { configMaps, secrets };
  }

  private volumeDeps(refs: Pick<VolumeDeps, "configMaps" | "secrets">, refreshOnly: boolean): VolumeDeps {
    const field = { podIP: this.rec.ip, hostIP: this.ctx.cfg.bridge.gateway, nodeName: this.ctx.cfg.nodeName };
    const podDir = join(this.ctx.cfg.stateDir, "pods", this.uid);
    return { core: this.ctx.kube.core, podDir, claimsDir: join(this.ctx.cfg.stateDir, "..", "claims"), ...refs, field, refreshOnly };
  }

  /** Rewrites configMap/secret/downwardAPI volume files in place, as the kubelet's periodic sync does. */
  private async refreshVolumes(now: number): Promise<void> {
    if (now - this.volumesAt < VOLUME_REFRESH_MS || this.plans.size === 0 || this.planError) return;
    this.volumesAt = now;
    try {
      await materializeVolumes(this.pod, this.volumeDeps(await this.fetchRefs(), true));
    } catch (err) {
      this.ctx.cfg.log(`pod ${this.key()}: volume refresh: ${(err as Error).message}`);
    }
  }

  private async prepare(now: number): Promise<void> {
    this.nextPrepareAt = now + 2000;
    const refs = await this.fetchRefs();
    const { configMaps, secrets } = refs;
    const field = { podIP: this.rec.ip, hostIP: this.ctx.cfg.bridge.gateway, nodeName: this.ctx.cfg.nodeName };
    try {
      const m = await materializeVolumes(this.pod, this.volumeDeps(refs, false));
      this.tokens = m.tokens;
      this.tokensAt = now;
      this.volumesAt = now;
      const apiserver = this.hostNetwork() ? this.ctx.apiserver : { host: "127.0.0.1", port: this.ctx.apiserver.port };
      const hostsFile = join(this.ctx.cfg.stateDir, "pods", this.uid, "etc-hosts");
      mkdirSync(join(this.ctx.cfg.stateDir, "pods", this.uid), { recursive: true });
      writeFileSync(hostsFile, hostsFileContent(this.pod, this.rec.ip));
      const inputs = { ...field, images: this.ctx.cfg.images, configMaps, secrets, volumeDirs: m.dirs, apiserver, baseEnv: baseEnv(), hostsFile };
      const plans = new Map<string, ProcessPlan>();
      this.planError = undefined;
      for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) {
        const r = planContainer(this.pod, c, inputs);
        if (r.ok) plans.set(c.name, r.plan);
        else this.planError = { reason: r.reason, message: r.message };
      }
      this.plans = plans;
    } catch (err) {
      this.planError = { reason: "CreateContainerConfigError", message: (err as Error).message };
    }
    if (this.planError) for (const run of this.runs.values()) if (!run.pid) run.waiting = this.planError;
  }

  private async refreshTokens(now: number): Promise<void> {
    const ttl = Math.min(...this.tokens.map((t) => t.expirationSeconds), Infinity) * 1000;
    if (this.tokens.length === 0 || now - this.tokensAt < ttl * 0.8) return;
    this.tokensAt = now;
    for (const t of this.tokens) await writeToken(this.pod, this.ctx.kube.core, t);
  }

  private syncContainer(run: Run, now: number): void {
    if (run.pid === -1) return;
    if (run.exited) this.onExit(run);
    else if (run.pid !== undefined && !run.child && !processAlive(run.pid, run.startTicks ?? 0)) {
      run.exited = { code: null, signal: null, at: now, unknown: true };
      this.onExit(run);
    }
    if (run.pid !== undefined) {
      if (run.killDeadline !== undefined && now >= run.killDeadline) signalContainer(run.pid, "SIGKILL");
      else this.runProbes(run, now);
      return;
    }
    if (run.final || now < run.nextStartAt) return;
    const plan = this.plans.get(run.spec.name);
    if (plan) void this.start(run, plan, now);
  }

  private async start(run: Run, plan: ProcessPlan, now: number): Promise<void> {
    run.pid = -1;
    const log = join(this.ctx.cfg.logDir, "pods", `${this.pod.metadata!.namespace}_${this.pod.metadata!.name}_${this.uid}`, `${run.spec.name}.log`);
    try {
      const s = await startContainer(plan, this.hostNetwork() ? undefined : this.names.netns, log);
      Object.assign(run, { pid: s.pid, startTicks: s.startTicks, child: s.child, startedAt: now, started: !run.spec.startupProbe, killDeadline: undefined });
      run.probes = { startup: INITIAL_PROBE_STATE, liveness: INITIAL_PROBE_STATE, readiness: INITIAL_PROBE_STATE };
      s.child.on("exit", (code, signal) => {
        run.exited = { code, signal, at: Date.now() };
        void this.sync();
      });
      this.ctx.cfg.log(`pod ${this.key()}: started container ${run.spec.name} pid ${s.pid}`);
    } catch (err) {
      run.pid = undefined;
      run.waiting = { reason: "RunContainerError", message: (err as Error).message };
      run.nextStartAt = now + 2000;
    }
    this.save();
    void this.sync();
  }

  private onExit(run: Run): void {
    const e = run.exited!;
    const signal = signalNumber(e.signal);
    const exitCode = e.unknown ? 255 : exitCodeOf(e.code, signal);
    const term: Termination = {
      exitCode, ...(signal !== undefined ? { signal } : {}), reason: e.unknown ? "Unknown" : exitReason(exitCode, signal),
      ...(e.unknown ? { message: "the container exited while the node agent was down; exit status unknown" } : run.killReason ? { message: run.killReason } : {}),
      startedAt: run.startedAt ?? e.at, finishedAt: e.at,
    };
    Object.assign(run, { pid: undefined, child: undefined, exited: undefined, started: false, killDeadline: undefined, killReason: undefined });
    const restart = run.init ? exitCode !== 0 && this.pod.spec?.restartPolicy !== "Never" : shouldRestart(this.pod.spec?.restartPolicy, exitCode);
    if (this.terminating || !restart) {
      run.final = term;
      return;
    }
    run.failures = nextFailureCount(run.failures, term.finishedAt - term.startedAt, this.ctx.cfg.backoff);
    run.restartCount++;
    run.lastTermination = term;
    const delay = backoffDelay(run.failures, this.ctx.cfg.backoff);
    run.nextStartAt = e.at + delay;
    run.waiting = { reason: "CrashLoopBackOff", message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${run.spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})` };
    this.ctx.cfg.log(`pod ${this.key()}: container ${run.spec.name} exited ${exitCode}, restart #${run.restartCount} in ${delay} ms`);
  }

  private runProbes(run: Run, now: number): void {
    const startedAt = run.startedAt ?? now;
    const plan = this.plans.get(run.spec.name);
    const kinds: ProbeKind[] = run.started ? ["liveness", "readiness"] : ["startup"];
    for (const kind of kinds) {
      const spec = run.spec[`${kind}Probe`];
      if (!spec || run.probing.has(kind) || !plan) continue;
      const t = probeTiming(spec);
      if (!probeDue(t, run.probes[kind], startedAt, now)) continue;
      run.probing.add(kind);
      const pid = run.pid!;
      void runProbe(probeAction(spec, this.rec.ip, run.spec.ports ?? []), t.timeoutMs, (cmd, ms) => execInContainer(pid, plan, cmd, ms))
        .catch(() => false)
        .then((ok) => {
          run.probing.delete(kind);
          if (run.pid !== pid) return;
          const before = run.probes[kind].ok;
          run.probes[kind] = recordProbe(t, run.probes[kind], ok, Date.now());
          this.onProbe(run, kind, run.probes[kind].ok);
          if (run.probes[kind].ok !== before) void this.sync();
        });
    }
  }

  private onProbe(run: Run, kind: ProbeKind, ok: boolean | undefined): void {
    if (kind === "startup" && ok) run.started = true;
    if ((kind === "startup" || kind === "liveness") && ok === false && run.killDeadline === undefined && run.pid) {
      run.killReason = `Container ${run.spec.name} failed ${kind} probe, will be restarted`;
      run.killDeadline = Date.now() + this.gracePeriodMs(undefined);
      signalContainer(run.pid, "SIGTERM");
      this.ctx.cfg.log(`pod ${this.key()}: ${run.killReason}`);
    }
  }

  private gracePeriodMs(deletionGrace: number | undefined): number {
    return (deletionGrace ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
  }

  private view(run: Run, now: number): ContainerView {
    const running = run.pid !== undefined && run.pid > 0;
    const state: ContainerState = running
      ? { kind: "running", startedAt: run.startedAt ?? now }
      : run.final ? { kind: "terminated", ...run.final } : { kind: "waiting", ...run.waiting };
    const readinessOk = run.spec.readinessProbe ? run.probes.readiness.ok === true : true;
    return {
      name: run.spec.name, image: run.spec.image ?? "", containerID: running ? `weir-process://${run.pid}` : undefined, state,
      lastTermination: run.lastTermination, restartCount: run.restartCount,
      ready: run.init ? run.final?.exitCode === 0 : running && run.started && readinessOk && !this.terminating,
      started: running && run.started, final: run.final !== undefined,
    };
  }

  private async writeStatus(now: number): Promise<void> {
    const initializing = this.pendingInit() !== undefined || this.initFailed();
    const mainView = (r: Run): ContainerView => {
      const v = this.view(r, now);
      return initializing && v.state.kind === "waiting" ? { ...v, state: { kind: "waiting", reason: "PodInitializing" } } : v;
    };
    const v = {
      podIP: this.rec.ip, hostIP: this.ctx.cfg.bridge.gateway, startTime: this.rec.startTime, sandboxReady: this.network === "ready",
      initialized: !initializing, initContainers: this.initRuns().map((r) => this.view(r, now)), containers: this.mainRuns().map(mainView), message: this.message,
    };
    const status = podStatus(this.pod, v, now);
    const text = JSON.stringify(status);
    if (text === this.lastStatus) return;
    await this.ctx.kube.core.patchNamespacedPodStatus({ name: this.pod.metadata!.name!, namespace: this.pod.metadata!.namespace!, body: { status } }, MERGE_PATCH);
    this.lastStatus = text;
    this.record();
  }

  private save(): void {
    this.record();
    this.ctx.persist();
  }

  /** Copies container bookkeeping into the durable record. */
  private record(): void {
    for (const [name, r] of this.runs) {
      this.rec.containers[name] = {
        ...(r.pid && r.pid > 0 ? { pid: r.pid, startTicks: r.startTicks, startedAt: r.startedAt } : {}),
        restartCount: r.restartCount, failures: r.failures, lastTermination: r.lastTermination, final: r.final,
      };
    }
  }

  private async syncTerminating(now: number): Promise<void> {
    if (!this.terminating) {
      this.terminating = { deadline: now + this.gracePeriodMs(this.pod.metadata?.deletionGracePeriodSeconds), killed: false };
      for (const r of this.runs.values()) if (r.pid && r.pid > 0) signalContainer(r.pid, "SIGTERM");
      this.ctx.cfg.log(`pod ${this.key()}: terminating (grace ${this.terminating.deadline - now} ms)`);
    }
    for (const r of this.runs.values()) {
      if (r.exited) this.onExit(r);
      else if (r.pid && r.pid > 0 && !r.child && !processAlive(r.pid, r.startTicks ?? 0)) { r.exited = { code: null, signal: null, at: now, unknown: true }; this.onExit(r); }
    }
    const alive = [...this.runs.values()].filter((r) => r.pid !== undefined);
    if (alive.length > 0) {
      if (now >= this.terminating.deadline && !this.terminating.killed) {
        this.terminating.killed = true;
        for (const r of alive) if (r.pid! > 0) signalContainer(r.pid!, "SIGKILL");
      }
      return;
    }
    this.save();
    try {
      await this.ctx.kube.core.deleteNamespacedPod({
        name: this.pod.metadata!.name!, namespace: this.pod.metadata!.namespace!,
        body: { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      });
    } catch (err) {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
    }
    await this.cleanup();
  }

  /** The pod is gone from the API: kill what still runs and clean up. */
  async forget(): Promise<void> {
    if (this.done) return;
    for (const r of this.runs.values()) if (r.pid && r.pid > 0) signalContainer(r.pid, "SIGKILL");
    await this.cleanup();
  }

  /** Stops the apiserver proxy only (the agent is stopping but pods keep running). */
  detach(): void {
    this.proxy?.close();
    for (const r of this.runs.values()) r.child?.unref();
    this.done = true;
  }

  private cleanup(): Promise<void> {
    this.cleaning ??= this.doCleanup();
    return this.cleaning;
  }

  private async doCleanup(): Promise<void> {
    this.done = true;
    this.proxy?.close();
    await deletePodNetwork(this.names);
    rmSync(join(this.ctx.cfg.stateDir, "pods", this.uid), { recursive: true, force: true });
    this.ctx.cfg.log(`pod ${this.key()}: cleaned up`);
  }
}

/** Variables every container inherits from the agent. */
function baseEnv(): Record<string, string> {
  const keep = ["PATH", "LANG", "TZ", "NODE_PATH"];
  const env: Record<string, string> = { HOME: "/root" };
  for (const k of keep) if (process.env[k]) env[k] = process.env[k]!;
  return env;
}
