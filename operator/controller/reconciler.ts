/**
 * Reconcile of one StreamJob: read it fresh, observe its pods and JobManager, let the pure upgrade
 * machine decide, write the status it returns (conditionally on the resourceVersion read), record
 * Events for transitions, and only then act. Deletion runs the same machine towards "suspended"
 * (with a final savepoint when `spec.savepoints.onDeletion`), then releases the finalizer.
 *
 * Every write checks `signal` first: a replica that lost leadership stops acting at once.
 */
import type { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../runtime/common/logging.js";
import { GROUP, PLURAL, VERSION, type LifecycleState, type StreamJob } from "../api/index.js";
import { desiredObjects, LABELS, type DeploymentRecord } from "../reconcile/desired-objects.js";
import { decide, recordTrigger, setCondition, type Action, type DecideConfig, type StatusPatch, type UpgradeStatus } from "../upgrade/index.js";
import { applyAll, patchFinalizers, patchStatus, type StatusMergePatch } from "./apply.js";
import type { EventRecorder } from "./events.js";
import { observe, type Observation } from "./observe.js";
import { RestError } from "../../runtime/jobmanager/rest-client.js";

export const FINALIZER = "weir.dev/finalizer";

type Job = StreamJob & { status?: UpgradeStatus };

/** The caches the reconciler reads children from (informer-backed in the operator). */
export interface ChildCache {
  deployments(namespace: string, jobName: string): V1Deployment[];
  pods(namespace: string, jobName: string): V1Pod[];
}

export interface ReconcilerOptions {
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  cache: ChildCache;
  events: EventRecorder;
  log: Logger;
  /** Image for StreamJobs that name none. */
  defaultImage: string;
  /** Runtime configuration under every job's `spec.config`. */
  jobDefaults?: Record<string, string>;
  decide?: Partial<DecideConfig>;
  /** How often a job with nothing in progress is observed again (its REST API is not watched). */
  resyncMs?: number;
  now?: () => number;
}

export interface ReconcileResult {
  /** Look again after this long (undefined: only on the next event). */
  requeueAfterMs?: number;
  /** What was done, for logs and metrics. */
  action: Action["type"] | "finalize" | "gone";
}

/** Thrown when leadership ended in the middle of a reconcile: nothing more was written. */
export class NotLeaderError extends Error {
  constructor() {
    super("leadership lost: reconcile abandoned");
    this.name = "NotLeaderError";
  }
}

const SHORT_POLL_MS = 1_000;

export class StreamJobReconciler {
  readonly #o: ReconcilerOptions;
  readonly #resyncMs: number;
  readonly #now: () => number;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#resyncMs = options.resyncMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  async reconcile(namespace: string, name: string, signal: AbortSignal): Promise<ReconcileResult> {
    const job = await this.#read(namespace, name);
    if (!job) return { action: "gone" };
    const log = this.#o.log.child({ namespace, name });
    if (job.metadata.deletionTimestamp) return this.#finalize(job, log, signal);
    if (!(job.metadata.finalizers ?? []).includes(FINALIZER)) {
      guard(signal);
      const updated = (await patchFinalizers(this.#o.custom, job, [...(job.metadata.finalizers ?? []), FINALIZER])) as Job;
      return this.#step(updated, job.spec, log, signal);
    }
    return this.#step(job, job.spec, log, signal);
  }

  /** One decide-write-act pass with `spec` as the desired state (the job's own, or "suspended" while deleting). */
  async #step(job: Job, spec: Job["spec"], log: Logger, signal: AbortSignal, lifecycleOverride?: LifecycleState): Promise<ReconcileResult> {
    const namespace = job.metadata.namespace!;
    const name = job.metadata.name!;
    const obs = await observe({ job, deployments: this.#o.cache.deployments(namespace, name), pods: this.#o.cache.pods(namespace, name) });
    const now = this.#now();
    const decision = decide({ job: { ...job, spec }, observed: obs.observed, now, ...(this.#o.decide ? { config: this.#o.decide } : {}) });
    const patch: StatusPatch = { ...decision.status, ...extraStatus(job, decision.status, obs) };
    // while deleting, the lifecycle shows DELETING until the pods are gone (SUSPENDED: the finalizer goes next)
    if (lifecycleOverride && patch.lifecycleState !== undefined && patch.lifecycleState !== "SUSPENDED") patch.lifecycleState = lifecycleOverride;
    let current = job;
    if (Object.keys(patch).length > 0) {
      guard(signal);
      current = { ...(await patchStatus(this.#o.custom, job, toMergePatch(patch), job.metadata.resourceVersion)), spec: job.spec } as Job;
      await this.#recordTransition(job, patch, log);
    }
    await this.#disposeTrimmedSavepoints(job, current, obs, log, signal);
    const action = decision.action;
    if (action.type !== "none" && action.type !== "wait" && action.type !== "pollSavepoint") log.info({ action: action.type, lifecycleState: current.status?.lifecycleState }, "acting");
    guard(signal);
    const requeueAfterMs = await this.#act(current, spec, action, obs, log, signal);
    if (action.type !== "deleteJobPods" && action.type !== "deploy") await this.#ensureTaskManagers(current, obs, signal);
    return { action: action.type, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  }

  async #act(job: Job, spec: Job["spec"], action: Action, obs: Observation, log: Logger, signal: AbortSignal): Promise<number | undefined> {
    switch (action.type) {
      case "deploy": {
        const deployed = { ...job, spec: { ...action.spec, config: { ...(this.#o.jobDefaults ?? {}), ...(action.spec.config ?? {}) } } } as StreamJob;
        const objs = desiredObjects(deployed, {}, { defaultImage: this.#o.defaultImage, startFrom: action.startFrom, jobId: action.jobId });
        await applyAll(this.#o.objects, [objs.configMap, objs.jobManagerService, objs.jobManager]);
        const from = action.startFrom ? (action.startFrom.latestCheckpointDir ? `the newest checkpoint in ${action.startFrom.latestCheckpointDir}` : action.startFrom.path) : "fresh state";
        await this.#o.events.record(job, "Normal", "Deploying", `job ${action.jobId} at parallelism ${action.spec.job.parallelism ?? 1} from ${from}`);
        return SHORT_POLL_MS;
      }
      case "triggerStopWithSavepoint":
      case "triggerSavepoint": {
        const rest = obs.rest;
        if (!rest || !obs.jobId) return SHORT_POLL_MS;
        const dir = spec.savepoints?.directory;
        const { triggerId } = action.type === "triggerStopWithSavepoint"
          ? await rest.stopWithSavepoint(obs.jobId, { ...(dir ? { dir } : {}), drain: false })
          : await rest.triggerSavepoint(obs.jobId, dir);
        // recorded before anything else: from now on the machine polls this trigger, never takes another
        guard(signal);
        await patchStatus(this.#o.custom, job, toMergePatch(recordTrigger(job.status, triggerId)));
        const what = action.type === "triggerStopWithSavepoint" ? "stop-with-savepoint" : "savepoint";
        await this.#o.events.record(job, "Normal", "SavepointTriggered", `${what} ${triggerId} of job ${obs.jobId}${dir ? ` into ${dir}` : ""}`);
        return SHORT_POLL_MS;
      }
      case "pollSavepoint":
        return SHORT_POLL_MS;
      case "cancelJob":
        if (obs.rest && obs.jobId) {
          await obs.rest.cancelJob(obs.jobId);
          await this.#o.events.record(job, "Normal", "Cancelling", `cancelling job ${obs.jobId} (last-state: restarts from its latest checkpoint)`);
        }
        return SHORT_POLL_MS;
      case "deleteJobPods":
        await this.#deleteJobDeployments(job, log);
        return SHORT_POLL_MS;
      case "wait":
        return action.ms;
      case "none":
        return this.#resyncMs;
    }
  }

  /** The TaskManagers need the JobManager's pod IP: (re)applied once it is known or when it changed. */
  async #ensureTaskManagers(job: Job, obs: Observation, signal: AbortSignal): Promise<void> {
    if (!obs.record || !obs.jobManagerIp) return;
    const name = `${job.metadata.name}-taskmanager`;
    const tm = this.#o.cache.deployments(job.metadata.namespace!, job.metadata.name!).find((d) => d.metadata?.name === name && !d.metadata.deletionTimestamp);
    const address = `${obs.jobManagerIp}:`;
    const args = tm?.spec?.template.spec?.containers[0]?.args ?? [];
    if (tm && args.some((a) => a.startsWith(address)) && sameDeployment(tm, obs.record)) return;
    const built = desiredObjects({ ...job, spec: obs.record.spec } as StreamJob, { jobManagerIp: obs.jobManagerIp }, {
      defaultImage: this.#o.defaultImage, startFrom: obs.record.startFrom, jobId: obs.record.jobId,
    });
    if (!built.taskManager) return;
    built.taskManager.metadata!.annotations = { "weir.dev/job-id": obs.record.jobId };
    guard(signal);
    await applyAll(this.#o.objects, [built.taskManager]);
  }

  async #deleteJobDeployments(job: Job, log: Logger): Promise<void> {
    for (const d of this.#o.cache.deployments(job.metadata.namespace!, job.metadata.name!)) {
      if (d.metadata?.deletionTimestamp) continue;
      try {
        await this.#o.apps.deleteNamespacedDeployment({ namespace: d.metadata!.namespace!, name: d.metadata!.name!, propagationPolicy: "Background" });
        log.info({ deployment: d.metadata!.name }, "deleted deployment");
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    }
    // the garbage collector removes the ReplicaSets; the pods go now so the next deployment never overlaps them
    for (const p of this.#o.cache.pods(job.metadata.namespace!, job.metadata.name!)) {
      if (p.metadata?.deletionTimestamp) continue;
      try {
        await this.#o.core.deleteNamespacedPod({ namespace: p.metadata!.namespace!, name: p.metadata!.name! });
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
    }
  }

  /** Deleting: stop the job (savepoint when configured), remove its pods, then release the finalizer. */
  async #finalize(job: Job, log: Logger, signal: AbortSignal): Promise<ReconcileResult> {
    if (!(job.metadata.finalizers ?? []).includes(FINALIZER)) return { action: "gone" };
    const done = job.status?.lifecycleState === "SUSPENDED" || job.status?.upgrade?.phase === "BLOCKED" || !job.status?.lastReconciledSpec;
    if (done) {
      const children = this.#o.cache.deployments(job.metadata.namespace!, job.metadata.name!).length + this.#o.cache.pods(job.metadata.namespace!, job.metadata.name!).length;
      if (children > 0) {
        if (job.status?.upgrade?.phase === "BLOCKED") log.warn({ error: job.status.upgrade.error }, "deleting without a final snapshot");
        guard(signal);
        await this.#deleteJobDeployments(job, log);
        return { action: "finalize", requeueAfterMs: SHORT_POLL_MS };
      }
      guard(signal);
      await patchFinalizers(this.#o.custom, job, (job.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
      log.info("finalizer released");
      return { action: "finalize" };
    }
    if (job.status?.lifecycleState !== "DELETING") {
      guard(signal);
      job = { ...(await patchStatus(this.#o.custom, job, { lifecycleState: "DELETING" }, job.metadata.resourceVersion)), spec: job.spec } as Job;
      await this.#o.events.record(job, "Normal", "Deleting", job.spec.savepoints?.onDeletion ? "stopping the job with a final savepoint" : "cancelling the job");
    }
    const onDeletion = job.spec.savepoints?.onDeletion === true;
    const stop = { ...job.spec, job: { ...job.spec.job, state: "suspended" as const, upgradeMode: onDeletion ? "savepoint" as const : "stateless" as const } };
    const result = await this.#step(job, stop, log, signal, "DELETING");
    return { ...result, requeueAfterMs: Math.min(result.requeueAfterMs ?? SHORT_POLL_MS, SHORT_POLL_MS) };
  }

  /**
   * Savepoints that fell out of the history (beyond historyMaxCount / historyMaxAge) are deleted through
   * the JobManager, the only component that reaches their storage. One that a deployment may still
   * restore from (`upgradeSavepointPath`, the restore point of an operation in progress) waits in
   * `savepointInfo.pendingDisposal` until nothing points at it any more.
   */
  async #disposeTrimmedSavepoints(before: Job, after: Job, obs: Observation, log: Logger, signal: AbortSignal): Promise<void> {
    const info = after.status?.savepointInfo;
    if (!info) return;
    const inHistory = new Set((info.history ?? []).map((s) => s.location));
    const pending = new Set(info.pendingDisposal ?? []);
    for (const s of before.status?.savepointInfo?.history ?? []) if (s.location && !inHistory.has(s.location)) pending.add(s.location);
    if (pending.size === 0) return;
    const referenced = new Set([info.lastSavepoint?.location, after.status?.jobStatus?.upgradeSavepointPath, after.status?.upgrade?.startFrom?.path]);
    const left: string[] = [];
    for (const location of pending) {
      if (inHistory.has(location)) continue;
      if (referenced.has(location) || !obs.rest) {
        left.push(location);
        continue;
      }
      try {
        guard(signal);
        await obs.rest.disposeSavepoint(location);
        log.info({ savepoint: location }, "savepoint disposed");
        await this.#o.events.record(after, "Normal", "SavepointDisposed", `${location} (beyond the savepoint history limits)`);
      } catch (err) {
        if (err instanceof NotLeaderError) throw err;
        // refused (not a savepoint, unreadable): reported and forgotten; anything else is tried again later
        if (!(err instanceof RestError && err.status === 400)) left.push(location);
        await this.#o.events.record(after, "Warning", "SavepointDisposalFailed", `${location}: ${errorMessage(err)}`);
      }
    }
    const was = info.pendingDisposal ?? [];
    if (left.length !== was.length || left.some((l) => !was.includes(l))) {
      guard(signal);
      await patchStatus(this.#o.custom, after, { savepointInfo: { ...info, pendingDisposal: left } });
    }
  }

  async #recordTransition(before: Job, patch: StatusPatch, log: Logger): Promise<void> {
    const from = before.status?.lifecycleState;
    const to = patch.lifecycleState;
    if (to !== undefined && to !== from) {
      const error = patch.error;
      log.info({ from: from ?? null, to, ...(error ? { error } : {}) }, "lifecycle transition");
      const warn = to === "FAILED" || to === "ROLLING_BACK";
      await this.#o.events.record(before, warn ? "Warning" : "Normal", `Lifecycle${to}`, error ? `${from ?? "new"} -> ${to}: ${error}` : `${from ?? "new"} -> ${to}`);
    } else if (patch.error && patch.error !== before.status?.error) {
      log.warn({ error: patch.error }, "error");
      await this.#o.events.record(before, "Warning", "Error", patch.error);
    }
    const sp = patch.savepointInfo?.lastSavepoint;
    if (sp?.location && sp.location !== before.status?.savepointInfo?.lastSavepoint?.location) {
      await this.#o.events.record(before, "Normal", "SavepointCompleted", `${sp.triggerType ?? ""} savepoint at ${sp.location}`.trim());
    }
  }

  /** Write a reconcile error into status (best effort: the object may be gone or we may not lead). */
  async recordError(namespace: string, name: string, err: unknown): Promise<void> {
    const job = await this.#read(namespace, name).catch(() => undefined);
    if (!job) return;
    const message = `reconcile failed: ${errorMessage(err)}`;
    if (job.status?.error === message) return;
    const conditions = setCondition(job.status?.conditions, { type: "Reconciled", status: "False", reason: "ReconcileError", message }, this.#now());
    await patchStatus(this.#o.custom, job, { error: message, conditions }).catch(() => undefined);
    await this.#o.events.record(job, "Warning", "ReconcileError", message);
  }

  async #read(namespace: string, name: string): Promise<Job | undefined> {
    try {
      return (await this.#o.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as Job;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }
}

/** Status the machine does not own: job details from the REST API and the scale selector. */
function extraStatus(job: Job, decided: StatusPatch, obs: Observation): StatusPatch {
  const patch: StatusPatch = {};
  const selector = `${LABELS.job}=${job.metadata.name},${LABELS.component}=taskmanager`;
  if (job.status?.selector !== selector) patch.selector = selector;
  const d = obs.jobDetail;
  const js = decided.jobStatus ?? job.status?.jobStatus;
  if (d && obs.jobId && (js?.startTime !== d.startTime || js?.parallelism !== d.parallelism || JSON.stringify(js?.vertices) !== JSON.stringify(d.vertices))) {
    patch.jobStatus = { ...(js ?? {}), ...(obs.observed.job ? { jobId: obs.observed.job.id, state: obs.observed.job.state } : {}), ...d };
  }
  return patch;
}

/** The status patch as a JSON merge patch: fields to clear become explicit nulls. */
export function toMergePatch(patch: StatusPatch): StatusMergePatch {
  return Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v === undefined ? null : v])) as StatusMergePatch;
}

/** Whether a TaskManager Deployment belongs to the JobManager deployment `record` describes. */
function sameDeployment(tm: V1Deployment, record: DeploymentRecord): boolean {
  return tm.metadata?.annotations?.["weir.dev/job-id"] === record.jobId;
}

function guard(signal: AbortSignal): void {
  if (signal.aborted) throw new NotLeaderError();
}

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const v of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof v === "number") return v;
  return undefined;
}

function errorMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON
    }
  }
  return err instanceof Error ? err.message : String(err);
}
