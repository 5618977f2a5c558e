import { describe, expect, it } from "vitest";
import { count } from "../../runtime/api/aggregates.js";
import type { AggregateFunction } from "../../runtime/api/functions.js";
import { sliding, tumbling } from "../../runtime/api/windows.js";
import { MAX_WATERMARK } from "../../runtime/common/elements.js";
import { SliceAssigner } from "../../runtime/time/slicing.js";
import { windowsOf } from "../support/brute-force-windows.js";
import { aggregateTagged, rec, recs, windowHarness, type Rec } from "../support/window-fixtures.js";

describe("SliceAssigner", () => {
  it("cuts time into panes of gcd(size, slide), aligned to the offset, also before the epoch", () => {
    const a = new SliceAssigner(20, 6, 1);
    expect(a.pane).toBe(2);
    expect(a.sliceEnd(1)).toBe(3);
    expect(a.sliceEnd(2)).toBe(3);
    expect(a.sliceEnd(3)).toBe(5);
    expect(a.sliceEnd(-1)).toBe(1);
    expect(a.sliceEnd(-2)).toBe(-1);
  });

  it("finds the window ends a timestamp belongs to, matching enumeration", () => {
    for (const [size, slide, offset] of [[10, 10, 0], [30, 10, 0], [20, 6, 1], [35, 10, 3], [60, 1, 0]] as const) {
      const a = new SliceAssigner(size, slide, offset);
      for (let ts = -50; ts < 100; ts++) {
        const ends = windowsOf(ts, size, slide, offset).map((w) => w.end);
        expect(a.windowEndAtOrAfter(a.sliceEnd(ts))).toBe(ends[0]);
        expect(a.lastWindowEnd(ts)).toBe(ends.at(-1));
        expect(a.lastWindowOfSlice(a.sliceEnd(ts))).toBe(ends.at(-1));
      }
    }
  });
});

/** count(), instrumented to show how often the operator touches accumulators. */
function countingCount(calls: { add: number; merge: number }): AggregateFunction<Rec, number, number> {
  return {
    createAccumulator: () => 0,
    add: (_v, acc) => (calls.add++, acc + 1),
    merge: (a, b) => (calls.merge++, a + b),
    getResult: (acc) => acc,
  };
}

describe("sliced windows", () => {
  it("updates one slice per record for a sliding window with size/slide = 60", async () => {
    const calls = { add: 0, merge: 0 };
    const h = await windowHarness(sliding(60_000, 1_000), aggregateTagged(countingCount(calls)));
    const n = 5_000;
    const batch = Array.from({ length: n }, (_, i) => rec(`k${i % 7}`, i * 37));
    h.op.processBatch(recs(...batch));
    expect(calls).toEqual({ add: n, merge: 0 }); // a per-window operator would do 60 adds per record
    h.op.processWatermark(MAX_WATERMARK);
    const results = h.out.values<{ result: number }>();
    // Every record is counted in 60 windows.
    expect(results.reduce((s, r) => s + r.result, 0)).toBe(n * 60);
    expect(calls.add).toBe(n);
  });

  it("frees slices once no live window needs them", async () => {
    const h = await windowHarness(sliding(100, 10), aggregateTagged(count()));
    for (let t = 0; t < 10_000; t += 5) {
      h.op.processBatch(recs(rec("a", t), rec("b", t)));
      h.op.processWatermark(t - 1);
      // At most the 10 slices of one window plus the one being filled, for 2 keys.
      expect(h.op.stateSize).toBeLessThanOrEqual(2 * 11);
    }
  });

  it("keeps tumbling state to the open windows", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()));
    h.op.processBatch(recs(rec("a", 1), rec("b", 2), rec("a", 11)));
    expect(h.op.stateSize).toBe(3);
    h.op.processWatermark(9);
    expect(h.op.stateSize).toBe(1);
  });
});
