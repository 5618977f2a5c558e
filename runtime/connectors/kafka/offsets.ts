/**
 * Where a Kafka source starts (and, bounded, stops) reading a partition: pure functions over offsets the
 * reader looked up, unit-tested without a broker.
 *
 *   const spec = startSpecFor(compiled, "clicks", 3);   // per partition, JSON-safe (kept in split state)
 *   const { position, stop } = resolvePartition(spec, { low: 0, high: 120 }, { committed: 42, bounded: true });
 */
import { WeirError } from "../../common/errors.js";

/** Where to start when there is nothing more specific. */
export type OffsetReset = "earliest" | "latest";

/**
 * Where a fresh job starts reading the partitions it finds at its first discovery (partitions that
 * appear later, or after a restore, are always read from the earliest offset, so nothing is skipped):
 * - `"earliest"` / `"latest"`: the log start / the end (the last stable offset under read_committed);
 * - `{ timestamp }`: the first record with a timestamp >= it (the end if none);
 * - `"committed"` or `{ committed: reset }`: the group's committed offsets (`groupId` required), and
 *   for partitions without one, `reset` (default "earliest");
 * - `{ offsets: { topic: { partition: offset } }, fallback }`: explicit offsets; partitions not listed
 *   start at `fallback` (default "earliest").
 * Offsets outside the log are moved into it (to its start or end).
 */
export type StartingOffsets =
  | OffsetReset
  | "committed"
  | { readonly timestamp: number }
  | { readonly committed: OffsetReset }
  | { readonly offsets: Readonly<Record<string, Readonly<Record<number, number>>>>; readonly fallback?: OffsetReset };

/** The start of one partition, as kept in split state until it is resolved to an offset. */
export type StartSpec =
  | { readonly kind: "earliest" }
  | { readonly kind: "latest" }
  | { readonly kind: "timestamp"; readonly timestamp: number }
  | { readonly kind: "committed"; readonly fallback: OffsetReset }
  | { readonly kind: "offset"; readonly offset: number; readonly fallback: OffsetReset };

/** Compiled starting offsets. */
export type CompiledStart =
  | { readonly kind: "reset"; readonly reset: OffsetReset }
  | { readonly kind: "timestamp"; readonly timestamp: number }
  | { readonly kind: "committed"; readonly fallback: OffsetReset }
  | { readonly kind: "explicit"; readonly offsets: ReadonlyMap<string, number>; readonly fallback: OffsetReset };

export const EARLIEST: StartSpec = Object.freeze({ kind: "earliest" });

function reset(value: unknown, field: string): OffsetReset {
  if (value === "earliest" || value === "latest") return value;
  throw new WeirError("WEIR_E_CONFIG", `${field} is ${JSON.stringify(value)}; expected "earliest" or "latest"`);
}

function offsetValue(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw new WeirError("WEIR_E_CONFIG", `${field} is ${JSON.stringify(value)}; expected an offset (an integer >= 0)`);
}

function explicitOffsets(offsets: Readonly<Record<string, Readonly<Record<number, number>>>>, field: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [topic, parts] of Object.entries(offsets)) {
    for (const [partition, offset] of Object.entries(parts ?? {})) {
      if (!/^\d+$/.test(partition)) throw new WeirError("WEIR_E_CONFIG", `${field}.${topic}: "${partition}" is not a partition number`);
      out.set(`${topic}\u0000${Number(partition)}`, offsetValue(offset, `${field}.${topic}.${partition}`));
    }
  }
  return out;
}

/** Validate `startingOffsets` (default "earliest"); `groupId` is required for committed offsets. */
export function compileStart(start: StartingOffsets | undefined, groupId: string | undefined, field: string): CompiledStart {
  const s = start ?? "earliest";
  const needGroup = () => {
    if (!groupId) throw new WeirError("WEIR_E_CONFIG", `${field} uses committed offsets, which needs a groupId`);
  };
  if (s === "earliest" || s === "latest") return { kind: "reset", reset: s };
  if (s === "committed") {
    needGroup();
    return { kind: "committed", fallback: "earliest" };
  }
  if (typeof s === "object" && s !== null) {
    if ("timestamp" in s) {
      if (!(Number.isFinite(s.timestamp) && s.timestamp >= 0)) throw new WeirError("WEIR_E_CONFIG", `${field}.timestamp must be epoch ms >= 0, got ${s.timestamp}`);
      return { kind: "timestamp", timestamp: s.timestamp };
    }
    if ("committed" in s) {
      needGroup();
      return { kind: "committed", fallback: reset(s.committed, `${field}.committed`) };
    }
    if ("offsets" in s) {
      const fallback = reset(s.fallback ?? "earliest", `${field}.fallback`);
      return { kind: "explicit", offsets: explicitOffsets(s.offsets, `${field}.offsets`), fallback };
    }
  }
  throw new WeirError(
    "WEIR_E_CONFIG",
    `${field} is ${JSON.stringify(s)}; expected "earliest", "latest", "committed", { timestamp }, { committed: "earliest" | "latest" } or { offsets, fallback }`,
  );
}

/** The start of a partition found at a fresh job's first discovery. */
export function startSpecFor(start: CompiledStart, topic: string, partition: number): StartSpec {
  switch (start.kind) {
    case "reset":
      return start.reset === "earliest" ? EARLIEST : { kind: "latest" };
    case "timestamp":
      return { kind: "timestamp", timestamp: start.timestamp };
    case "committed":
      return { kind: "committed", fallback: start.fallback };
    case "explicit": {
      const offset = start.offsets.get(`${topic}\u0000${partition}`);
      if (offset !== undefined) return { kind: "offset", offset, fallback: start.fallback };
      return start.fallback === "earliest" ? EARLIEST : { kind: "latest" };
    }
  }
}

/** The offsets of a partition the reader looked up. */
export interface PartitionBounds {
  /** The log start offset. */
  readonly low: number;
  /** The end: the next offset to be written (the last stable offset under read_committed). */
  readonly high: number;
}

/** Lookups a start needs beyond the bounds. */
export interface StartLookups {
  /** The group's committed offset (undefined or < 0: none). */
  readonly committed?: number | undefined;
  /** The first offset with a timestamp >= the spec's (undefined or < 0: none, i.e. the end). */
  readonly byTimestamp?: number | undefined;
}

/** The first offset to read of a partition with start `spec`, inside [low, high]. */
export function startOffset(spec: StartSpec, bounds: PartitionBounds, lookups: StartLookups = {}): number {
  let offset: number;
  switch (spec.kind) {
    case "earliest":
      offset = bounds.low;
      break;
    case "latest":
      offset = bounds.high;
      break;
    case "timestamp":
      offset = lookups.byTimestamp !== undefined && lookups.byTimestamp >= 0 ? lookups.byTimestamp : bounds.high;
      break;
    case "committed":
      offset = lookups.committed !== undefined && lookups.committed >= 0 ? lookups.committed : spec.fallback === "earliest" ? bounds.low : bounds.high;
      break;
    case "offset":
      offset = spec.offset;
      break;
  }
  return clampOffset(offset, bounds);
}

/** `offset` moved into [low, high]. */
export function clampOffset(offset: number, bounds: PartitionBounds): number {
  return Math.min(Math.max(offset, bounds.low), bounds.high);
}
