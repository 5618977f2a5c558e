/**
 * Drives a source reader inside its task: collects what the reader emits into one batch per poll,
 * applies the watermark strategy's timestamp assigner, and tracks per-split watermarks.
 *
 * With watermark alignment it also pauses splits that ran ahead: the limit is the JobManager's last
 * `maxAllowed` announcement, tightened by what the subtask knows itself (its own watermark + drift,
 * since the group's minimum is never above it). Splits above the limit are paused after every poll;
 * they are resumed only at announcements and periodic emits, so a split does not flap once per poll.
 * A reader without `pauseOrResumeSplits` is paused as a whole (`paused`, the task stops polling it)
 * while the subtask's own watermark is above the limit.
 */
import type { ReaderOutput, Source, SourceReader, SourceSplit, SplitOutput } from "../api/source.js";
import type { RuntimeContext } from "../api/functions.js";
import type { WatermarkAlignment, WatermarkStrategy } from "../api/watermarks.js";
import { WeirError } from "../common/errors.js";
import type { Output } from "../operators/operator.js";
import { SourceWatermarks, type SplitWatermark } from "../time/source-watermarks.js";
import { preview } from "../operators/keyed-operator.js";

class TimestampedSplitOutput implements SplitOutput<unknown> {
  constructor(
    private readonly driver: SourceDriver,
    private readonly wm: SplitWatermark,
    private readonly assign: ((v: unknown, ts: number | undefined) => number) | null,
  ) {}
  collect(value: unknown, sourceTimestamp?: number): void {
    const ts = this.assign ? this.assign(value, sourceTimestamp) : sourceTimestamp;
    if (typeof ts !== "number" || Number.isNaN(ts)) {
      throw new WeirError(
        "WEIR_E_NO_TIMESTAMP",
        `source "${this.driver.name}" emitted ${preview(value)} without a timestamp; give the watermark strategy a timestamp assigner`,
      );
    }
    const d = this.driver;
    d.values[d.count] = value;
    d.timestamps[d.count++] = ts;
    this.wm.observe(ts);
  }
}

class PlainSplitOutput implements SplitOutput<unknown> {
  constructor(private readonly driver: SourceDriver) {}
  collect(value: unknown): void {
    const d = this.driver;
    d.values[d.count++] = value;
  }
}

export class SourceDriver implements ReaderOutput<unknown> {
  /**
   * The batch being filled: arrays sized for a poll up front and written by index (`count`), which
   * measured about twice as fast as growing them with push.
   */
  values: unknown[] = [];
  timestamps: number[] = [];
  count = 0;
  readonly reader: SourceReader<unknown, any>;
  private readonly watermarks: SourceWatermarks | null;
  private readonly splitOutputs = new Map<string, SplitOutput<unknown>>();
  /** The strategy's alignment settings; null without alignment (or without a strategy). */
  readonly alignment: WatermarkAlignment | null;
  /** The JobManager's last `maxAllowed` for this source's group (+Infinity before the first). */
  maxAllowedWatermark = Number.POSITIVE_INFINITY;
  private wholeReaderPaused = false;

  constructor(
    readonly name: string,
    source: Source<unknown, any>,
    private readonly strategy: WatermarkStrategy<unknown> | null,
    ctx: RuntimeContext,
    private readonly output: Output,
    emitStatus: (idle: boolean) => void,
    /** The clock split idleness is measured on (see Task.idleClock). */
    private readonly idleClock: () => number,
    /** Split positions from a checkpoint (this subtask's share), or null for a fresh start. */
    restoredSplits: readonly SourceSplit[] | null,
  ) {
    this.reader = source.createReader(ctx);
    const splits = restoredSplits
      ? restoredSplits.slice()
      : source.splits({ parallelism: ctx.parallelism }).filter((_, i) => i % ctx.parallelism === ctx.subtaskIndex);
    this.watermarks = strategy
      ? new SourceWatermarks({
          maxOutOfOrderness: strategy.maxOutOfOrderness,
          idleTimeout: strategy.idleTimeout,
          emitWatermark: (ts) => this.output.emitWatermark(ts),
          emitStatus,
        })
      : null;
    this.alignment = this.watermarks ? (strategy?.alignment ?? null) : null;
    const now = idleClock();
    for (const s of splits) this.forSplitAt(s.id, now);
    this.reader.addSplits(splits);
  }

  forSplit(splitId: string): SplitOutput<unknown> {
    return this.splitOutputs.get(splitId) ?? this.forSplitAt(splitId, this.idleClock());
  }

  private forSplitAt(splitId: string, now: number): SplitOutput<unknown> {
    const out = this.watermarks
      ? new TimestampedSplitOutput(this, this.watermarks.split(splitId, now), this.strategy!.timestampAssigner)
      : new PlainSplitOutput(this);
    this.splitOutputs.set(splitId, out);
    return out;
  }

  releaseSplit(splitId: string): void {
    this.splitOutputs.delete(splitId);
    this.watermarks?.release(splitId);
  }

  /** Poll the reader once and emit what it produced as one batch. Returns the reader's verdict. */
  poll(maxRecords: number): "more" | "end" | Promise<void> {
    this.values = new Array(maxRecords);
    // Filled with a double so the array holds unboxed doubles from the start.
    if (this.watermarks) this.timestamps = new Array<number>(maxRecords).fill(0.5);
    this.count = 0;
    const r = this.reader.poll(this, maxRecords);
    this.flush();
    if (this.alignment && this.count > 0) this.align(true);
    return r;
  }

  /** Number of records emitted by the last poll. */
  lastCount = 0;

  private flush(): void {
    const n = (this.lastCount = this.count);
    if (n === 0) return;
    this.values.length = n;
    if (this.watermarks) this.timestamps.length = n;
    this.output.emit({ kind: "batch", values: this.values, timestamps: this.watermarks ? this.timestamps : null });
  }

  /** The reader's unfinished splits with their positions, or null if the reader cannot snapshot. */
  snapshotSplits(checkpointId: number): SourceSplit[] | null {
    return this.reader.snapshotState ? this.reader.snapshotState(checkpointId) : null;
  }

  /** Checkpoint `checkpointId` completed: tell the reader (e.g. to commit offsets for monitoring). */
  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.reader.notifyCheckpointComplete?.(checkpointId);
  }

  /** Release the reader's resources (connections, timers); the task is ending. */
  close(): void | Promise<void> {
    return this.reader.close?.();
  }

  /** Periodic watermark emission and idleness check (and, with alignment, pausing and resuming). */
  onPeriodicEmit(now: number): void {
    this.watermarks?.onPeriodicEmit(now);
    if (this.alignment) this.align(false);
  }

  // ---- watermark alignment ----------------------------------------------------------------------

  /** True while the whole reader is paused by alignment: the task must not poll it. */
  get paused(): boolean {
    return this.wholeReaderPaused;
  }

  /** Splits currently paused by alignment (all of them while the whole reader is). */
  get pausedSplits(): number {
    return this.watermarks?.pausedSplits ?? 0;
  }

  /** What this subtask reports to the JobManager: its watermark, "idle", or undefined (none yet). */
  alignmentReport(): number | "idle" | undefined {
    return this.alignment ? this.watermarks!.alignmentWatermark() : undefined;
  }

  /** The JobManager announced the group's `maxAllowed` watermark (+Infinity: no limit). */
  onAlignment(maxAllowed: number): void {
    if (!this.alignment) return;
    this.maxAllowedWatermark = maxAllowed;
    this.align(false);
  }

  /** The effective limit: the announcement, or lower when the subtask's own watermark + drift is. */
  private limit(): number {
    const own = this.watermarks!.alignmentWatermark();
    const local = typeof own === "number" ? own + this.alignment!.maxDriftMs : Number.POSITIVE_INFINITY;
    return Math.min(this.maxAllowedWatermark, local);
  }

  /** Pause what is above the limit; unless `pauseOnly`, resume what is no longer. */
  private align(pauseOnly: boolean): void {
    const wms = this.watermarks!;
    const limit = this.limit();
    if (!this.reader.pauseOrResumeSplits) return this.alignWholeReader(limit, pauseOnly);
    const { pause, resume } = wms.splitsToAlign(limit, pauseOnly);
    if (pause.length === 0 && resume.length === 0) return;
    const now = this.idleClock();
    wms.setPaused(pause, true, now);
    wms.setPaused(resume, false, now);
    this.reader.pauseOrResumeSplits(pause, resume);
  }

  /** Readers without split-level pausing: pause all while the subtask's watermark is above the limit. */
  private alignWholeReader(limit: number, pauseOnly: boolean): void {
    const own = this.watermarks!.alignmentWatermark();
    const pause = typeof own === "number" && own > limit;
    if (pause === this.wholeReaderPaused || (pauseOnly && !pause)) return;
    this.wholeReaderPaused = pause;
    this.watermarks!.setPaused(this.watermarks!.splitIds(), pause, this.idleClock());
  }

  /** The reader ended: the final watermark releases every downstream window and timer. */
  finish(): void {
    if (this.watermarks) this.watermarks.finish();
    else this.output.emitWatermark(Number.POSITIVE_INFINITY);
  }
}
