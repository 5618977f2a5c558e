import { describe, expect, it } from "vitest";
import { count } from "../../runtime/api/aggregates.js";
import { session, sliding, tumbling } from "../../runtime/api/windows.js";
import { MAX_WATERMARK } from "../../runtime/common/elements.js";
import { aggregateTagged, rec, recs } from "../support/window-fixtures.js";
import { windowHarness } from "../support/window-fixtures.js";

describe("WindowOperator lateness", () => {
  it("drops records whose windows have all fired and counts them", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()));
    h.op.processBatch(recs(rec("a", 5)));
    h.op.processWatermark(9);
    h.op.processBatch(recs(rec("a", 3), rec("a", 12)));
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.op.lateRecordsDropped).toBe(1);
    expect(h.out.values()).toEqual([
      { key: "a", start: 0, end: 10, result: 1 },
      { key: "a", start: 10, end: 20, result: 1 },
    ]);
  });

  it("sends late records to the late-data side output, with their timestamps", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()), { lateTag: "late" });
    h.op.processBatch(recs(rec("a", 5)));
    h.op.processWatermark(9);
    h.op.processBatch(recs(rec("a", 3), rec("b", 11), rec("b", 0)));
    expect(h.side("late").records()).toEqual([
      { value: rec("a", 3), ts: 3 },
      { value: rec("b", 0), ts: 0 },
    ]);
    expect(h.op.lateRecordsDropped).toBe(0);
  });

  it("re-fires a tumbling window for records within allowed lateness, and drops its state after it", async () => {
    const h = await windowHarness(tumbling(10), aggregateTagged(count()), { lateness: 5 });
    h.op.processBatch(recs(rec("a", 5)));
    h.op.processWatermark(9);
    h.op.processBatch(recs(rec("a", 3))); // fired window still kept: updated result at once
    h.op.processWatermark(13);
    h.op.processBatch(recs(rec("a", 4), rec("b", 1)));
    expect(h.out.records()).toEqual([
      { value: { key: "a", start: 0, end: 10, result: 1 }, ts: 9 },
      { value: { key: "a", start: 0, end: 10, result: 2 }, ts: 9 },
      { value: { key: "a", start: 0, end: 10, result: 3 }, ts: 9 },
      { value: { key: "b", start: 0, end: 10, result: 1 }, ts: 9 },
    ]);
    h.op.processWatermark(14); // 9 + 5 <= 14: the window is gone
    expect(h.op.stateSize).toBe(0);
    h.op.processBatch(recs(rec("a", 2)));
    expect(h.op.lateRecordsDropped).toBe(1);
    expect(h.out.values()).toHaveLength(4);
  });

  it("re-fires only the sliding windows still within allowed lateness", async () => {
    const h = await windowHarness(sliding(10, 5), aggregateTagged(count()), { lateness: 5 });
    h.op.processBatch(recs(rec("a", 7)));
    h.op.processWatermark(9); // fires [0, 10)
    h.op.processBatch(recs(rec("a", 8))); // re-fires [0, 10); [5, 15) has not fired yet
    h.op.processWatermark(15); // fires [5, 15); [0, 10) is dropped (9 + 5 <= 15)
    h.op.processBatch(recs(rec("a", 6))); // re-fires [5, 15) only
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values()).toEqual([
      { key: "a", start: 0, end: 10, result: 1 },
      { key: "a", start: 0, end: 10, result: 2 },
      { key: "a", start: 5, end: 15, result: 2 },
      { key: "a", start: 5, end: 15, result: 3 },
    ]);
    expect(h.op.lateRecordsDropped).toBe(0);
  });

  it("counts a sliding record that misses fired windows in the ones still open (no lateness)", async () => {
    const h = await windowHarness(sliding(10, 5), aggregateTagged(count()));
    h.op.processBatch(recs(rec("a", 1)));
    h.op.processWatermark(9);
    h.op.processBatch(recs(rec("a", 7))); // [0, 10) is gone, [5, 15) is open
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values()).toEqual([
      { key: "a", start: -5, end: 5, result: 1 },
      { key: "a", start: 0, end: 10, result: 1 },
      { key: "a", start: 5, end: 15, result: 1 },
    ]);
    expect(h.op.lateRecordsDropped).toBe(0);
  });

  it("merges a late record into a fired session within allowed lateness and re-fires it", async () => {
    const h = await windowHarness(session(5), aggregateTagged(count()), { lateness: 10 });
    h.op.processBatch(recs(rec("a", 0)));
    h.op.processWatermark(4); // fires [0, 5)
    h.op.processBatch(recs(rec("a", 3))); // grows to [0, 8): not due yet, no fire
    h.op.processWatermark(7); // fires [0, 8)
    h.op.processBatch(recs(rec("a", 1))); // inside the fired session: fires again at once
    expect(h.out.values()).toEqual([
      { key: "a", start: 0, end: 5, result: 1 },
      { key: "a", start: 0, end: 8, result: 2 },
      { key: "a", start: 0, end: 8, result: 3 },
    ]);
    h.op.processWatermark(17); // 7 + 10 <= 17: dropped
    expect(h.op.stateSize).toBe(0);
    h.op.processBatch(recs(rec("a", 2)));
    expect(h.op.lateRecordsDropped).toBe(1);
  });

  it("accepts a session record whose own window is late when it merges into a live session", async () => {
    const h = await windowHarness(session(5), aggregateTagged(count()));
    h.op.processBatch(recs(rec("a", 0), rec("a", 10)));
    h.op.processWatermark(8); // fires [0, 5); [10, 15) is open
    h.op.processBatch(recs(rec("a", 7), rec("a", 1))); // [7, 12) joins [10, 15); [1, 6) is late
    h.op.processWatermark(MAX_WATERMARK);
    expect(h.out.values()).toEqual([
      { key: "a", start: 0, end: 5, result: 1 },
      { key: "a", start: 7, end: 15, result: 2 },
    ]);
    expect(h.op.lateRecordsDropped).toBe(1);
  });
});
