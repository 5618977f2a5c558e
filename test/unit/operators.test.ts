import { describe, expect, it } from "vitest";
import { avg, count } from "../../runtime/api/aggregates.js";
import {
  OutputTag,
  type KeyedCoProcessFunction,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type ProcessFunction,
} from "../../runtime/api/functions.js";
import type { ListState, MapState, ValueState } from "../../runtime/api/state.js";
import { batchOf } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { FilterOperator, FlatMapOperator, MapOperator } from "../../runtime/operators/basic-operators.js";
import { KeyedFunctionOperator, ProcessOperator, RollingOperator } from "../../runtime/operators/process-operators.js";
import { harness } from "../support/operator-harness.js";

interface Ev {
  k: string;
  v: number;
}
const ev = (k: string, v: number): Ev => ({ k, v });
const byK = (e: Ev) => e.k;
/** Let microtasks run (processing-time timer output is flushed in one). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("stateless operators", () => {
  it("MapOperator keeps each timestamp with its value", async () => {
    const h = await harness(new MapOperator((x: number) => x * 10));
    h.op.processBatch(batchOf([1, 2, 3], [100, 200, 300]));
    expect(h.out.records()).toEqual([
      { value: 10, ts: 100 },
      { value: 20, ts: 200 },
      { value: 30, ts: 300 },
    ]);
  });

  it("MapOperator leaves records without timestamps without them", async () => {
    const h = await harness(new MapOperator((x: number) => x + 1));
    h.op.processBatch(batchOf([1, 2]));
    expect(h.out.records()).toEqual([
      { value: 2, ts: null },
      { value: 3, ts: null },
    ]);
  });

  it("FilterOperator keeps the timestamps of the records it keeps", async () => {
    const h = await harness(new FilterOperator((x: number) => x % 2 === 0));
    h.op.processBatch(batchOf([1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60]));
    expect(h.out.records()).toEqual([
      { value: 2, ts: 20 },
      { value: 4, ts: 40 },
      { value: 6, ts: 60 },
    ]);
  });

  it("FilterOperator emits nothing for a batch it drops entirely", async () => {
    const h = await harness(new FilterOperator(() => false));
    h.op.processBatch(batchOf([1, 2], [1, 2]));
    expect(h.out.events).toEqual([]);
  });

  it("FlatMapOperator stamps every output with its input's timestamp, collected or returned", async () => {
    const h = await harness(
      new FlatMapOperator((line: string, out) => {
        if (line.startsWith("!")) return line.slice(1).split(" ");
        for (const w of line.split(" ")) out.collect(w);
      }),
    );
    h.op.processBatch(batchOf(["a b", "", "!c d e"], [1, 2, 3]));
    expect(h.out.records()).toEqual([
      { value: "a", ts: 1 },
      { value: "b", ts: 1 },
      { value: "", ts: 2 },
      { value: "c", ts: 3 },
      { value: "d", ts: 3 },
      { value: "e", ts: 3 },
    ]);
  });

  it("FlatMapOperator emits records without timestamps when its input has none", async () => {
    const h = await harness(new FlatMapOperator((n: number) => Array.from({ length: n }, (_, i) => i)));
    h.op.processBatch(batchOf([0, 2]));
    expect(h.out.records()).toEqual([
      { value: 0, ts: null },
      { value: 1, ts: null },
    ]);
  });

  it("stateless operators forward watermarks", async () => {
    const h = await harness(new MapOperator((x) => x));
    h.op.processWatermark(5);
    h.op.processWatermark(9);
    expect(h.out.watermarks()).toEqual([5, 9]);
  });
});

describe("ProcessOperator", () => {
  const odd = new OutputTag<string>("odd");

  it("sends records to side outputs with their timestamps and keeps the main output apart", async () => {
    const fn: ProcessFunction<number, number> = {
      processElement(v, ctx, out) {
        if (v % 2) ctx.output(odd, `odd:${v}@${ctx.timestamp()}`);
        else out.collect(v);
      },
    };
    const h = await harness(new ProcessOperator(fn));
    h.op.processBatch(batchOf([1, 2, 3, 4], [10, 20, 30, 40]), 0);
    expect(h.out.records()).toEqual([
      { value: 2, ts: 20 },
      { value: 4, ts: 40 },
    ]);
    expect(h.side("odd").records()).toEqual([
      { value: "odd:1@10", ts: 10 },
      { value: "odd:3@30", ts: 30 },
    ]);
  });

  it("gives the function the watermark and the processing time", async () => {
    const seen: Array<[number, number, number | null]> = [];
    const fn: ProcessFunction<number, number> = {
      processElement(_v, ctx) {
        seen.push([ctx.currentWatermark(), ctx.currentProcessingTime(), ctx.timestamp()]);
      },
    };
    const h = await harness(new ProcessOperator(fn), { time: 1_000 });
    h.op.processWatermark(7);
    h.op.processBatch(batchOf([1]), 0);
    h.clock.advanceTo(2_000);
    h.op.processBatch(batchOf([1], [9]), 0);
    expect(seen).toEqual([
      [7, 1_000, null],
      [7, 2_000, 9],
    ]);
  });

  it("runs a non-keyed co-process function per input", async () => {
    const h = await harness(
      new ProcessOperator({
        processElement1: (v: number, _ctx, out) => out.collect(`left ${v}`),
        processElement2: (v: string, _ctx, out) => out.collect(`right ${v}`),
      }),
    );
    h.op.processBatch(batchOf([1]), 0);
    h.op.processBatch(batchOf(["x"]), 1);
    expect(h.out.values()).toEqual(["left 1", "right x"]);
  });
});

/** A keyed function that keeps per-key value, list and map state and reports what it sees. */
function stateful(): KeyedProcessFunction<string, Ev, unknown> {
  let total!: ValueState<number>;
  let history!: ListState<number>;
  let byValue!: MapState<number, number>;
  return {
    open(ctx: KeyedRuntimeContext) {
      total = ctx.valueState("total", 0);
      history = ctx.listState("history");
      byValue = ctx.mapState("byValue");
    },
    processElement(e, ctx, out) {
      total.update(total.value()! + e.v);
      history.add(e.v);
      byValue.put(e.v, (byValue.get(e.v) ?? 0) + 1);
      out.collect({ key: ctx.getCurrentKey(), total: total.value(), history: history.get(), counts: [...byValue.entries()] });
    },
  };
}

describe("KeyedFunctionOperator: keyed state", () => {
  it("scopes value, list and map state to the record's key", async () => {
    const h = await harness(new KeyedFunctionOperator(stateful(), [byK]));
    h.op.processBatch(batchOf([ev("a", 1), ev("b", 5), ev("a", 1), ev("a", 2), ev("b", 5)]), 0);
    expect(h.out.values()).toEqual([
      { key: "a", total: 1, history: [1], counts: [[1, 1]] },
      { key: "b", total: 5, history: [5], counts: [[5, 1]] },
      { key: "a", total: 2, history: [1, 1], counts: [[1, 2]] },
      { key: "a", total: 4, history: [1, 1, 2], counts: [[1, 2], [2, 1]] },
      { key: "b", total: 10, history: [5, 5], counts: [[5, 2]] },
    ]);
  });

  it("treats object keys with the same fields as one key", async () => {
    const h = await harness(new KeyedFunctionOperator(stateful(), [(e: Ev) => ({ k: e.k, bucket: 1 })]));
    h.op.processBatch(batchOf([ev("a", 1), ev("a", 2)]), 0);
    expect(h.out.values().map((r: any) => r.total)).toEqual([1, 3]);
  });

  it("keeps the string '1' and the number 1 as different keys", async () => {
    const h = await harness(new KeyedFunctionOperator(stateful(), [(e: Ev) => (e.k === "n" ? 1 : "1")]));
    h.op.processBatch(batchOf([ev("n", 1), ev("s", 1), ev("n", 1)]), 0);
    expect(h.out.values().map((r: any) => [r.key, r.total])).toEqual([
      [1, 1],
      ["1", 1],
      [1, 2],
    ]);
  });

  it("fails with WEIR_E_KEY_UNDEFINED naming the operator when keyBy returns undefined", async () => {
    const h = await harness(new KeyedFunctionOperator(stateful(), [(e: Ev) => (e.k === "" ? undefined : e.k)]), { name: "per-user" });
    let err: unknown;
    try {
      h.op.processBatch(batchOf([ev("a", 1), ev("", 2)]), 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe("WEIR_E_KEY_UNDEFINED");
    expect((err as WeirError).message).toContain('"per-user"');
    expect((err as WeirError).message).toContain('{"k":"","v":2}');
  });

  it("fails with WEIR_E_KEY_UNDEFINED when keyBy returns NaN", async () => {
    const h = await harness(new KeyedFunctionOperator(stateful(), [() => Number.NaN]), { name: "nan-keys" });
    expect(() => h.op.processBatch(batchOf([ev("a", 1)]), 0)).toThrow(expect.objectContaining({ code: "WEIR_E_KEY_UNDEFINED" }));
  });

  it("accepts null as a key", async () => {
    const h = await harness(new KeyedFunctionOperator(stateful(), [() => null]));
    h.op.processBatch(batchOf([ev("a", 1), ev("b", 2)]), 0);
    expect(h.out.values().map((r: any) => r.total)).toEqual([1, 3]);
  });
});

/** Registers an event-time timer at `ts + delay` per record and emits "key@time" when it fires. */
function eventTimers(delay: number, extra: Partial<KeyedProcessFunction<string, Ev, string>> = {}): KeyedProcessFunction<string, Ev, string> {
  return {
    processElement(_e, ctx) {
      ctx.timerService.registerEventTimeTimer(ctx.timestamp()! + delay);
    },
    onTimer(t, ctx, out) {
      out.collect(`${ctx.getCurrentKey()}@${t} ${ctx.timeDomain()} ts=${ctx.timestamp()}`);
    },
    ...extra,
  };
}

describe("KeyedFunctionOperator: event-time timers", () => {
  it("fires timers when the watermark passes them, in timestamp order, stamped with the timer time", async () => {
    const h = await harness(new KeyedFunctionOperator(eventTimers(10), [byK]));
    h.op.processBatch(batchOf([ev("a", 0), ev("b", 0), ev("c", 0)], [50, 5, 20]), 0);
    h.op.processWatermark(14);
    expect(h.out.records()).toEqual([]);
    h.op.processWatermark(15);
    expect(h.out.records()).toEqual([{ value: "b@15 event ts=15", ts: 15 }]);
    h.op.processWatermark(100);
    expect(h.out.records()).toEqual([
      { value: "b@15 event ts=15", ts: 15 },
      { value: "c@30 event ts=30", ts: 30 },
      { value: "a@60 event ts=60", ts: 60 },
    ]);
  });

  it("emits timer output before the watermark that fired it", async () => {
    const h = await harness(new KeyedFunctionOperator(eventTimers(0), [byK]));
    h.op.processBatch(batchOf([ev("a", 0)], [5]), 0);
    h.op.processWatermark(5);
    expect(h.out.events.map((e) => e.kind)).toEqual(["batch", "watermark"]);
    expect(h.out.watermarks()).toEqual([5]);
  });

  it("fires a timer exactly at the watermark, not before", async () => {
    const h = await harness(new KeyedFunctionOperator(eventTimers(0), [byK]));
    h.op.processBatch(batchOf([ev("a", 0)], [10]), 0);
    h.op.processWatermark(9);
    expect(h.out.values()).toEqual([]);
    h.op.processWatermark(10);
    expect(h.out.values()).toEqual(["a@10 event ts=10"]);
  });

  it("fires a timer registered twice for the same key and time once", async () => {
    const h = await harness(new KeyedFunctionOperator(eventTimers(0), [byK]));
    h.op.processBatch(batchOf([ev("a", 0), ev("a", 0), ev("b", 0)], [10, 10, 10]), 0);
    h.op.processBatch(batchOf([ev("a", 0)], [10]), 0);
    h.op.processWatermark(10);
    expect(h.out.values().sort()).toEqual(["a@10 event ts=10", "b@10 event ts=10"]);
  });

  it("deleteEventTimeTimer removes only that key's timer", async () => {
    const fn: KeyedProcessFunction<string, Ev, string> = {
      processElement(e, ctx) {
        if (e.v < 0) ctx.timerService.deleteEventTimeTimer(-e.v);
        else ctx.timerService.registerEventTimeTimer(e.v);
      },
      onTimer(t, ctx, out) {
        out.collect(`${ctx.getCurrentKey()}@${t}`);
      },
    };
    const h = await harness(new KeyedFunctionOperator(fn, [byK]));
    h.op.processBatch(batchOf([ev("a", 10), ev("a", 20), ev("b", 10), ev("a", -10)], [0, 0, 0, 0]), 0);
    h.op.processWatermark(100);
    expect(h.out.values()).toEqual(["b@10", "a@20"]);
  });

  it("a timer deleted and registered again fires once", async () => {
    const fn: KeyedProcessFunction<string, Ev, string> = {
      processElement(e, ctx) {
        ctx.timerService.deleteEventTimeTimer(30);
        ctx.timerService.registerEventTimeTimer(30);
      },
      onTimer(t, ctx, out) {
        out.collect(`${ctx.getCurrentKey()}@${t}`);
      },
    };
    const h = await harness(new KeyedFunctionOperator(fn, [byK]));
    h.op.processBatch(batchOf([ev("a", 0), ev("a", 0), ev("a", 0)], [0, 0, 0]), 0);
    h.op.processWatermark(30);
    expect(h.out.values()).toEqual(["a@30"]);
  });

  it("onTimer sees the key's state", async () => {
    let sum!: ValueState<number>;
    const fn: KeyedProcessFunction<string, Ev, string> = {
      open(ctx) {
        sum = ctx.valueState("sum", 0);
      },
      processElement(e, ctx) {
        sum.update(sum.value()! + e.v);
        ctx.timerService.registerEventTimeTimer(100);
      },
      onTimer(_t, ctx, out) {
        out.collect(`${ctx.getCurrentKey()}=${sum.value()}`);
        sum.clear();
      },
    };
    const h = await harness(new KeyedFunctionOperator(fn, [byK]));
    h.op.processBatch(batchOf([ev("a", 1), ev("b", 10), ev("a", 2)], [1, 2, 3]), 0);
    h.op.processWatermark(100);
    expect(h.out.values().sort()).toEqual(["a=3", "b=10"]);
  });

  it("onTimer sees the watermark that fired the timer", async () => {
    const seen: Array<[number, number]> = [];
    const h = await harness(
      new KeyedFunctionOperator(
        eventTimers(0, {
          onTimer(t, ctx) {
            seen.push([t, ctx.currentWatermark()]);
            seen.push([t, ctx.timerService.currentWatermark()]);
          },
        }),
        [byK],
      ),
    );
    h.op.processBatch(batchOf([ev("a", 0)], [10]), 0);
    h.op.processWatermark(5);
    h.op.processWatermark(20);
    expect(seen).toEqual([
      [10, 20],
      [10, 20],
    ]);
  });

  it("a timer registered in onTimer at or below the watermark fires in the same advance", async () => {
    const fn: KeyedProcessFunction<string, Ev, string> = {
      processElement(_e, ctx) {
        ctx.timerService.registerEventTimeTimer(10);
      },
      onTimer(t, ctx, out) {
        out.collect(`${t}`);
        if (t < 12) ctx.timerService.registerEventTimeTimer(t + 1);
      },
    };
    const h = await harness(new KeyedFunctionOperator(fn, [byK]));
    h.op.processBatch(batchOf([ev("a", 0)], [0]), 0);
    h.op.processWatermark(50);
    expect(h.out.values()).toEqual(["10", "11", "12"]);
    expect(h.out.watermarks()).toEqual([50]);
  });

  it("side outputs from onTimer carry the timer time", async () => {
    const tag = new OutputTag<string>("fired");
    const h = await harness(
      new KeyedFunctionOperator(
        eventTimers(5, {
          onTimer(t, ctx) {
            ctx.output(tag, `side ${t}`);
          },
        }),
        [byK],
      ),
    );
    h.op.processBatch(batchOf([ev("a", 0)], [10]), 0);
    h.op.processWatermark(20);
    expect(h.side("fired").records()).toEqual([{ value: "side 15", ts: 15 }]);
  });
});

describe("KeyedFunctionOperator: processing-time timers", () => {
  const fn: KeyedProcessFunction<string, Ev, string> = {
    processElement(e, ctx) {
      ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + e.v);
    },
    onTimer(t, ctx, out) {
      out.collect(`${ctx.getCurrentKey()}@${t} ${ctx.timeDomain()}`);
    },
  };

  it("fires on the wall clock in time order and flushes the output", async () => {
    const h = await harness(new KeyedFunctionOperator(fn, [byK]), { time: 1_000 });
    h.op.processBatch(batchOf([ev("a", 300), ev("b", 100), ev("c", 200)]), 0);
    h.clock.advanceTo(1_150);
    await settle();
    expect(h.out.values()).toEqual(["b@1100 processing"]);
    h.clock.advanceTo(1_300);
    await settle();
    expect(h.out.values()).toEqual(["b@1100 processing", "c@1200 processing", "a@1300 processing"]);
    expect(h.clock.pending).toBe(0);
  });

  it("emits processing-time timer output without event time, even on a timestamped stream", async () => {
    const h = await harness(new KeyedFunctionOperator(fn, [byK]), { time: 1_000 });
    h.op.processBatch(batchOf([ev("a", 100)], [5]), 0);
    h.clock.advanceTo(1_100);
    await settle();
    expect(h.out.records()).toEqual([{ value: "a@1100 processing", ts: null }]);
  });

  it("reschedules the wall-clock callback when an earlier timer is registered", async () => {
    const h = await harness(new KeyedFunctionOperator(fn, [byK]), { time: 0 });
    h.op.processBatch(batchOf([ev("late", 1_000)]), 0);
    h.op.processBatch(batchOf([ev("early", 10)]), 0);
    h.clock.advanceTo(10);
    await settle();
    expect(h.out.values()).toEqual(["early@10 processing"]);
    h.clock.advanceTo(1_000);
    await settle();
    expect(h.out.values()).toEqual(["early@10 processing", "late@1000 processing"]);
  });

  it("deleteProcessingTimeTimer keeps a deleted timer from firing", async () => {
    const del: KeyedProcessFunction<string, Ev, string> = {
      processElement(e, ctx) {
        if (e.v < 0) ctx.timerService.deleteProcessingTimeTimer(-e.v);
        else ctx.timerService.registerProcessingTimeTimer(e.v);
      },
      onTimer(t, ctx, out) {
        out.collect(`${ctx.getCurrentKey()}@${t}`);
      },
    };
    const h = await harness(new KeyedFunctionOperator(del, [byK]));
    h.op.processBatch(batchOf([ev("a", 50), ev("a", 80), ev("b", 50), ev("a", -50)]), 0);
    h.clock.advanceTo(100);
    await settle();
    expect(h.out.values()).toEqual(["b@50", "a@80"]);
  });

  it("close() stops pending processing-time timers", async () => {
    const h = await harness(new KeyedFunctionOperator(fn, [byK]));
    h.op.processBatch(batchOf([ev("a", 100)]), 0);
    expect(h.clock.pending).toBe(1);
    await h.op.close();
    expect(h.clock.pending).toBe(0);
  });
});

describe("RollingOperator", () => {
  it("reduce emits the running value per key, keeping timestamps", async () => {
    const h = await harness(new RollingOperator({ kind: "reduce", reduce: (a: Ev, b: Ev) => ev(a.k, a.v + b.v) }, [byK]));
    h.op.processBatch(batchOf([ev("a", 1), ev("b", 10), ev("a", 2)], [1, 2, 3]));
    h.op.processBatch(batchOf([ev("b", 20), ev("a", 3)], [4, 5]));
    expect(h.out.records()).toEqual([
      { value: ev("a", 1), ts: 1 },
      { value: ev("b", 10), ts: 2 },
      { value: ev("a", 3), ts: 3 },
      { value: ev("b", 30), ts: 4 },
      { value: ev("a", 6), ts: 5 },
    ]);
  });

  it("aggregate emits the current result per key", async () => {
    const h = await harness(new RollingOperator({ kind: "aggregate", aggregate: count() }, [byK]));
    h.op.processBatch(batchOf([ev("a", 0), ev("a", 0), ev("b", 0), ev("a", 0)]));
    expect(h.out.values()).toEqual([1, 2, 1, 3]);
  });

  it("aggregate with an object accumulator keeps it per key", async () => {
    const h = await harness(new RollingOperator({ kind: "aggregate", aggregate: avg((e: Ev) => e.v) }, [byK]));
    h.op.processBatch(batchOf([ev("a", 2), ev("b", 10), ev("a", 4), ev("b", 20)]));
    expect(h.out.values()).toEqual([2, 10, 3, 15]);
  });

  it("rejects an undefined key naming the operator", async () => {
    const h = await harness(new RollingOperator({ kind: "aggregate", aggregate: count() }, [() => undefined]), { name: "running-count" });
    expect(() => h.op.processBatch(batchOf([ev("a", 1)]))).toThrow(/"running-count"/);
  });
});

describe("KeyedFunctionOperator as a keyed co-process", () => {
  interface Order {
    user: string;
    amount: number;
  }
  interface Profile {
    id: string;
    name: string;
  }

  /** Joins orders with the latest profile of their user; orders before a profile wait in state. */
  function join(): KeyedCoProcessFunction<string, Order, Profile, string> {
    let name!: ValueState<string>;
    let waiting!: ListState<Order>;
    return {
      open(ctx) {
        name = ctx.valueState("name");
        waiting = ctx.listState("waiting");
      },
      processElement1(o, ctx, out) {
        const n = name.value();
        if (n === undefined) waiting.add(o);
        else out.collect(`${ctx.getCurrentKey()}:${n}:${o.amount}`);
      },
      processElement2(p, ctx, out) {
        name.update(p.name);
        for (const o of waiting.get()) out.collect(`${ctx.getCurrentKey()}:${p.name}:${o.amount} (waited)`);
        waiting.clear();
      },
    };
  }

  it("shares state per key between the two inputs", async () => {
    const h = await harness(new KeyedFunctionOperator(join(), [(o: Order) => o.user, (p: Profile) => p.id]));
    h.op.processBatch(batchOf<Order>([{ user: "u1", amount: 5 }, { user: "u2", amount: 7 }]), 0);
    h.op.processBatch(batchOf<Profile>([{ id: "u1", name: "Ada" }]), 1);
    h.op.processBatch(batchOf<Order>([{ user: "u1", amount: 9 }, { user: "u2", amount: 1 }]), 0);
    h.op.processBatch(batchOf<Profile>([{ id: "u2", name: "Bo" }]), 1);
    expect(h.out.values()).toEqual(["u1:Ada:5 (waited)", "u1:Ada:9", "u2:Bo:7 (waited)", "u2:Bo:1 (waited)"]);
  });

  it("uses each input's own key selector and names the operator when the second one fails", async () => {
    const h = await harness(new KeyedFunctionOperator(join(), [(o: Order) => o.user, () => undefined]), { name: "enrich" });
    h.op.processBatch(batchOf<Order>([{ user: "u1", amount: 5 }]), 0);
    expect(() => h.op.processBatch(batchOf<Profile>([{ id: "u1", name: "Ada" }]), 1)).toThrow(
      expect.objectContaining({ code: "WEIR_E_KEY_UNDEFINED", message: expect.stringContaining('"enrich"') }),
    );
  });

  it("fires timers registered from either input for the right key", async () => {
    const fn: KeyedCoProcessFunction<string, Order, Profile, string> = {
      processElement1(_o, ctx) {
        ctx.timerService.registerEventTimeTimer(ctx.timestamp()! + 1);
      },
      processElement2(_p, ctx) {
        ctx.timerService.registerEventTimeTimer(ctx.timestamp()! + 2);
      },
      onTimer(t, ctx, out) {
        out.collect(`${ctx.getCurrentKey()}@${t}`);
      },
    };
    const h = await harness(new KeyedFunctionOperator(fn, [(o: Order) => o.user, (p: Profile) => p.id]));
    h.op.processBatch(batchOf<Order>([{ user: "u1", amount: 1 }], [10]), 0);
    h.op.processBatch(batchOf<Profile>([{ id: "u2", name: "x" }], [10]), 1);
    h.op.processWatermark(20);
    expect(h.out.records()).toEqual([
      { value: "u1@11", ts: 11 },
      { value: "u2@12", ts: 12 },
    ]);
  });
});
