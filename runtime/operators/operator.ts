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

  open(): void | Promise<void> {}

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
