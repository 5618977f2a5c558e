import { describe, expect, it } from "vitest";
import type { TaskMetrics } from "../../runtime/jobmanager/rest-types.js";
import { aggregateVertexMetrics } from "../../runtime/metrics/aggregate.js";

function metrics(overrides: Partial<TaskMetrics>): TaskMetrics {
  return {
    recordsIn: 0,
    recordsOut: 0,
    recordsInPerSecond: 0,
    recordsOutPerSecond: 0,
    busyTimeMsPerSecond: 0,
    backPressuredTimeMsPerSecond: 0,
    idleTimeMsPerSecond: 1000,
    currentInputWatermark: null,
    watermarkLagMs: null,
    outputQueueLength: 0,
    inputQueueLength: 0,
    ...overrides,
  };
}

describe("aggregateVertexMetrics", () => {
  it("is null without subtasks or when no subtask has metrics", () => {
    expect(aggregateVertexMetrics([])).toBeNull();
    expect(aggregateVertexMetrics([null, null])).toBeNull();
  });

  it("returns a single subtask's metrics unchanged", () => {
    const only = metrics({ recordsIn: 5, busyTimeMsPerSecond: 300, idleTimeMsPerSecond: 700, watermarkLagMs: 10 });
    expect(aggregateVertexMetrics([only])).toEqual(only);
  });

  it("sums counts, rates and queue lengths; takes max busy/backpressured/lag, min idle/watermark", () => {
    const a = metrics({
      recordsIn: 100,
      recordsOut: 90,
      recordsInPerSecond: 10,
      recordsOutPerSecond: 9,
      busyTimeMsPerSecond: 800,
      backPressuredTimeMsPerSecond: 50,
      idleTimeMsPerSecond: 150,
      currentInputWatermark: 5000,
      watermarkLagMs: 1000,
      outputQueueLength: 2,
      inputQueueLength: 1,
    });
    const b = metrics({
      recordsIn: 50,
      recordsOut: 40,
      recordsInPerSecond: 5,
      recordsOutPerSecond: 4,
      busyTimeMsPerSecond: 100,
      backPressuredTimeMsPerSecond: 600,
      idleTimeMsPerSecond: 300,
      currentInputWatermark: 3000,
      watermarkLagMs: 3000,
      outputQueueLength: 4,
      inputQueueLength: 0,
    });
    expect(aggregateVertexMetrics([a, null, b])).toEqual({
      recordsIn: 150,
      recordsOut: 130,
      recordsInPerSecond: 15,
      recordsOutPerSecond: 13,
      busyTimeMsPerSecond: 800,
      backPressuredTimeMsPerSecond: 600,
      idleTimeMsPerSecond: 150,
      currentInputWatermark: 3000,
      watermarkLagMs: 3000,
      outputQueueLength: 6,
      inputQueueLength: 1,
    });
  });

  it("ignores subtasks without a watermark for the watermark minimum and lag maximum", () => {
    const withWatermark = metrics({ currentInputWatermark: 7000, watermarkLagMs: 42 });
    const without = metrics({});
    expect(aggregateVertexMetrics([without, withWatermark])).toMatchObject({
      currentInputWatermark: 7000,
      watermarkLagMs: 42,
    });
    expect(aggregateVertexMetrics([without, without])).toMatchObject({
      currentInputWatermark: null,
      watermarkLagMs: null,
    });
  });
});
