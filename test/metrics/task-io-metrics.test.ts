import { describe, expect, it } from "vitest";
import { TaskIoMetrics } from "../../runtime/metrics/task-io-metrics.js";

describe("TaskIoMetrics", () => {
  it("accounts time to the state it was spent in", () => {
    const io = new TaskIoMetrics(0);
    io.markBusy(100); // idle 0..100
    io.markBackpressured(400); // busy 100..400
    io.markBusy(450); // backpressured 400..450
    io.markIdle(700); // busy 450..700
    expect(io.timeTotals(1000)).toEqual({ idle: 400, busy: 550, backpressured: 50 });
    expect(io.currentState).toBe("idle");
  });

  it("marking the current state again changes nothing", () => {
    const io = new TaskIoMetrics(0, "busy");
    io.markBusy(100);
    io.markBusy(200);
    expect(io.timeTotals(300)).toEqual({ idle: 0, busy: 300, backpressured: 0 });
  });

  it("samples per-second rates since the previous sample", () => {
    const io = new TaskIoMetrics(0);
    io.markBusy(0);
    io.recordsIn = 500;
    io.recordsOut = 250;
    io.markBackpressured(600);
    io.markIdle(800);
    const first = io.sample(1000);
    expect(first).toMatchObject({
      recordsIn: 500,
      recordsOut: 250,
      recordsInPerSecond: 500,
      recordsOutPerSecond: 250,
      busyTimeMsPerSecond: 600,
      backPressuredTimeMsPerSecond: 200,
      idleTimeMsPerSecond: 200,
    });
    io.recordsIn = 1500;
    const second = io.sample(3000); // 2 s fully idle, 1000 more records
    expect(second).toMatchObject({
      recordsIn: 1500,
      recordsInPerSecond: 500,
      recordsOutPerSecond: 0,
      busyTimeMsPerSecond: 0,
      idleTimeMsPerSecond: 1000,
      backPressuredTimeMsPerSecond: 0,
    });
    expect(io.lastSample).toBe(second);
  });

  it("counts the time of a state still in progress into the sample", () => {
    const io = new TaskIoMetrics(0);
    io.markBackpressured(250);
    const sample = io.sample(1000);
    expect(sample.backPressuredTimeMsPerSecond).toBe(750);
    expect(sample.idleTimeMsPerSecond).toBe(250);
    expect(sample.busyTimeMsPerSecond).toBe(0);
  });

  it("derives busy time as 1000 - idle - backpressured, so the three add up to 1000", () => {
    const io = new TaskIoMetrics(0, "busy");
    io.markIdle(333);
    io.markBackpressured(500);
    io.markBusy(777);
    const s = io.sample(1000);
    expect(s.busyTimeMsPerSecond + s.idleTimeMsPerSecond + s.backPressuredTimeMsPerSecond).toBeCloseTo(1000);
    expect(s.busyTimeMsPerSecond).toBeCloseTo(556);
  });

  it("returns the previous sample when no time has elapsed", () => {
    const io = new TaskIoMetrics(0);
    const first = io.sample(1000);
    io.recordsIn = 99;
    expect(io.sample(1000)).toBe(first);
  });

  it("reports zero rates for a first sample taken at the start time", () => {
    const io = new TaskIoMetrics(50);
    io.recordsIn = 10;
    expect(io.sample(50)).toMatchObject({ recordsIn: 10, recordsInPerSecond: 0, busyTimeMsPerSecond: 0 });
  });

  it("reports the watermark and its lag against the wall clock", () => {
    const io = new TaskIoMetrics(0);
    expect(io.sample(1000, 1_700_000_000_000)).toMatchObject({ currentInputWatermark: null, watermarkLagMs: null });
    io.currentInputWatermark = 1_700_000_000_000 - 2500;
    expect(io.sample(2000, 1_700_000_000_000)).toMatchObject({
      currentInputWatermark: 1_699_999_997_500,
      watermarkLagMs: 2500,
    });
  });

  it("reports no watermark before the first (-Infinity) and after end of input (+Infinity)", () => {
    const io = new TaskIoMetrics(0);
    io.currentInputWatermark = Number.NEGATIVE_INFINITY;
    expect(io.sample(1000).watermarkLagMs).toBeNull();
    io.currentInputWatermark = Number.POSITIVE_INFINITY;
    expect(io.sample(2000)).toMatchObject({ currentInputWatermark: null, watermarkLagMs: null });
  });

  it("reads queue lengths through the callbacks the task sets", () => {
    const io = new TaskIoMetrics(0);
    let queued = 3;
    io.inputQueueLength = () => queued;
    io.outputQueueLength = () => 7;
    expect(io.sample(1000)).toMatchObject({ inputQueueLength: 3, outputQueueLength: 7 });
    queued = 0;
    expect(io.sample(2000).inputQueueLength).toBe(0);
  });
});
