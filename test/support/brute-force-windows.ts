/**
 * An independent, deliberately naive reference for window results, for golden tests of the engine.
 * It shares no code with the window operator: every record is put into every window it belongs to by
 * enumeration, and sessions are found by sorting each key's timestamps. No lateness: every record
 * counts (as with an event-time job whose watermark never overtakes its records).
 *
 *   const expected = bruteForceWindows(records, sliding(10_000, 2_000), count());
 *   const actual = sortWindowResults(engineOutput.map((o) => ({ key: o.key, start: o.start, end: o.end, result: o.n })));
 *   expect(actual).toEqual(expected);
 */
import type { AggregateFunction } from "../../runtime/api/functions.js";
import type { WindowAssigner } from "../../runtime/api/windows.js";
import { canonicalKey, type CanonicalKey } from "../../runtime/common/keys.js";

/** One input record: its key, event time and value. */
export interface KeyedRecord<V = unknown> {
  key: unknown;
  ts: number;
  value: V;
}

/** The result of one (key, window). */
export interface WindowResult<R = unknown> {
  key: unknown;
  start: number;
  end: number;
  result: R;
}

/** Evaluates a window's values (in input order): a plain function or an AggregateFunction (add only). */
export type WindowEvaluator<V, R> = ((values: V[]) => R) | AggregateFunction<V, any, R>;

/** Expected results per (key, window), sorted by {@link compareWindowResults}. */
export function bruteForceWindows<V, R>(
  records: readonly KeyedRecord<V>[],
  assigner: WindowAssigner,
  evaluator: WindowEvaluator<V, R>,
): WindowResult<R>[] {
  const windows = assigner.kind === "session" ? sessionWindows(records, assigner.gap) : fixedWindows(records, assigner);
  const results = [...windows.values()].map((w) => ({ key: w.key, start: w.start, end: w.end, result: evaluate(evaluator, w.values) }));
  return sortWindowResults(results);
}

/** Sort results canonically: by key (numbers before strings, then by value), start, end. */
export function sortWindowResults<R>(results: readonly WindowResult<R>[]): WindowResult<R>[] {
  return [...results].sort(compareWindowResults);
}

/** The canonical order of window results. */
export function compareWindowResults(a: WindowResult<unknown>, b: WindowResult<unknown>): number {
  return compareKeys(canonicalKey(a.key), canonicalKey(b.key)) || a.start - b.start || a.end - b.end;
}

/** Windows of tumbling or sliding assigners, in the Flink sense: start ≡ offset (mod slide). */
export function windowsOf(ts: number, size: number, slide: number, offset: number): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const lastStart = ts - mod(ts - offset, slide);
  for (let start = lastStart; start > ts - size; start -= slide) out.push({ start, end: start + size });
  return out.reverse();
}

interface Bucket<V> {
  key: unknown;
  start: number;
  end: number;
  values: V[];
}

function fixedWindows<V>(records: readonly KeyedRecord<V>[], a: Exclude<WindowAssigner, { kind: "session" }>): Map<string, Bucket<V>> {
  const slide = a.kind === "sliding" ? a.slide : a.size;
  const buckets = new Map<string, Bucket<V>>();
  for (const r of records) {
    for (const w of windowsOf(r.ts, a.size, slide, a.offset)) {
      const id = `${idOf(r.key)}|${w.start}|${w.end}`;
      let b = buckets.get(id);
      if (b === undefined) buckets.set(id, (b = { key: r.key, start: w.start, end: w.end, values: [] }));
      b.values.push(r.value);
    }
  }
  return buckets;
}

/**
 * Sessions as Flink defines them: each record spans [ts, ts + gap); spans that overlap or touch
 * (next.ts <= current end) belong to one session. Values keep input order within a session.
 */
function sessionWindows<V>(records: readonly KeyedRecord<V>[], gap: number): Map<string, Bucket<V>> {
  const byKey = new Map<string, Array<{ r: KeyedRecord<V>; i: number }>>();
  records.forEach((r, i) => {
    const id = idOf(r.key);
    if (!byKey.has(id)) byKey.set(id, []);
    byKey.get(id)!.push({ r, i });
  });
  const buckets = new Map<string, Bucket<V>>();
  for (const [id, list] of byKey) {
    const sorted = [...list].sort((x, y) => x.r.ts - y.r.ts || x.i - y.i);
    const sessions: Array<{ start: number; end: number; members: Array<{ r: KeyedRecord<V>; i: number }> }> = [];
    for (const m of sorted) {
      const cur = sessions.at(-1);
      if (cur !== undefined && m.r.ts <= cur.end) {
        cur.end = Math.max(cur.end, m.r.ts + gap);
        cur.members.push(m);
      } else {
        sessions.push({ start: m.r.ts, end: m.r.ts + gap, members: [m] });
      }
    }
    for (const s of sessions) {
      const values = [...s.members].sort((x, y) => x.i - y.i).map((m) => m.r.value);
      buckets.set(`${id}|${s.start}|${s.end}`, { key: s.members[0]!.r.key, start: s.start, end: s.end, values });
    }
  }
  return buckets;
}

function evaluate<V, R>(evaluator: WindowEvaluator<V, R>, values: V[]): R {
  if (typeof evaluator === "function") return evaluator(values);
  let acc = evaluator.createAccumulator();
  for (const v of values) acc = evaluator.add(v, acc);
  return evaluator.getResult(acc);
}

function idOf(key: unknown): string {
  const ck = canonicalKey(key);
  return `${typeof ck}:${ck}`;
}

function compareKeys(a: CanonicalKey, b: CanonicalKey): number {
  if (typeof a !== typeof b) return typeof a === "number" ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
