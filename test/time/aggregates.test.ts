import { describe, expect, it } from "vitest";
import { avg, count, max, min, sum } from "../../runtime/api/aggregates.js";
import type { AggregateFunction } from "../../runtime/api/functions.js";

/** Aggregate `values` in two halves and merge them, as a sliced or session window does. */
function split<I, A, O>(f: AggregateFunction<I, A, O>, values: I[], at: number): O {
  const fold = (vs: I[]) => vs.reduce((acc, v) => f.add(v, acc), f.createAccumulator());
  const right = fold(values.slice(at));
  const rightCopy = JSON.stringify(right);
  const merged = f.merge(f.merge(f.createAccumulator(), fold(values.slice(0, at))), right);
  // The second argument of merge must come out untouched: slices are shared between windows.
  expect(JSON.stringify(right)).toBe(rightCopy);
  return f.getResult(merged);
}

describe("aggregates", () => {
  const xs = [{ p: 3 }, { p: -1 }, { p: 10 }, { p: 4 }];

  it("count, sum, min, max and avg, whole and merged from parts", () => {
    const cases: Array<[AggregateFunction<{ p: number }, any, number>, number]> = [
      [count(), 4],
      [sum((x) => x.p), 16],
      [min((x) => x.p), -1],
      [max((x) => x.p), 10],
      [avg((x) => x.p), 4],
    ];
    for (const [f, expected] of cases) {
      for (let at = 0; at <= xs.length; at++) expect(split(f, xs, at)).toBe(expected);
    }
  });

  it("have neutral results for no input", () => {
    expect(count().getResult(count().createAccumulator())).toBe(0);
    expect(min((x: number) => x).getResult(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(avg((x: number) => x).getResult({ sum: 0, count: 0 })).toBeNaN();
  });
});
