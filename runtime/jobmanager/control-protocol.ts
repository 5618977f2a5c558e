/**
 * Messages of the control channel between the JobManager and TaskManagers (JSON lines over TCP):
 * registration, heartbeats carrying task metrics, deployment, cancellation and task state reports.
 */
import type { TaskMetrics, TaskState } from "./rest-types.js";

/** Where a consumer finds one of its input channels. */
export interface ChannelDescriptor {
  partitionId: string;
  subpartition: number;
  /** TaskManager holding the partition, and its data server address (host:port). */
  producerTm: string;
  producerAddress: string;
}

/** Everything a TaskManager needs to run one subtask. */
export interface TaskDeployment {
  jobId: string;
  jobName: string;
  module: string;
  args: string[];
  parallelism: number;
  vertexId: string;
  subtaskIndex: number;
  attempt: number;
  /** Unique per deployment attempt of a subtask. */
  executionId: string;
  /** Per job input edge of the vertex: the channels of this subtask. */
  inputs: { edgeIndex: number; channels: ChannelDescriptor[] }[];
  /** Per job output edge of the vertex: the partition this subtask produces. */
  outputs: { edgeIndex: number; partitionId: string; subpartitions: number }[];
}

export type TmToJm =
  | { type: "register"; tmId: string; dataAddress: string; metricsUrl: string | null; slots: number; pid: number }
  | { type: "heartbeat"; tmId: string; tasks: { executionId: string; metrics: TaskMetrics }[] }
  | { type: "taskState"; executionId: string; state: TaskState; failure?: string };

export type JmToTm =
  | { type: "registered"; heartbeatIntervalMs: number }
  | { type: "rejected"; reason: string }
  | { type: "deploy"; task: TaskDeployment }
  | { type: "cancel"; executionId: string };

/** Partition ids are unique per job edge, producer subtask and attempt. */
export function partitionIdOf(jobId: string, edgeIndex: number, producerSubtask: number, attempt: number): string {
  return `${jobId}.e${edgeIndex}.s${producerSubtask}.a${attempt}`;
}
