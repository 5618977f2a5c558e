// WorkQueue and its rate limiters on injected fake time: dedup, one worker per key, FIFO, delayed and
// rate-limited adds, shutdown, metrics.
import { describe, expect, it } from "vitest";
import {
  BucketRateLimiter, defaultControllerRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, type QueueClock, WorkQueueError,
} from "../../operator/controller/rate-limiter.js";
import { WorkQueue, type WorkQueueEvent, type WorkQueueOptions } from "../../operator/controller/work-queue.js";

/** Manual time: advance() runs due timers in time order, moving the clock to each timer's time. */
class FakeTime implements QueueClock {
  t = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.#seq++;
    this.#timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.#timers.delete(id);
  }

  get pending(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

function setup(options: Omit<WorkQueueOptions, "clock"> = {}) {
  const time = new FakeTime();
  const events: WorkQueueEvent[] = [];
  const queue = new WorkQueue({ clock: time, onMetrics: (e) => events.push(e), ...options });
  return { time, queue, events };
}

/** Takes every queued key without waiting. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) keys.push((await queue.get())!);
  return keys;
}

/** Whether `p` has settled once pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("WorkQueue: add, get, done", () => {
  it("queues a key once however often it is added", async () => {
    const { queue } = setup();
    for (const k of ["ns/a", "ns/b", "ns/a", "ns/a", "ns/b"]) queue.add(k);
    expect(queue.len()).toBe(2);
    expect(await drain(queue)).toEqual(["ns/a", "ns/b"]);
  });

  it("hands keys out in FIFO order", async () => {
    const { queue } = setup();
    const keys = Array.from({ length: 3000 }, (_, i) => `ns/job-${i}`);
    for (const k of keys) queue.add(k);
    expect(await drain(queue)).toEqual(keys);
  });

  it("never hands a key to two workers; a key added while processing comes back once on done()", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    expect(await queue.get()).toBe("ns/a");
    queue.add("ns/a");
    queue.add("ns/a");
    expect(queue.len()).toBe(0);
    const second = queue.get();
    expect(await settled(second)).toBe(false);
    queue.done("ns/a");
    expect(await second).toBe("ns/a");
    queue.done("ns/a");
    expect(queue.len()).toBe(0);
  });

  it("does not requeue a key on done() when it was not added meanwhile", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    queue.done(await (queue.get() as Promise<string>));
    queue.done("ns/never-handed-out");
    expect(queue.len()).toBe(0);
  });

  it("wakes waiting workers in call order as keys arrive", async () => {
    const { queue } = setup();
    const w1 = queue.get();
    const w2 = queue.get();
    queue.add("ns/a");
    queue.add("ns/b");
    expect([await w1, await w2]).toEqual(["ns/a", "ns/b"]);
  });
});

describe("WorkQueue: addAfter", () => {
  it("adds a key once its delay has passed", () => {
    const { time, queue } = setup();
    queue.addAfter("ns/a", 100);
    time.advance(99);
    expect(queue.len()).toBe(0);
    time.advance(1);
    expect(queue.len()).toBe(1);
  });

  it("keeps the earlier due time when a waiting key is added again", () => {
    const { time, queue } = setup();
    queue.addAfter("ns/a", 500);
    queue.addAfter("ns/a", 100);
    queue.addAfter("ns/a", 300);
    expect(queue.stats().waiting).toBe(1);
    time.advance(100);
    expect(queue.len()).toBe(1);
    expect(queue.stats().waiting).toBe(0);
    time.advance(1000);
    expect(queue.len()).toBe(1);
  });

  it("adds at once for a delay of zero or less, and releases keys in due-time order", async () => {
    const { time, queue } = setup();
    queue.addAfter("ns/now", 0);
    expect(queue.len()).toBe(1);
    queue.addAfter("ns/c", 30);
    queue.addAfter("ns/a", 10);
    queue.addAfter("ns/b", 20);
    time.advance(30);
    expect(await drain(queue)).toEqual(["ns/now", "ns/a", "ns/b", "ns/c"]);
  });
});

describe("rate limiting", () => {
  it("backs a failing key off exponentially from 5 ms up to the 1000 s cap", () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 20 }, () => limiter.when("ns/a"));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[19]).toBe(1_000_000);
    expect(limiter.when("ns/b")).toBe(5);
    for (let i = 0; i < 2000; i++) limiter.when("ns/c");
    expect(limiter.when("ns/c")).toBe(1_000_000);
  });

  it("forget() restarts the back-off and numRequeues() counts failures", () => {
    const { time, queue } = setup({ rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    for (let i = 0; i < 3; i++) queue.addRateLimited("ns/a");
    expect(queue.numRequeues("ns/a")).toBe(3);
    time.advance(5);
    expect(queue.len()).toBe(1); // the earliest retry wins
    queue.forget("ns/a");
    expect(queue.numRequeues("ns/a")).toBe(0);
    queue.addRateLimited("ns/b");
    queue.forget("ns/b");
    queue.addRateLimited("ns/b");
    expect(queue.numRequeues("ns/b")).toBe(1);
  });

  it("re-adds a rate-limited key after the per-key delay, growing with each failure", async () => {
    const { time, queue } = setup({ rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    const readyAfter: number[] = [];
    for (let failure = 0; failure < 4; failure++) {
      const start = time.t;
      queue.addRateLimited("ns/a");
      while (queue.len() === 0) time.advance(1);
      readyAfter.push(time.t - start);
      queue.done((await queue.get())!);
    }
    expect(readyAfter).toEqual([5, 10, 20, 40]);
  });

  it("a token bucket lets a burst through, then spaces calls at 1/qps", () => {
    const time = new FakeTime();
    const bucket = new BucketRateLimiter(10, 3, time);
    expect([0, 1, 2, 3, 4, 5].map((i) => bucket.when(`ns/${i}`))).toEqual([0, 0, 0, 100, 200, 300]);
    time.advance(1000); // refills to the burst, not beyond
    expect([0, 1, 2, 3].map((i) => bucket.when(`ns/${i}`))).toEqual([0, 0, 0, 100]);
  });

  it("the default controller limiter delays the 101st retry of a burst by the token bucket", () => {
    const { time, queue } = setup();
    for (let i = 0; i <= 100; i++) queue.addRateLimited(`ns/job-${i}`);
    time.advance(5);
    expect(queue.len()).toBe(100);
    time.advance(94);
    expect(queue.len()).toBe(100);
    time.advance(1);
    expect(queue.len()).toBe(101);
  });

  it("MaxOf takes the longest delay and forgets in every limiter", () => {
    const time = new FakeTime();
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(1, 1, time));
    expect(limiter.when("ns/a")).toBe(5);
    expect(limiter.when("ns/a")).toBe(1000);
    limiter.forget("ns/a");
    expect(limiter.numRequeues("ns/a")).toBe(0);
  });

  it("rejects invalid options, naming the field", () => {
    expect(() => defaultControllerRateLimiter({ qps: 0 })).toThrow(/qps must be a positive/);
    expect(() => defaultControllerRateLimiter({ burst: 0.5 })).toThrow(/burst must be an integer/);
    expect(() => defaultControllerRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(WorkQueueError);
    expect(() => new WorkQueue({ clock: new FakeTime() }).addAfter("ns/a", NaN)).toThrow(/ns\/a/);
  });
});

describe("WorkQueue: shutdown", () => {
  it("wakes waiting workers with undefined, drops queued and waiting keys, ignores later adds", async () => {
    const { time, queue } = setup();
    const waiters = [queue.get(), queue.get()];
    queue.shutDown();
    expect(await Promise.all(waiters)).toEqual([undefined, undefined]);

    const other = setup();
    other.queue.add("ns/a");
    other.queue.addAfter("ns/b", 10);
    other.queue.shutDown();
    other.queue.add("ns/c");
    other.queue.addRateLimited("ns/d");
    expect(other.queue.len()).toBe(0);
    expect(other.time.pending).toBe(0);
    expect(await other.queue.get()).toBeUndefined();
    expect(time.pending).toBe(0);
  });

  it("shutDownWithDrain resolves once the keys handed out are done", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    const key = (await queue.get())!;
    queue.add("ns/a");
    const drained = queue.shutDownWithDrain();
    expect(await settled(drained)).toBe(false);
    queue.done(key);
    await drained;
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });
});

describe("WorkQueue: metrics", () => {
  it("reports adds, depth, queue latency, work duration and retries", async () => {
    const { time, queue, events } = setup();
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    time.advance(30);
    const a = (await queue.get())!;
    time.advance(70);
    expect(queue.stats()).toMatchObject({ depth: 1, processing: 1, adds: 2, unfinishedWorkMs: 70, longestRunningMs: 70 });
    queue.done(a);
    queue.addRateLimited("ns/a");
    expect(events).toEqual([
      { kind: "add", key: "ns/a", depth: 1 },
      { kind: "add", key: "ns/b", depth: 2 },
      { kind: "get", key: "ns/a", queuedMs: 30, depth: 1 },
      { kind: "done", key: "ns/a", workMs: 70 },
      { kind: "retry", key: "ns/a", delayMs: 5, requeues: 1 },
    ]);
    expect(queue.stats()).toMatchObject({ depth: 1, processing: 0, waiting: 1, adds: 2, retries: 1 });
  });

  it("counts the time a key added during processing waited, up to its next get()", async () => {
    const { time, queue, events } = setup();
    queue.add("ns/a");
    const key = (await queue.get())!;
    time.advance(10);
    queue.add("ns/a");
    time.advance(40);
    queue.done(key);
    await queue.get();
    expect(events.filter((e) => e.kind === "get").map((e) => e.kind === "get" && e.queuedMs)).toEqual([0, 40]);
  });
});

describe("WorkQueue: long delays", () => {
  it("re-arms a timer cut short by setTimeout's 2^31-1 ms limit instead of adding early", () => {
    const { time, queue } = setup();
    const day = 24 * 3600_000;
    queue.addAfter("ns/a", 30 * day);
    time.advance(25 * day);
    expect(queue.len()).toBe(0);
    time.advance(5 * day);
    expect(queue.len()).toBe(1);
  });
});
