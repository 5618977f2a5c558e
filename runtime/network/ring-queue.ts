/**
 * A FIFO on a power-of-two ring buffer that grows when full. Queues in the data plane are bounded by
 * their owners (capacity, credit); this class only avoids `Array.prototype.shift`, which is O(n) once
 * an array leaves V8's fast path.
 */
export class RingQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  /** `initialSize` is rounded up to a power of two. */
  constructor(initialSize = 8) {
    let size = 1;
    while (size < initialSize) size <<= 1;
    this.items = new Array<T | undefined>(size);
  }

  /** Number of queued items. */
  get length(): number {
    return this.count;
  }

  /** Append at the tail. */
  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  /** Remove and return the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the element be collected
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** The head without removing it. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** The tail without removing it. */
  peekLast(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) & (this.items.length - 1)];
  }

  /** Replace the tail; the queue must not be empty. */
  replaceLast(item: T): void {
    this.items[(this.head + this.count - 1) & (this.items.length - 1)] = item;
  }

  /** Drop everything. */
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
