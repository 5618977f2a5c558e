import { describe, expect, it } from "vitest";
import { StreamEnvironment } from "../../runtime/api/environment.js";
import { OutputTag } from "../../runtime/api/functions.js";
import { watermarks } from "../../runtime/api/watermarks.js";
import { session, sliding, tumbling } from "../../runtime/api/windows.js";
import type { ReaderOutput } from "../../runtime/api/source.js";
import { DefaultOperatorStateStore } from "../../runtime/state/operator-state.js";

describe("DataStream setters", () => {
  it("reject a non-positive or fractional parallelism and maxParallelism", () => {
    const s = new StreamEnvironment().fromCollection([1]).map((x) => x);
    expect(() => s.setParallelism(0)).toThrow(RangeError);
    expect(() => s.setParallelism(1.5)).toThrow(/positive integer, got 1.5/);
    expect(() => s.setMaxParallelism(-1)).toThrow(RangeError);
    expect(() => new StreamEnvironment().setParallelism(0)).toThrow(RangeError);
    expect(() => new StreamEnvironment().setMaxParallelism(Number.NaN)).toThrow(RangeError);
  });

  it("apply to an operator's output, not to a keyed, union or side-output view", () => {
    const env = new StreamEnvironment();
    const s = env.fromCollection([1, 2]);
    const tag = new OutputTag<number>("t");
    expect(() => s.keyBy((x) => x).uid("k")).toThrow(/uid\(\) applies to an operator's output/);
    expect(() => s.union(s).setParallelism(2)).toThrow(/setParallelism\(\)/);
    expect(() => s.getSideOutput(tag).name("side")).toThrow(/name\(\)/);
    expect(() => s.rebalance().disableChaining()).toThrow(/disableChaining\(\)/);
  });

  it("set the node the stream was produced by", () => {
    const env = new StreamEnvironment();
    env.fromCollection([1]).map((x) => x).uid("m").name("mapper").setParallelism(3).setMaxParallelism(32).disableChaining();
    const node = env.toStreamGraph().nodes[1]!;
    expect(node).toMatchObject({ uid: "m", name: "mapper", parallelism: 3, maxParallelism: 32, chaining: false });
  });
});

describe("StreamEnvironment sources", () => {
  it("fromSequence covers from..to inclusive", () => {
    const env = new StreamEnvironment();
    env.fromSequence(5, 9).print();
    const spec = env.toStreamGraph().nodes[0]!.spec;
    if (spec.kind !== "source") throw new Error("expected a source");
    const reader = spec.source.createReader({ jobId: "job", jobName: "test", operatorUid: "s", taskName: "s", subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobArgs: [], operatorState: new DefaultOperatorStateStore("test") });
    reader.addSplits(spec.source.splits({ parallelism: 1 }));
    const got: number[] = [];
    const out: ReaderOutput<number> = { forSplit: () => ({ collect: (v) => void got.push(v) }), releaseSplit() {} };
    while (reader.poll(out, 100) !== "end");
    expect(got).toEqual([5, 6, 7, 8, 9]);
  });

  it("uses the environment's defaults and job name in the stream graph", () => {
    const env = new StreamEnvironment({ jobName: "j", parallelism: 4, maxParallelism: 64 });
    env.fromCollection([1]).print();
    expect(env.toStreamGraph()).toMatchObject({ jobName: "j", defaultParallelism: 4, defaultMaxParallelism: 64 });
    expect(env.getParallelism()).toBe(4);
  });
});

describe("window assigners and watermark strategies", () => {
  it("validate sizes", () => {
    expect(() => tumbling(0)).toThrow(/window size must be a positive number of ms, got 0/);
    expect(() => tumbling(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => sliding(10, 0)).toThrow(/window slide/);
    expect(() => sliding(10, 20)).toThrow(/must not exceed its size/);
    expect(() => session(-5)).toThrow(/session gap/);
  });

  it("default to event time and offset 0", () => {
    expect(tumbling(1_000)).toEqual({ kind: "tumbling", time: "event", size: 1_000, offset: 0 });
    expect(sliding(1_000, 250, { time: "processing", offset: 10 })).toEqual({ kind: "sliding", time: "processing", size: 1_000, slide: 250, offset: 10 });
    expect(session(30)).toEqual({ kind: "session", time: "event", gap: 30 });
  });

  it("watermark strategies are immutable and validated", () => {
    const base = watermarks.boundedOutOfOrder<{ ts: number }>(500);
    const withTs = base.withTimestampAssigner((e) => e.ts);
    const idle = withTs.withIdleness(1_000);
    expect(base.timestampAssigner).toBeNull();
    expect(withTs.timestampAssigner).not.toBeNull();
    expect(withTs.idleTimeout).toBeNull();
    expect(idle).toMatchObject({ maxOutOfOrderness: 500, idleTimeout: 1_000 });
    expect(idle.timestampAssigner).toBe(withTs.timestampAssigner);
    expect(watermarks.monotonic().maxOutOfOrderness).toBe(0);
    expect(() => watermarks.boundedOutOfOrder(-1)).toThrow(RangeError);
    expect(() => watermarks.boundedOutOfOrder(Number.NaN)).toThrow(RangeError);
    expect(() => base.withIdleness(0)).toThrow(/idle timeout/);
  });
});
