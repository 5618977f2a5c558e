/**
 * Splits a task's output on one edge across the consumer subtasks and cuts it into network batches.
 *
 * Per subpartition it keeps pending value and timestamp arrays; a pending array that reaches
 * `batchSize` becomes a Batch in its subpartition at once, partial ones on `flush()`. The hot loops
 * allocate nothing but those arrays: no closures or objects per record.
 */
import type { Batch, StreamEvent } from "../common/elements.js";
import { batchOf } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { canonicalKey, checkMaxParallelism, DEFAULT_MAX_PARALLELISM, keyGroupOf, operatorIndexForKeyGroup } from "../common/keys.js";
import type { Partitioner } from "../graph/stream-graph.js";
import type { ResultPartition } from "./result-partition.js";
import type { Subpartition } from "./subpartition.js";

/** Default records per network batch. */
export const DEFAULT_BATCH_SIZE = 1024;

/** How to build a RecordWriter. */
export interface RecordWriterOptions {
  readonly partitioner: Partitioner;
  /** Name of the operator consuming the edge, used in error messages (e.g. WEIR_E_KEY_UNDEFINED). */
  readonly consumerName: string;
  /** The producer's subtask index; round robin starts there so producers do not all hit subtask 0. */
  readonly subtaskIndex?: number;
  /** Key groups of the consumer (hash partitioning); default 128. */
  readonly maxParallelism?: number;
  /** Records per batch; default 1024. */
  readonly batchSize?: number;
}

const FORWARD = 0;
const REBALANCE = 1;
const BROADCAST = 2;
const HASH = 3;

/** The writer of one output edge of a task, over that edge's ResultPartition. */
export class RecordWriter {
  /** Records emitted so far (read by metrics). */
  recordsOut = 0;
  /** Batches handed to subpartitions so far (a broadcast batch counts once). */
  batchesOut = 0;
  private readonly subs: readonly Subpartition[];
  private readonly mode: number;
  private readonly batchSize: number;
  private readonly consumerName: string;
  private readonly keySelector: ((value: any) => unknown) | null;
  private readonly maxParallelism: number;
  /** Key group -> subpartition, so hashing costs one table read after the key group. */
  private readonly routing: Int32Array;
  private pendingValues: unknown[][];
  private pendingTimestamps: number[][];
  /** Whether pending records carry timestamps; a batch of the other kind flushes first. */
  private withTimestamps = false;
  private nextChannel: number;
  private writableWaiters: Array<() => void> = [];

  constructor(partition: ResultPartition, options: RecordWriterOptions) {
    this.subs = partition.subpartitions;
    this.consumerName = options.consumerName;
    this.batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE, options.consumerName);
    this.mode = modeOf(options.partitioner, this.subs.length, options.consumerName);
    this.keySelector = options.partitioner.kind === "hash" ? options.partitioner.keySelector : null;
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    this.routing = this.mode === HASH ? routingTable(this.maxParallelism, this.subs.length, this.consumerName) : new Int32Array(0);
    const lanes = this.mode === FORWARD || this.mode === BROADCAST ? 1 : this.subs.length;
    this.pendingValues = Array.from({ length: lanes }, () => []);
    this.pendingTimestamps = Array.from({ length: lanes }, () => []);
    this.nextChannel = (options.subtaskIndex ?? 0) % this.subs.length;
    for (const sub of this.subs) sub.onSpaceAvailable(() => this.spaceFreed());
  }

  /** Partition and queue a batch. Check `isWritable()` before emitting; emit itself always accepts. */
  emit(batch: Batch): void {
    const values = batch.values;
    if (values.length === 0) return;
    const timestamps = batch.timestamps;
    if ((timestamps !== null) !== this.withTimestamps) {
      this.flush();
      this.withTimestamps = timestamps !== null;
    }
    this.recordsOut += values.length;
    if (this.mode === HASH) this.emitHash(values, timestamps);
    else if (this.mode === REBALANCE) this.emitRebalance(values, timestamps);
    else this.emitSingleLane(batch);
  }

  /** Flush pending records, then queue `event` in every subpartition (events keep their order). */
  broadcastEvent(event: StreamEvent): void {
    this.flush();
    for (const sub of this.subs) sub.add(event);
  }

  /** Queue partial batches: on the buffer timeout and whenever the task runs out of input. */
  flush(): void {
    for (let lane = 0; lane < this.pendingValues.length; lane++) {
      if (this.pendingValues[lane]!.length > 0) this.pushLane(lane);
    }
  }

  /** False while any subpartition is full. */
  isWritable(): boolean {
    for (const sub of this.subs) if (sub.isFull()) return false;
    return true;
  }

  /** Call `callback` once the writer is writable again (in a microtask if it already is). */
  onWritable(callback: () => void): void {
    if (this.isWritable()) queueMicrotask(callback);
    else this.writableWaiters.push(callback);
  }

  /** Batches queued in the subpartitions, not yet taken by consumers (outputQueueLength metric). */
  outputQueueLength(): number {
    let total = 0;
    for (const sub of this.subs) total += sub.queuedBatches;
    return total;
  }

  /** Records waiting in pending arrays for a full batch or a flush. */
  pendingRecords(): number {
    let total = 0;
    for (const lane of this.pendingValues) total += lane.length;
    return total;
  }

  /** Forward and broadcast: one lane; whole batches pass through without copying records. */
  private emitSingleLane(batch: Batch): void {
    const { values, timestamps } = batch;
    const n = values.length;
    const size = this.batchSize;
    let i = 0;
    while (i < n) {
      const pending = this.pendingValues[0]!;
      if (pending.length === 0 && n - i >= size) {
        this.pushBatch(0, i === 0 && n === size ? batch : batchOf(values.slice(i, i + size), timestamps?.slice(i, i + size) ?? null));
        i += size;
        continue;
      }
      const end = Math.min(n, i + size - pending.length);
      const pendingTs = this.pendingTimestamps[0]!;
      for (let k = i; k < end; k++) pending.push(values[k]);
      if (timestamps !== null) for (let k = i; k < end; k++) pendingTs.push(timestamps[k]!);
      i = end;
      if (pending.length === size) this.pushLane(0);
    }
  }

  private emitHash(values: unknown[], timestamps: number[] | null): void {
    const select = this.keySelector!;
    const routing = this.routing;
    const maxParallelism = this.maxParallelism;
    const pendingValues = this.pendingValues;
    const pendingTimestamps = this.pendingTimestamps;
    const size = this.batchSize;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      const key = select(value);
      if (key === undefined) throw this.keyUndefined(value);
      const target = routing[keyGroupOf(canonicalKey(key), maxParallelism)]!;
      const lane = pendingValues[target]!;
      lane.push(value);
      if (timestamps !== null) pendingTimestamps[target]!.push(timestamps[i]!);
      if (lane.length === size) this.pushLane(target);
    }
  }

  private emitRebalance(values: unknown[], timestamps: number[] | null): void {
    const pendingValues = this.pendingValues;
    const pendingTimestamps = this.pendingTimestamps;
    const channels = pendingValues.length;
    const size = this.batchSize;
    let target = this.nextChannel;
    for (let i = 0; i < values.length; i++) {
      const lane = pendingValues[target]!;
      lane.push(values[i]);
      if (timestamps !== null) pendingTimestamps[target]!.push(timestamps[i]!);
      if (lane.length === size) this.pushLane(target);
      if (++target === channels) target = 0;
    }
    this.nextChannel = target;
  }

  /** Turn a lane's pending arrays into a batch; the batch keeps the arrays, the lane starts new ones. */
  private pushLane(lane: number): void {
    const values = this.pendingValues[lane]!;
    this.pendingValues[lane] = [];
    let timestamps: number[] | null = null;
    if (this.withTimestamps) {
      timestamps = this.pendingTimestamps[lane]!;
      this.pendingTimestamps[lane] = [];
    }
    this.pushBatch(lane, batchOf(values, timestamps));
  }

  private pushBatch(lane: number, batch: Batch): void {
    this.batchesOut++;
    if (this.mode !== BROADCAST) {
      this.subs[lane]!.add(batch);
      return;
    }
    for (const sub of this.subs) sub.add(batch); // the same object everywhere: receivers never mutate
  }

  private spaceFreed(): void {
    if (this.writableWaiters.length === 0 || !this.isWritable()) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private keyUndefined(value: unknown): WeirError {
    return new WeirError(
      "WEIR_E_KEY_UNDEFINED",
      `the key selector of the edge into operator "${this.consumerName}" returned undefined for record ${preview(value)}`,
    );
  }
}

function modeOf(partitioner: Partitioner, subpartitions: number, consumer: string): number {
  switch (partitioner.kind) {
    case "forward":
      if (subpartitions !== 1) {
        throw new WeirError("WEIR_E_INVALID_GRAPH", `forward edge into operator "${consumer}" needs 1 subpartition, got ${subpartitions}`);
      }
      return FORWARD;
    case "rebalance":
      return REBALANCE;
    case "broadcast":
      return BROADCAST;
    case "hash":
      return HASH;
  }
}

function routingTable(maxParallelism: number, parallelism: number, consumer: string): Int32Array {
  checkMaxParallelism(consumer, parallelism, maxParallelism);
  const table = new Int32Array(maxParallelism);
  for (let g = 0; g < maxParallelism; g++) table[g] = operatorIndexForKeyGroup(g, maxParallelism, parallelism);
  return table;
}

function checkBatchSize(size: number, consumer: string): number {
  if (!Number.isInteger(size) || size < 1) {
    throw new WeirError("WEIR_E_CONFIG", `edge into operator "${consumer}": batch size must be a positive integer, got ${size}`);
  }
  return size;
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
