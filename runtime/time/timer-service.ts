/**
 * Keyed timers of one operator subtask: event-time timers fire when the watermark passes them,
 * processing-time timers when the wall clock does. A (key, timestamp) pair is registered at most once
 * per domain. Timers live in a binary min-heap; deletion is lazy (a deleted timer stays in the heap
 * but is skipped), so every operation is O(log n) amortized.
 */
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import { MinHeap } from "../common/min-heap.js";
import type { ProcessingTimeService } from "../operators/operator.js";

export interface Timer {
  readonly timestamp: number;
  readonly key: unknown;
  readonly ck: CanonicalKey;
}

/** Timers ordered by timestamp, with set semantics per (key, timestamp). */
class TimerQueue {
  private readonly heap = new MinHeap<Timer>((t) => t.timestamp);
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
    return true;
  }

  delete(ck: CanonicalKey, timestamp: number): void {
    this.live.delete(TimerQueue.id(ck, timestamp));
  }

  /** The earliest live timer, or undefined. Deleted timers at the top are dropped on the way. */
  peek(): Timer | undefined {
    for (let t = this.heap.peek(); t !== undefined; t = this.heap.peek()) {
      if (this.live.get(TimerQueue.id(t.ck, t.timestamp)) === t) return t;
      this.heap.pop();
    }
    return undefined;
  }

  /** Remove and return the earliest live timer with timestamp <= limit. */
  pollUntil(limit: number): Timer | undefined {
    const top = this.peek();
    if (top === undefined || top.timestamp > limit) return undefined;
    this.heap.pop();
    this.live.delete(TimerQueue.id(top.ck, top.timestamp));
    return top;
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
