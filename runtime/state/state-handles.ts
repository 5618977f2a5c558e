/**
 * The keyed state handles user code holds, written once over {@link CellAccess} so that every backend
 * behaves the same: a backend only says where the current key's cell of a table is and learns about
 * writes. TTL is applied here: expired entries are removed when accessed (and returned that once only
 * with ReturnExpiredIfNotCleanedUp), reads refresh the time with OnReadAndWrite.
 */
import type { AggregateFunction, ReduceFunction } from "../api/functions.js";
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from "../api/state.js";
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import type { Cell, MapCell, StateTable } from "./state-table.js";
import { isExpired, stamp, type Stamped } from "./ttl.js";

/** What handles need from a backend, always about the current key. */
export interface CellAccess {
  /** The current key's cell of `table`; throws when the key cannot be used (none set, not prefetched). */
  cell(table: StateTable): Cell | undefined;
  /** Store `stored` as the current key's value of `table`, creating the cell when absent. */
  write(table: StateTable, stored: unknown): Cell;
  /** Remove the current key's cell of `table`. */
  remove(table: StateTable): void;
  /** Entry `uck` of the current key's map cell was put, refreshed or deleted in place. */
  mapEntryWritten(table: StateTable, uck: CanonicalKey): void;
  /** Processing time, epoch ms (TTL clock). */
  now(): number;
}

/** The current key's value of a non-map state, TTL applied; undefined when absent or expired. */
function read(a: CellAccess, table: StateTable): unknown {
  const c = a.cell(table);
  if (c === undefined) return undefined;
  const ttl = table.spec.ttl;
  if (ttl === null) return c.value;
  const stored = c.value as Stamped;
  const now = a.now();
  if (isExpired(ttl, stored, now)) {
    a.remove(table);
    return ttl.returnExpired ? stored.v : undefined;
  }
  if (ttl.updateOnRead) a.write(table, stamp(ttl, stored.v, now));
  return stored.v;
}

function store(a: CellAccess, table: StateTable, v: unknown): void {
  a.write(table, stamp(table.spec.ttl, v, a.now()));
}

export function valueHandle<T>(a: CellAccess, table: StateTable, defaultValue: T | undefined): ValueState<T> {
  return {
    value: () => {
      const v = read(a, table) as T | undefined;
      return v === undefined ? defaultValue : v;
    },
    update: (v) => store(a, table, v),
    clear: () => a.remove(table),
  };
}

export function listHandle<T>(a: CellAccess, table: StateTable): ListState<T> {
  // Appends push into the stored array (no copy per add); `get` and `update` copy at the boundary.
  const append = (vs: readonly T[]): void => {
    if (vs.length === 0) return;
    const cur = (read(a, table) as T[] | undefined) ?? [];
    for (const v of vs) cur.push(v);
    store(a, table, cur);
  };
  return {
    get: () => ((read(a, table) as T[] | undefined) ?? []).slice(),
    add: (v) => append([v]),
    addAll: append,
    update: (vs) => (vs.length === 0 ? a.remove(table) : store(a, table, vs.slice())),
    clear: () => a.remove(table),
  };
}

export function reducingHandle<T>(a: CellAccess, table: StateTable, reduce: ReduceFunction<T>): ReducingState<T> {
  return {
    get: () => read(a, table) as T | undefined,
    add: (v) => {
      const cur = read(a, table) as T | undefined;
      store(a, table, cur === undefined ? v : reduce(cur, v));
    },
    clear: () => a.remove(table),
  };
}

export function aggregatingHandle<IN, ACC, OUT>(a: CellAccess, table: StateTable, agg: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT> {
  return {
    get: () => {
      const acc = read(a, table) as ACC | undefined;
      return acc === undefined ? undefined : agg.getResult(acc);
    },
    add: (v) => {
      const acc = read(a, table) as ACC | undefined;
      store(a, table, agg.add(v, acc === undefined ? agg.createAccumulator() : acc));
    },
    clear: () => a.remove(table),
  };
}

export function mapHandle<K, V>(a: CellAccess, table: StateTable): MapState<K, V> {
  const entries = () => a.cell(table)?.value as MapCell | undefined;
  const get = (uk: K) => {
    const m = entries();
    return m === undefined ? undefined : liveEntry(a, table, m, canonicalKey(uk));
  };
  return {
    get: (uk) => get(uk)?.[1] as V | undefined,
    contains: (uk) => get(uk) !== undefined,
    put: (uk, v) => {
      const m = entries() ?? (a.write(table, new Map()).value as MapCell);
      const uck = canonicalKey(uk);
      m.set(uck, [uk, stamp(table.spec.ttl, v, a.now())]);
      a.mapEntryWritten(table, uck);
    },
    remove: (uk) => {
      const m = entries();
      if (m !== undefined) removeEntry(a, table, m, canonicalKey(uk));
    },
    entries: () => live(a, table, entries(), (e): [K, V] => [e[0] as K, e[1] as V]),
    keys: () => live(a, table, entries(), (e) => e[0] as K),
    values: () => live(a, table, entries(), (e) => e[1] as V),
    isEmpty: () => live(a, table, entries(), () => true).next().done === true,
    clear: () => a.remove(table),
  };
}

function removeEntry(a: CellAccess, table: StateTable, m: MapCell, uck: CanonicalKey): void {
  if (!m.delete(uck)) return;
  a.mapEntryWritten(table, uck);
  if (m.size === 0) a.remove(table);
}

/** The `[userKey, value]` of map entry `uck`, TTL applied. */
function liveEntry(a: CellAccess, table: StateTable, m: MapCell, uck: CanonicalKey): [unknown, unknown] | undefined {
  const e = m.get(uck);
  const ttl = table.spec.ttl;
  if (e === undefined || ttl === null) return e;
  const stored = e[1] as Stamped;
  const now = a.now();
  if (isExpired(ttl, stored, now)) {
    removeEntry(a, table, m, uck);
    return ttl.returnExpired ? [e[0], stored.v] : undefined;
  }
  if (ttl.updateOnRead) {
    e[1] = stamp(ttl, stored.v, now);
    a.mapEntryWritten(table, uck);
  }
  return [e[0], stored.v];
}

function* live<R>(a: CellAccess, table: StateTable, m: MapCell | undefined, f: (e: [unknown, unknown]) => R): IterableIterator<R> {
  if (m === undefined) return;
  for (const uck of m.keys()) {
    const e = liveEntry(a, table, m, uck);
    if (e !== undefined) yield f(e);
  }
}
