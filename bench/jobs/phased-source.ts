/**
 * A generator source in two phases, for state benchmarks: the records before index `fastUntil` go as
 * fast as downstream takes them (building state), later ones at `ratePerSecond` in all (a job that then
 * runs slowly, so checkpoints and recovery are measured on a quiet job). Split i of n generates
 * indexes i, i+n, i+2n, ...; positions are checkpointed, so a restored job goes on where it was.
 *
 *   env.fromSource(phasedSource({ generate: (i) => ({ key: i % 1000 }), count: null, fastUntil: 1000, ratePerSecond: 100 }))
 */
import type { ReaderOutput, Source, SourceReader, SourceSplit, SplitOutput } from "weir";

export interface PhasedSourceOptions<T> {
  generate: (index: number) => T;
  /** Records in all; null for an unbounded source. */
  count: number | null;
  /** Indexes below this one are generated at full speed. */
  fastUntil: number;
  /** Records per second (all splits together) from `fastUntil` on; null: full speed throughout. */
  ratePerSecond: number | null;
}

interface PhasedSplit extends SourceSplit {
  readonly index: number;
  readonly of: number;
  /** The next index to generate (a restored position); `index` when fresh. */
  readonly next?: number;
}

/** Never waits less than this between two slow-phase polls (ms). */
const MIN_WAIT_MS = 5;

export function phasedSource<T>(opts: PhasedSourceOptions<T>): Source<T, PhasedSplit> {
  return {
    bounded: opts.count !== null,
    name: "Phased Generator",
    splits: ({ parallelism }) => Array.from({ length: parallelism }, (_, index) => ({ id: `phased-${index}`, index, of: parallelism })),
    createReader: () => new PhasedReader(opts),
  };
}

interface SplitState<T> {
  split: PhasedSplit;
  next: number;
  out: SplitOutput<T> | null;
  done: boolean;
}

class PhasedReader<T> implements SourceReader<T, PhasedSplit> {
  private readonly states: SplitState<T>[] = [];
  /** When this reader entered the slow phase, and what it emitted since. */
  private slowSince = 0;
  private slowEmitted = 0;
  private idle: Promise<void> | null = null;

  constructor(private readonly opts: PhasedSourceOptions<T>) {}

  addSplits(splits: PhasedSplit[]): void {
    for (const split of splits) this.states.push({ split, next: split.next ?? split.index, out: null, done: false });
  }

  snapshotState(): PhasedSplit[] {
    return this.states.filter((s) => !s.done).map((s) => ({ id: s.split.id, index: s.split.index, of: s.split.of, next: s.next }));
  }

  poll(output: ReaderOutput<T>, maxRecords: number): "more" | "end" | Promise<void> {
    if (this.states.length === 0) return this.opts.count === null ? (this.idle ??= new Promise<void>(() => {})) : "end";
    const budget = this.budget(maxRecords);
    if (typeof budget !== "number") return budget;
    const per = Math.max(1, Math.ceil(budget / this.states.length));
    let produced = 0;
    for (const s of this.states) {
      if (!s.done) produced += this.emit(output, s, per);
    }
    if (this.slowSince > 0) this.slowEmitted += produced;
    return this.states.every((s) => s.done) ? "end" : "more";
  }

  /** Emit up to `n` records of split `s`, stopping at the end of the fast phase (so the budget is right). */
  private emit(output: ReaderOutput<T>, s: SplitState<T>, n: number): number {
    const { generate, count, fastUntil } = this.opts;
    const out = (s.out ??= output.forSplit(s.split.id));
    const stride = s.split.of;
    const limit = s.next < fastUntil ? fastUntil : Infinity;
    let i = s.next;
    let k = 0;
    for (; k < n && i < limit && (count === null || i < count); k++, i += stride) out.collect(generate(i));
    s.next = i;
    if (count !== null && i >= count) {
      s.done = true;
      output.releaseSplit(s.split.id);
    }
    return k;
  }

  /** Records allowed now, or a Promise to wait for the next allowance (slow phase only). */
  private budget(maxRecords: number): number | Promise<void> {
    const rate = this.opts.ratePerSecond;
    if (rate === null || this.states.some((s) => !s.done && s.next < this.opts.fastUntil)) return maxRecords;
    const now = Date.now();
    if (this.slowSince === 0) this.slowSince = now;
    const share = (rate * this.states.length) / this.states[0]!.split.of;
    const allowed = Math.floor(((now - this.slowSince) / 1000) * share) - this.slowEmitted;
    if (allowed > 0) return Math.min(allowed, maxRecords);
    return new Promise((resolve) => setTimeout(resolve, Math.max(MIN_WAIT_MS, Math.ceil(1000 / share))));
  }
}
