/**
 * What the benchmark jobs share: the event they generate and their argument parsing. Events are small
 * objects with numeric fields, the cheapest realistic record, so the figures measure the engine rather
 * than user code.
 */
import { parseArgs } from "node:util";

/** A generated event: `key` has 1000 distinct values; `ts` advances 1 ms every 100 events. */
export interface BenchEvent {
  id: number;
  value: number;
  key: number;
  ts: number;
}

/** Distinct keys of the keyed benchmarks. */
export const KEYS = 1000;

/** Event `i`; deterministic, so every process would generate the same stream. */
export function event(i: number): BenchEvent {
  return { id: i, value: (i * 7919) % 1000, key: i % KEYS, ts: Math.floor(i / 100) };
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
