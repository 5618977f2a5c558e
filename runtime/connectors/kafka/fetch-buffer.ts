/**
 * The bounded hand-over between kafkajs (push: `eachBatch` per fetched partition batch) and the
 * source reader (pull: a non-blocking `poll()`). Batches are queued as they came, by reference (no
 * copy, no per-record allocation); the reader takes records in order. When `capacity` records are
 * queued, `eachBatch` waits in `whenSpace` before it returns, which holds kafkajs's next fetch: memory
 * stays within the capacity plus one fetched batch, and a slow pipeline is backpressure on Kafka.
 *
 *   buffer.push(partition, batch.messages, 0, batch.messages.length, nextOffset);   // in eachBatch
 *   while (buffer.isFull) await buffer.whenSpace(heartbeatMs);                       // in eachBatch
 *   const c = buffer.peek(); ... c.i = upTo; buffer.consumed(n); buffer.shift();    // in poll
 */
import type { HeaderValue } from "./serde.js";

/** A fetched message as kafkajs delivers it (offsets and timestamps are decimal strings). */
export interface FetchedMessage {
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Record<string, HeaderValue>;
}

/** A queued slice of one partition's fetched batch: messages [i, n), then the partition is at `end`. */
export interface Chunk<P> {
  readonly p: P;
  readonly msgs: readonly FetchedMessage[];
  /** The next message to emit. */
  i: number;
  /** The end (exclusive) of the messages to emit. */
  readonly n: number;
  /**
   * The partition's next offset once the chunk is emitted: past the last message, and past control
   * records or aborted records that ended the fetched batch (which never reach the reader).
   */
  readonly end: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** A FIFO of fetched chunks with a bound in records, and the waits of both sides. */
export class FetchBuffer<P> {
  private chunks: Chunk<P>[] = [];
  private head = 0;
  private records = 0;
  private dataWaiter: { promise: Promise<void>; waiter: Waiter } | null = null;
  private spaceWaiters: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`buffer capacity must be a positive integer, got ${capacity}`);
  }

  /** Records queued and not yet taken. */
  get buffered(): number {
    return this.records;
  }

  /** No chunk is queued (not even an empty one that only moves a partition's position). */
  get isEmpty(): boolean {
    return this.head >= this.chunks.length;
  }

  /** `eachBatch` must wait before it returns. */
  get isFull(): boolean {
    return this.records >= this.capacity;
  }

  /** Queue messages [from, n) of `p` (possibly none: then only the position moves to `end`) and wake the reader. */
  push(p: P, msgs: readonly FetchedMessage[], from: number, n: number, end: number): void {
    this.chunks.push({ p, msgs, i: from, n, end });
    this.records += n - from;
    this.wake();
  }

  /** The oldest chunk, or undefined. */
  peek(): Chunk<P> | undefined {
    return this.chunks[this.head];
  }

  /** Drop the oldest chunk (after it was emitted, or when its partition is done). */
  shift(): void {
    const c = this.chunks[this.head];
    if (c === undefined) return;
    this.records -= c.n - c.i;
    this.chunks[this.head++] = undefined as unknown as Chunk<P>;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** `n` records of the oldest chunk were taken (its `i` advanced by the reader). */
  consumed(n: number): void {
    this.records -= n;
  }

  /** Drop every queued chunk of the partitions `drop` selects. */
  remove(drop: (p: P) => boolean): void {
    const kept: Chunk<P>[] = [];
    let records = 0;
    for (let k = this.head; k < this.chunks.length; k++) {
      const c = this.chunks[k]!;
      if (drop(c.p)) continue;
      kept.push(c);
      records += c.n - c.i;
    }
    this.chunks = kept;
    this.head = 0;
    this.records = records;
    this.releaseSpace();
  }

  /** Resolves at the next `push` or `wake`; rejects at `fail`. One shared promise for all callers. */
  whenData(): Promise<void> {
    if (this.dataWaiter) return this.dataWaiter.promise;
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
    this.dataWaiter = { promise, waiter };
    return promise;
  }

  /** Wake a reader waiting in `whenData` (data arrived, or something else it must look at). */
  wake(): void {
    const w = this.dataWaiter;
    if (w === null) return;
    this.dataWaiter = null;
    w.waiter.resolve();
  }

  /** Fail a reader waiting in `whenData`; also lets every `whenSpace` return. */
  fail(err: unknown): void {
    const w = this.dataWaiter;
    this.dataWaiter = null;
    w?.waiter.reject(err);
    this.releaseAll();
  }

  /** Resolves once the buffer is below capacity (or `releaseAll`), or after `timeoutMs` (to heartbeat). */
  whenSpace(timeoutMs: number): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.spaceWaiters = this.spaceWaiters.filter((w) => w !== done);
        resolve();
      }, timeoutMs);
      this.spaceWaiters.push(done);
    });
  }

  /** Let waiting `eachBatch` calls return if the buffer is below capacity now. */
  releaseSpace(): void {
    if (this.spaceWaiters.length === 0 || this.isFull) return;
    this.releaseAll();
  }

  /** Let every waiting `eachBatch` return (below capacity, or the consumer stops). */
  releaseAll(): void {
    const ws = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of ws) w();
  }
}
