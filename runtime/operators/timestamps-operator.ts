/**
 * `assignTimestampsAndWatermarks` in the middle of a stream: re-stamps records with the strategy's
 * timestamp assigner (or keeps their timestamps when it has none) and generates watermarks of its
 * own, bounded out of orderness, every 200 ms of wall-clock time. Upstream watermarks are ignored
 * except the final +Infinity, as in Flink's TimestampsAndWatermarksOperator. (Idleness needs a status
 * output, which chained operators do not have; use `withIdleness` on the source instead.)
 */
import type { TimestampAssigner, WatermarkStrategy } from "../api/watermarks.js";
import { MAX_WATERMARK, MIN_WATERMARK, type Batch } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { preview } from "./keyed-operator.js";
import { StreamOperator } from "./operator.js";

/** How often generated watermarks are emitted (Flink's `pipeline.auto-watermark-interval`). */
export const DEFAULT_WATERMARK_INTERVAL_MS = 200;

/** Assigns timestamps and emits periodic bounded-out-of-orderness watermarks. */
export class TimestampsOperator extends StreamOperator {
  private readonly assigner: TimestampAssigner<unknown> | null;
  private maxTimestamp = Number.NEGATIVE_INFINITY;
  private lastEmitted = MIN_WATERMARK;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly strategy: WatermarkStrategy<any>,
    private readonly intervalMs = DEFAULT_WATERMARK_INTERVAL_MS,
  ) {
    super();
    this.assigner = strategy.timestampAssigner;
  }

  override open(): void {
    this.schedule();
  }

  processBatch(batch: Batch): void {
    const { values } = batch;
    const timestamps = this.assigner === null ? this.checkIncoming(batch) : this.assign(batch);
    let max = this.maxTimestamp;
    for (let i = 0; i < timestamps.length; i++) if (timestamps[i]! > max) max = timestamps[i]!;
    this.maxTimestamp = max;
    this.output.emit({ kind: "batch", values, timestamps });
  }

  /** Only the final watermark passes; this operator generates every other one itself. */
  override processWatermark(timestamp: number): void {
    if (timestamp === MAX_WATERMARK) this.emitFinal();
  }

  override endInput(): void {
    this.emitFinal();
  }

  override close(): void {
    this.stopTimer();
  }

  /** Emit the generated watermark if it advanced. */
  emitGenerated(): void {
    const wm = this.maxTimestamp - this.strategy.maxOutOfOrderness - 1;
    if (wm > this.lastEmitted) this.forward(wm);
  }

  private assign(batch: Batch): number[] {
    const { values, timestamps: incoming } = batch;
    const assigner = this.assigner!;
    const out = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      const ts = assigner(values[i], incoming === null ? undefined : incoming[i]);
      // `ts !== ts` is NaN; a non-number would poison every window and watermark downstream.
      if (typeof ts !== "number" || ts !== ts) throw this.noTimestamp(values[i], `its timestamp assigner returned ${String(ts)}`);
      out[i] = ts;
    }
    return out;
  }

  private checkIncoming(batch: Batch): number[] {
    if (batch.timestamps === null && batch.values.length > 0) {
      throw this.noTimestamp(batch.values[0], "the strategy has no timestamp assigner and the record has no timestamp");
    }
    return batch.timestamps ?? [];
  }

  private noTimestamp(value: unknown, why: string): WeirError {
    return new WeirError(
      "WEIR_E_NO_TIMESTAMP",
      `"${this.ctx.operatorName}" cannot assign an event time to record ${preview(value)}: ${why}; ` +
        `add .withTimestampAssigner(...) to its watermark strategy`,
    );
  }

  private schedule(): void {
    const at = this.ctx.processingTime.now() + this.intervalMs;
    this.cancelTimer = this.ctx.processingTime.schedule(at, () => {
      this.cancelTimer = null;
      if (this.lastEmitted === MAX_WATERMARK) return;
      this.emitGenerated();
      this.schedule();
    });
  }

  private emitFinal(): void {
    if (this.lastEmitted === MAX_WATERMARK) return;
    this.stopTimer();
    this.forward(MAX_WATERMARK);
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private forward(wm: number): void {
    this.lastEmitted = wm;
    this.currentWatermark = wm;
    this.output.emitWatermark(wm);
  }
}
