/**
 * Structural validation of a decoded `_metadata` body: a body that passed its checksum can still be
 * written by a buggy or foreign writer, and a restore must fail here, naming the field, rather than
 * deep inside a task.
 */
import type { CheckpointMetadata } from "../../snapshot-types.js";

/** Thrown with "<json path>: expected ..." for the first field that does not fit. */
export class InvalidMetadata extends Error {}

type Obj = Record<string, unknown>;

function fail(path: string, expected: string, got?: unknown): never {
  const shown = got === undefined ? "" : `, got ${JSON.stringify(got)?.slice(0, 60) ?? String(got)}`;
  throw new InvalidMetadata(`${path}: expected ${expected}${shown}`);
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "an object", v);
  return v as Obj;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, "an array", v);
  return v;
}

function int(v: unknown, path: string, min: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) fail(path, `an integer >= ${min}`, v);
  return v as number;
}

function str(v: unknown, path: string): string {
  if (typeof v !== "string") fail(path, "a string", v);
  return v;
}

function oneOf<T extends string | number>(v: unknown, path: string, values: readonly T[]): T {
  if (!values.includes(v as T)) fail(path, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`, v);
  return v as T;
}

function fileRef(v: unknown, path: string): number {
  const o = obj(v, path);
  if (str(o.url, `${path}.url`) === "") fail(`${path}.url`, "a non-empty URL");
  if (!/^[0-9a-f]{64}$/.test(str(o.sha256, `${path}.sha256`))) fail(`${path}.sha256`, "64 lowercase hex digits", o.sha256);
  return int(o.size, `${path}.size`, 0);
}

function keyedHandle(v: unknown, path: string, maxParallelism: number): void {
  const o = obj(v, path);
  const size = fileRef(o.file, `${path}.file`);
  const start = int(o.keyGroupStart, `${path}.keyGroupStart`, 0);
  const offsets = arr(o.offsets, `${path}.offsets`);
  if (offsets.length < 1) fail(`${path}.offsets`, "at least one offset");
  offsets.forEach((x, i) => int(x, `${path}.offsets[${i}]`, i === 0 ? 0 : (offsets[i - 1] as number)));
  if (start + offsets.length - 1 > maxParallelism) {
    fail(`${path}`, `key groups within 0..${maxParallelism - 1}`, `${start}..${start + offsets.length - 2}`);
  }
  if ((offsets[offsets.length - 1] as number) > size) fail(`${path}.offsets`, `offsets within the file's ${size} bytes`);
}

function listState(v: unknown, path: string): void {
  const o = obj(v, path);
  str(o.name, `${path}.name`);
  oneOf(o.mode, `${path}.mode`, ["split", "union"] as const);
  arr(o.items, `${path}.items`);
}

/** Raw state files: absent, or an array of file refs. */
function rawFiles(v: unknown, path: string): unknown[] {
  if (v === undefined) return [];
  const files = arr(v, path);
  files.forEach((f, i) => fileRef(f, `${path}[${i}]`));
  return files;
}

/** A finished subtask holds no state. */
function finishedSubtask(st: Obj, lists: unknown[], raw: unknown[], path: string): void {
  if (st.finished !== true) fail(`${path}.finished`, "true (or no field)", st.finished);
  if (st.keyed !== null) fail(`${path}.keyed`, "null for a finished subtask");
  if (lists.length > 0) fail(`${path}.lists`, "no lists for a finished subtask", lists.length);
  if (raw.length > 0) fail(`${path}.raw`, "no raw state for a finished subtask", raw.length);
}

function operator(v: unknown, path: string, seen: Set<string>): void {
  const o = obj(v, path);
  const uid = str(o.uid, `${path}.uid`);
  if (uid === "" || seen.has(uid)) fail(`${path}.uid`, "a non-empty uid, unique in the snapshot", uid);
  seen.add(uid);
  str(o.name, `${path}.name`);
  const parallelism = int(o.parallelism, `${path}.parallelism`, 1);
  const maxParallelism = int(o.maxParallelism, `${path}.maxParallelism`, parallelism);
  const subtasks = arr(o.subtasks, `${path}.subtasks`);
  if (subtasks.length !== parallelism) fail(`${path}.subtasks`, `${parallelism} entries (one per subtask)`, subtasks.length);
  subtasks.forEach((s, i) => {
    const sp = `${path}.subtasks[${i}]`;
    const st = obj(s, sp);
    if (st.keyed !== null) keyedHandle(st.keyed, `${sp}.keyed`, maxParallelism);
    const lists = arr(st.lists, `${sp}.lists`);
    lists.forEach((l, j) => listState(l, `${sp}.lists[${j}]`));
    const raw = rawFiles(st.raw, `${sp}.raw`);
    if (st.finished !== undefined) finishedSubtask(st, lists, raw, sp);
  });
}

/** `body` as CheckpointMetadata, or InvalidMetadata naming the first field that does not fit. */
export function validateMetadata(body: unknown): CheckpointMetadata {
  const o = obj(body, "$");
  oneOf(o.format, "$.format", ["weir-snapshot"] as const);
  oneOf(o.version, "$.version", [1] as const);
  oneOf(o.kind, "$.kind", ["checkpoint", "savepoint"] as const);
  str(o.jobId, "$.jobId");
  str(o.jobName, "$.jobName");
  int(o.checkpointId, "$.checkpointId", 0);
  int(o.timestamp, "$.timestamp", 0);
  const seen = new Set<string>();
  arr(o.operators, "$.operators").forEach((op, i) => operator(op, `$.operators[${i}]`, seen));
  return body as CheckpointMetadata;
}
