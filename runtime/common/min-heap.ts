/**
 * A binary min-heap ordered by a numeric priority: the one priority queue behind timers and session
 * due times. O(log n) push and pop; ties come out in no particular order.
 */
export class MinHeap<T> {
  private readonly h: T[] = [];

  constructor(private readonly priority: (item: T) => number) {}

  get size(): number {
    return this.h.length;
  }

  /** The item with the lowest priority, without removing it. */
  peek(): T | undefined {
    return this.h[0];
  }

  push(item: T): void {
    const h = this.h;
    const p = this.priority(item);
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.priority(h[parent]!) <= p) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  /** Remove and return the item with the lowest priority. */
  pop(): T | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    const p = this.priority(last);
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && this.priority(h[c + 1]!) < this.priority(h[c]!)) c++;
      if (this.priority(h[c]!) >= p) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
