/**
 * The runtime operator contract. Operators are batch-granular: only `processBatch` is required, the
 * other hooks have defaults here. Nothing on the record path awaits; only sinks may return a Promise
 * from `processBatch`, which holds the task's input until it settles.
 *
 * Chained operators call each other through `Output`; the last one in a chain writes to the network.
 */
import type { RuntimeContext } from "../api/functions.js";
import { MIN_WATERMARK, type Batch } from "../common/elements.js";
import type { KeyGroupRange } from "../common/keys.js";
import type { KeyedEntry, OperatorListState } from "../state/snapshot-types.js";

/** Where an operator sends its results. */
export interface Output {
  emit(batch: Batch): void;
  emitWatermark(timestamp: number): void;
}

/** Wall-clock time and callbacks, run on the task's event loop between batches. */
export interface ProcessingTimeService {
  now(): number;
  /** Run `callback` at (or soon after) epoch ms `at`; returns a cancel function. */
  schedule(at: number, callback: (now: number) => void): () => void;
}

/** Everything the runtime gives an operator. */
export interface OperatorContext {
  readonly runtime: RuntimeContext;
  readonly operatorName: string;
  readonly uid: string;
  /** Key groups this subtask owns (the whole range for non-keyed operators). */
  readonly keyGroupRange: KeyGroupRange;
  readonly processingTime: ProcessingTimeService;
  /** The output for a side-output tag; records sent to a tag nobody consumes are dropped. */
  sideOutput(tagId: string): Output;
  /** Keyed state backend chosen by configuration, and where RocksDB keeps its files. */
  readonly stateBackend: { readonly kind: "heap" | "rocksdb"; readonly localDir: string };
  /**
   * Hold the task's input until `pending` settles (an operator waiting for state, a sink for its
   * external system). Operators that defer work must keep their own order behind it.
   */
  block(pending: Promise<void>): void;
}

/** What the runtime hands an operator before `open` to restore its state. */
export interface StateInitContext {
  /** True when the task starts from a checkpoint or savepoint that holds state for this operator. */
  readonly isRestored: boolean;
  /** The operator's keyed entries in this subtask's key groups (files verified before decoding). */
  keyedEntries(): Promise<Iterable<KeyedEntry>>;
  /** The operator's list state after redistribution to this subtask. */
  readonly lists: readonly OperatorListState[];
  /**
   * The raw state blobs given to this subtask (see `OperatorSnapshot.raw`): every blob of the snapshot
   * goes to exactly one subtask, its own at the same parallelism, else round robin over the blobs of all
   * old subtasks (in old subtask order, then the order they were handed over). Each file is read whole
   * and checked (size, SHA-256) before any blob is returned, so a missing or corrupt file rejects
   * (WEIR_E_STATE_FILE_MISSING / WEIR_E_CORRUPT_CHECKPOINT, naming its URL) and nothing is half
   * restored. Empty when the task does not restore or has no raw state. Reads on every call.
   */
  rawState(): Promise<Buffer[]>;
}

/** A checkpoint as an operator sees it. */
export interface SnapshotRequest {
  readonly checkpointId: number;
  readonly timestamp: number;
  readonly savepoint: boolean;
  /**
   * The keyed state this operator wrote at its previous checkpoint belongs to a completed checkpoint:
   * if nothing changed since, the operator may answer "unchanged" and the task refers to that file
   * again (shared between checkpoints, reference-counted by the JobManager) instead of writing it.
   */
  readonly mayReuseKeyed: boolean;
}

/** What an operator's asynchronous snapshot phase produces. */
export interface OperatorSnapshot {
  keyed: { data: Buffer; keyGroupStart: number; offsets: number[] } | "unchanged" | null;
  lists: OperatorListState[];
  /**
   * Raw operator state of non-keyed operators: opaque blobs (e.g. the records a write-ahead sink
   * buffered since the last barrier), each stored as one file of this snapshot and verified on
   * restore; absent or empty for none. Every snapshot writes its blobs anew (nothing is shared with
   * an earlier checkpoint), so an operator hands over again, at each snapshot, every restored blob it
   * still needs. The buffers are written after processing went on: do not modify them afterwards.
   */
  raw?: Buffer[];
}

/** Base class of all runtime operators. */
export abstract class StreamOperator {
  protected ctx!: OperatorContext;
  protected output!: Output;
  /** The last watermark this operator received. */
  protected currentWatermark = MIN_WATERMARK;

  /** Called once before `open`. */
  setup(ctx: OperatorContext, output: Output): void {
    this.ctx = ctx;
    this.output = output;
  }

  /** Restore state (or start empty); runs after `setup`, before `open`. */
  initializeState(_ctx: StateInitContext): void | Promise<void> {}

  open(): void | Promise<void> {}

  /**
   * The synchronous phase of a checkpoint, run between batches at the barrier: capture a consistent
   * view of the state and return the asynchronous phase that writes it (processing continues
   * meanwhile), or null when the operator has no state.
   */
  snapshotState(_request: SnapshotRequest): (() => Promise<OperatorSnapshot>) | null {
    return null;
  }

  /** Checkpoint `checkpointId` (and every earlier one) is complete: commit side effects it covers. */
  notifyCheckpointComplete(_checkpointId: number): void | Promise<void> {}

  /** Process a batch arriving on input `input` (0, or 1 for the second input of two-input operators). */
  abstract processBatch(batch: Batch, input: number): void | Promise<void>;

  /** The combined watermark of all inputs advanced; the default forwards it. */
  processWatermark(timestamp: number): void {
    this.currentWatermark = timestamp;
    this.output.emitWatermark(timestamp);
  }

  /** All inputs ended (after the final watermark). Emit what is still buffered. */
  endInput(): void | Promise<void> {}

  close(): void | Promise<void> {}
}

/** A reusable collector that appends to arrays flushed as one batch per input batch. */
export class BatchCollector<T> {
  values: T[] = [];
  timestamps: number[] = [];
  /** Timestamp given to records collected next (the current input record's time). */
  currentTimestamp = 0;

  collect(value: T): void {
    this.values.push(value);
    this.timestamps.push(this.currentTimestamp);
  }

  /** Hand the collected records to `output` as one batch and start over. */
  flushTo(output: Output, withTimestamps: boolean): void {
    if (this.values.length === 0) return;
    output.emit({ kind: "batch", values: this.values, timestamps: withTimestamps ? this.timestamps : null });
    this.values = [];
    this.timestamps = [];
  }
}
