import { describe, expect, it } from "vitest";
import { SourceWatermarks, SplitWatermark } from "../../runtime/time/source-watermarks.js";

function source(maxOutOfOrderness: number, idleTimeout: number | null): { w: SourceWatermarks; log: string[] } {
  const log: string[] = [];
  const w = new SourceWatermarks({
    maxOutOfOrderness,
    idleTimeout,
    emitWatermark: (ts) => log.push(`wm:${ts}`),
    emitStatus: (idle) => log.push(idle ? "idle" : "active"),
  });
  return { w, log };
}

describe("SplitWatermark", () => {
  it("counts records and tracks the highest timestamp", () => {
    const s = new SplitWatermark();
    s.observe(5);
    s.observe(3);
    s.observe(9);
    expect(s).toMatchObject({ records: 3, maxTimestamp: 9 });
  });
});

describe("SourceWatermarks", () => {
  it("emits max timestamp - out-of-orderness - 1 of the slowest split, only when it advances", () => {
    const { w, log } = source(100, null);
    const a = w.split("a", 0);
    const b = w.split("b", 0);
    a.observe(1_000);
    w.onPeriodicEmit(200); // b has no records yet: it holds the watermark back
    expect(log).toEqual([]);
    b.observe(500);
    w.onPeriodicEmit(400);
    expect(log).toEqual(["wm:399"]);
    b.observe(2_000);
    w.onPeriodicEmit(600);
    w.onPeriodicEmit(800); // nothing new: no duplicate
    expect(log).toEqual(["wm:399", "wm:899"]);
  });

  it("returns the same tracker for the same split id", () => {
    const { w } = source(0, null);
    expect(w.split("x", 0)).toBe(w.split("x", 10));
  });

  it("marks a split idle after the timeout so it stops holding back the watermark", () => {
    const { w, log } = source(0, 1_000);
    const a = w.split("a", 0);
    const b = w.split("b", 0);
    a.observe(100);
    b.observe(50);
    w.onPeriodicEmit(200);
    expect(log).toEqual(["wm:49"]);
    for (let t = 400; t <= 1_400; t += 200) {
      a.observe(t * 10);
      w.onPeriodicEmit(t);
    }
    // b saw its last record before the emit at 200; at 1_200 it has been quiet for 1_000 ms.
    expect(log).toEqual(["wm:49", "wm:11999", "wm:13999"]);
    expect(w.isIdle).toBe(false);
  });

  it("reports the subtask idle once when all splits are idle, and active when one gets records", () => {
    const { w, log } = source(0, 500);
    const a = w.split("a", 0);
    a.observe(10);
    w.onPeriodicEmit(200);
    w.onPeriodicEmit(400);
    w.onPeriodicEmit(700);
    w.onPeriodicEmit(900);
    expect(log).toEqual(["wm:9", "idle"]);
    a.observe(5); // back, but behind: active again without a watermark regression
    w.onPeriodicEmit(1_100);
    a.observe(50);
    w.onPeriodicEmit(1_300);
    expect(log).toEqual(["wm:9", "idle", "active", "wm:49"]);
  });

  it("is idle when it has no splits at all, whatever the idle timeout", () => {
    const { w, log } = source(0, null);
    w.onPeriodicEmit(200);
    w.onPeriodicEmit(400);
    expect(log).toEqual(["idle"]);
    w.split("late-assigned", 400).observe(7);
    w.onPeriodicEmit(600);
    expect(log).toEqual(["idle", "active", "wm:6"]);
  });

  it("stops counting released splits", () => {
    const { w, log } = source(0, null);
    w.split("slow", 0).observe(10);
    w.split("fast", 0).observe(1_000);
    w.onPeriodicEmit(200);
    w.release("slow");
    w.onPeriodicEmit(400);
    expect(log).toEqual(["wm:9", "wm:999"]);
  });

  it("emits +Infinity on finish, once, becoming active first if idle", () => {
    const { w, log } = source(0, 100);
    w.onPeriodicEmit(200);
    w.finish();
    w.finish();
    w.onPeriodicEmit(400);
    expect(log).toEqual(["idle", "active", "wm:Infinity"]);
  });

  it("rejects a negative out-of-orderness", () => {
    expect(() => source(-1, null)).toThrow(/maxOutOfOrderness/);
  });

  it("advances to a finished split's watermark once the splits left are idle (regression: stuck windows)", () => {
    const { w, log } = source(100, 1_000);
    const done = w.split("done", 0);
    const quiet = w.split("quiet", 0);
    quiet.observe(10);
    done.observe(50_000);
    w.release("done"); // finished right after its last record, before any periodic emit
    w.onPeriodicEmit(200);
    expect(log).toEqual(["wm:-91"]); // the quiet split still holds event time back
    w.onPeriodicEmit(1_300);
    expect(log).toEqual(["wm:-91", "wm:49899", "idle"]);
  });
});
