/**
 * WorkQueue: the controller's rate-limited work queue, with client-go / controller-runtime workqueue semantics.
 *
 * Guarantees:
 * - A key is queued at most once: adding a key that is already queued is a no-op (duplicate wake-ups merge).
 * - A key is never handed to two workers at once: a key added while it is being processed is marked dirty and
 *   queued again when its worker calls `done(key)`.
 * - Keys are handed out in the order they were first queued; waiting `get()` calls are served in call order.
 * - Memory is bounded by the number of distinct keys (objects watched), not by the number of events.
 *
 * Unlike client-go, `shutDown()` drops keys that are still queued: every `get()`, waiting or later, resolves
 * `undefined`, so a controller that lost leadership stops acting at once; a level-triggered controller
 * re-lists everything when it starts again.
 *
 * ```ts
 * const queue = new WorkQueue({ onMetrics: (e) => e.kind === "done" && workSeconds.record(e.workMs / 1000) });
 * for (let key; (key = await queue.get()) !== undefined; ) {
 *   try { await reconcile(key); queue.forget(key); }
 *   catch { queue.addRateLimited(key); }
 *   finally { queue.done(key); }
 * }
 * ```
 */
import { DelayedAdds } from "./delayed-adds.js";
import { defaultControllerRateLimiter, type QueueClock, type RateLimiter, systemQueueClock, WorkQueueError } from "./rate-limiter.js";

/** What the queue reports, for histograms and counters; `depth` is the number of queued keys afterwards. */
export type WorkQueueEvent =
  /** `key` was queued (not merged into an already queued key). */
  | { readonly kind: "add"; readonly key: string; readonly depth: number }
  /** `key` was handed to a worker after waiting `queuedMs` since it was added. */
  | { readonly kind: "get"; readonly key: string; readonly queuedMs: number; readonly depth: number }
  /** The worker of `key` called done() after `workMs`. */
  | { readonly kind: "done"; readonly key: string; readonly workMs: number }
  /** `key` failed for the `requeues`-th time and comes back after `delayMs`. */
  | { readonly kind: "retry"; readonly key: string; readonly delayMs: number; readonly requeues: number };

/** A point-in-time view of the queue, for gauges polled by the metrics exporter. */
export interface WorkQueueStats {
  /** Keys queued and not yet handed out. */
  readonly depth: number;
  /** Keys handed out whose worker has not called done(). */
  readonly processing: number;
  /** Keys waiting for a delayed add (addAfter / addRateLimited). */
  readonly waiting: number;
  /** Keys queued since creation (merged duplicates not counted). */
  readonly adds: number;
  /** addRateLimited calls since creation. */
  readonly retries: number;
  /** Sum of the time every in-flight key has been processed so far (client-go unfinished_work_seconds). */
  readonly unfinishedWorkMs: number;
  /** How long the longest-running in-flight key has been processed. */
  readonly longestRunningMs: number;
}

/** What a WorkQueue is built from. */
export interface WorkQueueOptions {
  /** Default `defaultControllerRateLimiter({ clock })`: 5 ms .. 1000 s per key, 10 qps burst 100 overall. */
  readonly rateLimiter?: RateLimiter;
  /** Default the process clock. */
  readonly clock?: QueueClock;
  /** Called synchronously for every event; must not throw, must be cheap. */
  readonly onMetrics?: (event: WorkQueueEvent) => void;
}

/** A deduplicating, rate-limited FIFO of string keys (`namespace/name`). */
export class WorkQueue {
  readonly #clock: QueueClock;
  readonly #limiter: RateLimiter;
  readonly #emit: ((event: WorkQueueEvent) => void) | undefined;
  readonly #delayed: DelayedAdds;
  #queue: string[] = [];
  #head = 0;
  /** Keys that need processing (queued, or added again while processing), with the time they were added. */
  readonly #dirty = new Map<string, number>();
  /** Keys handed out, with the time they were handed out. */
  readonly #processing = new Map<string, number>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #drained: (() => void)[] = [];
  #shuttingDown = false;
  #adds = 0;
  #retries = 0;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemQueueClock;
    this.#limiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.#clock });
    this.#emit = options.onMetrics;
    this.#delayed = new DelayedAdds(this.#clock, (key) => this.add(key));
  }

  /** Queues `key` unless it is already queued; if it is being processed, queues it again on done(). */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.set(key, this.#clock.now());
    this.#adds++;
    const processing = this.#processing.has(key);
    this.#emit?.({ kind: "add", key, depth: this.len() + (processing ? 0 : 1) });
    if (!processing) this.#enqueue(key);
  }

  /** Adds `key` after `ms` (at once if `ms <= 0`); if it is already waiting, the earlier due time wins. */
  addAfter(key: string, ms: number): void {
    if (Number.isNaN(ms)) throw new WorkQueueError(`work queue: addAfter(${JSON.stringify(key)}) needs a delay in ms, got NaN`);
    if (this.#shuttingDown) return;
    if (ms <= 0) this.add(key);
    else this.#delayed.add(key, ms);
  }

  /** Records a failure of `key` and adds it after the rate limiter's delay. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    const delayMs = this.#limiter.when(key);
    this.#retries++;
    this.#emit?.({ kind: "retry", key, delayMs, requeues: this.#limiter.numRequeues(key) });
    this.addAfter(key, delayMs);
  }

  /** Forgets `key`'s failures, so its next back-off starts from the base delay. Call after a success. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  /** How many times `key` has been rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting for one if none is queued; `undefined` once the queue is shut down.
   * The caller owns the key until it calls `done(key)`.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    if (this.len() > 0) return Promise.resolve(this.#handOut());
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends processing of `key`; queues it again if it was added meanwhile. Ignored for a key not handed out. */
  done(key: string): void {
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    this.#emit?.({ kind: "done", key, workMs: this.#clock.now() - startedAt });
    if (this.#shuttingDown) {
      if (this.#processing.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
    } else if (this.#dirty.has(key)) {
      this.#enqueue(key);
    }
  }

  /** Keys queued and not yet handed out. */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /** True once shutDown() was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops the queue: adds are ignored, queued and waiting keys dropped, every get() resolves `undefined`. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#delayed.clear();
    this.#queue = [];
    this.#head = 0;
    this.#dirty.clear();
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    if (this.#processing.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  /** shutDown(), then resolves once every key handed out has been done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Gauges and counters, computed now. */
  stats(): WorkQueueStats {
    const now = this.#clock.now();
    let unfinishedWorkMs = 0;
    let longestRunningMs = 0;
    for (const startedAt of this.#processing.values()) {
      unfinishedWorkMs += now - startedAt;
      longestRunningMs = Math.max(longestRunningMs, now - startedAt);
    }
    const { size: processing } = this.#processing;
    return { depth: this.len(), processing, waiting: this.#delayed.size, adds: this.#adds, retries: this.#retries, unfinishedWorkMs, longestRunningMs };
  }

  #enqueue(key: string): void {
    this.#queue.push(key);
    while (this.#waiters.length > 0 && this.len() > 0) this.#waiters.shift()!(this.#handOut());
  }

  #handOut(): string {
    const key = this.#queue[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const now = this.#clock.now();
    const addedAt = this.#dirty.get(key) ?? now;
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    this.#emit?.({ kind: "get", key, queuedMs: now - addedAt, depth: this.len() });
    return key;
  }
}
