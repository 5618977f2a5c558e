/**
 * State handles. Keyed handles are scoped to the key of the record (or timer) being processed; they are
 * declared in a keyed function's `open` through its KeyedRuntimeContext, and using one outside a keyed
 * context throws. A state name identifies one state of an operator: declaring the same name again with
 * the same kind and options returns an equivalent handle, with another kind (or TTL) it throws.
 *
 * Operator (non-keyed) list state is for sources and sinks: see {@link OperatorStateStore}.
 */

export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

export interface ListState<T> {
  get(): T[];
  add(value: T): void;
  addAll(values: T[]): void;
  update(values: T[]): void;
  clear(): void;
}

export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  contains(key: K): boolean;
  remove(key: K): void;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
  clear(): void;
}

/** A value per key folded with a ReduceFunction: `add(v)` stores `reduce(current, v)` (or `v` first). */
export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

/** An accumulator per key of an AggregateFunction; `get()` is its result, undefined before any `add`. */
export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/**
 * Time to live of keyed state, on processing time. An entry expires `ttlMs` after its last write (or
 * read, with "OnReadAndWrite"); expired entries are removed when accessed and left out of snapshots.
 * MapState expires per map entry; the other kinds per key (a ListState's whole list).
 */
export interface StateTtlConfig {
  ttlMs: number;
  /** What refreshes an entry's time: writes only (default), or reads too. */
  updateType?: "OnCreateAndWrite" | "OnReadAndWrite";
  /** Whether an expired entry still present may be read once more (default: never). */
  visibility?: "NeverReturnExpired" | "ReturnExpiredIfNotCleanedUp";
}

/** Options of every state declaration. */
export interface StateOptions {
  ttl?: StateTtlConfig;
}

/**
 * Options of a ValueState. `defaultValue` is what `value()` returns for a key without one; it is
 * shared by all keys, so use an immutable value (a number, a string) and `update` with new objects.
 */
export interface ValueStateOptions<T> extends StateOptions {
  defaultValue?: T;
}

/**
 * Non-keyed state of one operator subtask (sources, sinks), snapshotted as lists of JSON-safe items.
 * On restore at another parallelism, `listState` items are spread round robin over the new subtasks
 * and `unionListState` items are given in full to every subtask.
 */
export interface OperatorStateStore {
  listState<T>(name: string): ListState<T>;
  unionListState<T>(name: string): ListState<T>;
}
