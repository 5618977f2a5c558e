/**
 * Generated and in-memory sources. Both split their input deterministically, so every process derives
 * the same splits, and both may be unbounded (generators without `count`, or collections kept open
 * after their data to model idle inputs in tests and demos). The generator pauses and resumes single
 * splits for watermark alignment; a paused split keeps its rate allowance, like a backlog building up
 * in a paused Kafka partition, and catches up (a poll at a time) once resumed.
 */
import type { RuntimeContext } from "../api/functions.js";
import type { ReaderOutput, Source, SourceReader, SourceSplit, SplitOutput } from "../api/source.js";

export interface GeneratorOptions<T> {
  /** Record `index` (0-based, global across splits). */
  generate: (index: number) => T;
  /** Number of records; omit for an unbounded stream. */
  count?: number;
  /** Records per second across all splits; omit to generate as fast as downstream takes them. */
  ratePerSecond?: number;
  /** Number of splits (default: the source's parallelism). Split i generates indexes i, i+n, i+2n, ... */
  splits?: number;
  /** Source timestamp of record `index`, for watermark strategies without an assigner. */
  timestamp?: (index: number, value: T) => number;
}

interface GeneratorSplit extends SourceSplit {
  readonly index: number;
  readonly of: number;
  /** The next global index this split generates (a restored position); `index` when fresh. */
  readonly next?: number;
}

/** A source of generated records (the datagen connector). */
export function generatorSource<T>(opts: GeneratorOptions<T>): Source<T, GeneratorSplit> {
  if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count >= 0)) {
    throw new RangeError(`generator count must be a non-negative integer, got ${opts.count}`);
  }
  if (opts.ratePerSecond !== undefined && !(opts.ratePerSecond > 0)) {
    throw new RangeError(`generator ratePerSecond must be > 0, got ${opts.ratePerSecond}`);
  }
  return {
    bounded: opts.count !== undefined,
    name: "Generator Source",
    splits: ({ parallelism }) => {
      const n = opts.splits ?? parallelism;
      return Array.from({ length: n }, (_, index) => ({ id: `gen-${index}`, index, of: n }));
    },
    createReader: (ctx) => new GeneratorReader(opts, ctx),
  };
}

interface GeneratorSplitState<T> {
  split: GeneratorSplit;
  next: number;
  out: SplitOutput<T> | null;
  released: boolean;
  /** Records emitted by this reader (for the rate limit). */
  emitted: number;
  /** Paused by watermark alignment. */
  paused: boolean;
}

class GeneratorReader<T> implements SourceReader<T, GeneratorSplit> {
  private readonly states: GeneratorSplitState<T>[] = [];
  private readonly start = Date.now();
  private cursor = 0;
  private noSplits: Promise<void> | null = null;
  /** While every unfinished split is paused: resolves at the next resume. */
  private resumed: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly opts: GeneratorOptions<T>,
    private readonly ctx: RuntimeContext,
  ) {}

  addSplits(splits: GeneratorSplit[]): void {
    for (const split of splits) this.states.push({ split, next: split.next ?? split.index, out: null, released: false, emitted: 0, paused: false });
  }

  snapshotState(): GeneratorSplit[] {
    const count = this.opts.count;
    return this.states.filter((s) => count === undefined || s.next < count).map((s) => ({ id: s.split.id, index: s.split.index, of: s.split.of, next: s.next }));
  }

  pauseOrResumeSplits(pause: readonly string[], resume: readonly string[]): void {
    const paused = new Set(pause);
    const resumed = new Set(resume);
    for (const s of this.states) {
      if (paused.has(s.split.id)) s.paused = true;
      else if (resumed.has(s.split.id)) s.paused = false;
    }
    if (resumed.size > 0 && this.resumed) {
      this.resumed.resolve();
      this.resumed = null;
    }
  }

  poll(output: ReaderOutput<T>, maxRecords: number): "more" | "end" | Promise<void> {
    // An unbounded subtask without splits (fewer splits than subtasks) has nothing to read, ever.
    if (this.states.length === 0 && this.opts.count === undefined) return (this.noSplits ??= new Promise<void>(() => {}));
    const { generate, count, timestamp } = this.opts;
    const unfinished = (s: GeneratorSplitState<T>) => count === undefined || s.next < count;
    const readable = this.states.filter((s) => !s.paused && unfinished(s));
    // Every split left is paused by watermark alignment: wait for a resume rather than spin.
    if (readable.length === 0 && this.states.some((s) => s.paused && unfinished(s))) return this.untilResumed();
    const now = Date.now();
    if (readable.length > 0 && readable.every((s) => this.allowance(s, now) <= 0)) return this.nextAllowance();
    let produced = 0;
    // Round robin over splits being read, a slice of the budget each, so split watermarks advance together.
    const per = Math.max(1, Math.ceil(maxRecords / Math.max(1, readable.length)));
    for (let k = 0; k < this.states.length && produced < maxRecords; k++) {
      const s = this.states[(this.cursor + k) % this.states.length]!;
      if (!unfinished(s)) {
        // A split with no records at all (index >= count) is done before it starts.
        if (!s.released) this.release(output, s);
        continue;
      }
      if (s.paused) continue;
      const out = (s.out ??= output.forSplit(s.split.id));
      const stride = s.split.of;
      let i = s.next;
      const limit = Math.min(per, maxRecords - produced, this.allowance(s, now));
      let n = 0;
      for (; n < limit && (count === undefined || i < count); n++, i += stride) {
        const v = generate(i);
        if (timestamp) out.collect(v, timestamp(i, v));
        else out.collect(v);
      }
      s.next = i;
      s.emitted += n;
      produced += n;
      if (!unfinished(s)) this.release(output, s);
    }
    this.cursor++;
    if (this.states.every((s) => !unfinished(s))) return "end";
    return "more";
  }

  private untilResumed(): Promise<void> {
    if (!this.resumed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.resumed = { promise, resolve };
    }
    return this.resumed.promise;
  }

  private release(output: ReaderOutput<T>, s: { split: GeneratorSplit; released: boolean }): void {
    s.released = true;
    output.releaseSplit(s.split.id);
  }

  /** Records per second of one split: its share of the source's rate (every split gets the same). */
  private splitRate(s: GeneratorSplitState<T>): number {
    return this.opts.ratePerSecond! / s.split.of;
  }

  /** Records split `s` may emit now under the rate limit (per split, so a paused split's share is not spent by others). */
  private allowance(s: GeneratorSplitState<T>, now: number): number {
    if (this.opts.ratePerSecond === undefined) return Number.POSITIVE_INFINITY;
    return Math.floor(((now - this.start) / 1000) * this.splitRate(s)) - s.emitted;
  }

  /** Wait about one record's interval for the next allowance. */
  private nextAllowance(): Promise<void> {
    const waitMs = Math.max(1, Math.ceil(1000 / this.splitRate(this.states[0]!)));
    return new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

interface CollectionSplit extends SourceSplit {
  readonly index: number;
  /** Records of the split already emitted (a restored position). */
  readonly pos?: number;
}

export interface CollectionOptions {
  /**
   * Splits that stay open (idle) after their data was emitted, making the source unbounded: `true` for
   * all, or the indexes of some. Models inputs that go quiet without ending, for idleness tests and demos.
   */
  keepOpen?: boolean | readonly number[];
}

function openSplits(opts: CollectionOptions, count: number): Set<number> {
  if (opts.keepOpen === true) return new Set(Array.from({ length: count }, (_, i) => i));
  return new Set(Array.isArray(opts.keepOpen) ? opts.keepOpen : []);
}

/**
 * A source over explicit data: either one array spread round-robin over `splits` splits, or an array of
 * arrays, one per split (`perSplit: true`). Records of one split are emitted in array order.
 */
export function collectionSource<T>(values: readonly T[], splits = 1, opts: CollectionOptions = {}): Source<T, CollectionSplit> {
  const parts: T[][] = Array.from({ length: splits }, () => []);
  values.forEach((v, i) => parts[i % splits]!.push(v));
  return splitSource(parts, opts);
}

/** A source whose split i emits `splits[i]` in order. Empty splits stay idle. */
export function splitSource<T>(splits: readonly (readonly T[])[], opts: CollectionOptions = {}): Source<T, CollectionSplit> {
  const open = openSplits(opts, splits.length);
  return {
    bounded: open.size === 0,
    name: "Collection Source",
    splits: () => splits.map((_, index) => ({ id: `split-${index}`, index })),
    createReader: () => new CollectionReader(splits, open),
  };
}

class CollectionReader<T> implements SourceReader<T, CollectionSplit> {
  private readonly states: { split: CollectionSplit; pos: number; done: boolean }[] = [];
  private openForever: Promise<void> | null = null;

  constructor(
    private readonly data: readonly (readonly T[])[],
    private readonly open: ReadonlySet<number>,
  ) {}

  addSplits(splits: CollectionSplit[]): void {
    for (const split of splits) this.states.push({ split, pos: split.pos ?? 0, done: false });
  }

  snapshotState(): CollectionSplit[] {
    return this.states.filter((s) => !s.done).map((s) => ({ id: s.split.id, index: s.split.index, pos: s.pos }));
  }

  poll(output: ReaderOutput<T>, maxRecords: number): "more" | "end" | Promise<void> {
    // Interleave splits in small slices so that their records mix (out-of-order across splits).
    const slice = Math.max(1, Math.min(64, Math.floor(maxRecords / Math.max(1, this.states.length))));
    let produced = 0;
    for (const s of this.states) {
      if (s.done) continue;
      const rows = this.data[s.split.index]!;
      const out = output.forSplit(s.split.id);
      const end = Math.min(rows.length, s.pos + slice);
      produced += end - s.pos;
      for (; s.pos < end; s.pos++) out.collect(rows[s.pos] as T);
      if (s.pos >= rows.length && !this.open.has(s.split.index)) {
        s.done = true;
        output.releaseSplit(s.split.id);
      }
    }
    const pending = this.states.some((s) => !s.done && s.pos < this.data[s.split.index]!.length);
    if (pending) return "more";
    // A subtask without splits of an unbounded source stays (idle) rather than ending.
    if (this.states.every((s) => s.done) && (this.states.length > 0 || this.open.size === 0)) return "end";
    // All data emitted; stay open without busy-polling until the task is canceled.
    this.openForever ??= new Promise<void>(() => {});
    return produced > 0 ? "more" : this.openForever;
  }
}
