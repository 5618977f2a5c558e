/**
 * The waiting room of WorkQueue.addAfter (client-go's delaying queue): each key waits at most once, an earlier
 * due time replaces a later one, and one timer is armed for the earliest due time. Entries live in a binary
 * min-heap with lazy deletion: a heap entry whose time no longer matches the key's due time is skipped.
 */
import type { QueueClock } from "./rate-limiter.js";

/** setTimeout's largest delay; a timer cut short by it finds nothing due and re-arms for the rest. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly key: string;
  readonly at: number;
}

/** Keys waiting for their due time; `onReady(key)` is called for each once that time has come. */
export class DelayedAdds {
  readonly #due = new Map<string, number>();
  #heap: Entry[] = [];
  #timer: { at: number; cancel: () => void } | undefined;

  constructor(private readonly clock: QueueClock, private readonly onReady: (key: string) => void) {}

  /** How many keys are waiting. */
  get size(): number {
    return this.#due.size;
  }

  /** Makes `key` due `ms` from now, unless it is already due sooner. */
  add(key: string, ms: number): void {
    const at = this.clock.now() + ms;
    const current = this.#due.get(key);
    if (current !== undefined && current <= at) return;
    this.#due.set(key, at);
    this.#push({ key, at });
    this.#arm();
  }

  /** Drops every waiting key and the timer. */
  clear(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#due.clear();
    this.#heap = [];
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.clock.now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const { key, at } = this.#pop();
      if (this.#due.get(key) !== at) continue; // superseded by an earlier due time
      this.#due.delete(key);
      this.onReady(key);
    }
    this.#arm();
  }

  #arm(): void {
    while (this.#heap.length > 0 && this.#due.get(this.#heap[0]!.key) !== this.#heap[0]!.at) this.#pop();
    const next = this.#heap[0];
    if (next === undefined || (this.#timer !== undefined && this.#timer.at <= next.at)) return;
    this.#timer?.cancel();
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, next.at - this.clock.now())); // a longer setTimeout fires at once
    this.#timer = { at: next.at, cancel: this.clock.setTimer(() => this.#fire(), ms) };
  }

  #push(e: Entry): void {
    const h = this.#heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= e.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && h[l + 1]!.at < h[l]!.at ? l + 1 : l;
      if (h[c]!.at >= last.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
