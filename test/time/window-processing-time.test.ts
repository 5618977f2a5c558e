import { describe, expect, it } from "vitest";
import { count } from "../../runtime/api/aggregates.js";
import { session, sliding, tumbling } from "../../runtime/api/windows.js";
import { batchOf } from "../../runtime/common/elements.js";
import { aggregateTagged, rec, windowHarness } from "../support/window-fixtures.js";

const proc = { time: "processing" } as const;

describe("WindowOperator, processing time", () => {
  it("fires tumbling windows by the wall clock, records need no timestamps", async () => {
    const h = await windowHarness(tumbling(1_000, proc), aggregateTagged(count()), { time: 100 });
    h.op.processBatch(batchOf([rec("a", 0), rec("a", 0), rec("b", 0)]));
    h.clock.advanceTo(998);
    expect(h.out.values()).toEqual([]);
    h.clock.advanceTo(999);
    expect(h.out.records()).toEqual([
      { value: { key: "a", start: 0, end: 1_000, result: 2 }, ts: 999 },
      { value: { key: "b", start: 0, end: 1_000, result: 1 }, ts: 999 },
    ]);
    expect(h.op.stateSize).toBe(0);
  });

  it("ignores watermarks for firing but forwards them", async () => {
    const h = await windowHarness(tumbling(1_000, proc), aggregateTagged(count()));
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.op.processWatermark(50_000);
    expect(h.out.events).toEqual([{ kind: "watermark", ts: 50_000 }]);
  });

  it("fires every open window on endInput so a bounded job loses nothing", async () => {
    const h = await windowHarness(tumbling(1_000, proc), aggregateTagged(count()));
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(1_500);
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(2_500);
    h.op.processBatch(batchOf([rec("a", 0), rec("b", 0)]));
    h.op.endInput();
    expect(h.out.values()).toEqual([
      { key: "a", start: 0, end: 1_000, result: 1 },
      { key: "a", start: 1_000, end: 2_000, result: 1 },
      { key: "a", start: 2_000, end: 3_000, result: 1 },
      { key: "b", start: 2_000, end: 3_000, result: 1 },
    ]);
    expect(h.clock.pending).toBe(0);
  });

  it("puts a record arriving in the millisecond a window fired into the next window", async () => {
    const h = await windowHarness(tumbling(1_000, proc), aggregateTagged(count()));
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(999);
    h.op.processBatch(batchOf([rec("a", 0)])); // clock still at 999
    h.clock.advanceTo(1_999);
    expect(h.out.values()).toEqual([
      { key: "a", start: 0, end: 1_000, result: 1 },
      { key: "a", start: 1_000, end: 2_000, result: 1 },
    ]);
  });

  it("fires sliding windows as the clock passes each end", async () => {
    const h = await windowHarness(sliding(1_000, 500, proc), aggregateTagged(count()), { time: 200 });
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(700);
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(1_000);
    expect(h.out.values()).toEqual([
      { key: "a", start: -500, end: 500, result: 1 },
      { key: "a", start: 0, end: 1_000, result: 2 },
    ]);
    h.clock.advanceTo(1_499);
    expect(h.out.values().at(-1)).toEqual({ key: "a", start: 500, end: 1_500, result: 1 });
    expect(h.clock.pending).toBe(0);
  });

  it("closes a session after the gap passes without records", async () => {
    const h = await windowHarness(session(100, proc), aggregateTagged(count()));
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(50);
    h.op.processBatch(batchOf([rec("a", 0)]));
    h.clock.advanceTo(148);
    expect(h.out.values()).toEqual([]);
    h.clock.advanceTo(149);
    expect(h.out.records()).toEqual([{ value: { key: "a", start: 0, end: 150, result: 2 }, ts: 149 }]);
    expect(h.op.stateSize).toBe(0);
  });

  it("stops its wall-clock callback on close", async () => {
    const h = await windowHarness(tumbling(1_000, proc), aggregateTagged(count()));
    h.op.processBatch(batchOf([rec("a", 0)]));
    expect(h.clock.pending).toBe(1);
    await h.op.close();
    expect(h.clock.pending).toBe(0);
  });
});
