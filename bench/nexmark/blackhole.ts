/**
 * The Nexmark blackhole sink (the reference's `'connector' = 'blackhole'`), which still proves what
 * arrived: it discards rows but counts them and folds them into an order-independent hash. When its
 * input ends, each subtask prints on the TaskManager's stdout
 *
 *   bench-sink <rows>                      (bench/jobs/events.ts `SINK_LINE`)
 *   bench-hash <subtask> <epoch ms> <hash>  (a `BenchLines` mark)
 *
 * `hash` is the sum mod 2^32 of a 32-bit hash per row, so the subtasks' values added mod 2^32 give the
 * same figure whatever the parallelism, partitioning or arrival order. For a query whose result is an
 * updating table (`upsertKey`, q4) the rows are upserts whose number depends on arrival order; the
 * hash is then that of the table they leave, the last row per key (all upserts of a key come from one
 * subtask), so it is comparable across runs and backends; `rows` still counts the upserts. A row's hash is FNV-1a over its
 * fields (numbers by their float64 bits, strings by their UTF-16 code units, two per step, and their
 * length, anything else by its JSON), finished with an integer mix; no string is built per row. About
 * 100-200 ns for a q0 row (most of it the ~70 characters of `extra`). Stable from run to run of this
 * code, not comparable with other implementations.
 */
import type { Sink } from "weir";
import type { Row } from "./query.js";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);

function mixNumber(h: number, v: number): number {
  float[0] = v;
  h = Math.imul(h ^ words[0]!, FNV_PRIME);
  return Math.imul(h ^ words[1]!, FNV_PRIME);
}

/** Two UTF-16 code units per step (half the multiplications of one per unit), then the length. */
function mixString(h: number, s: string): number {
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = Math.imul(h ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)), FNV_PRIME);
  if (i < n) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return Math.imul(h ^ n, FNV_PRIME);
}

/** A 32-bit finaliser (Wellons' lowbias32), so that sums of row hashes spread over all bits. */
function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 32-bit hash of one row (unsigned). */
export function rowHash(row: Row): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (typeof v === "number") h = mixNumber(h, v);
    else if (typeof v === "string") h = mixString(h, v);
    else h = mixString(h, JSON.stringify(v) ?? "undefined");
  }
  return finish(Math.imul(h ^ row.length, FNV_PRIME));
}

/** The order-independent hash of `rows` (what the subtasks' `bench-hash` values add up to, mod 2^32). */
export function rowsHash(rows: Iterable<Row>): number {
  let sum = 0;
  for (const row of rows) sum = (sum + rowHash(row)) >>> 0;
  return sum;
}

/**
 * Discards rows, counting and hashing them; prints the totals at the end of input (see the module
 * comment). With `upsertKey` it keeps the last row per key and hashes those at the end.
 */
export function blackholeSink(upsertKey?: (row: Row) => string): Sink<Row> {
  return {
    name: "Nexmark Blackhole Sink",
    createWriter(ctx) {
      let count = 0;
      let hash = 0;
      const last = new Map<string, Row>();
      return {
        write(rows) {
          count += rows.length;
          if (upsertKey !== undefined) for (let i = 0; i < rows.length; i++) last.set(upsertKey(rows[i]!), rows[i]!);
          else for (let i = 0; i < rows.length; i++) hash = (hash + rowHash(rows[i]!)) >>> 0;
        },
        flush() {
          if (upsertKey !== undefined) hash = rowsHash(last.values());
          const text = `bench-sink ${count}\nbench-hash ${ctx.subtaskIndex} ${Date.now()} ${hash}\n`;
          return new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
        },
      };
    },
  };
}
