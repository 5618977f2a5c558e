/**
 * The JobManager REST API's request and response types: one definition shared by the JobManager, the
 * `weir` CLI and (later) the Kubernetes operator. Documented for users in README ("REST API").
 */

export type JobState = "CREATED" | "RUNNING" | "RESTARTING" | "FAILING" | "FAILED" | "CANCELLING" | "CANCELED" | "FINISHED";
export type TaskState =
  | "CREATED"
  | "SCHEDULED"
  | "DEPLOYING"
  | "RUNNING"
  | "FINISHED"
  | "CANCELING"
  | "CANCELED"
  | "FAILED";

export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(["FAILED", "CANCELED", "FINISHED"]);

/** POST /jobs */
export interface SubmitJobRequest {
  /** Path of the job module, as the JobManager and TaskManagers see it (absolute, or relative to their cwd). */
  module: string;
  args?: string[];
  /** Default parallelism of operators that do not set their own. */
  parallelism?: number;
  /** Overrides the job name the module sets. */
  name?: string;
  /**
   * Start from this savepoint or retained checkpoint (its `_metadata` or directory; file:// or s3://),
   * unless one of the sources below `jobId` and `latestCheckpointDir` describe yields a checkpoint first.
   */
  savepointPath?: string;
  /**
   * Start from the newest completed checkpoint (that verifies) in this job checkpoint directory
   * (`<state.checkpoints.dir>/<jobId of another job>`); when it holds none, from `savepointPath`; when
   * that is not given either, the submission fails naming the directory.
   */
  latestCheckpointDir?: string;
  /** Skip state of operators (uids) the job no longer has instead of refusing the restore. */
  allowNonRestoredState?: boolean;
  /**
   * A fixed job id (32 hex digits) instead of a random one: its checkpoints live under
   * `<state.checkpoints.dir>/<jobId>`. When that directory already holds completed checkpoints (a
   * JobManager restarted with the same arguments), the job continues from the newest that verifies,
   * whatever `latestCheckpointDir` and `savepointPath` say (runtime/jobmanager/restore-selection.ts).
   */
  jobId?: string;
}

export interface SubmitJobResponse {
  jobId: string;
}

/** GET /overview */
export interface ClusterOverview {
  version: string;
  taskmanagers: number;
  slotsTotal: number;
  slotsAvailable: number;
  jobsRunning: number;
  jobsFinished: number;
  jobsCanceled: number;
  jobsFailed: number;
}

/** GET /taskmanagers (entries) */
export interface TaskManagerInfo {
  id: string;
  /** host:port of its data server. */
  dataAddress: string;
  /** URL of its Prometheus endpoint, when it runs one. */
  metricsUrl: string | null;
  pid: number;
  slots: number;
  freeSlots: number;
  lastHeartbeat: number;
}

/** GET /jobs (entries) */
export interface JobSummary {
  id: string;
  name: string;
  state: JobState;
  startTime: number;
  endTime: number | null;
  /** Milliseconds since start (until end when ended). */
  duration: number;
}

/** Per-task (subtask) or per-vertex (aggregated) figures, sampled each second. */
export interface TaskMetrics {
  recordsIn: number;
  recordsOut: number;
  recordsInPerSecond: number;
  recordsOutPerSecond: number;
  /** Milliseconds per second spent processing, waiting for output credit, and waiting for input. */
  busyTimeMsPerSecond: number;
  backPressuredTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
  /** Current input watermark (epoch ms) or null before the first; lag = wall clock - watermark. */
  currentInputWatermark: number | null;
  watermarkLagMs: number | null;
  /** Batches queued in output subpartitions and in input channels. */
  outputQueueLength: number;
  inputQueueLength: number;
}

export interface SubtaskDetail {
  index: number;
  state: TaskState;
  taskmanager: string | null;
  attempt: number;
  metrics: TaskMetrics | null;
  failure: string | null;
}

export interface VertexDetail {
  id: string;
  name: string;
  /** uids of the operators chained in this vertex, head first. */
  operators: { name: string; uid: string }[];
  parallelism: number;
  maxParallelism: number;
  state: TaskState;
  /** How many subtasks are in each state. */
  tasks: Partial<Record<TaskState, number>>;
  /** Sums (counts, rates), maxima (busy/backpressured time, lag) and minima (watermark) over subtasks. */
  metrics: TaskMetrics | null;
  subtasks: SubtaskDetail[];
}

export interface JobEdgeInfo {
  source: string;
  target: string;
  partitioner: "forward" | "rebalance" | "broadcast" | "hash";
}

/** GET /jobs/:id */
export interface JobDetail extends JobSummary {
  parallelism: number;
  module: string;
  args: string[];
  vertices: VertexDetail[];
  edges: JobEdgeInfo[];
  /** Root cause of a failed job, naming the task and TaskManager where it began. */
  failure: JobFailure | null;
  /** Time of each state change. */
  timestamps: Partial<Record<JobState, number>>;
  /** How often the job restarted from a checkpoint after a failure. */
  restarts: number;
  /** Root cause of every failure that led to a restart (or to the end), oldest first (the last 20). */
  failureHistory: (JobFailure & { restarted: boolean; restoredCheckpoint: number | null })[];
  /** The restart strategy in force, e.g. "fixed-delay(attempts=3, delay=1000ms)". */
  restartStrategy: string;
  /** The checkpoint or savepoint the current attempt started from, if any. */
  restoredFrom: { checkpointId: number; path: string } | null;
}

export interface JobFailure {
  cause: string;
  taskmanager: string | null;
  task: string | null;
  time: number;
}

/** Error body of every non-2xx response. */
export interface ErrorResponse {
  error: string;
  code?: string;
}

// ---- checkpoints and savepoints ----------------------------------------------------------------

export type CheckpointStatus = "IN_PROGRESS" | "COMPLETED" | "FAILED";

/** One checkpoint or savepoint (entries of `CheckpointingOverview`). Times are epoch ms, sizes bytes. */
export interface CheckpointStats {
  id: number;
  kind: "checkpoint" | "savepoint";
  status: CheckpointStatus;
  triggerTimestamp: number;
  /** When the last task acknowledged; null before the first ack. */
  latestAckTimestamp: number | null;
  /** Trigger to completion or failure; for one in progress, trigger to now. */
  endToEndDuration: number;
  /** Sum of the bytes the tasks reported writing. */
  stateSize: number;
  /** Longest barrier alignment of any task. */
  alignmentMs: number;
  /** Longest synchronous snapshot phase of any task (processing paused for it). */
  syncMs: number;
  /** Longest asynchronous phase of any task (state encoded and written while processing went on). */
  asyncMs: number;
  /** Tasks that acknowledged, of `total` (every task of the job when it was triggered). */
  acknowledged: number;
  /**
   * Tasks that had finished, before the trigger or before taking part: recorded as finished, with no
   * state. A snapshot is complete when `acknowledged + finished` reaches `total`.
   */
  finished: number;
  total: number;
  /** Why it failed (FAILED only). */
  failure?: string;
  /** Directory holding its `_metadata` (COMPLETED only). */
  externalPath?: string;
}

/** The checkpoint or savepoint a job was last restored from. */
export interface RestoredCheckpointInfo {
  id: number;
  kind: "checkpoint" | "savepoint";
  /** Directory holding its `_metadata`. */
  externalPath: string;
  restoreTimestamp: number;
}

/** GET /jobs/:id/checkpoints (Flink's shape, camelCase). */
export interface CheckpointingOverview {
  /** Savepoints count as checkpoints here, as in Flink. `restored`: restores since the job was submitted. */
  counts: { completed: number; failed: number; inProgress: number; restored: number; total: number };
  latest: {
    /** The latest completed checkpoint (not savepoint). */
    completed: CheckpointStats | null;
    savepoint: CheckpointStats | null;
    failed: CheckpointStats | null;
    restored: RestoredCheckpointInfo | null;
  };
  /** The latest checkpoints and savepoints, newest first (at most 20). */
  history: CheckpointStats[];
}

/** POST /jobs/:id/savepoints */
export interface TriggerSavepointRequest {
  /** Directory the savepoint goes under (file:// or s3:// URL); default `state.savepoints.dir`. */
  targetDirectory?: string;
}

/** POST /jobs/:id/stop: stop-with-savepoint; the job finishes once the savepoint is complete. */
export interface StopJobRequest {
  targetDirectory?: string;
  /** Emit MAX_WATERMARK before the savepoint, firing all event-time timers (Flink's --drain). */
  drain?: boolean;
}

/** 202 answer of POST /jobs/:id/savepoints and POST /jobs/:id/stop. */
export interface TriggerResponse {
  triggerId: string;
}

/** POST /savepoint-disposal: delete a savepoint (refused, 400, for anything that is not a readable savepoint). */
export interface SavepointDisposalRequest {
  savepointPath: string;
}

/** GET /jobs/:id/savepoints/:triggerId */
export interface SavepointInfo {
  status: CheckpointStatus;
  /** Directory holding the savepoint's `_metadata` (COMPLETED only): what to restore from. */
  location?: string;
  /** Why it failed (FAILED only). */
  failure?: string;
}
