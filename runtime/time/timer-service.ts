/**
 * Keyed timers of one operator subtask: event-time timers fire when the watermark passes them,
 * processing-time timers when the wall clock does. A (key, timestamp) pair is registered at most once
 * per domain. Timers live in a binary min-heap; deletion is lazy (a deleted timer stays in the heap
 * but is skipped), so every operation is O(log n).
 */
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import type { ProcessingTimeService } from "../operators/operator.js";

export interface Timer {
  readonly timestamp: number;
  readonly key: unknown;
  readonly ck: CanonicalKey;
}

/** A min-heap of timers ordered by timestamp, with set semantics per (key, timestamp). */
class TimerQueue {
  private heap: Timer[] = [];
  private readonly live = new Map<string, Timer>();

  private static id(ck: CanonicalKey, ts: number): string {
    return `${typeof ck === "number" ? "n" : "s"}${ck}\u0001${ts}`;
  }

  get size(): number {
    return this.live.size;
  }

  add(key: unknown, ck: CanonicalKey, timestamp: number): boolean {
    const id = TimerQueue.id(ck, timestamp);
    if (this.live.has(id)) return false;
    const t: Timer = { timestamp, key, ck };
    this.live.set(id, t);
    this.heap.push(t);
    this.siftUp(this.heap.length - 1);
    return true;
  }

  delete(ck: CanonicalKey, timestamp: number): void {
    this.live.delete(TimerQueue.id(ck, timestamp));
  }

  /** The earliest live timer, or undefined. */
  peek(): Timer | undefined {
    this.dropDeleted();
    return this.heap[0];
  }

  /** Remove and return the earliest live timer with timestamp <= limit. */
  pollUntil(limit: number): Timer | undefined {
    const top = this.peek();
    if (top === undefined || top.timestamp > limit) return undefined;
    this.popTop();
    this.live.delete(TimerQueue.id(top.ck, top.timestamp));
    return top;
  }

  private dropDeleted(): void {
    while (this.heap.length > 0) {
      const t = this.heap[0]!;
      if (this.live.get(TimerQueue.id(t.ck, t.timestamp)) === t) return;
      this.popTop();
    }
  }

  private popTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const t = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.timestamp <= t.timestamp) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = t;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.timestamp < h[c]!.timestamp) c++;
      if (h[c]!.timestamp >= t.timestamp) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = t;
  }
}

/** Called for each firing timer; the operator sets its current key to `timer.key` first. */
export type TimerCallback = (timer: Timer, domain: "event" | "processing") => void;

/** Event-time and processing-time timers of one keyed operator subtask. */
export class InternalTimerService {
  private readonly eventTimers = new TimerQueue();
  private readonly processingTimers = new TimerQueue();
  private watermark = Number.NEGATIVE_INFINITY;
  private scheduledAt = Number.POSITIVE_INFINITY;
  private cancelScheduled: (() => void) | null = null;

  constructor(
    private readonly clock: ProcessingTimeService,
    private readonly onTimer: TimerCallback,
  ) {}

  currentWatermark(): number {
    return this.watermark;
  }

  registerEventTimeTimer(key: unknown, timestamp: number, ck: CanonicalKey = canonicalKey(key)): void {
    this.eventTimers.add(key, ck, timestamp);
  }

  deleteEventTimeTimer(key: unknown, timestamp: number, ck: CanonicalKey = canonicalKey(key)): void {
    this.eventTimers.delete(ck, timestamp);
  }

  registerProcessingTimeTimer(key: unknown, timestamp: number, ck: CanonicalKey = canonicalKey(key)): void {
    if (this.processingTimers.add(key, ck, timestamp) && timestamp < this.scheduledAt) this.reschedule();
  }

  deleteProcessingTimeTimer(key: unknown, timestamp: number, ck: CanonicalKey = canonicalKey(key)): void {
    this.processingTimers.delete(ck, timestamp);
  }

  /** Number of registered event-time and processing-time timers. */
  get size(): number {
    return this.eventTimers.size + this.processingTimers.size;
  }

  /** Fire every event-time timer <= watermark, in timestamp order (timers registered meanwhile included). */
  advanceWatermark(watermark: number): void {
    this.watermark = watermark;
    for (let t = this.eventTimers.pollUntil(watermark); t; t = this.eventTimers.pollUntil(watermark)) {
      this.onTimer(t, "event");
    }
  }

  /** Fire every processing-time timer <= now. */
  advanceProcessingTime(now: number): void {
    for (let t = this.processingTimers.pollUntil(now); t; t = this.processingTimers.pollUntil(now)) {
      this.onTimer(t, "processing");
    }
    this.reschedule();
  }

  /** Stop the wall-clock callback (on close or cancel). */
  dispose(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = null;
    this.scheduledAt = Number.POSITIVE_INFINITY;
  }

  private reschedule(): void {
    this.dispose();
    const next = this.processingTimers.peek();
    if (next === undefined) return;
    this.scheduledAt = next.timestamp;
    this.cancelScheduled = this.clock.schedule(next.timestamp, (now) => {
      this.cancelScheduled = null;
      this.scheduledAt = Number.POSITIVE_INFINITY;
      this.advanceProcessingTime(now);
    });
  }
}
