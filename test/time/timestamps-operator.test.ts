import { describe, expect, it } from "vitest";
import { watermarks } from "../../runtime/api/watermarks.js";
import { batchOf, MAX_WATERMARK } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { TimestampsOperator } from "../../runtime/operators/timestamps-operator.js";
import { harness } from "../support/operator-harness.js";

interface Ev {
  at: number;
}

describe("TimestampsOperator", () => {
  it("re-stamps records with the assigner, which also sees the incoming timestamp", async () => {
    const seen: Array<number | undefined> = [];
    const strategy = watermarks.boundedOutOfOrder<Ev>(10).withTimestampAssigner((e, src) => (seen.push(src), e.at));
    const h = await harness(new TimestampsOperator(strategy));
    h.op.processBatch(batchOf([{ at: 100 }, { at: 90 }], [1, 2]));
    h.op.processBatch(batchOf([{ at: 50 }]));
    expect(h.out.records()).toEqual([
      { value: { at: 100 }, ts: 100 },
      { value: { at: 90 }, ts: 90 },
      { value: { at: 50 }, ts: 50 },
    ]);
    expect(seen).toEqual([1, 2, undefined]);
  });

  it("emits max timestamp - out-of-orderness - 1 every 200 ms, only when it advances", async () => {
    const h = await harness(new TimestampsOperator(watermarks.boundedOutOfOrder<Ev>(10).withTimestampAssigner((e) => e.at)));
    h.op.processBatch(batchOf([{ at: 100 }, { at: 90 }]));
    h.clock.advanceTo(199);
    expect(h.out.watermarks()).toEqual([]);
    h.clock.advanceTo(200);
    expect(h.out.watermarks()).toEqual([89]);
    h.clock.advanceTo(400);
    h.op.processBatch(batchOf([{ at: 300 }]));
    h.clock.advanceTo(600);
    expect(h.out.watermarks()).toEqual([89, 289]);
  });

  it("ignores upstream watermarks except the final one, which it forwards once", async () => {
    const h = await harness(new TimestampsOperator(watermarks.monotonic<Ev>().withTimestampAssigner((e) => e.at)));
    h.op.processWatermark(1_000);
    h.op.processWatermark(MAX_WATERMARK);
    h.op.endInput();
    expect(h.out.watermarks()).toEqual([MAX_WATERMARK]);
    expect(h.clock.pending).toBe(0);
  });

  it("emits +Infinity on endInput and stops its periodic callback", async () => {
    const h = await harness(new TimestampsOperator(watermarks.monotonic<Ev>().withTimestampAssigner((e) => e.at)));
    h.op.endInput();
    expect(h.out.watermarks()).toEqual([MAX_WATERMARK]);
    expect(h.clock.pending).toBe(0);
  });

  it("keeps incoming timestamps when the strategy has no assigner", async () => {
    const h = await harness(new TimestampsOperator(watermarks.boundedOutOfOrder<Ev>(0)));
    h.op.processBatch(batchOf([{ at: 1 }], [42]));
    h.clock.advanceTo(200);
    expect(h.out.records()).toEqual([{ value: { at: 1 }, ts: 42 }]);
    expect(h.out.watermarks()).toEqual([41]);
  });

  it("fails, naming the operator, when a record has no timestamp and there is no assigner", async () => {
    const h = await harness(new TimestampsOperator(watermarks.boundedOutOfOrder<Ev>(0)), { name: "stamp clicks" });
    const run = () => h.op.processBatch(batchOf([{ at: 1 }]));
    expect(run).toThrow(WeirError);
    expect(run).toThrow(/"stamp clicks".*no timestamp assigner/);
  });

  it("fails when the assigner returns something that is not a time", async () => {
    const h = await harness(new TimestampsOperator(watermarks.monotonic<Ev>().withTimestampAssigner(() => Number.NaN)));
    expect(() => h.op.processBatch(batchOf([{ at: 1 }]))).toThrow(/returned NaN/);
  });
});
