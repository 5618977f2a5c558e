/**
 * The JobMaster of one job: expands the job graph into executions (one per subtask), deploys them to
 * their slots, follows task state reports and derives the job's state.
 *
 * Failures: the first failure of an attempt is its root cause (a lost TaskManager is preferred over the
 * channel errors it causes). The restart strategy decides: restart (cancel every task, wait, take slots
 * again — waiting for a replacement TaskManager if needed — and deploy a new attempt from the latest
 * completed checkpoint) or fail the job. Restarts are full restarts: a keyBy makes a streaming job one
 * failover region anyway.
 *
 * Watermark alignment: the JobMaster keeps the sources' watermark reports per alignment group and, every
 * update interval of each aligned source, announces the group's `maxAllowed` to that source's running
 * subtasks (see watermark-alignment.ts).
 */
import { producerSubtasks, type JobGraph, type JobVertex } from "../graph/job-graph.js";
import type { ChannelDescriptor, CheckpointAck, JmToTm, TaskDeployment } from "./control-protocol.js";
import { partitionIdOf } from "./control-protocol.js";
import type { JobDetail, JobFailure, JobState, JobSummary, SubmitJobRequest, TaskMetrics, TaskState, VertexDetail } from "./rest-types.js";
import { TERMINAL_JOB_STATES } from "./rest-types.js";
import { aggregateVertexMetrics } from "../metrics/aggregate.js";
import type { RestartStrategy } from "./restart-strategy.js";
import type { CheckpointMetadata, TaskRestore } from "../state/snapshot-types.js";
import { assignRestore, finishedVertices, type RestoreVertex } from "../state/restore-assignment.js";
import { alignedSources, WatermarkAlignment, type AlignedSource } from "./watermark-alignment.js";

/** A slot given to the job: subtask i of every vertex runs in slot i. */
export interface AssignedSlot {
  tmId: string;
  dataAddress: string;
}

interface Execution {
  readonly id: string;
  readonly vertex: JobVertex;
  readonly subtask: number;
  readonly attempt: number;
  state: TaskState;
  tmId: string | null;
  metrics: TaskMetrics | null;
  failure: string | null;
}

/** A snapshot to start from. */
export interface RestorePoint {
  meta: CheckpointMetadata;
  /** URL of its `_metadata`. */
  metadataUrl: string;
}

/** What the JobMaster needs from checkpointing (the coordinator, adapted by the JobManager). */
export interface JobCheckpointing {
  /** Start periodic checkpoints (the job is RUNNING). */
  start(): void;
  /** Stop triggering (job ending or restarting). */
  stop(): void;
  /** Abort checkpoints in flight: their tasks are gone. */
  abortAll(reason: string): void;
  receiveAck(executionId: string, checkpointId: number, ack: CheckpointAck): void;
  receiveDecline(executionId: string, checkpointId: number, reason: string): void;
  /** A task finished (after acknowledging or declining every checkpoint it took part in). */
  taskFinished(executionId: string): void;
  /** The latest completed checkpoint, to restart from. */
  latest(): RestorePoint | null;
}

export interface JobMasterDeps {
  send(tmId: string, msg: JmToTm): void;
  /** Called once when the job reaches a terminal state. */
  onTerminal(job: JobMaster): void;
  /** Every task of a failed attempt ended: give back its slots and, after `delayMs`, find slots again and call `deploy`. */
  onRestart(job: JobMaster, delayMs: number): void;
  log(msg: string, fields?: Record<string, unknown>): void;
}

const TERMINAL_TASK: ReadonlySet<TaskState> = new Set(["FINISHED", "CANCELED", "FAILED"]);
/** A TaskManager loss this soon after a task failure is taken as that failure's root cause. */
const TM_LOSS_ROOT_CAUSE_WINDOW_MS = 2_000;
const FAILURE_HISTORY = 20;

export class JobMaster {
  state: JobState = "CREATED";
  readonly timestamps: Partial<Record<JobState, number>> = {};
  /** Root cause of the current (or last) failure. */
  failure: JobFailure | null = null;
  private failureIsTmLoss = false;
  private readonly failureHistory: JobDetail["failureHistory"] = [];
  private executions = new Map<string, Execution>();
  private byVertex = new Map<string, Execution[]>();
  /** Restart attempt: 0 for the first deployment. */
  private attempt = 0;
  private restartPending = false;
  /** The restart strategy's delay for the pending restart. */
  private restartDelay = 0;
  /** Checkpointing, once the JobManager attached it (jobs without it restart from `initialRestore` or fresh). */
  checkpointing: JobCheckpointing | null = null;
  /** Where the current attempt's state came from. */
  private restoredFrom: RestorePoint | null = null;
  /** Vertices deployed finished: all their operators had finished in `restoredFrom`. */
  private finishedOnRestore = new Set<string>();
  /** Source vertices with watermark alignment, by vertex id; their reports, per group, of this attempt. */
  private readonly alignedSources: ReadonlyMap<string, AlignedSource>;
  private readonly watermarkAlignment = new WatermarkAlignment();
  private alignmentTimers: ReturnType<typeof setInterval>[] = [];

  constructor(
    readonly id: string,
    readonly request: Required<Pick<SubmitJobRequest, "module" | "args" | "parallelism">>,
    readonly graph: JobGraph,
    private readonly deps: JobMasterDeps,
    private readonly restartStrategy: RestartStrategy,
    /** A savepoint or checkpoint the job was submitted with. */
    readonly initialRestore: RestorePoint | null = null,
  ) {
    this.alignedSources = new Map(alignedSources(graph).map((s) => [s.vertexId, s]));
    this.restoreFrom(initialRestore);
    this.transition("CREATED");
    this.createExecutions();
  }

  private createExecutions(): void {
    this.executions = new Map();
    this.byVertex = new Map();
    this.watermarkAlignment.clear();
    for (const v of this.graph.vertices) {
      const list: Execution[] = [];
      for (let i = 0; i < v.parallelism; i++) {
        const ex: Execution = { id: `${this.id}.${v.id}.${i}.${this.attempt}`, vertex: v, subtask: i, attempt: this.attempt, state: "CREATED", tmId: null, metrics: null, failure: null };
        list.push(ex);
        this.executions.set(ex.id, ex);
      }
      this.byVertex.set(v.id, list);
    }
  }

  get name(): string {
    return this.graph.name;
  }

  get isTerminal(): boolean {
    return TERMINAL_JOB_STATES.has(this.state);
  }

  get restarts(): number {
    return this.attempt;
  }

  /** TaskManagers this job runs tasks on. */
  taskManagers(): Set<string> {
    return new Set([...this.executions.values()].flatMap((e) => (e.tmId ? [e.tmId] : [])));
  }

  /** Executions of the current attempt, for checkpoint plans. */
  currentExecutions(): readonly { id: string; vertex: JobVertex; subtask: number; state: TaskState; tmId: string | null }[] {
    return [...this.executions.values()];
  }

  /** Place subtask i of every vertex in `slots[i]` and deploy everything (first start or a restart). */
  deploy(slots: AssignedSlot[]): void {
    if (this.state !== "CREATED" && this.state !== "RESTARTING") return;
    for (const ex of this.executions.values()) {
      ex.tmId = slots[ex.subtask]!.tmId;
      ex.state = "SCHEDULED";
    }
    this.transition("RUNNING");
    for (const ex of this.executions.values()) {
      ex.state = "DEPLOYING";
      this.deps.send(ex.tmId!, { type: "deploy", task: this.deployment(ex, slots) });
    }
    this.checkpointing?.start();
    this.startAlignment();
  }

  private deployment(ex: Execution, slots: AssignedSlot[]): TaskDeployment {
    const v = ex.vertex;
    const inputs = v.inputs.map((e) => {
      const producer = this.graph.vertices.find((u) => u.id === e.sourceVertex)!;
      const forward = e.partitioner.kind === "forward";
      const channels: ChannelDescriptor[] = producerSubtasks(e, ex.subtask, producer.parallelism).map((p) => ({
        partitionId: partitionIdOf(this.id, e.index, p, this.attempt),
        subpartition: forward ? 0 : ex.subtask,
        producerTm: slots[p]!.tmId,
        producerAddress: slots[p]!.dataAddress,
      }));
      return { edgeIndex: e.index, channels };
    });
    const outputs = v.outputs.map((e) => {
      const consumer = this.graph.vertices.find((u) => u.id === e.targetVertex)!;
      return {
        edgeIndex: e.index,
        partitionId: partitionIdOf(this.id, e.index, ex.subtask, this.attempt),
        subpartitions: e.partitioner.kind === "forward" ? 1 : consumer.parallelism,
      };
    });
    return {
      jobId: this.id,
      jobName: this.name,
      module: this.request.module,
      args: this.request.args,
      parallelism: this.request.parallelism,
      vertexId: v.id,
      subtaskIndex: ex.subtask,
      attempt: ex.attempt,
      executionId: ex.id,
      inputs,
      outputs,
      restore: this.restoreFor(v, ex.subtask),
    };
  }

  /**
   * Start the next attempt from `point`. Its finished vertices were checked when it was loaded
   * (JobManager.loadRestorePoint), or it is this job's own checkpoint, consistent by construction.
   */
  private restoreFrom(point: RestorePoint | null): void {
    this.restoredFrom = point;
    this.finishedOnRestore = point ? finishedVertices(point.meta, restoreVertices(this.graph)) : new Set();
  }

  /** The state of every operator of a vertex's subtask, reassigned from the snapshot in force. */
  private restoreFor(v: JobVertex, subtask: number): TaskRestore | null {
    const from = this.restoredFrom;
    if (!from) return null;
    const operators: TaskRestore["operators"] = {};
    for (const op of v.operators) {
      const restored = assignRestore(from.meta, { uid: op.uid, parallelism: v.parallelism, maxParallelism: op.maxParallelism }, subtask);
      if (restored) operators[op.uid] = restored;
    }
    return { checkpointId: from.meta.checkpointId, source: from.metadataUrl, operators, finished: this.finishedOnRestore.has(v.id) };
  }

  /** A TaskManager reported a task state. Unknown executions (of ended jobs or attempts) are ignored. */
  onTaskState(executionId: string, state: TaskState, failure?: string): void {
    const ex = this.executions.get(executionId);
    if (!ex || TERMINAL_TASK.has(ex.state)) return;
    ex.state = state;
    if (TERMINAL_TASK.has(state)) this.watermarkAlignment.remove(ex.id);
    if (state === "FINISHED") this.checkpointing?.taskFinished(ex.id);
    if (state === "FAILED") {
      ex.failure = failure ?? "unknown failure";
      this.onFailure(ex.failure, ex.tmId, `${ex.vertex.name} (${ex.subtask + 1}/${ex.vertex.parallelism})`, false);
    }
    this.checkProgress();
  }

  onMetrics(executionId: string, metrics: TaskMetrics): void {
    const ex = this.executions.get(executionId);
    if (ex) ex.metrics = metrics;
  }

  /** A source subtask with watermark alignment reported its watermark; others' reports are ignored. */
  onWatermarkReport(executionId: string, watermark: number | "idle"): void {
    const ex = this.executions.get(executionId);
    const source = ex && this.alignedSources.get(ex.vertex.id);
    if (!source || ex.state !== "RUNNING") return;
    this.watermarkAlignment.report(source.group, executionId, watermark);
  }

  /** Announce each aligned source's limit every update interval of that source, until the job ends. */
  private startAlignment(): void {
    if (this.alignmentTimers.length > 0) return;
    for (const source of this.alignedSources.values()) {
      const timer = setInterval(() => this.announceAlignment(source), source.updateIntervalMs);
      timer.unref();
      this.alignmentTimers.push(timer);
    }
  }

  private stopAlignment(): void {
    for (const t of this.alignmentTimers) clearInterval(t);
    this.alignmentTimers = [];
  }

  /** Send the group's `maxAllowed` (null: no limit) to the source's running subtasks, one message per TaskManager. */
  private announceAlignment(source: AlignedSource): void {
    if (this.state !== "RUNNING") return;
    const limit = this.watermarkAlignment.maxAllowed(source.group, source.maxDriftMs);
    const maxAllowed = Number.isFinite(limit) ? limit : null;
    const byTm = new Map<string, string[]>();
    for (const ex of this.byVertex.get(source.vertexId) ?? []) {
      if (ex.state === "RUNNING" && ex.tmId !== null) byTm.set(ex.tmId, [...(byTm.get(ex.tmId) ?? []), ex.id]);
    }
    for (const [tmId, executionIds] of byTm) this.deps.send(tmId, { type: "watermarkAlignment", executionIds, maxAllowed });
  }

  onCheckpointAck(executionId: string, checkpointId: number, ack: CheckpointAck): void {
    if (this.executions.has(executionId)) this.checkpointing?.receiveAck(executionId, checkpointId, ack);
  }

  onCheckpointDecline(executionId: string, checkpointId: number, reason: string): void {
    if (this.executions.has(executionId)) this.checkpointing?.receiveDecline(executionId, checkpointId, reason);
  }

  /** A TaskManager died or went silent: its tasks are gone. */
  onTaskManagerLost(tmId: string, description: string): void {
    const lost = [...this.executions.values()].filter((e) => e.tmId === tmId && !TERMINAL_TASK.has(e.state));
    if (lost.length === 0 && !this.taskManagers().has(tmId)) return;
    for (const ex of lost) {
      ex.state = "FAILED";
      ex.failure = description;
    }
    if (lost.length > 0 || this.state === "RUNNING") this.onFailure(description, tmId, null, true);
    this.checkProgress();
  }

  /** Cancel on user request: returns false when the job already ended. */
  cancel(): boolean {
    if (this.isTerminal) return false;
    if (this.state === "CANCELLING" || this.state === "FAILING") return true;
    this.checkpointing?.stop();
    this.checkpointing?.abortAll("the job is being canceled");
    this.transition("CANCELLING");
    this.cancelAll();
    this.checkProgress();
    return true;
  }

  /** A failure of the whole job (not of one task), e.g. too many failed checkpoints. */
  failGlobally(cause: string): void {
    this.onFailure(cause, null, null, false);
    this.checkProgress();
  }

  /** The job could not get slots to start (or restart). */
  onSlotsUnavailable(cause: string): void {
    if (this.state === "CREATED") {
      this.failure = { cause, taskmanager: null, task: null, time: Date.now() };
      this.recordFailure(false);
      this.transition("FAILING");
      this.cancelAll();
      this.checkProgress();
    } else if (this.state === "RESTARTING") {
      this.failure = null;
      this.onFailure(cause, null, null, false);
      this.checkProgress();
    }
  }

  /**
   * Record a failure. The first of an attempt decides what happens (restart or fail); a TaskManager
   * loss shortly after a task failure replaces it as root cause (the task failed because of it).
   */
  private onFailure(cause: string, tmId: string | null, task: string | null, isTmLoss: boolean): void {
    if (this.state === "CANCELLING" || this.isTerminal) return;
    if (this.failure && this.state !== "RUNNING" && this.state !== "CREATED") {
      const recent = Date.now() - this.failure.time < TM_LOSS_ROOT_CAUSE_WINDOW_MS;
      if (isTmLoss && recent && !this.failureIsTmLoss) {
        Object.assign(this.failure, { cause, taskmanager: tmId, task });
        Object.assign(this.failureHistory.at(-1) ?? {}, { cause, taskmanager: tmId, task });
        this.failureIsTmLoss = true;
      }
      return;
    }
    this.failure = { cause, taskmanager: tmId, task, time: Date.now() };
    this.failureIsTmLoss = isTmLoss;
    this.checkpointing?.stop();
    this.checkpointing?.abortAll(`the job failed: ${cause}`);
    const decision = this.restartStrategy.onFailure(Date.now());
    if (decision.restart) {
      this.recordFailure(true);
      this.restartPending = true;
      this.restartDelay = decision.delayMs;
      this.transition("RESTARTING");
      this.deps.log("job restarting", { jobId: this.id, cause, delayMs: decision.delayMs, attempt: this.attempt + 1 });
    } else {
      this.recordFailure(false);
      if (this.restartStrategy.description !== "none") this.failure.cause += ` (${decision.reason})`;
      this.transition("FAILING");
    }
    this.cancelAll();
  }

  private recordFailure(restarted: boolean): void {
    this.failureHistory.push({ ...this.failure!, restarted, restoredCheckpoint: null });
    if (this.failureHistory.length > FAILURE_HISTORY) this.failureHistory.shift();
  }

  private cancelAll(): void {
    for (const ex of this.executions.values()) {
      if (TERMINAL_TASK.has(ex.state)) continue;
      if (ex.state === "CREATED" || ex.state === "SCHEDULED" || ex.tmId === null) {
        ex.state = "CANCELED";
        continue;
      }
      ex.state = "CANCELING";
      this.deps.send(ex.tmId, { type: "cancel", executionId: ex.id });
    }
  }

  /** Once every task of the attempt ended: finish, fail, or start the restart. */
  private checkProgress(): void {
    if (this.isTerminal) return;
    const all = [...this.executions.values()];
    if (!all.every((e) => TERMINAL_TASK.has(e.state))) return;
    if (this.state === "RESTARTING") {
      if (!this.restartPending) return;
      this.restartPending = false;
      this.prepareRestart();
      this.deps.onRestart(this, this.restartDelay);
      return;
    }
    if (this.state === "FAILING") this.transition("FAILED");
    else if (this.state === "CANCELLING") this.transition("CANCELED");
    else if (all.every((e) => e.state === "FINISHED")) this.transition("FINISHED");
    else this.transition("FAILED");
    this.checkpointing?.stop();
    this.stopAlignment();
    this.deps.onTerminal(this);
  }

  /** New executions for the next attempt, restoring the latest completed checkpoint. */
  private prepareRestart(): void {
    this.attempt++;
    const latest = this.checkpointing?.latest() ?? null;
    if (latest) this.restoreFrom(latest);
    const last = this.failureHistory.at(-1);
    if (last) last.restoredCheckpoint = this.restoredFrom?.meta.checkpointId ?? null;
    this.failureIsTmLoss = false;
    this.createExecutions();
  }

  private transition(state: JobState): void {
    this.state = state;
    this.timestamps[state] = Date.now();
  }

  summary(): JobSummary {
    const start = this.timestamps.CREATED!;
    const end = this.isTerminal ? this.timestamps[this.state]! : null;
    return { id: this.id, name: this.name, state: this.state, startTime: start, endTime: end, duration: (end ?? Date.now()) - start };
  }

  detail(): JobDetail {
    return {
      ...this.summary(),
      parallelism: this.request.parallelism,
      module: this.request.module,
      args: this.request.args,
      vertices: this.graph.vertices.map((v) => this.vertexDetail(v)),
      edges: this.graph.edges.map((e) => ({ source: e.sourceVertex, target: e.targetVertex, partitioner: e.partitioner.kind })),
      failure: this.failure,
      timestamps: { ...this.timestamps },
      restarts: this.attempt,
      failureHistory: this.failureHistory.map((f) => ({ ...f })),
      restartStrategy: this.restartStrategy.description,
      restoredFrom: this.restoredFrom ? { checkpointId: this.restoredFrom.meta.checkpointId, path: this.restoredFrom.metadataUrl } : null,
    };
  }

  private vertexDetail(v: JobVertex): VertexDetail {
    const exs = this.byVertex.get(v.id)!;
    const tasks: Partial<Record<TaskState, number>> = {};
    for (const e of exs) tasks[e.state] = (tasks[e.state] ?? 0) + 1;
    return {
      id: v.id,
      name: v.name,
      operators: v.operators.map((o) => ({ name: o.node.name, uid: o.uid })),
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism,
      state: vertexState(exs.map((e) => e.state)),
      tasks,
      metrics: aggregateVertexMetrics(exs.map((e) => e.metrics)),
      subtasks: exs.map((e) => ({ index: e.subtask, state: e.state, taskmanager: e.tmId, attempt: e.attempt, metrics: e.metrics, failure: e.failure })),
    };
  }
}

/** The job's vertices as restore checks see them (runtime/state/restore-assignment.ts). */
export function restoreVertices(graph: JobGraph): RestoreVertex[] {
  return graph.vertices.map((v) => ({ id: v.id, name: v.name, operators: v.operators, upstream: v.inputs.map((e) => e.sourceVertex) }));
}

/** A vertex is in the "least advanced" state of its subtasks, failures first. */
function vertexState(states: TaskState[]): TaskState {
  const order: TaskState[] = ["FAILED", "CANCELING", "CANCELED", "CREATED", "SCHEDULED", "DEPLOYING", "RUNNING", "FINISHED"];
  for (const s of order) if (states.includes(s)) return s;
  return "CREATED";
}
