/**
 * The checkpoint coordinator of one job (Flink's `CheckpointCoordinator`): triggers checkpoints and
 * savepoints at the sources, collects the tasks' acks, writes `_metadata`, keeps the last N completed
 * checkpoints through the store, and only then notifies the tasks, so sinks commit what is durable.
 *
 *   const coordinator = new CheckpointCoordinator({ jobId, jobName, config, store, plan, trigger,
 *     notifyComplete, notifyAborted, failJob, log });
 *   coordinator.start();                                  // the job RUNNING: periodic checkpoints
 *   coordinator.receiveAck(executionId, checkpointId, ack); // from the control channel
 *   coordinator.taskFinished(executionId);                // a task reported FINISHED
 *   const triggerId = coordinator.triggerSavepoint({ stop: { drain: false } });
 *   const location = await coordinator.completion(triggerId); // then finish the job
 *   coordinator.stop(); coordinator.abortAll("job failed");   // the job leaves RUNNING
 *
 * One snapshot runs at a time (max-concurrent 1); savepoints queue behind it and go before the next
 * periodic checkpoint. Clock and timers are injected and all I/O goes through `store` and the
 * callbacks, so tests run it on fake time with an in-memory store.
 *
 * Finished tasks (Flink's FLIP-147): a snapshot also starts when some tasks have finished. The plan
 * (checkpoint-plan.ts) triggers the running tasks without a running upstream task and waits for the
 * running ones; a task that finishes before taking part (it acks or declines before it reports
 * FINISHED) is finished in this snapshot too: all it read and emitted precedes the barrier.
 * `_metadata` marks finished subtasks `finished`, with no state; an operator whose subtasks all
 * finished is fully finished, and a restore does not run it again (runtime/state/restore-assignment.ts).
 */
import { randomUUID } from "node:crypto";
import { describeError, WeirError } from "../common/errors.js";
import type { Logger } from "../common/logging.js";
import type { RuntimeConfig } from "../config/options.js";
import type {
  CheckpointMetadata,
  OperatorStateMeta,
  OperatorSubtaskState,
  SnapshotKind,
} from "../state/snapshot-types.js";
import { subtaskFileRefs } from "../state/storage/metadata.js";
import type { CheckpointingOverview, CheckpointStats, RestoredCheckpointInfo, SavepointInfo } from "./rest-types.js";

/** Which tasks take part in a snapshot, computed by the JobMaster when one is triggered. */
export interface CheckpointPlan {
  /** Execution ids of the running subtasks without a running upstream subtask (the sources, first of all): they receive the trigger. */
  trigger: string[];
  /** Every running subtask: each acknowledges, or finishes first, before the snapshot is complete. */
  ackFrom: { executionId: string; vertexId: string; subtask: number }[];
  /** Subtasks that had finished: recorded as finished, with no state. */
  finished: { vertexId: string; subtask: number }[];
  /** The job's vertices in topological order; `_metadata` lists their operators in this order. */
  vertices: {
    id: string;
    parallelism: number;
    maxParallelism: number;
    operators: { uid: string; name: string }[];
  }[];
}

/** What a source subtask is told when a snapshot starts. */
export interface TriggerMessage {
  checkpointId: number;
  timestamp: number;
  kind: SnapshotKind;
  /** Directory the tasks write this snapshot's exclusive files into (chk-N or the savepoint directory). */
  targetDir: string;
  /** Stop-with-savepoint: the sources stop after the barrier (and emit MAX_WATERMARK first when draining). */
  stop?: { drain: boolean };
}

/** Timing and size figures a task reports with its ack. */
export interface CheckpointAckStats {
  alignmentMs: number;
  syncMs: number;
  asyncMs: number;
  bytes: number;
}

/** A task's acknowledgement: the state of each of its operators (by uid) and its figures. */
export interface CheckpointAck {
  operators: Record<string, OperatorSubtaskState>;
  stats: CheckpointAckStats;
}

/**
 * Durable storage of snapshots, as the coordinator needs it; the integrator implements it with
 * runtime/state/storage (checkpointDirUrl, newSavepointDirUrl, writeMetadata, CompletedCheckpointStore).
 * Every method may reject; the coordinator then fails the snapshot (or, for discards, logs and goes on).
 */
export interface SnapshotStore {
  /** `<state.checkpoints.dir>/<jobId>/chk-<n>` (absolute URL, no trailing slash). */
  checkpointDir(checkpointId: number): string;
  /** A new, unique savepoint directory under `targetDir`, e.g. `<targetDir>/savepoint-<shortJobId>-<random>`. */
  newSavepointDir(targetDir: string): string;
  /**
   * Write `_metadata` atomically; resolves to its size. `meta` holds the absolute URLs the tasks
   * reported: making them relative to `_metadata`'s directory (snapshot-types.ts) is the store's job.
   */
  writeMetadata(metadataUrl: string, meta: CheckpointMetadata): Promise<number>;
  /** Register a completed checkpoint and delete those beyond `execution.checkpointing.num-retained`. */
  addCompleted(meta: CheckpointMetadata, metadataUrl: string): Promise<void>;
  /** The latest retained checkpoint, what a restart restores from. */
  latest(): { meta: CheckpointMetadata; metadataUrl: string } | null;
  /** Delete those of `urls` that no retained checkpoint references (files of aborted or late snapshots). */
  discardUnregistered(urls: string[]): Promise<void>;
  /** Delete a snapshot directory and everything in it. */
  discardDirectory(dirUrl: string): Promise<void>;
}

/** Everything the coordinator works with; the clock and timers default to the real ones. */
export interface CheckpointCoordinatorDeps {
  jobId: string;
  jobName: string;
  config: RuntimeConfig;
  store: SnapshotStore;
  /** Which tasks to trigger and wait for, or why a snapshot cannot start now (e.g. a task is still deploying). */
  plan(): CheckpointPlan | string;
  /** Send the trigger to a subtask of `plan.trigger`. */
  trigger(executionId: string, msg: TriggerMessage): void;
  /** The snapshot is durable: tasks may commit everything up to `checkpointId`. */
  notifyComplete(executionIds: string[], checkpointId: number): void;
  notifyAborted(executionIds: string[], checkpointId: number, reason: string): void;
  /** Too many consecutive checkpoint failures. */
  failJob(reason: string): void;
  log: Logger;
  /** Ids continue after this one (a restored job's latest checkpoint); default: the store's latest, else 0. */
  initialCheckpointId?: number;
  /** Epoch ms (default `Date.now`). */
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

/** What `triggerSavepoint` takes. */
export interface SavepointOptions {
  /** Default `state.savepoints.dir`. */
  targetDir?: string;
  /** Stop-with-savepoint: tasks are notified of its completion (sinks commit), then the job finishes. */
  stop?: { drain: boolean };
}

interface SavepointRequest {
  readonly triggerId: string;
  readonly targetDir: string;
  readonly stop: { drain: boolean } | undefined;
  info: SavepointInfo;
  readonly waiters: { resolve(location: string): void; reject(err: Error): void }[];
}

type AckTarget = CheckpointPlan["ackFrom"][number];

/** A snapshot being taken: collecting acks, then writing `_metadata`, then committing to the store. */
interface Pending {
  readonly id: number;
  readonly kind: SnapshotKind;
  readonly timestamp: number;
  readonly dir: string;
  readonly plan: CheckpointPlan;
  readonly awaiting: Map<string, AckTarget>;
  readonly acked: Map<string, { target: AckTarget; ack: CheckpointAck }>;
  /** `<vertexId>/<subtask>` of the subtasks finished in this snapshot (before the trigger or before taking part). */
  readonly finished: Set<string>;
  readonly stats: CheckpointStats;
  readonly request: SavepointRequest | null;
  phase: "collecting" | "writing" | "committing";
  timer: unknown;
  aborted: boolean;
  /** Cleared when the job restarts while committing: the acked executions are gone. */
  notify: boolean;
}

const HISTORY_SIZE = 20;
/** Savepoint requests whose status stays queryable; older settled ones are forgotten. */
const REMEMBERED_REQUESTS = 100;

/** The checkpoint coordinator of one job (one instance per job, kept across its restarts); see the module comment. */
export class CheckpointCoordinator {
  private readonly config: RuntimeConfig;
  private readonly store: SnapshotStore;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  private lastId: number;
  private pending: Pending | null = null;
  private readonly queue: SavepointRequest[] = [];
  private readonly requests = new Map<string, SavepointRequest>();
  /** Set once a stop-with-savepoint completed: the job is finishing, nothing more may start. */
  private stoppedBy: string | null = null;

  private periodic = false;
  private periodicTimer: unknown = null;
  private nextPeriodicAt = 0;
  private lastEnd = -Infinity;
  private consecutiveFailures = 0;
  private readonly inflight = new Set<Promise<void>>();

  private readonly history: CheckpointStats[] = [];
  private readonly counts = { completed: 0, failed: 0, restored: 0 };
  private readonly latest: CheckpointingOverview["latest"] = {
    completed: null,
    savepoint: null,
    failed: null,
    restored: null,
  };

  /** Throws a WeirError (WEIR_E_CONFIG) when periodic checkpoints are on without `state.checkpoints.dir`. */
  constructor(private readonly deps: CheckpointCoordinatorDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.now = deps.now ?? Date.now;
    this.setTimer = deps.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = deps.clearTimeout ?? ((h) => clearTimeout(h as NodeJS.Timeout));
    this.lastId = deps.initialCheckpointId ?? deps.store.latest()?.meta.checkpointId ?? 0;
    const interval = this.config["execution.checkpointing.interval"];
    if (interval > 0 && this.config["state.checkpoints.dir"] === "") {
      throw new WeirError(
        "WEIR_E_CONFIG",
        `execution.checkpointing.interval is ${interval} ms but state.checkpoints.dir is not set; ` +
          "set it to a file:///dir or s3://bucket/prefix URL, or set the interval to 0",
      );
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Start periodic checkpoints (no-op when `execution.checkpointing.interval` is 0); the first after one interval. */
  start(): void {
    if (this.config["execution.checkpointing.interval"] <= 0 || this.stoppedBy !== null) return;
    this.periodic = true;
    this.nextPeriodicAt = this.now() + this.config["execution.checkpointing.interval"];
    this.schedulePeriodic();
  }

  /** Stop periodic checkpoints. A snapshot in progress and savepoint requests are not affected. */
  stop(): void {
    this.periodic = false;
    this.cancelPeriodicTimer();
  }

  /**
   * The job failed, restarts or ended: abort the snapshot in progress and fail queued savepoints.
   * Not counted against `tolerable-failed-checkpoints` (the restart strategy handles job failures).
   * A snapshot already committing to the store completes, without notifying the tasks.
   */
  abortAll(reason: string): void {
    for (const request of this.queue.splice(0)) this.settle(request, { status: "FAILED", failure: reason });
    const p = this.pending;
    if (p === null) return;
    if (p.phase === "committing") p.notify = false;
    else this.fail(p, `${label(p)} aborted: ${reason}`, false);
  }

  /** Resolves once no `_metadata` write, store update or discard is under way (for shutdown and tests). */
  async whenIdle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Record that the job (re)started from a snapshot; later ids continue after it. */
  recordRestore(info: RestoredCheckpointInfo): void {
    this.counts.restored++;
    this.latest.restored = { ...info };
    this.lastId = Math.max(this.lastId, info.id);
  }

  /** The latest retained checkpoint, what a restart restores from. */
  latestCompleted(): { meta: CheckpointMetadata; metadataUrl: string } | null {
    return this.store.latest();
  }

  // ---- savepoints -----------------------------------------------------------------------------

  /**
   * Request a savepoint (after the snapshot in progress, if any); returns its trigger id. Throws a
   * WeirError (WEIR_E_CONFIG) when no target directory is given and `state.savepoints.dir` is unset.
   */
  triggerSavepoint(opts: SavepointOptions = {}): string {
    const targetDir = opts.targetDir || this.config["state.savepoints.dir"];
    if (targetDir === "") {
      throw new WeirError(
        "WEIR_E_CONFIG",
        "no savepoint target directory: give one (a file:// or s3:// URL) with the request, " +
          "or set state.savepoints.dir",
      );
    }
    const request: SavepointRequest = {
      triggerId: randomUUID(),
      targetDir,
      stop: opts.stop,
      info: { status: "IN_PROGRESS" },
      waiters: [],
    };
    this.remember(request);
    if (this.stoppedBy !== null) {
      this.settle(request, { status: "FAILED", failure: `the job is finishing: ${this.stoppedBy}` });
    } else {
      this.queue.push(request);
      this.startNext();
    }
    return request.triggerId;
  }

  /** Status of a savepoint request; undefined for an unknown (or long forgotten) trigger id. */
  savepointStatus(triggerId: string): SavepointInfo | undefined {
    const request = this.requests.get(triggerId);
    return request && { ...request.info };
  }

  /** Resolves to the savepoint's location once complete; rejects when it fails or the id is unknown. */
  completion(triggerId: string): Promise<string> {
    const request = this.requests.get(triggerId);
    if (!request) {
      return Promise.reject(new WeirError("WEIR_E_NOT_FOUND", `no savepoint with trigger id "${triggerId}"`));
    }
    const { status, location, failure } = request.info;
    if (status === "COMPLETED") return Promise.resolve(location!);
    if (status === "FAILED") return Promise.reject(new Error(failure));
    return new Promise((resolve, reject) => request.waiters.push({ resolve, reject }));
  }

  // ---- task messages --------------------------------------------------------------------------

  /** A task acknowledged a snapshot. Acks of snapshots no longer pending have their files discarded. */
  receiveAck(executionId: string, checkpointId: number, ack: CheckpointAck): void {
    const p = this.pending;
    const target = p?.id === checkpointId ? p.awaiting.get(executionId) : undefined;
    if (!p || !target) {
      if (p?.id === checkpointId && p.acked.has(executionId)) return; // duplicate: its files are the first ack's
      this.deps.log.debug({ jobId: this.deps.jobId, executionId, checkpointId }, "discarding a late or unknown ack");
      this.track(this.discardFiles(ackFileUrls([ack])));
      return;
    }
    p.awaiting.delete(executionId);
    p.acked.set(executionId, { target, ack });
    addAckStats(p.stats, ack, this.now());
    if (p.awaiting.size === 0) this.track(this.finalize(p));
  }

  /**
   * A task reported FINISHED. If the snapshot in progress still waits for it, the task never took
   * part (a task acks or declines before it reports FINISHED): all its input ended, and all it
   * emitted, before the barrier could reach it, so the snapshot records it as finished.
   */
  taskFinished(executionId: string): void {
    const p = this.pending;
    const target = p?.phase === "collecting" ? p.awaiting.get(executionId) : undefined;
    if (!p || !target) return;
    p.awaiting.delete(executionId);
    p.finished.add(subtaskKey(target.vertexId, target.subtask));
    p.stats.finished++;
    if (p.awaiting.size === 0) this.track(this.finalize(p));
  }

  /** A task could not take its part of a snapshot: abort it (counted as a failed checkpoint). */
  receiveDecline(executionId: string, checkpointId: number, reason: string): void {
    const p = this.pending;
    if (!p || p.id !== checkpointId || p.phase !== "collecting") return;
    if (!p.awaiting.has(executionId) && !p.acked.has(executionId)) return;
    this.fail(p, `${label(p)} declined by task ${executionId}: ${reason}`, true);
  }

  // ---- statistics -----------------------------------------------------------------------------

  /** Counts, latest snapshots and recent history (GET /jobs/:id/checkpoints). */
  overview(): CheckpointingOverview {
    const now = this.now();
    const view = (s: CheckpointStats | null) => (s === null ? null : this.view(s, now));
    const inProgress = this.pending === null ? 0 : 1;
    const { completed, failed, restored } = this.counts;
    return {
      counts: { completed, failed, inProgress, restored, total: completed + failed + inProgress },
      latest: {
        completed: view(this.latest.completed),
        savepoint: view(this.latest.savepoint),
        failed: view(this.latest.failed),
        restored: this.latest.restored && { ...this.latest.restored },
      },
      history: this.history.map((s) => this.view(s, now)),
    };
  }

  private view(s: CheckpointStats, now: number): CheckpointStats {
    return s.status === "IN_PROGRESS" ? { ...s, endToEndDuration: now - s.triggerTimestamp } : { ...s };
  }

  // ---- scheduling -----------------------------------------------------------------------------

  /** Start the next queued savepoint, else arm the periodic timer; nothing while a snapshot runs. */
  private startNext(): void {
    if (this.pending !== null) return;
    const request = this.queue.shift();
    if (request) this.startSnapshot(request);
    else this.schedulePeriodic();
  }

  /** The next periodic checkpoint is one interval after the last and `min-pause` after the last end. */
  private schedulePeriodic(): void {
    this.cancelPeriodicTimer();
    if (!this.periodic || this.pending !== null || this.queue.length > 0) return;
    const at = Math.max(this.nextPeriodicAt, this.lastEnd + this.config["execution.checkpointing.min-pause"]);
    this.periodicTimer = this.setTimer(() => {
      this.periodicTimer = null;
      if (this.periodic && this.pending === null) this.startSnapshot(null);
    }, Math.max(0, at - this.now()));
  }

  private cancelPeriodicTimer(): void {
    if (this.periodicTimer !== null) this.clearTimer(this.periodicTimer);
    this.periodicTimer = null;
  }

  private startSnapshot(request: SavepointRequest | null): void {
    const now = this.now();
    if (request === null) this.nextPeriodicAt = now + this.config["execution.checkpointing.interval"];
    const plan = this.deps.plan();
    if (typeof plan === "string") return this.cannotStart(request, plan);
    const id = ++this.lastId;
    const p = this.newPending(id, now, plan, request);
    this.pending = p;
    this.record(p.stats);
    p.timer = this.setTimer(() => this.expire(p), this.config["execution.checkpointing.timeout"]);
    this.deps.log.info({ jobId: this.deps.jobId, checkpointId: id, kind: p.kind, dir: p.dir }, `triggering ${label(p)}`);
    const msg: TriggerMessage = { checkpointId: id, timestamp: now, kind: p.kind, targetDir: p.dir };
    if (request?.stop) msg.stop = request.stop;
    try {
      for (const executionId of plan.trigger) this.deps.trigger(executionId, msg);
    } catch (err) {
      return this.fail(p, `${label(p)} could not be triggered: ${messageOf(err)}`, true);
    }
    if (p.awaiting.size === 0) this.track(this.finalize(p));
  }

  /** Not all tasks run (starting, restarting, finishing): skip this periodic checkpoint; fail a savepoint. */
  private cannotStart(request: SavepointRequest | null, reason: string): void {
    if (request) {
      this.settle(request, { status: "FAILED", failure: `savepoint could not be triggered: ${reason}` });
    } else {
      this.deps.log.info({ jobId: this.deps.jobId, reason }, "skipping a periodic checkpoint");
    }
    this.startNext();
  }

  private newPending(id: number, now: number, plan: CheckpointPlan, request: SavepointRequest | null): Pending {
    const kind: SnapshotKind = request ? "savepoint" : "checkpoint";
    const stats: CheckpointStats = {
      id,
      kind,
      status: "IN_PROGRESS",
      triggerTimestamp: now,
      latestAckTimestamp: null,
      endToEndDuration: 0,
      stateSize: 0,
      alignmentMs: 0,
      syncMs: 0,
      asyncMs: 0,
      acknowledged: 0,
      finished: plan.finished.length,
      total: plan.ackFrom.length + plan.finished.length,
    };
    return {
      id,
      kind,
      timestamp: now,
      dir: request ? this.store.newSavepointDir(request.targetDir) : this.store.checkpointDir(id),
      plan,
      awaiting: new Map(plan.ackFrom.map((t) => [t.executionId, t])),
      acked: new Map(),
      finished: new Set(plan.finished.map((t) => subtaskKey(t.vertexId, t.subtask))),
      stats,
      request,
      phase: "collecting",
      timer: null,
      aborted: false,
      notify: true,
    };
  }

  // ---- completion -----------------------------------------------------------------------------

  /** All acked (or finished): write `_metadata`, then (checkpoints) add to the store; complete only after both. */
  private async finalize(p: Pending): Promise<void> {
    p.phase = "writing";
    const meta = buildMetadata(this.deps.jobId, this.deps.jobName, p);
    const refusal = unionStateOfFinished(meta);
    if (refusal !== null) return this.fail(p, `${label(p)} cannot be completed: ${refusal}`, false);
    const metadataUrl = metadataUrlOf(p.dir);
    try {
      await this.store.writeMetadata(metadataUrl, meta);
      if (p.aborted) return await this.discard(p); // aborted (timeout, job failure) while writing
      p.phase = "committing";
      this.clearTimer(p.timer);
      if (p.kind === "checkpoint") await this.store.addCompleted(meta, metadataUrl);
    } catch (err) {
      if (p.aborted) return await this.discard(p);
      return this.fail(p, `${label(p)} could not be finalized: ${messageOf(err)}`, true);
    }
    this.complete(p);
  }

  private complete(p: Pending): void {
    const now = this.now();
    this.endPending(p, now);
    Object.assign(p.stats, { status: "COMPLETED", endToEndDuration: now - p.timestamp, externalPath: p.dir });
    this.counts.completed++;
    if (p.kind === "checkpoint") {
      this.latest.completed = p.stats;
      this.consecutiveFailures = 0;
    } else {
      this.latest.savepoint = p.stats;
    }
    const { jobId } = this.deps;
    this.deps.log.info({ jobId, checkpointId: p.id, bytes: p.stats.stateSize, path: p.dir }, `completed ${label(p)}`);
    // Intermediate savepoints commit nothing (Flink >= 1.15); only checkpoints and stop-with-savepoint do.
    if (p.notify && (p.kind === "checkpoint" || p.request?.stop)) {
      this.deps.notifyComplete([...p.acked.keys()], p.id);
    }
    if (p.request?.stop) this.finishing(`stopped with savepoint ${p.dir}`);
    if (p.request) this.settle(p.request, { status: "COMPLETED", location: p.dir });
    this.startNext();
  }

  /** After a stop-with-savepoint: no more checkpoints, and queued savepoints fail. */
  private finishing(reason: string): void {
    this.stoppedBy = reason;
    this.stop();
    for (const request of this.queue.splice(0)) {
      this.settle(request, { status: "FAILED", failure: `the job is finishing: ${reason}` });
    }
  }

  // ---- failure --------------------------------------------------------------------------------

  private expire(p: Pending): void {
    const timeout = this.config["execution.checkpointing.timeout"];
    this.fail(p, `${label(p)} expired before completing (timeout ${timeout} ms)`, true);
  }

  /**
   * End a snapshot as failed: tell the tasks, delete what was written, settle a savepoint request.
   * `counted` failures of checkpoints (timeout, decline, I/O) count towards the tolerable threshold.
   */
  private fail(p: Pending, reason: string, counted: boolean): void {
    if (p.aborted) return;
    p.aborted = true;
    const now = this.now();
    this.endPending(p, now);
    Object.assign(p.stats, { status: "FAILED", endToEndDuration: now - p.timestamp, failure: reason });
    this.counts.failed++;
    this.latest.failed = p.stats;
    this.deps.log.warn({ jobId: this.deps.jobId, checkpointId: p.id }, reason);
    this.deps.notifyAborted(
      p.plan.ackFrom.map((t) => t.executionId),
      p.id,
      reason,
    );
    this.track(this.discard(p));
    if (p.request) this.settle(p.request, { status: "FAILED", failure: reason });
    if (counted && p.kind === "checkpoint") this.countFailure(reason);
    this.startNext();
  }

  /** More than `tolerable-failed-checkpoints` consecutive failures fail the job (once). */
  private countFailure(reason: string): void {
    const tolerable = this.config["execution.checkpointing.tolerable-failed-checkpoints"];
    if (++this.consecutiveFailures <= tolerable) return;
    const failures = this.consecutiveFailures;
    this.consecutiveFailures = 0;
    this.stop();
    this.deps.failJob(
      `Exceeded checkpoint tolerable failure threshold: ${failures} consecutive checkpoints failed ` +
        `(execution.checkpointing.tolerable-failed-checkpoints is ${tolerable}); last failure: ${reason}`,
    );
  }

  private endPending(p: Pending, now: number): void {
    this.clearTimer(p.timer);
    if (this.pending === p) this.pending = null;
    this.lastEnd = now;
  }

  /** Delete the files the tasks reported and the snapshot's directory. Never rejects. */
  private async discard(p: Pending): Promise<void> {
    await this.discardFiles(ackFileUrls([...p.acked.values()].map((a) => a.ack)));
    try {
      await this.store.discardDirectory(p.dir);
    } catch (err) {
      this.deps.log.warn({ jobId: this.deps.jobId, dir: p.dir, err: describeError(err) }, "could not delete a failed snapshot");
    }
  }

  private async discardFiles(urls: string[]): Promise<void> {
    if (urls.length === 0) return;
    try {
      await this.store.discardUnregistered(urls);
    } catch (err) {
      this.deps.log.warn({ jobId: this.deps.jobId, urls, err: describeError(err) }, "could not delete snapshot files");
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------------

  private settle(request: SavepointRequest, info: SavepointInfo): void {
    request.info = info;
    for (const w of request.waiters.splice(0)) {
      if (info.status === "COMPLETED") w.resolve(info.location!);
      else w.reject(new Error(info.failure));
    }
  }

  private remember(request: SavepointRequest): void {
    this.requests.set(request.triggerId, request);
    for (const [id, old] of this.requests) {
      if (this.requests.size <= REMEMBERED_REQUESTS) break;
      if (old.info.status !== "IN_PROGRESS") this.requests.delete(id);
    }
  }

  private record(stats: CheckpointStats): void {
    this.history.unshift(stats);
    if (this.history.length > HISTORY_SIZE) this.history.pop();
  }

  private track(work: Promise<void>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }
}

/** "Checkpoint 7" / "Savepoint 8", for messages. */
function label(p: Pending): string {
  return `${p.kind === "checkpoint" ? "Checkpoint" : "Savepoint"} ${p.id}`;
}

/** The first line of an error, for failure reasons shown to users (logs get the whole chain). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function metadataUrlOf(dir: string): string {
  return `${dir.replace(/\/+$/, "")}/_metadata`;
}

function addAckStats(stats: CheckpointStats, ack: CheckpointAck, now: number): void {
  stats.acknowledged++;
  stats.latestAckTimestamp = now;
  stats.stateSize += ack.stats.bytes;
  stats.alignmentMs = Math.max(stats.alignmentMs, ack.stats.alignmentMs);
  stats.syncMs = Math.max(stats.syncMs, ack.stats.syncMs);
  stats.asyncMs = Math.max(stats.asyncMs, ack.stats.asyncMs);
}

function subtaskKey(vertexId: string, subtask: number): string {
  return `${vertexId}/${subtask}`;
}

/**
 * Why a snapshot with partly finished operators cannot be restored faithfully, or null: union list
 * state is given whole to every subtask on restore, and a finished subtask's part of it is gone, so
 * the others would restore an incomplete union (Flink refuses such checkpoints too). It passes once
 * the operator's last subtasks finished.
 */
function unionStateOfFinished(meta: CheckpointMetadata): string | null {
  for (const op of meta.operators) {
    const finished = op.subtasks.filter((s) => s.finished).length;
    if (finished === 0 || finished === op.subtasks.length) continue;
    const union = op.subtasks.flatMap((s) => s.lists).find((l) => l.mode === "union");
    if (union) {
      return (
        `operator "${op.name}" (uid "${op.uid}") keeps union list state "${union.name}" and ${finished} of its ` +
        `${op.subtasks.length} subtasks finished, whose part of that state is gone; checkpoints resume once all its subtasks finished`
      );
    }
  }
  return null;
}

/** The state files (keyed and raw) of some acks (operator list state is inline in `_metadata`). */
function ackFileUrls(acks: CheckpointAck[]): string[] {
  return acks.flatMap((ack) => Object.values(ack.operators).flatMap((s) => subtaskFileRefs(s).map((ref) => ref.url)));
}

/**
 * `_metadata` of a fully acked snapshot: operators in plan order, each with one entry per subtask by
 * index. A subtask that reported nothing for an operator (stateless) has empty state; a finished
 * subtask is marked `finished`, with no state.
 */
function buildMetadata(jobId: string, jobName: string, p: Pending): CheckpointMetadata {
  const bySubtask = new Map<string, CheckpointAck>();
  for (const { target, ack } of p.acked.values()) bySubtask.set(subtaskKey(target.vertexId, target.subtask), ack);
  const stateOf = (v: CheckpointPlan["vertices"][number], uid: string, i: number): OperatorSubtaskState => {
    const key = subtaskKey(v.id, i);
    if (p.finished.has(key)) return { keyed: null, lists: [], finished: true };
    return bySubtask.get(key)?.operators[uid] ?? { keyed: null, lists: [] };
  };
  const operators: OperatorStateMeta[] = p.plan.vertices.flatMap((v) =>
    v.operators.map((op) => ({
      uid: op.uid,
      name: op.name,
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism,
      subtasks: Array.from({ length: v.parallelism }, (_, i) => stateOf(v, op.uid, i)),
    })),
  );
  return {
    format: "weir-snapshot",
    version: 1,
    kind: p.kind,
    jobId,
    jobName,
    checkpointId: p.id,
    timestamp: p.timestamp,
    operators,
  };
}
