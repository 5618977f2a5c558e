/**
 * Messages of the control channel between the JobManager and TaskManagers (JSON lines over TCP):
 * registration, heartbeats carrying task metrics, deployment, cancellation and task state reports,
 * checkpoint triggers and acknowledgements, and watermark alignment (source subtasks report their
 * watermark every update interval; the JobManager announces each group's `maxAllowed` to them).
 */
import type { TaskMetrics, TaskState } from "./rest-types.js";
import type { TaskRestore } from "../state/snapshot-types.js";

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
  /** State to start from (a checkpoint or savepoint, reassigned to this subtask), or null for a fresh start. */
  restore: TaskRestore | null;
}

/** Sent to source tasks: inject a barrier (the coordinator's trigger message). */
export type { TriggerMessage as CheckpointTrigger, CheckpointAck } from "./checkpoint-coordinator.js";
import type { TriggerMessage as CheckpointTrigger, CheckpointAck } from "./checkpoint-coordinator.js";

export type TmToJm =
  | { type: "register"; tmId: string; dataAddress: string; metricsUrl: string | null; slots: number; pid: number }
  | { type: "heartbeat"; tmId: string; tasks: { executionId: string; metrics: TaskMetrics }[] }
  | { type: "taskState"; executionId: string; state: TaskState; failure?: string }
  | { type: "ackCheckpoint"; executionId: string; checkpointId: number; ack: CheckpointAck }
  | { type: "declineCheckpoint"; executionId: string; checkpointId: number; reason: string }
  /** A source subtask with watermark alignment: its watermark (min over active splits) or "idle". */
  | { type: "reportWatermark"; executionId: string; watermark: number | "idle" };

export type JmToTm =
  | { type: "registered"; heartbeatIntervalMs: number }
  | { type: "rejected"; reason: string }
  | { type: "deploy"; task: TaskDeployment }
  | { type: "cancel"; executionId: string }
  | { type: "triggerCheckpoint"; executionId: string; trigger: CheckpointTrigger }
  | { type: "checkpointComplete"; executionIds: string[]; checkpointId: number }
  | { type: "checkpointAborted"; executionIds: string[]; checkpointId: number; reason: string }
  /** To source subtasks of an alignment group: splits with a watermark above `maxAllowed` pause; null = no limit. */
  | { type: "watermarkAlignment"; executionIds: string[]; maxAllowed: number | null };

/** Partition ids are unique per job edge, producer subtask and attempt. */
export function partitionIdOf(jobId: string, edgeIndex: number, producerSubtask: number, attempt: number): string {
  return `${jobId}.e${edgeIndex}.s${producerSubtask}.a${attempt}`;
}
