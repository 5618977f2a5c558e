/**
 * Watermark strategies: how a source (or `assignTimestampsAndWatermarks`) derives event time and
 * watermarks. Strategies are immutable values; the `with*` methods return new ones.
 *
 *   watermarks.boundedOutOfOrder<Click>(5_000).withTimestampAssigner((c) => c.ts).withIdleness(10_000)
 */

/** Extracts a record's event time (epoch ms); `sourceTimestamp` is what the source knows, if anything. */
export type TimestampAssigner<T> = (value: T, sourceTimestamp: number | undefined) => number;

export interface WatermarkStrategy<T> {
  /** Watermark = highest timestamp seen - maxOutOfOrderness - 1 (0 for monotonic timestamps). */
  readonly maxOutOfOrderness: number;
  /** Null: use the source timestamp. */
  readonly timestampAssigner: TimestampAssigner<T> | null;
  /** A split with no record for this long is idle and stops holding back the watermark; null = never. */
  readonly idleTimeout: number | null;
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T>;
  withIdleness(timeoutMs: number): WatermarkStrategy<T>;
}

class Strategy<T> implements WatermarkStrategy<T> {
  constructor(
    readonly maxOutOfOrderness: number,
    readonly timestampAssigner: TimestampAssigner<T> | null,
    readonly idleTimeout: number | null,
  ) {
    if (!(maxOutOfOrderness >= 0)) throw new RangeError(`maxOutOfOrderness must be >= 0 ms, got ${maxOutOfOrderness}`);
    if (idleTimeout !== null && !(idleTimeout > 0)) throw new RangeError(`idle timeout must be > 0 ms, got ${idleTimeout}`);
  }
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new Strategy(this.maxOutOfOrderness, assigner, this.idleTimeout);
  }
  withIdleness(timeoutMs: number): WatermarkStrategy<T> {
    return new Strategy(this.maxOutOfOrderness, this.timestampAssigner, timeoutMs);
  }
}

/** Watermark strategy constructors. */
export const watermarks = {
  /** Records may arrive up to `maxOutOfOrdernessMs` late relative to the highest timestamp seen. */
  boundedOutOfOrder<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    return new Strategy<T>(maxOutOfOrdernessMs, null, null);
  },
  /** Timestamps never decrease within a split. */
  monotonic<T>(): WatermarkStrategy<T> {
    return new Strategy<T>(0, null, null);
  },
};
