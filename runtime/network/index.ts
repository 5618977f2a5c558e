/**
 * The data plane: how records move between subtasks, in batches, with bounded memory everywhere.
 *
 * A producer subtask writes each output edge through a RecordWriter into a ResultPartition (one
 * bounded Subpartition per consumer subtask). A consumer subtask reads an InputGate whose channels are
 * local (same TaskManager: reads the Subpartition directly) or remote (TCP, credit-based flow control).
 *
 * ```ts
 * // every TaskManager, once
 * const partitions = new PartitionManager();
 * const server = new DataServer(partitions, { host: podIp });
 * const dataAddress = await server.listen();            // tell the JobManager
 * const connections = new ConnectionManager();
 *
 * // producer task, per output edge
 * const partition = new ResultPartition({ id: "exec-1/edge-3/0", numberOfSubpartitions: 4 });
 * partitions.register(partition);
 * const writer = new RecordWriter(partition, { partitioner, consumerName: "count", maxParallelism: 128 });
 * if (writer.isWritable()) writer.emit(batch); else writer.onWritable(resume);
 * writer.flush();                                        // buffer timeout / input ran dry
 * writer.broadcastEvent(END_OF_PARTITION);               // when done
 *
 * // consumer task
 * const gate = new InputGate([
 *   { channel: new LocalInputChannel(partitions, { partitionId: "exec-1/edge-3/0", subpartition: 2 }), input: 0 },
 *   { channel: connections.createRemoteChannel({ address: "10.0.0.7:41234", partitionId: "exec-1/edge-3/1", subpartition: 2 }), input: 0 },
 * ]);
 * gate.onAvailable(wakeTask);
 * gate.start();
 * for (let next = gate.poll(); next !== undefined; next = gate.poll()) handle(next.input, next.element); // throws channel errors
 * ```
 */
export { DEFAULT_BUFFERS_PER_CHANNEL, RemoteInputChannel, type RemoteChannelOptions } from "./remote-channel.js";
export { DEFAULT_BATCH_SIZE, RecordWriter, type RecordWriterOptions } from "./record-writer.js";
export { DEFAULT_PARTITION_REQUEST_TIMEOUT_MS, PartitionManager } from "./partition-manager.js";
export { DEFAULT_SUBPARTITION_CAPACITY, Subpartition, type SubpartitionConsumer } from "./subpartition.js";
export { InputGate, type GateChannel, type GateElement } from "./input-gate.js";
export { LocalInputChannel, type LocalChannelOptions } from "./local-channel.js";
export { ResultPartition, type ResultPartitionOptions } from "./result-partition.js";
export type { ChannelListener, InputChannel } from "./input-channel.js";
export { decodeElement, encodeElement } from "./serializer.js";
export {
  ConnectionManager,
  DataServer,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SOCKET_HIGH_WATER_MARK,
  formatAddress,
  parseAddress,
  type ConnectionManagerOptions,
  type DataServerOptions,
  type HostPort,
} from "./transport.js";
