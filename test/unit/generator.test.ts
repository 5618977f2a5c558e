import { afterEach, describe, expect, it, vi } from "vitest";
import type { RuntimeContext } from "../../runtime/api/functions.js";
import type { ReaderOutput, Source, SourceReader, SourceSplit } from "../../runtime/api/source.js";
import { collectionSource, generatorSource, splitSource } from "../../runtime/connectors/generator.js";
import { DefaultOperatorStateStore } from "../../runtime/state/operator-state.js";

/** A ReaderOutput that records what each split emitted and which splits were released. */
class FakeReaderOutput<T> implements ReaderOutput<T> {
  readonly bySplit = new Map<string, Array<{ value: T; ts: number | undefined }>>();
  readonly all: T[] = [];
  readonly released: string[] = [];

  forSplit(splitId: string) {
    return {
      collect: (value: T, ts?: number) => {
        if (this.released.includes(splitId)) throw new Error(`split ${splitId} emitted after its release`);
        let l = this.bySplit.get(splitId);
        if (!l) this.bySplit.set(splitId, (l = []));
        l.push({ value, ts });
        this.all.push(value);
      },
    };
  }

  releaseSplit(splitId: string): void {
    if (this.released.includes(splitId)) throw new Error(`split ${splitId} released twice`);
    this.released.push(splitId);
  }

  values(splitId: string): T[] {
    return (this.bySplit.get(splitId) ?? []).map((e) => e.value);
  }
}

function ctx(subtaskIndex: number, parallelism: number): RuntimeContext {
  return { jobId: "job", jobName: "test", operatorUid: "source", taskName: "source", subtaskIndex, parallelism, maxParallelism: 128, jobArgs: [], operatorState: new DefaultOperatorStateStore("test") };
}

/** One subtask's reader with its splits assigned as the task does (split i goes to subtask i % parallelism). */
function subtask<T, S extends SourceSplit>(source: Source<T, S>, index: number, parallelism: number) {
  const reader: SourceReader<T, S> = source.createReader(ctx(index, parallelism));
  const splits = source.splits({ parallelism }).filter((_, i) => i % parallelism === index);
  reader.addSplits(splits);
  return { reader, splits, out: new FakeReaderOutput<T>() };
}

/** Poll until the reader ends (failing after `maxPolls`), returning the verdicts. */
function drain<T>(reader: SourceReader<T>, out: ReaderOutput<T>, maxRecords = 10, maxPolls = 10_000): Array<"more" | "end" | "promise"> {
  const verdicts: Array<"more" | "end" | "promise"> = [];
  for (let i = 0; i < maxPolls; i++) {
    const r = reader.poll(out, maxRecords);
    verdicts.push(typeof r === "string" ? r : "promise");
    if (r === "end") return verdicts;
    if (typeof r !== "string") throw new Error("reader waits although it has no rate limit");
  }
  throw new Error(`reader did not end within ${maxPolls} polls`);
}

describe("generatorSource", () => {
  const cases: Array<{ count: number; splits?: number; parallelism: number }> = [
    { count: 100, parallelism: 1 },
    { count: 100, parallelism: 3 },
    { count: 101, splits: 7, parallelism: 3 },
    { count: 10, splits: 4, parallelism: 4 },
    { count: 5, splits: 8, parallelism: 2 },
    { count: 1000, splits: 2, parallelism: 5 },
    { count: 0, splits: 3, parallelism: 2 },
    { count: 1, parallelism: 1 },
  ];

  it.each(cases)("generates every index exactly once (count $count, splits $splits, parallelism $parallelism)", ({ count, splits, parallelism }) => {
    const source = generatorSource({ count, splits, generate: (i) => i });
    expect(source.bounded).toBe(true);
    expect(source.splits({ parallelism })).toHaveLength(splits ?? parallelism);
    const all: number[] = [];
    for (let s = 0; s < parallelism; s++) {
      const { reader, out } = subtask(source, s, parallelism);
      drain(reader, out, 7);
      all.push(...out.all);
    }
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it("split i of n generates i, i+n, i+2n, ... in order", () => {
    const { reader, out } = subtask(generatorSource({ count: 20, splits: 3, generate: (i) => i * 10 }), 0, 1);
    drain(reader, out, 4);
    expect(out.values("gen-0")).toEqual([0, 30, 60, 90, 120, 150, 180]);
    expect(out.values("gen-1")).toEqual([10, 40, 70, 100, 130, 160, 190]);
    expect(out.values("gen-2")).toEqual([20, 50, 80, 110, 140, 170]);
  });

  it("emits about maxRecords per poll, spread over the splits", () => {
    const { reader, out } = subtask(generatorSource({ count: 1000, splits: 4, generate: (i) => i }), 0, 1);
    expect(reader.poll(out, 40)).toBe("more");
    expect(out.all).toHaveLength(40);
    for (const id of ["gen-0", "gen-1", "gen-2", "gen-3"]) expect(out.values(id)).toHaveLength(10);
  });

  it("a bounded generator returns 'end' once every split is done, and releases every split", () => {
    const { reader, out, splits } = subtask(generatorSource({ count: 9, splits: 3, generate: (i) => i }), 0, 1);
    const verdicts = drain(reader, out, 100);
    expect(verdicts).toEqual(["end"]);
    expect(out.released.sort()).toEqual(splits.map((s) => s.id).sort());
  });

  it("releases a split as soon as it is done, while others still emit", () => {
    const { reader, out } = subtask(generatorSource({ count: 7, splits: 2, generate: (i) => i }), 0, 1);
    // gen-0 has 0,2,4,6 and gen-1 has 1,3,5.
    expect(reader.poll(out, 6)).toBe("more");
    expect(out.released).toEqual(["gen-1"]);
    expect(reader.poll(out, 6)).toBe("end");
    expect(out.released).toEqual(["gen-1", "gen-0"]);
  });

  it("releases splits that have no records at all (count below the number of splits)", () => {
    const source = generatorSource({ count: 2, splits: 4, generate: (i) => i });
    const { reader, out, splits } = subtask(source, 1, 2);
    expect(splits.map((s) => s.id)).toEqual(["gen-1", "gen-3"]);
    expect(drain(reader, out)).toEqual(["end"]);
    expect(out.all).toEqual([1]);
    expect(out.released.sort()).toEqual(["gen-1", "gen-3"]);
  });

  it("an empty bounded generator releases its splits and ends at once", () => {
    const { reader, out } = subtask(generatorSource({ count: 0, splits: 2, generate: (i) => i }), 0, 1);
    expect(reader.poll(out, 10)).toBe("end");
    expect(out.all).toEqual([]);
    expect(out.released.sort()).toEqual(["gen-0", "gen-1"]);
  });

  it("passes the record's source timestamp when `timestamp` is given", () => {
    const { reader, out } = subtask(generatorSource({ count: 3, generate: (i) => `r${i}`, timestamp: (i, v) => i * 1000 + v.length }), 0, 1);
    drain(reader, out);
    expect(out.bySplit.get("gen-0")).toEqual([
      { value: "r0", ts: 2 },
      { value: "r1", ts: 1002 },
      { value: "r2", ts: 2002 },
    ]);
  });

  it("an unbounded generator keeps going and never ends", () => {
    const source = generatorSource({ splits: 2, generate: (i) => i });
    expect(source.bounded).toBe(false);
    const { reader, out } = subtask(source, 0, 1);
    for (let i = 0; i < 50; i++) expect(reader.poll(out, 10)).toBe("more");
    expect(out.all).toHaveLength(500);
    expect([...out.all].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(out.released).toEqual([]);
  });

  it("an unbounded generator subtask without splits waits instead of busy-polling", () => {
    // Two splits over four subtasks: subtasks 2 and 3 read nothing, forever.
    const { reader, out, splits } = subtask(generatorSource({ splits: 2, generate: (i) => i }), 3, 4);
    expect(splits).toEqual([]);
    const r = reader.poll(out, 10);
    expect(r).toBeInstanceOf(Promise);
    expect(out.all).toEqual([]);
  });

  it("a bounded generator subtask without splits ends at once", () => {
    const { reader, out } = subtask(generatorSource({ count: 10, splits: 2, generate: (i) => i }), 3, 4);
    expect(reader.poll(out, 10)).toBe("end");
  });

  it("rejects a negative or fractional count and a non-positive rate", () => {
    expect(() => generatorSource({ count: -1, generate: (i) => i })).toThrow(RangeError);
    expect(() => generatorSource({ count: 1.5, generate: (i) => i })).toThrow(RangeError);
    expect(() => generatorSource({ ratePerSecond: 0, generate: (i) => i })).toThrow(/ratePerSecond/);
  });

  describe("ratePerSecond", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("waits (returns a Promise) when ahead of its budget and emits the budget as time passes", async () => {
      vi.useFakeTimers({ now: 1_000_000 });
      const { reader, out } = subtask(generatorSource({ count: 1000, ratePerSecond: 20, generate: (i) => i }), 0, 2);
      const first = reader.poll(out, 100);
      expect(first).toBeInstanceOf(Promise);
      expect(out.all).toEqual([]);
      // This subtask's share is 20 / 2 = 10 records per second.
      vi.advanceTimersByTime(1_000);
      await first;
      expect(reader.poll(out, 100)).toBe("more");
      expect(out.all).toHaveLength(10);
      expect(reader.poll(out, 100)).toBeInstanceOf(Promise);
      expect(out.all).toHaveLength(10);
      vi.advanceTimersByTime(500);
      expect(reader.poll(out, 100)).toBe("more");
      expect(out.all).toHaveLength(15);
    });

    it("never emits more than maxRecords in one poll", () => {
      vi.useFakeTimers({ now: 0 });
      const { reader, out } = subtask(generatorSource({ count: 1000, ratePerSecond: 100, generate: (i) => i }), 0, 1);
      vi.advanceTimersByTime(5_000);
      expect(reader.poll(out, 30)).toBe("more");
      expect(out.all).toHaveLength(30);
    });
  });
});

describe("collectionSource and splitSource", () => {
  it("collectionSource spreads values round-robin and keeps each split's order", () => {
    const source = collectionSource(["a", "b", "c", "d", "e", "f", "g"], 3);
    expect(source.bounded).toBe(true);
    const { reader, out } = subtask(source, 0, 1);
    drain(reader, out, 2);
    expect(out.values("split-0")).toEqual(["a", "d", "g"]);
    expect(out.values("split-1")).toEqual(["b", "e"]);
    expect(out.values("split-2")).toEqual(["c", "f"]);
  });

  it("splitSource emits split i's array in order, over several subtasks", () => {
    const data = [[1, 2, 3, 4, 5], [10, 20], [100, 200, 300], [7]];
    const parallelism = 2;
    const seen = new Map<string, number[]>();
    for (let s = 0; s < parallelism; s++) {
      const { reader, out } = subtask(splitSource(data), s, parallelism);
      drain(reader, out, 2);
      for (const id of out.bySplit.keys()) seen.set(id, out.values(id));
    }
    expect(Object.fromEntries(seen)).toEqual({ "split-0": data[0], "split-1": data[1], "split-2": data[2], "split-3": data[3] });
  });

  it("interleaves splits in slices of maxRecords / splits", () => {
    const { reader, out } = subtask(splitSource([[1, 2, 3, 4], [5, 6, 7, 8]]), 0, 1);
    expect(reader.poll(out, 4)).toBe("more");
    expect(out.all).toEqual([1, 2, 5, 6]);
  });

  it("releases each split when its data is done and ends when all are", () => {
    const { reader, out } = subtask(splitSource([[1], [2, 3, 4]]), 0, 1);
    expect(reader.poll(out, 2)).toBe("more");
    expect(out.released).toEqual(["split-0"]);
    expect(reader.poll(out, 2)).toBe("more");
    expect(reader.poll(out, 2)).toBe("end");
    expect(out.released).toEqual(["split-0", "split-1"]);
  });

  it("releases empty splits at the first poll", () => {
    const { reader, out } = subtask(splitSource<number>([[], [1, 2], []]), 0, 1);
    expect(reader.poll(out, 1)).toBe("more");
    expect(out.released.sort()).toEqual(["split-0", "split-2"]);
    expect(drain(reader, out, 1).at(-1)).toBe("end");
    expect(out.all).toEqual([1, 2]);
  });

  it("an all-empty bounded source ends at the first poll", () => {
    const { reader, out } = subtask(splitSource<number>([[], []]), 0, 1);
    expect(reader.poll(out, 10)).toBe("end");
    expect(out.released.sort()).toEqual(["split-0", "split-1"]);
  });

  it("keepOpen: true makes the source unbounded; its splits never end nor release", async () => {
    const source = splitSource([[1, 2], []], { keepOpen: true });
    expect(source.bounded).toBe(false);
    const { reader, out } = subtask(source, 0, 1);
    expect(reader.poll(out, 10)).toBe("more");
    expect(out.all).toEqual([1, 2]);
    const idle = reader.poll(out, 10);
    expect(idle).toBeInstanceOf(Promise);
    expect(reader.poll(out, 10)).toBe(idle);
    expect(out.released).toEqual([]);
    const settled = await Promise.race([(idle as Promise<void>).then(() => "settled"), new Promise((r) => setTimeout(() => r("pending"), 20))]);
    expect(settled).toBe("pending");
  });

  it("keepOpen with indexes keeps only those splits open", () => {
    const source = collectionSource([1, 2, 3, 4], 2, { keepOpen: [1] });
    expect(source.bounded).toBe(false);
    const { reader, out } = subtask(source, 0, 1);
    expect(reader.poll(out, 10)).toBe("more");
    expect(out.released).toEqual(["split-0"]);
    for (let i = 0; i < 5; i++) expect(reader.poll(out, 10)).toBeInstanceOf(Promise);
    expect(out.values("split-0")).toEqual([1, 3]);
    expect(out.values("split-1")).toEqual([2, 4]);
    expect(out.released).toEqual(["split-0"]);
  });
});

describe("generatorSource pauseOrResumeSplits (watermark alignment)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("skips paused splits, gives the poll's budget to the others, and reads a resumed split from where it stopped", () => {
    const { reader, out } = subtask(generatorSource({ count: 40, splits: 2, generate: (i) => i }), 0, 1);
    reader.poll(out, 4);
    expect(out.values("gen-0")).toEqual([0, 2]);
    reader.pauseOrResumeSplits!(["gen-0"], []);
    reader.poll(out, 4);
    expect(out.values("gen-0")).toEqual([0, 2]);
    expect(out.values("gen-1")).toEqual([1, 3, 5, 7, 9, 11]);
    reader.pauseOrResumeSplits!([], ["gen-0"]);
    reader.poll(out, 4);
    expect(out.values("gen-0")).toEqual([0, 2, 4, 6]);
  });

  it("waits for a resume instead of returning 'more' while every split left is paused", async () => {
    const { reader, out } = subtask(generatorSource({ count: 10, splits: 2, generate: (i) => i }), 0, 1);
    reader.poll(out, 2);
    reader.pauseOrResumeSplits!(["gen-0", "gen-1"], []);
    const waiting = reader.poll(out, 2);
    expect(waiting).toBeInstanceOf(Promise);
    expect(reader.poll(out, 2)).toBe(waiting); // one promise, however often the task polls
    expect(out.all).toHaveLength(2);
    reader.pauseOrResumeSplits!([], ["gen-1"]);
    await waiting;
    expect(reader.poll(out, 10)).toBe("more");
    expect(out.released).toEqual(["gen-1"]);
    expect(reader.poll(out, 10)).toBeInstanceOf(Promise); // gen-0, paused, is all that is left
    reader.pauseOrResumeSplits!([], ["gen-0"]);
    expect(drain(reader, out).at(-1)).toBe("end");
    expect(out.all.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("does not end while a paused split has records left", () => {
    const { reader, out } = subtask(generatorSource({ count: 6, splits: 2, generate: (i) => i }), 0, 1);
    reader.pauseOrResumeSplits!(["gen-0"], []);
    for (let i = 0; i < 5; i++) expect(reader.poll(out, 10)).not.toBe("end");
    expect(out.values("gen-1")).toEqual([1, 3, 5]);
    expect(out.released).toEqual(["gen-1"]);
    reader.pauseOrResumeSplits!([], ["gen-0"]);
    expect(reader.poll(out, 10)).toBe("end");
    expect(out.values("gen-0")).toEqual([0, 2, 4]);
  });

  it("limits the rate per split: a paused split's allowance is not spent by the others", () => {
    vi.useFakeTimers({ now: 0 });
    const { reader, out } = subtask(generatorSource({ count: 1000, splits: 2, ratePerSecond: 20, generate: (i) => i }), 0, 1);
    reader.pauseOrResumeSplits!(["gen-0"], []);
    vi.advanceTimersByTime(1_000);
    reader.poll(out, 100);
    expect(out.values("gen-1")).toHaveLength(10);
    expect(reader.poll(out, 100)).toBeInstanceOf(Promise);
    reader.pauseOrResumeSplits!([], ["gen-0"]); // its backlog of a second is there at once
    reader.poll(out, 100);
    expect(out.values("gen-0")).toHaveLength(10);
  });
});
