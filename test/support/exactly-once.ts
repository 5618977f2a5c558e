/**
 * Expected output of test/jobs/exactly-once.ts by brute force, and a multiset comparison that names
 * the first differences (lost or duplicated lines) instead of dumping millions of lines.
 */
import { expect } from "vitest";
import { BUCKET_MS, keyOf } from "../jobs/exactly-once.js";
import { readJsonLines } from "./cluster.js";

/** Every line the job must commit, with its multiplicity. */
export function expectedLines(events: number, keys: number): Map<string, number> {
  const perKey = new Map<string, number>();
  const perBucket = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const key = keyOf(i, keys);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    const b = `${key}\u0000${Math.floor(i / BUCKET_MS)}`;
    perBucket.set(b, (perBucket.get(b) ?? 0) + 1);
  }
  const out = new Map<string, number>();
  for (const [key, n] of perKey) for (let c = 1; c <= n; c++) out.set(JSON.stringify(["c", key, c]), 1);
  for (const [kb, n] of perBucket) {
    const [key, bucket] = kb.split("\u0000");
    out.set(JSON.stringify(["b", key, Number(bucket), n]), 1);
  }
  return out;
}

/** Differences between committed lines and the expected multiset: missing and duplicated/unexpected lines. */
export function diffLines(actual: Iterable<unknown>, expected: Map<string, number>): { missing: string[]; extra: string[]; total: number } {
  const left = new Map(expected);
  const extra: string[] = [];
  let total = 0;
  for (const line of actual) {
    total++;
    const s = JSON.stringify(line);
    const n = left.get(s);
    if (n === undefined || n === 0) extra.push(s);
    else left.set(s, n - 1);
  }
  const missing = [...left].filter(([, n]) => n > 0).map(([s]) => s);
  return { missing, extra, total };
}

/** Expect the lines committed into `dir` to be exactly the job's brute-force result (naming the first differences). */
export function expectExactOutput(dir: string, events: number, keys: number): void {
  expectCommittedLines(dir, expectedLines(events, keys));
}

/** Expect the lines committed into `dir` to be exactly the multiset `expected` (naming the first differences). */
export function expectCommittedLines(dir: string, expected: Map<string, number>): void {
  const diff = diffLines(readJsonLines(dir), expected);
  expect({ missing: diff.missing.slice(0, 5), extra: diff.extra.slice(0, 5), counts: [diff.missing.length, diff.extra.length] }).toEqual({
    missing: [],
    extra: [],
    counts: [0, 0],
  });
}
