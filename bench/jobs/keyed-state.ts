/**
 * Keyed-state benchmark job: source -> keyBy(key) -> a KeyedProcessFunction that reads and updates a
 * ValueState<number> (a rolling count) per record and emits the new count -> counting sink (chained).
 * One record = one state read + one state write. Keys are a permutation of 0..keys-1 per pass, so the
 * first `keys` events create every key once and each later pass touches every key once again.
 *
 *   weir run bench/jobs/keyed-state.ts -p 2 -m 2 -- --events 10000000 --keys 100000     # bounded
 *   weir run bench/jobs/keyed-state.ts -p 2 -m 2 -- --keys 1000000 --rate 2000 --lag   # unbounded
 *
 * Unbounded (no `--events`): the first `keys` events go at full speed (building the state), then
 * `--rate` events/s in all. The process function prints, on the TaskManager's stdout, `bench-open
 * <subtask> <epoch ms>` when it opens (state restored) and `bench-first ...` at its first record;
 * with `--lag`, `bench-lag <subtask> <epoch ms> <max ms>` each second: the longest event-loop delay of
 * its TaskManager in that second (`monitorEventLoopDelay`), which shows a checkpoint's pause, and
 * `bench-gc ...` likewise with its longest garbage-collection pause.
 */
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Collector, KeyedProcessContext, KeyedProcessFunction, KeyedRuntimeContext, StreamEnvironment, ValueState } from "weir";
import { countingSink } from "./events.js";
import { phasedSource } from "./phased-source.js";

/** A keyed event: `key` in 0..keys-1. */
export interface KeyedEvent {
  id: number;
  key: number;
}

/** Odd and not a multiple of 5: coprime with any count of keys of the form 2^a 5^b (1000, 100000, 10^6). */
const STRIDE = 7919;

/** Event `i` for `keys` keys: a permutation of the keys in every pass of `keys` events. */
export function keyedEvent(i: number, keys: number): KeyedEvent {
  return { id: i, key: (i * STRIDE) % keys };
}

export interface KeyedStateArgs {
  /** Events in all, or null for an unbounded stream. */
  events: number | null;
  keys: number;
  /** Events/s after the first `keys` (unbounded only; null: full speed throughout). */
  rate: number | null;
  lag: boolean;
}

export function parseKeyedStateArgs(args: readonly string[]): KeyedStateArgs {
  const { values } = parseArgs({
    args: [...args],
    options: { events: { type: "string" }, keys: { type: "string", default: "1000000" }, rate: { type: "string" }, lag: { type: "boolean", default: false } },
  });
  const num = (name: string, v: string | undefined) => {
    if (v === undefined) return null;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  return { events: num("events", values.events), keys: num("keys", values.keys)!, rate: num("rate", values.rate), lag: values.lag };
}

/** Milliseconds between two `bench-lag` lines. */
const LAG_PERIOD_MS = 1_000;

class RollingCount implements KeyedProcessFunction<number, KeyedEvent, number> {
  private count!: ValueState<number>;
  private subtask = 0;
  private seen = false;
  private lag: LagReports | null = null;

  constructor(private readonly monitorLag: boolean) {}

  open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>("count", 0);
    this.subtask = ctx.subtaskIndex;
    process.stdout.write(`bench-open ${this.subtask} ${Date.now()}\n`);
    if (this.monitorLag) this.lag = startLagReports(this.subtask);
  }

  processElement(_e: KeyedEvent, _ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    if (!this.seen) {
      this.seen = true;
      process.stdout.write(`bench-first ${this.subtask} ${Date.now()}\n`);
    }
    const n = this.count.value()! + 1;
    this.count.update(n);
    out.collect(n);
  }

  close(): void {
    if (this.lag) {
      clearInterval(this.lag.timer);
      this.lag.histogram.disable();
      this.lag.gc.disconnect();
    }
  }
}

interface LagReports {
  histogram: IntervalHistogram;
  gc: PerformanceObserver;
  timer: NodeJS.Timeout;
}

/** Each second: `bench-lag` (longest event-loop delay) and `bench-gc` (longest GC pause) of this process. */
function startLagReports(subtask: number): LagReports {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let gcMax = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration);
  });
  gc.observe({ entryTypes: ["gc"] });
  const timer = setInterval(() => {
    const now = Date.now();
    process.stdout.write(`bench-lag ${subtask} ${now} ${(histogram.max / 1e6).toFixed(1)}\nbench-gc ${subtask} ${now} ${gcMax.toFixed(1)}\n`);
    histogram.reset();
    gcMax = 0;
  }, LAG_PERIOD_MS);
  timer.unref();
  return { histogram, gc, timer };
}

export default (env: StreamEnvironment, args: string[]) => {
  const a = parseKeyedStateArgs(args);
  env.setJobName("bench-keyed-state");
  const keys = a.keys;
  env
    .fromSource(phasedSource({ generate: (i) => keyedEvent(i, keys), count: a.events, fastUntil: keys, ratePerSecond: a.rate }))
    .uid("events")
    .keyBy((e) => e.key)
    .process(new RollingCount(a.lag))
    .uid("rolling-count")
    .sinkTo(countingSink()) // one record per event: the sinks' totals add up to the events
    .uid("sink");
};
