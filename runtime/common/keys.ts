/**
 * Keys, their stable hash, and key groups.
 *
 * A key is hashed the same way in every process (no per-process seeds), so a record's key group is a
 * pure function of its key and the vertex's `maxParallelism`. A subtask owns a contiguous range of key
 * groups (the same arithmetic as Flink's KeyGroupRangeAssignment), so rescaling moves whole groups.
 */
import { WeirError } from "./errors.js";

/** Default number of key groups, as in Flink for small parallelism. */
export const DEFAULT_MAX_PARALLELISM = 128;
/** Upper bound on key groups (Flink's limit is 2^15). */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

/** A value usable as a Map key that is equal for equal keys: the key itself for strings and numbers. */
export type CanonicalKey = string | number;

/**
 * Map a user key to a value that compares equal for equal keys. Strings and finite numbers are their
 * own canonical form; anything else becomes a tagged JSON string with sorted object keys.
 */
export function canonicalKey(key: unknown): CanonicalKey {
  if (typeof key === "string") return key;
  if (typeof key === "number" && Number.isFinite(key)) return key;
  return "\u0000" + stableStringify(key);
}

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return `${value}n`;
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    if (value === undefined) return "undefined";
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(stableStringify).join(",") + "]";
  if (value instanceof Date) return `D${value.getTime()}`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + stableStringify(obj[k])).join(",") + "}";
}

/** MurmurHash3 (x86, 32 bit) finalisation mix of a 32-bit integer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 over the UTF-16 code units of a string, seed 0. */
export function murmurString(s: string): number {
  let h = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= n;
  return fmix32(h);
}

/** A stable, non-negative 32-bit hash of a canonical key. */
export function hashKey(key: CanonicalKey): number {
  if (typeof key === "number" && Number.isInteger(key) && key >= -0x80000000 && key <= 0x7fffffff) {
    return fmix32(key | 0);
  }
  return murmurString(typeof key === "string" ? key : String(key));
}

/** The key group of a canonical key. */
export function keyGroupOf(key: CanonicalKey, maxParallelism: number): number {
  return hashKey(key) % maxParallelism;
}

/** The subtask index that owns a key group. */
export function operatorIndexForKeyGroup(keyGroup: number, maxParallelism: number, parallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** An inclusive range of key groups. */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

/** The contiguous key groups owned by subtask `index` of `parallelism`. */
export function keyGroupRangeFor(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  const start = Math.floor((index * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((index + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}

/** Check a max parallelism setting against a parallelism, naming the operator when it is wrong. */
export function checkMaxParallelism(operator: string, parallelism: number, maxParallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
    throw new WeirError(
      "WEIR_E_INVALID_GRAPH",
      `operator "${operator}": maxParallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`,
    );
  }
  if (parallelism > maxParallelism) {
    throw new WeirError(
      "WEIR_E_INVALID_GRAPH",
      `operator "${operator}": parallelism ${parallelism} exceeds maxParallelism ${maxParallelism}`,
    );
  }
}
