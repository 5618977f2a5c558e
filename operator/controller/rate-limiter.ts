/**
 * Rate limiters for WorkQueue.addRateLimited, with client-go's workqueue semantics: per-item exponential
 * back-off (ItemExponentialFailureRateLimiter), an overall token bucket (BucketRateLimiter, as
 * golang.org/x/time/rate's Reserve) and the max of several (MaxOfRateLimiter). `defaultControllerRateLimiter`
 * is client-go's DefaultControllerRateLimiter: max(5 ms * 2^failures capped at 1000 s, 10 qps burst 100).
 */

/** Time as the work queue sees it; leader/'s `systemClock` satisfies it. */
export interface QueueClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The process clock: performance.now() and setTimeout. */
export const systemQueueClock: QueueClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Decides how long a key waits before its next retry. */
export interface RateLimiter {
  /** Records one more failure of `key` and returns the ms it must wait before it is queued again (>= 0). */
  when(key: string): number;
  /** Forgets `key`'s failures (call on success); later back-off starts again from the base delay. */
  forget(key: string): void;
  /** How many failures of `key` are recorded since it was last forgotten. */
  numRequeues(key: string): number;
}

/** Thrown for invalid work-queue or rate-limiter options; the message names the field and the value. */
export class WorkQueueError extends Error {
  readonly code = "WEIR_E_WORK_QUEUE";
  constructor(message: string) {
    super(message);
    this.name = "WorkQueueError";
  }
}

/** Per-key exponential back-off: `baseDelayMs * 2^failures`, capped at `maxDelayMs`. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();

  constructor(readonly baseDelayMs: number, readonly maxDelayMs: number) {
    positive("baseDelayMs", baseDelayMs);
    positive("maxDelayMs", maxDelayMs);
    if (maxDelayMs < baseDelayMs) throw new WorkQueueError(`work queue: maxDelayMs (${maxDelayMs}) must be >= baseDelayMs (${baseDelayMs})`);
  }

  when(key: string): number {
    const exp = this.#failures.get(key) ?? 0;
    this.#failures.set(key, exp + 1);
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** exp);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket shared by all keys: `burst` tokens, refilled at `qps` per second. Every call takes a
 * token; when none is left the bucket goes into debt and the call waits until its token has been refilled
 * (golang.org/x/time/rate `Reserve().Delay()`). Keeps no per-key state.
 */
export class BucketRateLimiter implements RateLimiter {
  #tokens: number;
  #last: number;

  constructor(readonly qps: number, readonly burst: number, readonly clock: QueueClock = systemQueueClock) {
    positive("qps", qps);
    if (!Number.isInteger(burst) || burst < 1) throw new WorkQueueError(`work queue: burst must be an integer >= 1, got ${burst}`);
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + (Math.max(0, now - this.#last) * this.qps) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.qps;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters; every limiter records every failure. */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new WorkQueueError("work queue: MaxOfRateLimiter needs at least one limiter");
    this.#limiters = limiters;
  }

  when(key: string): number {
    return Math.max(...this.#limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.#limiters.map((l) => l.numRequeues(key)));
  }
}

/** Options of `defaultControllerRateLimiter`; every field has client-go's default. */
export interface ControllerRateLimiterOptions {
  /** First per-key retry delay. Default 5 ms. */
  readonly baseDelayMs?: number;
  /** Cap of the per-key delay. Default 1000 s. */
  readonly maxDelayMs?: number;
  /** Overall retry rate. Default 10 per second. */
  readonly qps?: number;
  /** Overall retries allowed at once before `qps` applies. Default 100. */
  readonly burst?: number;
  readonly clock?: QueueClock;
}

/** client-go's defaults for `defaultControllerRateLimiter`. */
export const CONTROLLER_RATE_LIMITER_DEFAULTS = Object.freeze({ baseDelayMs: 5, maxDelayMs: 1_000_000, qps: 10, burst: 100 });

/** client-go's DefaultControllerRateLimiter: max(per-key exponential back-off, overall token bucket). */
export function defaultControllerRateLimiter(o: ControllerRateLimiterOptions = {}): RateLimiter {
  const d = CONTROLLER_RATE_LIMITER_DEFAULTS;
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(o.baseDelayMs ?? d.baseDelayMs, o.maxDelayMs ?? d.maxDelayMs),
    new BucketRateLimiter(o.qps ?? d.qps, o.burst ?? d.burst, o.clock ?? systemQueueClock),
  );
}

function positive(field: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new WorkQueueError(`work queue: ${field} must be a positive finite number, got ${v}`);
}
