/**
 * The JobMaster of one job: expands the job graph into executions (one per subtask), deploys them to
 * their slots, follows task state reports and derives the job's state. The first failure is the
 * job's root cause; a lost TaskManager is preferred as root cause over the channel errors it causes.
 */
import type { JobGraph, JobVertex } from "../graph/job-graph.js";
import type { ChannelDescriptor, JmToTm, TaskDeployment } from "./control-protocol.js";
import { partitionIdOf } from "./control-protocol.js";
import type { JobDetail, JobState, JobSummary, SubmitJobRequest, TaskMetrics, TaskState, VertexDetail } from "./rest-types.js";
import { TERMINAL_JOB_STATES } from "./rest-types.js";
import { aggregateVertexMetrics } from "../metrics/aggregate.js";

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

export interface JobMasterDeps {
  send(tmId: string, msg: JmToTm): void;
  /** Called once when the job reaches a terminal state. */
  onTerminal(job: JobMaster): void;
}

const TERMINAL_TASK: ReadonlySet<TaskState> = new Set(["FINISHED", "CANCELED", "FAILED"]);
/** A TaskManager loss this soon after a task failure is taken as that failure's root cause. */
const TM_LOSS_ROOT_CAUSE_WINDOW_MS = 2_000;

export class JobMaster {
  state: JobState = "CREATED";
  readonly timestamps: Partial<Record<JobState, number>> = {};
  failure: JobDetail["failure"] = null;
  private failureIsTmLoss = false;
  private readonly executions = new Map<string, Execution>();
  private readonly byVertex = new Map<string, Execution[]>();

  constructor(
    readonly id: string,
    readonly request: Required<Pick<SubmitJobRequest, "module" | "args" | "parallelism">>,
    readonly graph: JobGraph,
    private readonly deps: JobMasterDeps,
  ) {
    this.transition("CREATED");
    for (const v of graph.vertices) {
      const list: Execution[] = [];
      for (let i = 0; i < v.parallelism; i++) {
        const ex: Execution = { id: `${id}.${v.id}.${i}.0`, vertex: v, subtask: i, attempt: 0, state: "CREATED", tmId: null, metrics: null, failure: null };
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

  /** TaskManagers this job runs tasks on. */
  taskManagers(): Set<string> {
    return new Set([...this.executions.values()].flatMap((e) => (e.tmId ? [e.tmId] : [])));
  }

  /** Place subtask i of every vertex in `slots[i]` and deploy everything. */
  deploy(slots: AssignedSlot[]): void {
    if (this.state !== "CREATED") return;
    for (const ex of this.executions.values()) {
      ex.tmId = slots[ex.subtask]!.tmId;
      ex.state = "SCHEDULED";
    }
    this.transition("RUNNING");
    for (const ex of this.executions.values()) {
      ex.state = "DEPLOYING";
      this.deps.send(ex.tmId!, { type: "deploy", task: this.deployment(ex, slots) });
    }
  }

  private deployment(ex: Execution, slots: AssignedSlot[]): TaskDeployment {
    const v = ex.vertex;
    const inputs = v.inputs.map((e) => {
      const producer = this.graph.vertices.find((u) => u.id === e.sourceVertex)!;
      const forward = e.partitioner.kind === "forward";
      const producers = forward ? [ex.subtask] : Array.from({ length: producer.parallelism }, (_, i) => i);
      const channels: ChannelDescriptor[] = producers.map((p) => ({
        partitionId: partitionIdOf(this.id, e.index, p, 0),
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
        partitionId: partitionIdOf(this.id, e.index, ex.subtask, 0),
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
    };
  }

  /** A TaskManager reported a task state. Unknown executions (of ended jobs) are ignored. */
  onTaskState(executionId: string, state: TaskState, failure?: string): void {
    const ex = this.executions.get(executionId);
    if (!ex || TERMINAL_TASK.has(ex.state)) return;
    ex.state = state;
    if (state === "FAILED") {
      ex.failure = failure ?? "unknown failure";
      this.failJob(ex.failure, ex.tmId, `${ex.vertex.name} (${ex.subtask + 1}/${ex.vertex.parallelism})`);
    }
    this.checkCompletion();
  }

  onMetrics(executionId: string, metrics: TaskMetrics): void {
    const ex = this.executions.get(executionId);
    if (ex) ex.metrics = metrics;
  }

  /** A TaskManager died or went silent: its tasks are gone and the job fails, naming it. */
  onTaskManagerLost(tmId: string, description: string): void {
    const lost = [...this.executions.values()].filter((e) => e.tmId === tmId && !TERMINAL_TASK.has(e.state));
    if (lost.length === 0 && !this.taskManagers().has(tmId)) return;
    for (const ex of lost) {
      ex.state = "FAILED";
      ex.failure = description;
    }
    const recent = this.failure && Date.now() - this.failure.time < TM_LOSS_ROOT_CAUSE_WINDOW_MS;
    if (!this.isTerminal && (!this.failure || (recent && !this.failureIsTmLoss))) {
      this.failure = null;
      this.failJob(description, tmId, null);
      this.failureIsTmLoss = true;
    }
    this.checkCompletion();
  }

  /** Cancel on user request: returns false when the job already ended. */
  cancel(): boolean {
    if (this.isTerminal) return false;
    if (this.state === "CANCELLING" || this.state === "FAILING") return true;
    this.transition("CANCELLING");
    this.cancelAll();
    this.checkCompletion();
    return true;
  }

  /** The job could not start (not enough slots, ...). */
  failBeforeStart(cause: string): void {
    this.failJob(cause, null, null);
    this.checkCompletion();
  }

  private failJob(cause: string, tmId: string | null, task: string | null): void {
    if (!this.failure && this.state !== "CANCELLING") {
      this.failure = { cause, taskmanager: tmId, task, time: Date.now() };
    }
    if (this.state === "RUNNING" || this.state === "CREATED") {
      this.transition("FAILING");
      this.cancelAll();
    }
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

  private checkCompletion(): void {
    if (this.isTerminal) return;
    const all = [...this.executions.values()];
    if (!all.every((e) => TERMINAL_TASK.has(e.state))) return;
    if (this.state === "FAILING") this.transition("FAILED");
    else if (this.state === "CANCELLING") this.transition("CANCELED");
    else if (all.every((e) => e.state === "FINISHED")) this.transition("FINISHED");
    else this.transition("FAILED");
    this.deps.onTerminal(this);
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

/** A vertex is in the "least advanced" state of its subtasks, failures first. */
function vertexState(states: TaskState[]): TaskState {
  const order: TaskState[] = ["FAILED", "CANCELING", "CANCELED", "CREATED", "SCHEDULED", "DEPLOYING", "RUNNING", "FINISHED"];
  for (const s of order) if (states.includes(s)) return s;
  return "CREATED";
}
