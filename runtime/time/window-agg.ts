/**
 * One accumulator interface for the three kinds of window function (reduce, aggregate, process), so
 * slices and sessions store and combine contents the same way whatever the user function is.
 *
 * Ownership rule, which sliced windows depend on: a slice's accumulator is read by every window the
 * slice belongs to, so combining never modifies the accumulator merged *from*: `merge(a, b)` may reuse
 * `a` (which the caller owns, e.g. from `copy`) but leaves `b` alone.
 */
import type { TimeWindow } from "../api/functions.js";
import type { WindowFunctionSpec } from "../graph/stream-graph.js";

/** How window contents accumulate and combine. */
export interface WindowAgg {
  /** The accumulator of a window (slice, session) whose first record is `value`. */
  first(value: unknown): unknown;
  /** Add a record; may update `acc` in place and returns the new accumulator. */
  add(value: unknown, acc: unknown): unknown;
  /** Fold `b` into `a`; `a` is owned by the caller and may be reused, `b` is left untouched. */
  merge(a: unknown, b: unknown): unknown;
  /** An accumulator equal to `acc` that the caller owns (may merge into it). */
  copy(acc: unknown): unknown;
  /** The value a window yields: the aggregate's result, the reduced value, or the element list. */
  result(acc: unknown): unknown;
}

/** Called for each (key, window) that fires, with the window's combined accumulator (read-only). */
export type FireCallback = (key: unknown, window: TimeWindow, acc: unknown) => void;

/** The accumulator semantics of a window function spec. */
export function windowAgg(fn: WindowFunctionSpec): WindowAgg {
  switch (fn.kind) {
    case "aggregate":
      return aggregateAgg(fn.aggregate);
    case "reduce":
      return reduceAgg(fn.reduce);
    case "process":
      return elementsAgg();
  }
}

function aggregateAgg(f: Extract<WindowFunctionSpec, { kind: "aggregate" }>["aggregate"]): WindowAgg {
  return {
    first: (v) => f.add(v, f.createAccumulator()),
    add: (v, acc) => f.add(v, acc),
    merge: (a, b) => f.merge(a, b),
    // A fresh accumulator is the only thing merge may safely reuse.
    copy: (acc) => f.merge(f.createAccumulator(), acc),
    result: (acc) => f.getResult(acc),
  };
}

/**
 * Reduce: the accumulator is the reduced value itself. Values are shared between sliding windows,
 * so the reduce function must return a new value rather than modify its first argument there.
 */
function reduceAgg(f: Extract<WindowFunctionSpec, { kind: "reduce" }>["reduce"]): WindowAgg {
  return {
    first: (v) => v,
    add: (v, acc) => f(acc, v),
    merge: (a, b) => f(a, b),
    copy: (acc) => acc,
    result: (acc) => acc,
  };
}

/** Process: the accumulator is the list of elements, in arrival order within a slice or session. */
function elementsAgg(): WindowAgg {
  return {
    first: (v) => [v],
    add: (v, acc) => {
      (acc as unknown[]).push(v);
      return acc;
    },
    merge: (a, b) => {
      const into = a as unknown[];
      // A loop rather than push(...b): spreading a large window would overflow the call stack.
      for (const v of b as unknown[]) into.push(v);
      return into;
    },
    copy: (acc) => (acc as unknown[]).slice(),
    result: (acc) => acc,
  };
}
