import { describe, expect, it } from "vitest";
import { StatusWatermarkValve } from "../../runtime/time/watermark-valve.js";

/** A valve over `n` channels whose output is recorded as "wm:<ts>" / "idle" / "active". */
function valve(n: number): { v: StatusWatermarkValve; log: string[] } {
  const log: string[] = [];
  const v = new StatusWatermarkValve(n, {
    emitWatermark: (ts) => log.push(`wm:${ts}`),
    emitStatus: (idle) => log.push(idle ? "idle" : "active"),
  });
  return { v, log };
}

describe("StatusWatermarkValve", () => {
  it("emits the minimum over channels, only when it advances", () => {
    const { v, log } = valve(2);
    v.inputWatermark(0, 10);
    expect(log).toEqual([]);
    v.inputWatermark(1, 5);
    v.inputWatermark(1, 7);
    v.inputWatermark(1, 6); // a regression on one channel changes nothing
    v.inputWatermark(1, 20);
    expect(log).toEqual(["wm:5", "wm:7", "wm:10"]);
    expect(v.currentWatermark).toBe(10);
  });

  it("excludes idle channels from the minimum", () => {
    const { v, log } = valve(2);
    v.inputWatermark(0, 100);
    v.inputWatermark(1, 10);
    v.inputStatus(1, true);
    expect(log).toEqual(["wm:10", "wm:100"]);
    v.inputWatermark(0, 150);
    expect(log.at(-1)).toBe("wm:150");
  });

  it("ignores watermarks that arrive on an idle channel", () => {
    const { v, log } = valve(2);
    v.inputStatus(1, true);
    v.inputWatermark(1, 500);
    v.inputWatermark(0, 50);
    expect(log).toEqual(["wm:50"]);
  });

  it("re-aligns a channel coming back from idle only once it catches up with the output", () => {
    const { v, log } = valve(2);
    v.inputWatermark(0, 10);
    v.inputWatermark(1, 10);
    v.inputStatus(1, true);
    v.inputWatermark(0, 100);
    v.inputStatus(1, false); // back at 10 < 100: not aligned, so the output does not go back
    v.inputWatermark(0, 200);
    expect(log).toEqual(["wm:10", "wm:100", "wm:200"]);
    v.inputWatermark(1, 150); // still behind 200: stays unaligned
    v.inputWatermark(0, 300);
    expect(log.at(-1)).toBe("wm:300");
    v.inputWatermark(1, 250); // catches up? 250 < 300: no
    v.inputWatermark(1, 320); // >= 300: aligned again, and now holds the min back
    v.inputWatermark(0, 400);
    expect(log.slice(3)).toEqual(["wm:300", "wm:320"]);
  });

  it("goes idle when every channel is idle and active again when one returns", () => {
    const { v, log } = valve(2);
    v.inputWatermark(0, 30);
    v.inputWatermark(1, 10);
    v.inputStatus(0, true);
    v.inputStatus(1, true);
    // The last active channel held the minimum: flush the max across channels, then idle (Flink).
    expect(log).toEqual(["wm:10", "wm:30", "idle"]);
    expect(v.isIdle).toBe(true);
    v.inputStatus(0, false);
    expect(log.at(-1)).toBe("active");
    v.inputWatermark(0, 40);
    expect(log.at(-1)).toBe("wm:40");
  });

  it("does not count ended channels, and emits +Infinity once all have ended", () => {
    const { v, log } = valve(3);
    v.inputWatermark(0, 10);
    v.inputWatermark(1, 20);
    v.inputWatermark(2, 30);
    v.channelEnded(0);
    expect(log).toEqual(["wm:10", "wm:20"]);
    v.inputWatermark(0, 1000); // ended: ignored
    v.channelEnded(1);
    expect(log.at(-1)).toBe("wm:30");
    v.channelEnded(2);
    expect(log.at(-1)).toBe("wm:Infinity");
    v.channelEnded(2);
    expect(log.filter((e) => e === "wm:Infinity")).toHaveLength(1);
  });

  it("goes idle when the only active channels end and the rest are idle", () => {
    const { v, log } = valve(2);
    v.inputStatus(1, true);
    v.inputWatermark(0, 5);
    v.channelEnded(0);
    expect(log).toEqual(["wm:5", "idle"]);
    v.inputStatus(1, false);
    v.channelEnded(1);
    expect(log.slice(2)).toEqual(["active", "wm:Infinity"]);
  });

  it("becomes active before emitting +Infinity when the last channel ends while idle", () => {
    const { v, log } = valve(1);
    v.inputStatus(0, true);
    v.channelEnded(0);
    expect(log).toEqual(["idle", "active", "wm:Infinity"]);
  });

  it("rejects bad channel numbers", () => {
    const { v } = valve(2);
    expect(() => v.inputWatermark(2, 1)).toThrow(/2 channels, got channel 2/);
    expect(() => new StatusWatermarkValve(0, { emitWatermark() {}, emitStatus() {} })).toThrow(RangeError);
  });
});
