/**
 * What the Nexmark correctness test compares: the rows a job wrote with `--collect` (one file per sink
 * subtask) reduced to the query's result, against the brute-force rows, as sorted JSON strings.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NexmarkQuery, Row } from "../../bench/nexmark/query.js";

/** The rows of each `part-<subtask>` file in `dir`, in file order, by file name. */
export function collectedFiles(dir: string): Map<string, Row[]> {
  const files = new Map<string, Row[]>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir).filter((f) => f.startsWith("part-")).sort()) {
    const lines = readFileSync(join(dir, name), "utf8").split("\n").filter((l) => l !== "");
    files.set(name, lines.map((l) => JSON.parse(l) as Row));
  }
  return files;
}

/**
 * The query's result from its sink files: every row of an append-only query; for a query with an
 * `upsertKey`, the last row per key in each file (a key written by two subtasks is an error).
 */
export function resultOf(query: NexmarkQuery, files: ReadonlyMap<string, readonly Row[]>): Row[] {
  const upsertKey = query.upsertKey;
  if (!upsertKey) return [...files.values()].flat();
  const last = new Map<string, { file: string; row: Row }>();
  for (const [file, rows] of files) {
    for (const row of rows) {
      const key = upsertKey(row);
      const seen = last.get(key);
      if (seen && seen.file !== file) throw new Error(`${query.name}: key ${key} was written by two subtasks (${seen.file} and ${file})`);
      last.set(key, { file, row });
    }
  }
  return [...last.values()].map((e) => e.row);
}

/** Rows as sorted JSON strings (the form results are compared in). */
export const canonical = (rows: readonly Row[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/** Null when `got` and `want` hold the same rows (as multisets), else a short description of the difference. */
export function diffRows(got: readonly Row[], want: readonly Row[], show = 5): string | null {
  const g = canonical(got);
  const w = canonical(want);
  if (g.length === w.length && g.every((s, i) => s === w[i])) return null;
  const counts = new Map<string, number>();
  for (const s of w) counts.set(s, (counts.get(s) ?? 0) + 1);
  const extra: string[] = [];
  for (const s of g) {
    const n = counts.get(s) ?? 0;
    if (n === 0) extra.push(s);
    else counts.set(s, n - 1);
  }
  const missing = [...counts].flatMap(([s, n]) => Array<string>(n).fill(s));
  const list = (xs: string[]) => xs.slice(0, show).map((s) => `    ${s.length > 200 ? s.slice(0, 197) + "..." : s}`).join("\n");
  return [
    `got ${g.length} rows, expected ${w.length}: ${missing.length} missing, ${extra.length} extra`,
    ...(missing.length > 0 ? [`  missing (first ${Math.min(show, missing.length)}):`, list(missing)] : []),
    ...(extra.length > 0 ? [`  extra (first ${Math.min(show, extra.length)}):`, list(extra)] : []),
  ].join("\n");
}
