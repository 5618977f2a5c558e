/**
 * Builders shared by the window operator tests: specs, operators under a harness, and a window
 * function that tags each result with its key and window (the shape brute-force-windows produces).
 */
import type { AggregateFunction, ProcessWindowFunction, ReduceFunction } from "../../runtime/api/functions.js";
import type { WindowAssigner } from "../../runtime/api/windows.js";
import { batchOf, type Batch } from "../../runtime/common/elements.js";
import type { WindowFunctionSpec } from "../../runtime/graph/stream-graph.js";
import { WindowOperator, type WindowOperatorSpec } from "../../runtime/operators/window-operator.js";
import type { WindowResult } from "./brute-force-windows.js";
import { harness, type Harness } from "./operator-harness.js";

/** The record type of the window tests. */
export interface Rec {
  key: string;
  ts: number;
  v: number;
}

/** A record; `v` defaults to 1. */
export function rec(key: string, ts: number, v = 1): Rec {
  return { key, ts, v };
}

/** A batch of records stamped with their `ts`. */
export function recs(...rs: Rec[]): Batch<Rec> {
  return batchOf(rs, rs.map((r) => r.ts));
}

/** A window function that emits `{ key, start, end, result }` for each result it is given. */
export function tagged<V>(): ProcessWindowFunction<V, WindowResult<V>, string> {
  return {
    process(key, ctx, elements, out) {
      for (const result of elements) out.collect({ key, start: ctx.window.start, end: ctx.window.end, result });
    },
  };
}

/** Process-function spec that emits `{ key, start, end, result: f(elements) }`. */
export function processAll<R>(f: (elements: Rec[]) => R): WindowFunctionSpec {
  return {
    kind: "process",
    window: {
      process(key: string, ctx, elements: Iterable<Rec>, out) {
        out.collect({ key, start: ctx.window.start, end: ctx.window.end, result: f([...elements]) });
      },
    } satisfies ProcessWindowFunction<Rec, WindowResult<R>, string>,
  };
}

/** Aggregate spec, tagged with key and window. */
export function aggregateTagged(agg: AggregateFunction<Rec, any, unknown>): WindowFunctionSpec {
  return { kind: "aggregate", aggregate: agg, window: tagged() };
}

/** Reduce spec, tagged with key and window. */
export function reduceTagged(fn: ReduceFunction<Rec>): WindowFunctionSpec {
  return { kind: "reduce", reduce: fn, window: tagged() };
}

export interface WindowOpOptions {
  lateness?: number;
  lateTag?: string | null;
  name?: string;
  time?: number;
}

/** A window spec keyed by `Rec.key`. */
export function windowSpec(assigner: WindowAssigner, fn: WindowFunctionSpec, opts: WindowOpOptions = {}): WindowOperatorSpec {
  return { kind: "window", assigner, allowedLateness: opts.lateness ?? 0, lateDataTag: opts.lateTag ?? null, fn };
}

/** An opened window operator keyed by `Rec.key`, under a harness. */
export function windowHarness(assigner: WindowAssigner, fn: WindowFunctionSpec, opts: WindowOpOptions = {}): Promise<Harness<WindowOperator>> {
  const op = new WindowOperator(windowSpec(assigner, fn, opts), [(r: Rec) => r.key]);
  return harness(op, { name: opts.name ?? "windows", time: opts.time ?? 0 });
}
