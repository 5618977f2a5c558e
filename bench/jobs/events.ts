/**
 * What the benchmark jobs share: the event they generate and their argument parsing. Events are small
 * objects with numeric fields, the cheapest realistic record, so the figures measure the engine rather
 * than user code.
 */
import { parseArgs } from "node:util";
import type { Sink } from "weir";

/**
 * A generated event: `key` has 1000 distinct values; `ts` is epoch milliseconds (a double, as real
 * event times are) advancing 1 ms every 100 events; `id` and `value` stay small integers.
 */
export interface BenchEvent {
  id: number;
  value: number;
  key: number;
  ts: number;
}

/** Distinct keys of the keyed benchmarks. */
export const KEYS = 1000;

/** Event time of event 0: 2025-01-01T00:00:00Z. */
const EPOCH = Date.UTC(2025, 0, 1);

/**
 * Event `i`; deterministic, so every process would generate the same stream. `value` is computed
 * without overflowing 32-bit integers on purpose: a field that holds small integers first and doubles
 * later makes V8 deprecate the objects' hidden class, which costs records decoded by msgpackr dearly
 * (see bench/README.md); the benchmarks measure the engine, not that hazard.
 */
export function event(i: number): BenchEvent {
  return { id: i, value: ((i % 1009) * 7919) % 1000, key: i % KEYS, ts: EPOCH + Math.floor(i / 100) };
}

/** The map step: a new object (as real maps do), so allocation is part of the measure. */
export function enrich(e: BenchEvent): BenchEvent {
  return { id: e.id, value: e.value * 2 + 1, key: e.key, ts: e.ts };
}

/** The filter step: keeps about 9 events in 10, so most records reach the sink. */
export function keep(e: BenchEvent): boolean {
  return e.value % 10 !== 3;
}

/** `--events N` (default 10 million): how many events the generator emits across all subtasks. */
export function eventCount(args: readonly string[]): number {
  const { values } = parseArgs({ args: [...args], options: { events: { type: "string", default: "10000000" } } });
  const n = Number(values.events);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`--events must be a non-negative integer, got "${values.events}"`);
  return n;
}

/** The line a {@link countingSink} prints per subtask at the end of input: `bench-sink <total>`. */
export const SINK_LINE = /^bench-sink (\d+)$/;

/**
 * A sink that discards records but counts them (or adds up `weigh(record)`) and prints the total on
 * the TaskManager's stdout when its input ends, so the benchmark can check that everything arrived.
 */
export function countingSink<T>(weigh?: (value: T) => number): Sink<T> {
  return {
    name: "Counting Discard Sink",
    createWriter() {
      let total = 0;
      return {
        write(values) {
          if (!weigh) total += values.length;
          else for (let i = 0; i < values.length; i++) total += weigh(values[i]!);
        },
        flush: () => new Promise<void>((resolve) => process.stdout.write(`bench-sink ${total}\n`, () => resolve())),
      };
    },
  };
}

/** What the sinks of the stateless benchmarks receive for `n` events: those that pass the filter. */
export function expectedAfterFilter(n: number): number {
  let kept = 0;
  for (let i = 0; i < n; i++) if (keep(enrich(event(i)))) kept++;
  return kept;
}
