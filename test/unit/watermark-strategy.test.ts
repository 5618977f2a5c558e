import { describe, expect, it } from "vitest";
import { watermarks } from "../../runtime/api/watermarks.js";

describe("WatermarkStrategy.withWatermarkAlignment", () => {
  it("returns a new strategy with the alignment, keeping the other settings; the default interval is 1 s", () => {
    const assigner = (v: { ts: number }) => v.ts;
    const base = watermarks.boundedOutOfOrder<{ ts: number }>(500).withTimestampAssigner(assigner).withIdleness(10_000);
    const aligned = base.withWatermarkAlignment("clicks", 20_000);
    expect(base.alignment).toBeNull();
    expect(aligned).toMatchObject({ maxOutOfOrderness: 500, timestampAssigner: assigner, idleTimeout: 10_000 });
    expect(aligned.alignment).toEqual({ group: "clicks", maxDriftMs: 20_000, updateIntervalMs: 1_000 });
    expect(Object.isFrozen(aligned.alignment)).toBe(true);
    // Later with* calls keep the alignment.
    expect(aligned.withIdleness(5).alignment).toEqual(aligned.alignment);
    expect(watermarks.monotonic().withWatermarkAlignment("g", 0, 50).alignment).toEqual({ group: "g", maxDriftMs: 0, updateIntervalMs: 50 });
  });

  it("rejects an empty group, a negative or infinite drift and a non-positive interval, naming the value", () => {
    const s = watermarks.monotonic();
    expect(() => s.withWatermarkAlignment("", 1_000)).toThrow(/group must be a non-empty string, got ""/);
    expect(() => s.withWatermarkAlignment(" ", 1_000)).toThrow(RangeError);
    expect(() => s.withWatermarkAlignment("g", -1)).toThrow(/maxDrift must be a finite number >= 0 ms, got -1/);
    expect(() => s.withWatermarkAlignment("g", Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => s.withWatermarkAlignment("g", Number.NaN)).toThrow(RangeError);
    expect(() => s.withWatermarkAlignment("g", 1_000, 0)).toThrow(/updateInterval must be a finite number > 0 ms, got 0/);
  });

  it("still validates the other settings", () => {
    expect(() => watermarks.boundedOutOfOrder(-1)).toThrow(/maxOutOfOrderness must be >= 0 ms, got -1/);
    expect(() => watermarks.monotonic().withIdleness(0)).toThrow(/idle timeout must be > 0 ms, got 0/);
  });
});
