/**
 * The keyed state backend contract: one per keyed operator subtask, owning the key groups of its
 * range. Handles are synchronous (user code calls them in the middle of a batch); a backend that keeps
 * state off the heap loads what a batch needs first.
 *
 * How the engine drives a backend, per batch:
 *
 *   const loading = backend.prefetch(keysOfBatch);   // null: nothing to wait for (heap, cached keys)
 *   if (loading) await loading;
 *   for (const r of batch) { backend.setCurrentKey(ck(r), key(r)); userFunction(r); }
 *   const writing = backend.flush();                 // RocksDB: one write batch
 *
 * and at a checkpoint barrier, between batches:
 *
 *   const write = backend.snapshot((kg) => timersOf(kg));   // synchronous: consistent view taken
 *   const file = await write();                             // asynchronous; processing continues
 *
 * Guarantees: a snapshot holds exactly the writes made before `snapshot()` returned, in the canonical
 * format of key-group-file.ts, so heap and RocksDB snapshots restore into each other. Restored state is
 * kept by name until declared; declaring it with another kind or TTL setting throws
 * WEIR_E_STATE_MISMATCH; declaring one name twice in different ways throws WEIR_E_USER_FUNCTION.
 * Using RocksDB state of a key that was not prefetched throws WEIR_E_STATE_NOT_PREFETCHED.
 */
import type { AggregateFunction, ReduceFunction } from "../api/functions.js";
import type {
  AggregatingState,
  ListState,
  MapState,
  ReducingState,
  StateOptions,
  ValueState,
  ValueStateOptions,
} from "../api/state.js";
import type { CanonicalKey, KeyGroupRange } from "../common/keys.js";
import { HeapKeyedStateBackend } from "./heap-keyed-state.js";
import type { EncodedKeyGroups } from "./key-group-file.js";
import { RocksDBKeyedStateBackend } from "./rocksdb-keyed-state.js";
import type { KeyedEntry } from "./snapshot-types.js";

export type { EncodedKeyGroups } from "./key-group-file.js";

/** Entries an operator adds to the snapshot of key group `kg` (timers, windows), or undefined. */
export type ExtraEntries = (kg: number) => KeyedEntry[] | undefined;

export interface KeyedStateBackend {
  readonly kind: "heap" | "rocksdb";
  /** Key for following state accesses; `key` is the user's key object (needed to write snapshots). */
  setCurrentKey(ck: CanonicalKey, key: unknown): void;

  /** A value per key; the second argument is options or (older form) the default value. */
  valueState<T>(name: string, optionsOrDefault?: ValueStateOptions<T> | T): ValueState<T>;
  listState<T>(name: string, options?: StateOptions): ListState<T>;
  mapState<K, V>(name: string, options?: StateOptions): MapState<K, V>;
  reducingState<T>(name: string, reduce: ReduceFunction<T>, options?: StateOptions): ReducingState<T>;
  aggregatingState<IN, ACC, OUT>(name: string, aggregate: AggregateFunction<IN, ACC, OUT>, options?: StateOptions): AggregatingState<IN, OUT>;

  /**
   * Load every declared state of these keys so the synchronous handles can serve them; resolves when
   * done. null when nothing must be awaited (heap always; RocksDB when all are cached). State declared
   * after a prefetch is loaded by the next one.
   */
  prefetch(keys: ReadonlyArray<readonly [CanonicalKey, unknown]>): Promise<void> | null;
  /** Write back what changed since the last flush (RocksDB: one write batch). null when nothing to await. */
  flush(): Promise<void> | null;
  /**
   * Checkpoint. The synchronous part runs now (the operator is between records) and captures a
   * consistent view, calling `extra` for every key group of the range; the entries it returns are
   * encoded later, so they must not be mutated afterwards (hand over copies of live structures). The
   * returned function writes the key-group blocks asynchronously while processing continues; call it
   * exactly once.
   */
  snapshot(extra: ExtraEntries): () => Promise<EncodedKeyGroups>;
  /**
   * Restore entries of state namespaces (`s:<kind>:<name>`); entries of other namespaces are returned.
   * Entries of key groups outside this backend's range are ignored. Call before any state is used.
   */
  restore(entries: Iterable<KeyedEntry>): Promise<KeyedEntry[]>;
  /** Number of (state, key) entries, for metrics and tests. */
  readonly entryCount: number;
  /** Release everything (RocksDB: close and delete the instance's directory). */
  dispose(): Promise<void>;
}

export interface KeyedBackendOptions {
  /** Named in errors. */
  operatorName: string;
  /** The operator's uid (names RocksDB's directory). */
  uid: string;
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  /** Processing-time clock of TTL, epoch ms (default Date.now). */
  now?: () => number;
  /** RocksDB: parent directory of the instance's directory (default: the OS temp dir). */
  localDir?: string;
  /** RocksDB: keys kept in the in-memory working set (default 100k); dirty keys stay until flushed. */
  cacheKeys?: number;
}

/** A keyed state backend of `kind` for one operator subtask. */
export function createKeyedStateBackend(kind: "heap" | "rocksdb", opts: KeyedBackendOptions): KeyedStateBackend {
  return kind === "heap" ? new HeapKeyedStateBackend(opts) : new RocksDBKeyedStateBackend(opts);
}
