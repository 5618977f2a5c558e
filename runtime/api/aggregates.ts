/**
 * Ready-made aggregate functions for windows and rolling aggregations.
 *
 *   stream.keyBy((b) => b.auction).window(sliding(10_000, 2_000)).aggregate(count())
 *   stream.keyBy((b) => b.bidder).window(tumbling(60_000)).aggregate(avg((b) => b.price))
 *
 * Merge contract (what sliced windows rely on): `merge(a, b)` may reuse and return `a`, but never
 * modifies `b`, because one slice's accumulator is merged into several windows' results.
 */
import type { AggregateFunction } from "./functions.js";

/** Accumulator of {@link avg}. */
export interface AvgAccumulator {
  sum: number;
  count: number;
}

/** The number of records. */
export function count<T = unknown>(): AggregateFunction<T, number, number> {
  return {
    createAccumulator: () => 0,
    add: (_value, acc) => acc + 1,
    merge: (a, b) => a + b,
    getResult: (acc) => acc,
  };
}

/** The sum of `fn` over the records (0 for none). */
export function sum<T>(fn: (value: T) => number): AggregateFunction<T, number, number> {
  return {
    createAccumulator: () => 0,
    add: (value, acc) => acc + fn(value),
    merge: (a, b) => a + b,
    getResult: (acc) => acc,
  };
}

/** The smallest value of `fn` over the records (+Infinity for none). */
export function min<T>(fn: (value: T) => number): AggregateFunction<T, number, number> {
  return {
    createAccumulator: () => Number.POSITIVE_INFINITY,
    add: (value, acc) => Math.min(acc, fn(value)),
    merge: (a, b) => Math.min(a, b),
    getResult: (acc) => acc,
  };
}

/** The largest value of `fn` over the records (-Infinity for none). */
export function max<T>(fn: (value: T) => number): AggregateFunction<T, number, number> {
  return {
    createAccumulator: () => Number.NEGATIVE_INFINITY,
    add: (value, acc) => Math.max(acc, fn(value)),
    merge: (a, b) => Math.max(a, b),
    getResult: (acc) => acc,
  };
}

/** The arithmetic mean of `fn` over the records (NaN for none). */
export function avg<T>(fn: (value: T) => number): AggregateFunction<T, AvgAccumulator, number> {
  return {
    createAccumulator: () => ({ sum: 0, count: 0 }),
    add: (value, acc) => {
      acc.sum += fn(value);
      acc.count++;
      return acc;
    },
    // Reuses `a` only: `b` may be a window slice that other windows still read.
    merge: (a, b) => {
      a.sum += b.sum;
      a.count += b.count;
      return a;
    },
    getResult: (acc) => (acc.count === 0 ? Number.NaN : acc.sum / acc.count),
  };
}
