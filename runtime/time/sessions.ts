/**
 * Session windows: per key, a sorted list of disjoint sessions [start, end), end = last ts + gap.
 * A record's window [ts, ts + gap) merges every session it intersects (touching counts, as in
 * Flink's TimeWindow.intersects), merging their accumulators. A session fires when the watermark
 * (or wall clock) reaches end - 1 and is dropped at end - 1 + allowed lateness.
 *
 * Instead of a timer per session, each key has one entry in a min-heap at the earliest time it
 * needs attention ("due"). Extending a session does not touch the heap: a due entry that turns out
 * to be early is simply re-queued at the key's real due time when it pops.
 */
import type { CanonicalKey } from "../common/keys.js";
import { MinHeap } from "../common/min-heap.js";
import type { FireCallback, WindowAgg } from "./window-agg.js";

class Session {
  fired = false;
  constructor(
    public start: number,
    public end: number,
    public acc: unknown,
  ) {}
}

class KeySessions {
  readonly sessions: Session[] = [];
  /** Time of this key's live heap entry; entries with another time are stale. */
  due = Number.POSITIVE_INFINITY;
  constructor(readonly key: unknown) {}
}

interface Due {
  readonly time: number;
  readonly ck: CanonicalKey;
}

/** Keyed session state of one session window operator subtask. */
export class SessionStore {
  private readonly keys = new Map<CanonicalKey, KeySessions>();
  private readonly heap = new MinHeap<Due>((d) => d.time);

  constructor(
    private readonly gap: number,
    private readonly agg: WindowAgg,
    private readonly lateness: number,
    private readonly fire: FireCallback,
  ) {}

  /**
   * Add a record at `ts` given watermark `wm`. Returns false, changing nothing, when the record joins
   * no live session and its own session is already past allowed lateness. A session whose end has
   * already passed the watermark (a late record within allowed lateness) fires again at once.
   */
  add(key: unknown, ck: CanonicalKey, value: unknown, ts: number, wm: number): boolean {
    const start = ts;
    const end = ts + this.gap;
    let ks = this.keys.get(ck);
    const list = ks?.sessions;
    let lo = 0;
    if (list !== undefined) while (lo < list.length && list[lo]!.end < start) lo++;
    let hi = lo;
    if (list !== undefined) while (hi < list.length && list[hi]!.start <= end) hi++;
    let s: Session;
    if (hi === lo) {
      if (end - 1 + this.lateness <= wm) return false;
      if (ks === undefined) this.keys.set(ck, (ks = new KeySessions(key)));
      s = new Session(start, end, this.agg.first(value));
      ks.sessions.splice(lo, 0, s);
    } else {
      s = this.mergeRange(list!, lo, hi);
      if (start < s.start) s.start = start;
      if (end > s.end) s.end = end;
      s.acc = this.agg.add(value, s.acc);
    }
    // As Flink's EventTimeTrigger: a window already behind the watermark fires on every new element.
    s.fired = s.end - 1 <= wm;
    if (s.fired) this.fire(ks!.key, { start: s.start, end: s.end }, s.acc);
    this.schedule(ck, ks!, this.dueOf(s));
    return true;
  }

  /** Fire sessions whose end - 1 <= wm, then drop those past end - 1 + allowed lateness; in time order. */
  advance(wm: number): void {
    for (let top = this.heap.peek(); top !== undefined && top.time <= wm; top = this.heap.peek()) {
      const { time, ck } = this.heap.pop()!;
      const ks = this.keys.get(ck);
      if (ks === undefined || ks.due !== time) continue;
      ks.due = Number.POSITIVE_INFINITY;
      // Sessions grown since this entry was queued are due later; firing each key at its real due
      // time keeps results in end order.
      const real = this.keyDue(ks);
      if (real === time) this.fireAndDrop(ks, time);
      if (ks.sessions.length === 0) this.keys.delete(ck);
      else this.schedule(ck, ks, this.keyDue(ks));
    }
  }

  /** The earliest time some key needs attention (may be early), or +Infinity. */
  nextFireTime(): number {
    return this.heap.peek()?.time ?? Number.POSITIVE_INFINITY;
  }

  /** Every key's sessions as [start, end, acc, fired] tuples, for checkpoints. */
  *entries(): IterableIterator<{ ck: CanonicalKey; key: unknown; sessions: [number, number, unknown, boolean][] }> {
    for (const [ck, ks] of this.keys) yield { ck, key: ks.key, sessions: ks.sessions.map((s) => [s.start, s.end, s.acc, s.fired]) };
  }

  /** Put back one key's sessions from a checkpoint. */
  restoreKey(key: unknown, ck: CanonicalKey, sessions: readonly [number, number, unknown, boolean][]): void {
    const ks = new KeySessions(key);
    for (const [start, end, acc, fired] of sessions) {
      const s = new Session(start, end, acc);
      s.fired = fired;
      ks.sessions.push(s);
    }
    this.keys.set(ck, ks);
    this.schedule(ck, ks, this.keyDue(ks));
  }

  /** Number of sessions held. */
  get size(): number {
    let n = 0;
    for (const ks of this.keys.values()) n += ks.sessions.length;
    return n;
  }

  /** Merge sessions [lo, hi) of `list` into list[lo]; both sides are owned here, so merge may reuse either. */
  private mergeRange(list: Session[], lo: number, hi: number): Session {
    const s = list[lo]!;
    for (let k = lo + 1; k < hi; k++) {
      const o = list[k]!;
      s.acc = this.agg.merge(s.acc, o.acc);
      if (o.end > s.end) s.end = o.end;
    }
    if (hi - lo > 1) list.splice(lo + 1, hi - lo - 1);
    return s;
  }

  private fireAndDrop(ks: KeySessions, wm: number): void {
    let keep = 0;
    const list = ks.sessions;
    for (const s of list) {
      if (!s.fired && s.end - 1 <= wm) {
        s.fired = true;
        this.fire(ks.key, { start: s.start, end: s.end }, s.acc);
      }
      if (s.end - 1 + this.lateness > wm) list[keep++] = s;
    }
    list.length = keep;
  }

  private dueOf(s: Session): number {
    return s.fired ? s.end - 1 + this.lateness : s.end - 1;
  }

  private keyDue(ks: KeySessions): number {
    let due = Number.POSITIVE_INFINITY;
    for (const s of ks.sessions) due = Math.min(due, this.dueOf(s));
    return due;
  }

  private schedule(ck: CanonicalKey, ks: KeySessions, due: number): void {
    if (due >= ks.due) return;
    ks.due = due;
    this.heap.push({ time: due, ck });
  }
}
