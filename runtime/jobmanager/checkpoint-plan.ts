/**
 * Which tasks a checkpoint or savepoint involves, computed from the job's task states when one is
 * triggered (Flink's DefaultCheckpointPlanCalculator, with FLIP-147's finished tasks):
 *
 * - the job must be RUNNING and every task RUNNING or FINISHED (not deploying, canceling, ...);
 * - the trigger goes to each running task none of whose upstream subtasks runs: the sources, and
 *   tasks whose inputs all come from finished subtasks (they take the checkpoint once those inputs
 *   ended);
 * - every running task acknowledges (or finishes first); finished tasks are recorded as finished.
 *
 *   const plan = checkpointPlan(job); // a CheckpointPlan, or why no snapshot can start now
 */
import { producerSubtasks, type JobVertex } from "../graph/job-graph.js";
import type { CheckpointPlan } from "./checkpoint-coordinator.js";
import type { JobState, TaskState } from "./rest-types.js";

/** The job as the plan reads it (a JobMaster). */
export interface PlannedJob {
  readonly state: JobState;
  readonly graph: { readonly vertices: readonly JobVertex[] };
  currentExecutions(): readonly { id: string; vertex: JobVertex; subtask: number; state: TaskState }[];
}

/** The plan of a snapshot starting now, or why none can start (a sentence for logs and savepoint failures). */
export function checkpointPlan(job: PlannedJob): CheckpointPlan | string {
  const executions = job.currentExecutions();
  const blocking = executions.find((e) => e.state !== "RUNNING" && e.state !== "FINISHED");
  if (job.state !== "RUNNING" || blocking) {
    const task = blocking ? `, ${blocking.vertex.name} (${blocking.subtask + 1}/${blocking.vertex.parallelism}) is ${blocking.state}` : "";
    return `not all tasks are running or finished (job ${job.state}${task})`;
  }
  const running = executions.filter((e) => e.state === "RUNNING");
  if (running.length === 0) return "every task has finished";
  const states = new Map(executions.map((e) => [`${e.vertex.id}/${e.subtask}`, e.state]));
  const parallelism = new Map(job.graph.vertices.map((v) => [v.id, v.parallelism]));
  const hasRunningUpstream = (e: (typeof executions)[number]) =>
    e.vertex.inputs.some((edge) =>
      producerSubtasks(edge, e.subtask, parallelism.get(edge.sourceVertex)!).some((p) => states.get(`${edge.sourceVertex}/${p}`) === "RUNNING"),
    );
  return {
    trigger: running.filter((e) => !hasRunningUpstream(e)).map((e) => e.id),
    ackFrom: running.map((e) => ({ executionId: e.id, vertexId: e.vertex.id, subtask: e.subtask })),
    finished: executions.filter((e) => e.state === "FINISHED").map((e) => ({ vertexId: e.vertex.id, subtask: e.subtask })),
    vertices: job.graph.vertices.map((v) => ({
      id: v.id,
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism,
      operators: v.operators.map((o) => ({ uid: o.uid, name: o.node.name })),
    })),
  };
}
