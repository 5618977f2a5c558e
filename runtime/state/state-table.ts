/**
 * The in-memory form of one state of a backend (all of it for the heap backend, the loaded working
 * set for RocksDB): per key group a Map from canonical key to a cell that holds the user's key object
 * (snapshots need it) and the stored value. A map state's stored value is a Map from the canonical
 * user key to the `[userKey, storedValue]` pair, which is also the pair of the snapshot form.
 */
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import { namespaceOf, type StateSpec } from "./state-spec.js";
import { isExpired } from "./ttl.js";

/** The state of one key in one table. */
export interface Cell {
  readonly key: unknown;
  value: unknown;
}

/** A map state's cell value. */
export type MapCell = Map<CanonicalKey, [unknown, unknown]>;

export class StateTable {
  /** Position in declaration order; -1 while the state is only restored, not declared. */
  declIndex = -1;
  /** True when entries were restored into it (before that, all its entries went through the handles). */
  restored = false;
  /** Snapshot namespace, fixed by the layout (the spec may be refined by a later declaration). */
  readonly namespace: string;
  /** Index = key group - first key group of the backend. */
  readonly groups: Array<Map<CanonicalKey, Cell> | undefined>;

  constructor(
    public spec: StateSpec,
    /** Small id of the state within its backend (RocksDB key prefix). */
    readonly id: number,
    groupCount: number,
  ) {
    this.namespace = namespaceOf(spec);
    this.groups = new Array(groupCount);
  }

  /** The cells of key group index `g`, created when absent. */
  group(g: number): Map<CanonicalKey, Cell> {
    return (this.groups[g] ??= new Map());
  }
}

/** The stored value of a cell restored from the snapshot form `value`. */
export function cellValueOf(spec: StateSpec, value: unknown): unknown {
  if (spec.kind !== "map") return value;
  const pairs = value as [unknown, unknown][];
  return new Map(pairs.map((p) => [canonicalKey(p[0]), p])) satisfies MapCell;
}

/**
 * The snapshot form of a cell's stored value at `now`, or undefined when all of it has expired.
 * Expired entries of a map are deleted from it.
 */
export function snapshotValueOf(spec: StateSpec, stored: unknown, now: number): unknown {
  if (spec.kind !== "map") return isExpired(spec.ttl, stored, now) ? undefined : stored;
  const m = stored as MapCell;
  if (spec.ttl !== null) {
    for (const [uck, pair] of m) if (isExpired(spec.ttl, pair[1], now)) m.delete(uck);
  }
  return m.size === 0 ? undefined : [...m.values()];
}
