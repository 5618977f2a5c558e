/**
 * Watermark strategies: how a source (or `assignTimestampsAndWatermarks`) derives event time and
 * watermarks. Strategies are immutable values; the `with*` methods return new ones.
 *
 *   watermarks.boundedOutOfOrder<Click>(5_000).withTimestampAssigner((c) => c.ts).withIdleness(10_000)
 *   watermarks.monotonic<Click>().withWatermarkAlignment("clicks", 30_000)   // sources only
 */

/** Extracts a record's event time (epoch ms); `sourceTimestamp` is what the source knows, if anything. */
export type TimestampAssigner<T> = (value: T, sourceTimestamp: number | undefined) => number;

/** Watermark alignment settings of a source (see `WatermarkStrategy.withWatermarkAlignment`). */
export interface WatermarkAlignment {
  /** Sources naming the same group are aligned together, across vertices. */
  readonly group: string;
  /** How far (ms) a split's watermark may run ahead of the group's slowest subtask before it is paused. */
  readonly maxDriftMs: number;
  /** How often (ms) subtasks report their watermark and the JobManager announces the group's limit. */
  readonly updateIntervalMs: number;
}

export interface WatermarkStrategy<T> {
  /** Watermark = highest timestamp seen - maxOutOfOrderness - 1 (0 for monotonic timestamps). */
  readonly maxOutOfOrderness: number;
  /** Null: use the source timestamp. */
  readonly timestampAssigner: TimestampAssigner<T> | null;
  /** A split with no record for this long is idle and stops holding back the watermark; null = never. */
  readonly idleTimeout: number | null;
  /** Null: the source reads at its own pace. */
  readonly alignment: WatermarkAlignment | null;
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T>;
  withIdleness(timeoutMs: number): WatermarkStrategy<T>;
  /**
   * Watermark alignment (Flink's FLIP-182 and, split by split, FLIP-217): every `updateIntervalMs` each
   * source subtask reports its watermark to the JobManager, which announces `maxAllowed` = the minimum
   * over the group's non-idle subtasks + `maxDriftMs`; splits whose watermark is above it are paused
   * (readers without `pauseOrResumeSplits` as a whole) until the group catches up. Applies to sources
   * (`env.fromSource`) only; `assignTimestampsAndWatermarks` ignores it.
   */
  withWatermarkAlignment(group: string, maxDriftMs: number, updateIntervalMs?: number): WatermarkStrategy<T>;
}

interface StrategyFields<T> {
  readonly maxOutOfOrderness: number;
  readonly timestampAssigner: TimestampAssigner<T> | null;
  readonly idleTimeout: number | null;
  readonly alignment: WatermarkAlignment | null;
}

class Strategy<T> implements WatermarkStrategy<T> {
  readonly maxOutOfOrderness: number;
  readonly timestampAssigner: TimestampAssigner<T> | null;
  readonly idleTimeout: number | null;
  readonly alignment: WatermarkAlignment | null;

  constructor(fields: StrategyFields<T>) {
    const { maxOutOfOrderness, idleTimeout, alignment } = fields;
    if (!(maxOutOfOrderness >= 0)) throw new RangeError(`maxOutOfOrderness must be >= 0 ms, got ${maxOutOfOrderness}`);
    if (idleTimeout !== null && !(idleTimeout > 0)) throw new RangeError(`idle timeout must be > 0 ms, got ${idleTimeout}`);
    if (alignment) validateAlignment(alignment);
    this.maxOutOfOrderness = maxOutOfOrderness;
    this.timestampAssigner = fields.timestampAssigner;
    this.idleTimeout = idleTimeout;
    this.alignment = alignment ? Object.freeze({ ...alignment }) : null;
  }
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new Strategy({ ...this, timestampAssigner: assigner });
  }
  withIdleness(timeoutMs: number): WatermarkStrategy<T> {
    return new Strategy({ ...this, idleTimeout: timeoutMs });
  }
  withWatermarkAlignment(group: string, maxDriftMs: number, updateIntervalMs = 1_000): WatermarkStrategy<T> {
    return new Strategy({ ...this, alignment: { group, maxDriftMs, updateIntervalMs } });
  }
}

function validateAlignment({ group, maxDriftMs, updateIntervalMs }: WatermarkAlignment): void {
  if (typeof group !== "string" || group.trim() === "") throw new RangeError(`watermark alignment group must be a non-empty string, got ${JSON.stringify(group)}`);
  if (!(maxDriftMs >= 0 && Number.isFinite(maxDriftMs))) throw new RangeError(`watermark alignment maxDrift must be a finite number >= 0 ms, got ${maxDriftMs}`);
  if (!(updateIntervalMs > 0 && Number.isFinite(updateIntervalMs))) {
    throw new RangeError(`watermark alignment updateInterval must be a finite number > 0 ms, got ${updateIntervalMs}`);
  }
}

/** Watermark strategy constructors. */
export const watermarks = {
  /** Records may arrive up to `maxOutOfOrdernessMs` late relative to the highest timestamp seen. */
  boundedOutOfOrder<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    return new Strategy<T>({ maxOutOfOrderness: maxOutOfOrdernessMs, timestampAssigner: null, idleTimeout: null, alignment: null });
  },
  /** Timestamps never decrease within a split. */
  monotonic<T>(): WatermarkStrategy<T> {
    return watermarks.boundedOutOfOrder<T>(0);
  },
};
