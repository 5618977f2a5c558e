/**
 * The JobManager REST API's request and response types: one definition shared by the JobManager, the
 * `weir` CLI and (later) the Kubernetes operator. Documented for users in README ("REST API").
 */

export type JobState = "CREATED" | "RUNNING" | "FAILING" | "FAILED" | "CANCELLING" | "CANCELED" | "FINISHED";
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
  failure: { cause: string; taskmanager: string | null; task: string | null; time: number } | null;
  /** Time of each state change. */
  timestamps: Partial<Record<JobState, number>>;
}

/** Error body of every non-2xx response. */
export interface ErrorResponse {
  error: string;
  code?: string;
}
