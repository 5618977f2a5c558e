/**
 * A task's network side, wired from its deployment: one ResultPartition and RecordWriter per output
 * edge, and an InputGate over local (same TaskManager) and remote channels for its inputs.
 */
import type { WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import type { JobGraph } from "../graph/job-graph.js";
import type { TaskDeployment } from "../jobmanager/control-protocol.js";
import {
  type ConnectionManager,
  type GateChannel,
  InputGate,
  LocalInputChannel,
  type PartitionManager,
  RecordWriter,
  ResultPartition,
} from "../network/index.js";
import type { TaskIo, TaskWriter } from "./task.js";

export interface WiredTaskIo extends TaskIo {
  /** Channel or consumer errors after start (connection lost, partition failed). */
  onFailure(listener: (err: WeirError) => void): void;
  /** Start the input channels (partition requests go out). */
  start(): void;
}

export function wireTaskIo(
  d: TaskDeployment,
  graph: JobGraph,
  tmId: string,
  partitions: PartitionManager,
  connections: ConnectionManager,
  config: RuntimeConfig,
): WiredTaskIo {
  const failureListeners: ((err: WeirError) => void)[] = [];
  const failed = (err: WeirError) => failureListeners.forEach((l) => l(err));
  const writers = new Map<number, TaskWriter & { outputQueueLength(): number }>();
  const produced: ResultPartition[] = [];
  for (const out of d.outputs) {
    const edge = graph.edges[out.edgeIndex]!;
    const consumer = graph.vertices.find((v) => v.id === edge.targetVertex)!;
    const target = consumer.operators.find((o) => o.node.id === edge.targetNode)!;
    const partition = new ResultPartition({ id: out.partitionId, numberOfSubpartitions: out.subpartitions, capacity: config["network.subpartition-capacity"] });
    partition.onConsumerError(failed);
    partitions.register(partition);
    produced.push(partition);
    writers.set(
      out.edgeIndex,
      new RecordWriter(partition, {
        partitioner: edge.partitioner,
        consumerName: target.node.name,
        subtaskIndex: d.subtaskIndex,
        maxParallelism: target.maxParallelism,
        batchSize: config["network.batch-size"],
      }),
    );
  }
  const channels: GateChannel[] = [];
  for (const input of d.inputs) {
    const inputIndex = graph.edges[input.edgeIndex]!.inputIndex;
    for (const c of input.channels) {
      const channel =
        c.producerTm === tmId
          ? new LocalInputChannel(partitions, { partitionId: c.partitionId, subpartition: c.subpartition, requestTimeoutMs: config["network.partition-request-timeout"] })
          : connections.createRemoteChannel({
              address: c.producerAddress,
              partitionId: c.partitionId,
              subpartition: c.subpartition,
              buffersPerChannel: config["network.buffers-per-channel"],
            });
      channels.push({ channel, input: inputIndex });
    }
  }
  const gate = channels.length > 0 ? new InputGate(channels) : null;
  gate?.onError(failed);
  return {
    writers,
    gate,
    onFailure: (l) => void failureListeners.push(l),
    start: () => gate?.start(),
    release(afterConsumed) {
      gate?.release();
      for (const p of produced) {
        const drop = () => {
          p.release();
          partitions.unregister(p.id);
        };
        if (afterConsumed && !p.isFullyConsumed()) p.onFullyConsumed(drop);
        else drop();
      }
    },
  };
}
