/**
 * Per-split watermarks inside one source subtask (Flink's FLIP-27 per-split watermarking with
 * BoundedOutOfOrdernessWatermarks and idleness).
 *
 * The record path only touches a {@link SplitWatermark} (`observe` = a counter and a max); everything
 * else happens in `onPeriodicEmit`, which the task calls about every 200 ms:
 *
 *   const wms = new SourceWatermarks({ maxOutOfOrderness: 5_000, idleTimeout: 30_000, emitWatermark, emitStatus });
 *   const s = wms.split("partition-0", clock.now());   // when the split is assigned
 *   s.observe(ts);                                      // per record
 *   wms.onPeriodicEmit(clock.now());                    // every ~200 ms
 *   wms.release("partition-0"); wms.finish();           // split done; all done (+Infinity)
 *
 * Watermark alignment (FLIP-217) asks `alignmentWatermark()` for what the subtask reports and
 * `splitsToAlign(maxAllowed)` for the splits to pause and resume, and marks them with `setPaused`: a
 * paused split's idle timer stops, so it keeps holding back the watermark it is being aligned to.
 */
import { MAX_WATERMARK, MIN_WATERMARK } from "../common/elements.js";

/** The event-time progress of one split; `observe` is the only call on the record path. */
export class SplitWatermark {
  maxTimestamp = Number.NEGATIVE_INFINITY;
  records = 0;

  /** Count a record and track the highest timestamp seen. */
  observe(ts: number): void {
    this.records++;
    if (ts > this.maxTimestamp) this.maxTimestamp = ts;
  }
}

/** What `SourceWatermarks` needs from its subtask. */
export interface SourceWatermarksOptions {
  /** Watermark = highest timestamp - maxOutOfOrderness - 1. */
  readonly maxOutOfOrderness: number;
  /** A split with no new record for this many ms is idle; null = splits never go idle. */
  readonly idleTimeout: number | null;
  emitWatermark(ts: number): void;
  emitStatus(idle: boolean): void;
}

/** Bookkeeping of one split, kept off the record path. */
interface SplitEntry {
  readonly wm: SplitWatermark;
  /** `wm.records` at the last periodic emit; a change means the split is active. */
  seenRecords: number;
  /** When `records` last changed (or the split was created), paused time excluded. */
  lastActivity: number;
  idle: boolean;
  /** When watermark alignment paused the split, or null while it is read. */
  pausedSince: number | null;
}

/** What watermark alignment changes: split ids to pause and to resume. */
export interface SplitAlignment {
  readonly pause: string[];
  readonly resume: string[];
}

/**
 * Combines the watermarks of the splits one source subtask reads. The subtask watermark is the
 * minimum over active splits, emitted only when it advances. When no split is active (all idle, or
 * none assigned) the subtask first advances to the highest watermark any split reached (finished
 * splits count, so their last records are not held back by an idle one) and then is idle; it becomes
 * active again at the first periodic emit after a split got records.
 */
export class SourceWatermarks {
  private readonly splits = new Map<string, SplitEntry>();
  private lastEmitted = MIN_WATERMARK;
  /** The highest split watermark seen, released splits included. */
  private highest = MIN_WATERMARK;
  private idle = false;
  private finished = false;

  constructor(private readonly opts: SourceWatermarksOptions) {
    if (!(opts.maxOutOfOrderness >= 0)) throw new RangeError(`maxOutOfOrderness must be >= 0 ms, got ${opts.maxOutOfOrderness}`);
  }

  /** The watermark tracker of split `id`, created (active, holding back the minimum) if new. */
  split(id: string, now: number): SplitWatermark {
    let e = this.splits.get(id);
    if (e === undefined) {
      e = { wm: new SplitWatermark(), seenRecords: 0, lastActivity: now, idle: false, pausedSince: null };
      this.splits.set(id, e);
    }
    return e.wm;
  }

  /** The split finished: it no longer holds back the subtask watermark. */
  release(id: string): void {
    const e = this.splits.get(id);
    if (e) this.highest = Math.max(this.highest, this.splitWatermark(e));
    this.splits.delete(id);
  }

  private splitWatermark(e: SplitEntry): number {
    return e.wm.maxTimestamp - this.opts.maxOutOfOrderness - 1;
  }

  /** Update idleness, then emit the status if it changed and the watermark if it advanced. */
  onPeriodicEmit(now: number): void {
    if (this.finished) return;
    let min = MAX_WATERMARK;
    let active = 0;
    for (const e of this.splits.values()) {
      this.updateIdleness(e, now);
      const wm = this.splitWatermark(e);
      if (wm > this.highest) this.highest = wm;
      if (e.idle) continue;
      active++;
      if (wm < min) min = wm;
    }
    if (active === 0) {
      // Like the valve when its last active channel goes idle: nothing holds event time back any
      // more, so first advance to the highest watermark any split (finished ones included) reached.
      if (this.highest > this.lastEmitted) {
        this.lastEmitted = this.highest;
        this.opts.emitWatermark(this.highest);
      }
      return this.setIdle(true);
    }
    this.setIdle(false);
    if (min > this.lastEmitted) {
      this.lastEmitted = min;
      this.opts.emitWatermark(min);
    }
  }

  /** All splits are done: emit the final watermark (once). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    // An idle channel's watermark would be ignored downstream, so become active first.
    this.setIdle(false);
    this.lastEmitted = MAX_WATERMARK;
    this.opts.emitWatermark(MAX_WATERMARK);
  }

  /** The last watermark emitted. */
  get currentWatermark(): number {
    return this.lastEmitted;
  }

  /** Whether the subtask is currently idle. */
  get isIdle(): boolean {
    return this.idle;
  }

  /**
   * What the subtask reports for watermark alignment: the minimum watermark of its active splits
   * (paused ones included), "idle" when none is active (all idle, none assigned, or finished), or
   * undefined while an active split has no watermark yet (Flink reports nothing before its first).
   */
  alignmentWatermark(): number | "idle" | undefined {
    if (this.finished) return "idle";
    let min = MAX_WATERMARK;
    for (const e of this.splits.values()) if (!e.idle) min = Math.min(min, this.splitWatermark(e));
    if (min === MAX_WATERMARK) return "idle";
    return Number.isFinite(min) ? min : undefined;
  }

  /**
   * The splits to pause (watermark above `maxAllowed`, not paused yet) and to resume (paused, now at
   * or below it); with `pauseOnly` paused splits stay paused. A split without records has no watermark
   * and is never paused.
   */
  splitsToAlign(maxAllowed: number, pauseOnly: boolean): SplitAlignment {
    const pause: string[] = [];
    const resume: string[] = [];
    for (const [id, e] of this.splits) {
      const ahead = e.wm.records > 0 && this.splitWatermark(e) > maxAllowed;
      if (ahead && e.pausedSince === null) pause.push(id);
      else if (!ahead && e.pausedSince !== null && !pauseOnly) resume.push(id);
    }
    return { pause, resume };
  }

  /** Mark splits paused or read again; paused time does not count toward a split's idle timeout. */
  setPaused(ids: Iterable<string>, paused: boolean, now: number): void {
    for (const id of ids) {
      const e = this.splits.get(id);
      if (!e || (e.pausedSince !== null) === paused) continue;
      if (paused) e.pausedSince = now;
      else {
        // Records are noticed at periodic emits, so activity may be dated after the pause began.
        e.lastActivity += Math.max(0, now - Math.max(e.pausedSince!, e.lastActivity));
        e.pausedSince = null;
      }
    }
  }

  /** Ids of all current splits. */
  splitIds(): IterableIterator<string> {
    return this.splits.keys();
  }

  /** How many splits are paused. */
  get pausedSplits(): number {
    let n = 0;
    for (const e of this.splits.values()) if (e.pausedSince !== null) n++;
    return n;
  }

  private updateIdleness(e: SplitEntry, now: number): void {
    if (e.wm.records !== e.seenRecords) {
      e.seenRecords = e.wm.records;
      e.lastActivity = now;
      e.idle = false;
    } else if (e.pausedSince === null && this.opts.idleTimeout !== null && now - e.lastActivity >= this.opts.idleTimeout) {
      e.idle = true;
    }
  }

  private setIdle(idle: boolean): void {
    if (this.idle === idle) return;
    this.idle = idle;
    this.opts.emitStatus(idle);
  }
}
