import { describe, expect, it } from "vitest";
import { count, sum } from "../../runtime/api/aggregates.js";
import { OutputTag, type ProcessWindowFunction } from "../../runtime/api/functions.js";
import { session, sliding, tumbling, type WindowAssigner } from "../../runtime/api/windows.js";
import { batchOf, MAX_WATERMARK } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { bruteForceWindows, sortWindowResults, type KeyedRecord, type WindowResult } from "../support/brute-force-windows.js";
import { aggregateTagged, processAll, rec, recs, reduceTagged, windowHarness, type Rec } from "../support/window-fixtures.js";

describe("WindowOperator, event time", () => {
  it("fires tumbling windows on the watermark, results stamped end - 1 and emitted before the watermark", async () => {
    const h = await windowHarness(tumbling(10), { kind: "aggregate", aggregate: count(), window: null });
    h.op.processBatch(recs(rec("a", 3), rec("b", 12), rec("a", 1), rec("a", 9)));
    h.op.processBatch(recs(rec("a", 15), rec("b", 5)));
    expect(h.out.events).toEqual([]);
    h.op.processWatermark(9);
    expect(h.out.events).toEqual([
      { kind: "batch", batch: { kind: "batch", values: [3, 1], timestamps: [9, 9] } },
      { kind: "watermark", ts: 9 },
    ]);
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.records().slice(2)).toEqual([
      { value: 1, ts: 19 },
      { value: 1, ts: 19 },
    ]);
    expect(h.out.watermarks()).toEqual([9, MAX_WATERMARK]);
    expect(h.op.stateSize).toBe(0);
  });

  it("does not fire a window before the watermark reaches end - 1", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()));
    h.op.processBatch(recs(rec("a", 0)));
    h.op.processWatermark(8);
    expect(h.out.values()).toEqual([]);
    h.op.processWatermark(9);
    expect(h.out.values()).toEqual([{ key: "a", start: 0, end: 10, result: 1 }]);
  });

  it("computes sliding windows over out-of-order input", async () => {
    const h = await windowHarness(sliding(10, 5), aggregateTagged(sum((r) => r.v)));
    h.op.processBatch(recs(rec("a", 7, 1), rec("a", 2, 10), rec("a", 12, 100)));
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values()).toEqual([
      { key: "a", start: -5, end: 5, result: 10 },
      { key: "a", start: 0, end: 10, result: 11 },
      { key: "a", start: 5, end: 15, result: 101 },
      { key: "a", start: 10, end: 20, result: 100 },
    ]);
  });

  it("respects the window offset", async () => {
    const h = await windowHarness(tumbling(10, { offset: 3 }), aggregateTagged(count()));
    h.op.processBatch(recs(rec("a", 2), rec("a", 3), rec("a", 12), rec("a", 13)));
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values()).toEqual([
      { key: "a", start: -7, end: 3, result: 1 },
      { key: "a", start: 3, end: 13, result: 2 },
      { key: "a", start: 13, end: 23, result: 1 },
    ]);
  });

  it("merges sessions that an out-of-order record bridges", async () => {
    const h = await windowHarness(session(5), processAll((els) => els.map((e) => e.ts)));
    h.op.processBatch(recs(rec("a", 0), rec("a", 12), rec("b", 1)));
    h.op.processBatch(recs(rec("a", 6))); // [6, 11) touches neither [0, 5) nor [12, 17)
    h.op.processBatch(recs(rec("a", 4))); // [4, 9) overlaps [0, 5) and [6, 11): merge into [0, 11)
    h.op.processWatermark(10);
    expect(h.out.values()).toEqual([
      { key: "b", start: 1, end: 6, result: [1] },
      { key: "a", start: 0, end: 11, result: [0, 6, 4] },
    ]);
    h.op.processBatch(recs(rec("a", 11))); // touches [12, 17): merged, as Flink's intersects does
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values().slice(2)).toEqual([{ key: "a", start: 11, end: 17, result: [12, 11] }]);
    expect(h.out.records().map((r) => r.ts)).toEqual([5, 10, 16]);
  });

  it("applies a reduce function, optionally followed by a window function", async () => {
    const h = await windowHarness(tumbling(10), { kind: "reduce", reduce: (a: Rec, b: Rec) => ({ ...a, v: a.v + b.v }), window: null });
    h.op.processBatch(recs(rec("a", 1, 2), rec("a", 2, 3)));
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values()).toEqual([{ key: "a", ts: 1, v: 5 }]);
  });

  it("gives window functions the key, window, watermark and side outputs", async () => {
    const seen: unknown[] = [];
    const fn: ProcessWindowFunction<number, string, string> = {
      process(key, ctx, elements, out) {
        seen.push([key, ctx.key, ctx.window, ctx.currentWatermark(), [...elements]]);
        ctx.output(new OutputTag<string>("audit"), `audit ${key}`);
        out.collect(`${key}=${[...elements].join()}`);
      },
    };
    const h = await windowHarness(tumbling(10), { kind: "aggregate", aggregate: count(), window: fn });
    h.op.processBatch(recs(rec("k", 4)));
    h.op.processWatermark(20);
    expect(seen).toEqual([["k", "k", { start: 0, end: 10 }, 20, [1]]]);
    expect(h.out.records()).toEqual([{ value: "k=1", ts: 9 }]);
    expect(h.side("audit").records()).toEqual([{ value: "audit k", ts: 9 }]);
  });

  it("rejects records without timestamps, naming the operator and the fix", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()), { name: "clicks per minute" });
    let err: unknown;
    try {
      h.op.processBatch(batchOf([rec("a", 1)]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe("WEIR_E_NO_TIMESTAMP");
    expect((err as WeirError).message).toMatch(/"clicks per minute".*watermark strategy on the source/);
  });

  it("rejects timestamps no window can hold", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()));
    expect(() => h.op.processBatch(batchOf([rec("a", 1)], [Number.NaN]))).toThrow(/timestamp is NaN/);
  });

  it("rejects undefined keys with the key error", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()));
    expect(() => h.op.processBatch(recs({ ts: 1, v: 1 } as Rec))).toThrow(/returned undefined/);
  });
});

/** A seeded PRNG, so failures reproduce. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records with bounded disorder, and watermarks (max ts - bound - 1) that never make one late. */
function disorderedStream(seed: number, n: number, bound: number): { records: Rec[]; batches: Rec[][] } {
  const rnd = mulberry32(seed);
  const records: Rec[] = [];
  let base = 0;
  for (let i = 0; i < n; i++) {
    base += 3 + (rnd() < 0.03 ? 200 : 0); // occasional gaps longer than any window
    records.push(rec(`k${Math.floor(rnd() * 5)}`, base + Math.floor(rnd() * bound), Math.floor(rnd() * 100)));
  }
  const batches: Rec[][] = [];
  for (let i = 0; i < n; ) {
    const len = 1 + Math.floor(rnd() * 20);
    batches.push(records.slice(i, i + len));
    i += len;
  }
  return { records, batches };
}

async function runEngine(assigner: WindowAssigner, fn: Parameters<typeof windowHarness>[1], batches: Rec[][], bound: number) {
  const h = await windowHarness(assigner, fn);
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const b of batches) {
    h.op.processBatch(recs(...b));
    for (const r of b) maxTs = Math.max(maxTs, r.ts);
    h.op.processWatermark(maxTs - bound - 1);
  }
  h.op.processWatermark(MAX_WATERMARK);
  expect(h.op.lateRecordsDropped).toBe(0);
  expect(h.op.stateSize).toBe(0);
  return sortWindowResults(h.out.values<WindowResult>());
}

describe("WindowOperator against the brute-force reference", () => {
  const assigners: WindowAssigner[] = [
    tumbling(10),
    tumbling(25, { offset: 7 }),
    sliding(30, 10),
    sliding(20, 6), // pane = gcd = 2
    sliding(60, 1),
    sliding(35, 10, { offset: 3 }),
    session(4),
    session(15),
  ];
  const bound = 30;
  for (const assigner of assigners) {
    for (const seed of [1, 2, 3]) {
      it(`${JSON.stringify(assigner)} seed ${seed}`, async () => {
        const { records, batches } = disorderedStream(seed, 400, bound);
        const ref: KeyedRecord<Rec>[] = records.map((r) => ({ key: r.key, ts: r.ts, value: r }));
        const sumV = sum((r: Rec) => r.v);
        expect(await runEngine(assigner, aggregateTagged(count()), batches, bound)).toEqual(bruteForceWindows(ref, assigner, count()));
        expect(await runEngine(assigner, aggregateTagged(sumV), batches, bound)).toEqual(bruteForceWindows(ref, assigner, sumV));
        const reduced = await runEngine(assigner, reduceTagged((a, b) => ({ key: a.key, ts: Math.max(a.ts, b.ts), v: a.v + b.v })), batches, bound);
        expect(reduced.map((r) => ({ ...r, result: (r.result as Rec).v }))).toEqual(bruteForceWindows(ref, assigner, sumV));
        const sortedTs = (els: Rec[]) => els.map((e) => e.ts).sort((a, b) => a - b);
        expect(await runEngine(assigner, processAll(sortedTs), batches, bound)).toEqual(bruteForceWindows(ref, assigner, sortedTs));
      });
    }
  }
});
