/**
 * Window assigners, as plain descriptions; the window operator (runtime/time) implements them.
 * Sizes are milliseconds. Event time is the default; pass `{ time: "processing" }` for wall-clock windows.
 *
 *   stream.keyBy((e) => e.user).window(sliding(60_000, 10_000)).aggregate(count())
 */
export type TimeDomain = "event" | "processing";

export interface TumblingWindows {
  readonly kind: "tumbling";
  readonly time: TimeDomain;
  readonly size: number;
  readonly offset: number;
}

export interface SlidingWindows {
  readonly kind: "sliding";
  readonly time: TimeDomain;
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}

export interface SessionWindows {
  readonly kind: "session";
  readonly time: TimeDomain;
  readonly gap: number;
}

export type WindowAssigner = TumblingWindows | SlidingWindows | SessionWindows;

interface WindowOptions {
  time?: TimeDomain;
  offset?: number;
}

function positive(what: string, ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`${what} must be a positive number of ms, got ${ms}`);
  return ms;
}

/** Fixed-size, non-overlapping windows [k*size + offset, (k+1)*size + offset). */
export function tumbling(size: number, opts: WindowOptions = {}): TumblingWindows {
  return { kind: "tumbling", time: opts.time ?? "event", size: positive("window size", size), offset: opts.offset ?? 0 };
}

/** Windows of `size` starting every `slide`; a record belongs to size/slide windows. */
export function sliding(size: number, slide: number, opts: WindowOptions = {}): SlidingWindows {
  positive("window size", size);
  positive("window slide", slide);
  if (slide > size) throw new RangeError(`window slide (${slide} ms) must not exceed its size (${size} ms)`);
  return { kind: "sliding", time: opts.time ?? "event", size, slide, offset: opts.offset ?? 0 };
}

/** Windows that close after `gap` without records for their key; overlapping sessions merge. */
export function session(gap: number, opts: { time?: TimeDomain } = {}): SessionWindows {
  return { kind: "session", time: opts.time ?? "event", gap: positive("session gap", gap) };
}
