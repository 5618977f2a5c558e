/**
 * Keyed timers of one operator subtask: event-time timers fire when the watermark passes them,
 * processing-time timers when the wall clock does. A (key, timestamp) pair is registered at most once
 * per domain. Timers are kept in buckets per timestamp (a Map from canonical key to timer, so the
 * set semantics cost no string key per timer) and a binary min-heap holds each bucket's timestamp
 * once: timers that share a timestamp (window ends, rounded cleanup times) share one heap entry.
 * Deletion is immediate in the bucket and lazy in the heap (a timestamp whose bucket is gone is
 * skipped), so every operation is O(log n) amortized in the number of distinct timestamps.
 */
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import { MinHeap } from "../common/min-heap.js";
import type { ProcessingTimeService } from "../operators/operator.js";

export interface Timer {
  readonly timestamp: number;
  readonly key: unknown;
  readonly ck: CanonicalKey;
}

/** Timers ordered by timestamp, with set semantics per (key, timestamp); equal timestamps fire in registration order. */
class TimerQueue {
  private readonly heap = new MinHeap<number>((ts) => ts);
  private readonly buckets = new Map<number, Map<CanonicalKey, Timer>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(key: unknown, ck: CanonicalKey, timestamp: number): boolean {
    let bucket = this.buckets.get(timestamp);
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets.set(timestamp, bucket);
      this.heap.push(timestamp);
    } else if (bucket.has(ck)) return false;
    bucket.set(ck, { timestamp, key, ck });
    this.count++;
    return true;
  }

  delete(ck: CanonicalKey, timestamp: number): void {
    const bucket = this.buckets.get(timestamp);
    if (bucket === undefined || !bucket.delete(ck)) return;
    this.count--;
    if (bucket.size === 0) this.buckets.delete(timestamp);
  }

  /** The earliest live timer, or undefined. Timestamps whose timers were all deleted are dropped on the way. */
  peek(): Timer | undefined {
    const bucket = this.earliestBucket();
    return bucket?.values().next().value;
  }

  /** Every live timer (for checkpoints). */
  *timers(): IterableIterator<Timer> {
    for (const bucket of this.buckets.values()) yield* bucket.values();
  }

  /** Remove and return the earliest live timer with timestamp <= limit. */
  pollUntil(limit: number): Timer | undefined {
    const bucket = this.earliestBucket();
    if (bucket === undefined) return undefined;
    const top = bucket.values().next().value!;
    if (top.timestamp > limit) return undefined;
    bucket.delete(top.ck);
    this.count--;
    if (bucket.size === 0) {
      this.buckets.delete(top.timestamp);
      this.heap.pop();
    }
    return top;
  }

  /** The bucket of the earliest timestamp that still has timers, its timestamp on top of the heap. */
  private earliestBucket(): Map<CanonicalKey, Timer> | undefined {
    for (let ts = this.heap.peek(); ts !== undefined; ts = this.heap.peek()) {
      const bucket = this.buckets.get(ts);
      if (bucket !== undefined) return bucket;
      this.heap.pop();
    }
    return undefined;
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
    /**
     * Called instead of firing when processing-time timers are due, for operators that must load the
     * timers' state first: they `takeDue` and `fire` themselves, then `rescheduleProcessingTime`.
     */
    private readonly onProcessingTimeDue: ((now: number) => void) | null = null,
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

  /** Every registered timer with its domain (for checkpoints). */
  *timers(): IterableIterator<[Timer, "event" | "processing"]> {
    for (const t of this.eventTimers.timers()) yield [t, "event"];
    for (const t of this.processingTimers.timers()) yield [t, "processing"];
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

  /** Set the watermark without firing (the caller fires with `takeDue`/`fire`). */
  setWatermark(watermark: number): void {
    this.watermark = watermark;
  }

  /** Remove and return, in timestamp order, the timers of `domain` due at `upTo`. */
  takeDue(domain: "event" | "processing", upTo: number): Timer[] {
    const q = domain === "event" ? this.eventTimers : this.processingTimers;
    const due: Timer[] = [];
    for (let t = q.pollUntil(upTo); t; t = q.pollUntil(upTo)) due.push(t);
    return due;
  }

  /** Fire timers taken with `takeDue`. */
  fire(timers: readonly Timer[], domain: "event" | "processing"): void {
    for (const t of timers) this.onTimer(t, domain);
  }

  /** Schedule the wall-clock callback for the earliest processing-time timer. */
  rescheduleProcessingTime(): void {
    this.reschedule();
  }

  /** Put back a timer from a checkpoint (processing-time ones are scheduled when due). */
  restore(key: unknown, ck: CanonicalKey, timestamp: number, domain: "event" | "processing"): void {
    if (domain === "event") this.eventTimers.add(key, ck, timestamp);
    else this.registerProcessingTimeTimer(key, timestamp, ck);
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
      if (this.onProcessingTimeDue) this.onProcessingTimeDue(now);
      else this.advanceProcessingTime(now);
    });
  }
}
