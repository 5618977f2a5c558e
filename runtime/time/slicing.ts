/**
 * Sliced tumbling and sliding windows (the approach of Flink SQL's window slicing and Arroyo).
 *
 * Time is cut into slices of gcd(size, slide) ms aligned to the window offset. A record updates the
 * accumulator of its key in exactly one slice, whatever size/slide is; a window [end - size, end)
 * is the merge of the size/gcd slices it covers, computed when it fires. Nothing is registered per
 * key: the store keeps one table (key -> accumulator) per slice and a sorted list of slice ends, and
 * when the watermark (or wall clock) passes, it walks the window ends that have data in order.
 * A slice is freed once the last window using it is past end - 1 + allowed lateness.
 */
import type { TimeWindow } from "../api/functions.js";
import type { CanonicalKey } from "../common/keys.js";
import type { FireCallback, WindowAgg } from "./window-agg.js";

/** Non-negative remainder, so alignment also works for timestamps before the epoch. */
function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Window and slice arithmetic of tumbling (slide = size) and sliding windows. */
export class SliceAssigner {
  /** Slice length: gcd(size, slide). */
  readonly pane: number;
  /** Window ends are congruent to this modulo `slide`. */
  private readonly endOffset: number;

  constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    this.pane = gcd(size, slide);
    this.endOffset = offset + size;
  }

  /** End of the slice holding `ts`; the slice is [end - pane, end). */
  sliceEnd(ts: number): number {
    return ts - mod(ts - this.offset, this.pane) + this.pane;
  }

  /** The smallest window end >= t. */
  windowEndAtOrAfter(t: number): number {
    const r = mod(t - this.endOffset, this.slide);
    return r === 0 ? t : t + this.slide - r;
  }

  /** The largest window end <= t. */
  windowEndAtOrBefore(t: number): number {
    return t - mod(t - this.endOffset, this.slide);
  }

  /** End of the last window that contains `ts` (windows holding ts end in (ts, ts + size]). */
  lastWindowEnd(ts: number): number {
    return this.windowEndAtOrBefore(ts + this.size);
  }

  /** End of the last window that contains slice `sliceEnd`. */
  lastWindowOfSlice(sliceEnd: number): number {
    return this.lastWindowEnd(sliceEnd - this.pane);
  }
}

/** One key's accumulator in one slice. */
class Entry {
  constructor(
    readonly key: unknown,
    public acc: unknown,
  ) {}
}

type SliceTable = Map<CanonicalKey, Entry>;

/** First index of sorted `arr` whose value is > x. */
function upperBound(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Keyed slice state of one tumbling/sliding window operator subtask. */
export class SliceStore {
  private readonly tables = new Map<number, SliceTable>();
  /** Ends of the slices in `tables`, ascending. */
  private readonly ends: number[] = [];
  /** Every window ending at or before this has fired (or had no data when its time passed). */
  private lastFired = Number.NEGATIVE_INFINITY;
  // The slice of the previous record: consecutive records usually share one.
  private cachedEnd = Number.NaN;
  private cachedTable: SliceTable | undefined;

  constructor(
    readonly assigner: SliceAssigner,
    private readonly agg: WindowAgg,
    private readonly lateness: number,
    private readonly fire: FireCallback,
  ) {}

  /**
   * Add a record at time `ts` given watermark `wm`. Returns false, changing nothing, when every window
   * of the record is past its allowed lateness. A record for windows that already fired but are still
   * within allowed lateness re-fires them for its key at once.
   */
  add(key: unknown, ck: CanonicalKey, value: unknown, ts: number, wm: number): boolean {
    // Every window holding ts ends after it, so while ts - 1 > wm none has fired: skip the checks.
    const behind = ts - 1 <= wm;
    if (behind && this.assigner.lastWindowEnd(ts) - 1 + this.lateness <= wm) return false;
    const pane = this.assigner.pane;
    let table = this.cachedTable;
    if (!(ts < this.cachedEnd && ts >= this.cachedEnd - pane)) table = this.slice(this.assigner.sliceEnd(ts));
    const entry = table!.get(ck);
    if (entry === undefined) table!.set(ck, new Entry(key, this.agg.first(value)));
    else entry.acc = this.agg.add(value, entry.acc);
    if (behind && this.lateness > 0) this.refire(ck, ts, wm);
    return true;
  }

  /** Fire every window whose end - 1 <= wm, in end order, then free slices no live window needs. */
  advance(wm: number): void {
    const { slide, size } = this.assigner;
    let w = this.lastFired + slide;
    for (;;) {
      const i = upperBound(this.ends, w - size);
      if (i >= this.ends.length) break;
      // Skip window ends without data: jump to the first window holding the next slice.
      if (this.ends[i]! > w) w = this.assigner.windowEndAtOrAfter(this.ends[i]!);
      if (w - 1 > wm) break;
      this.fireWindow(w, i);
      this.lastFired = w;
      w += slide;
    }
    this.markFiredUpTo(wm);
    this.purge(wm);
  }

  /** The last timestamp of the next window to fire (its end - 1), or +Infinity when there is none. */
  nextFireTime(): number {
    const { slide, size } = this.assigner;
    const w = this.lastFired + slide;
    const i = upperBound(this.ends, w - size);
    if (i >= this.ends.length) return Number.POSITIVE_INFINITY;
    const e = this.ends[i]!;
    return (e > w ? this.assigner.windowEndAtOrAfter(e) : w) - 1;
  }

  /** Number of (slice, key) accumulators held. */
  get size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }

  /** Every (slice end, key, accumulator) held, for checkpoints. */
  *entries(): IterableIterator<{ ck: CanonicalKey; key: unknown; sliceEnd: number; acc: unknown }> {
    for (const end of this.ends) for (const [ck, e] of this.tables.get(end)!) yield { ck, key: e.key, sliceEnd: end, acc: e.acc };
  }

  /** Put back an accumulator from a checkpoint. */
  restoreEntry(key: unknown, ck: CanonicalKey, sliceEnd: number, acc: unknown): void {
    this.slice(sliceEnd).set(ck, new Entry(key, acc));
  }

  /** Windows ending at or before this have fired; restored with the slices so none fires twice. */
  get firedUpTo(): number {
    return this.lastFired;
  }

  set firedUpTo(t: number) {
    this.lastFired = t;
  }

  /** Number of slices held. */
  get sliceCount(): number {
    return this.ends.length;
  }

  private slice(end: number): SliceTable {
    let t = this.tables.get(end);
    if (t === undefined) {
      t = new Map();
      this.tables.set(end, t);
      const n = this.ends.length;
      if (n === 0 || end > this.ends[n - 1]!) this.ends.push(end);
      else this.ends.splice(upperBound(this.ends, end), 0, end);
    }
    this.cachedEnd = end;
    this.cachedTable = t;
    return t;
  }

  /** Fire window ending `w` for every key with data in it; `i` indexes its first slice. */
  private fireWindow(w: number, i: number): void {
    const window: TimeWindow = { start: w - this.assigner.size, end: w };
    let j = i;
    while (j < this.ends.length && this.ends[j]! <= w) j++;
    if (j - i === 1) {
      for (const e of this.tables.get(this.ends[i]!)!.values()) this.fire(e.key, window, e.acc);
      return;
    }
    const combined = new Map<CanonicalKey, Entry>();
    for (let k = i; k < j; k++) {
      for (const [ck, e] of this.tables.get(this.ends[k]!)!) {
        const c = combined.get(ck);
        if (c === undefined) combined.set(ck, new Entry(e.key, this.agg.copy(e.acc)));
        else c.acc = this.agg.merge(c.acc, e.acc);
      }
    }
    for (const c of combined.values()) this.fire(c.key, window, c.acc);
  }

  /** Re-fire, for one key, the windows holding `ts` that already fired but are within allowed lateness. */
  private refire(ck: CanonicalKey, ts: number, wm: number): void {
    const a = this.assigner;
    const last = a.lastWindowEnd(ts);
    for (let w = a.windowEndAtOrAfter(a.sliceEnd(ts)); w <= last; w += a.slide) {
      if (w - 1 > wm) break;
      if (w - 1 + this.lateness > wm) this.fireKey(ck, w);
    }
  }

  /** Fire window ending `w` for one key: its accumulators in the window's slices, merged. */
  private fireKey(ck: CanonicalKey, w: number): void {
    const stop = upperBound(this.ends, w);
    let key: unknown;
    let acc: unknown;
    let n = 0;
    for (let k = upperBound(this.ends, w - this.assigner.size); k < stop; k++) {
      const e = this.tables.get(this.ends[k]!)!.get(ck);
      if (e === undefined) continue;
      if (n === 0) [key, acc] = [e.key, e.acc];
      else acc = this.agg.merge(n === 1 ? this.agg.copy(acc) : acc, e.acc);
      n++;
    }
    if (n > 0) this.fire(key, { start: w - this.assigner.size, end: w }, acc);
  }

  private markFiredUpTo(wm: number): void {
    if (wm === Number.POSITIVE_INFINITY) this.lastFired = wm;
    else if (Number.isFinite(wm)) this.lastFired = Math.max(this.lastFired, this.assigner.windowEndAtOrBefore(wm + 1));
  }

  /** Drop the slices whose last window is past end - 1 + allowed lateness. */
  private purge(wm: number): void {
    let k = 0;
    while (k < this.ends.length && this.assigner.lastWindowOfSlice(this.ends[k]!) - 1 + this.lateness <= wm) {
      this.tables.delete(this.ends[k]!);
      k++;
    }
    if (k === 0) return;
    this.ends.splice(0, k);
    this.cachedEnd = Number.NaN;
    this.cachedTable = undefined;
  }
}
