/**
 * Keyed state of one operator subtask in a local RocksDB instance (`localDir/<uid>-<random>`, deleted
 * by dispose), with a bounded in-memory working set in front so that the handles stay synchronous.
 *
 * - prefetch(keys) reads every declared state of the keys not in the working set (one read batch,
 *   plus one prefix iteration per key and map state, since a map is loaded whole: a seek each, the
 *   cost of keeping MapState synchronous). Handles used for a key that is not loaded throw
 *   WEIR_E_STATE_NOT_PREFETCHED. The least recently prefetched clean keys are evicted past
 *   `cacheKeys`.
 * - Writes change the working set and mark the (state, key), or the map entry, dirty; flush() writes
 *   all dirty rows as one write batch.
 * - All DB writes run one after another on one chain; every read starts after the writes enqueued
 *   before it, so an evicted key read back always sees its last write.
 * - snapshot(): the synchronous part encodes the dirty rows and enqueues "write them, then take a
 *   RocksDB snapshot" on the chain, so the snapshot holds exactly the state at the call whatever runs
 *   later; the asynchronous part iterates it key group by key group (rocksdb-snapshot.ts). Expired TTL
 *   rows are left out of snapshots and deleted when accessed (there is no compaction filter).
 *
 * Engine contract: one batch at a time (prefetch, process, flush), and `restore` before any use.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WeirError } from "../common/errors.js";
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import { KeyedBackendBase } from "./backend-base.js";
import type { ExtraEntries, KeyedBackendOptions } from "./keyed-backend.js";
import type { EncodedKeyGroups } from "./key-group-file.js";
import { openRocksDB, type RocksDB } from "./rocksdb-native.js";
import { packMapRow, packRow, prefixEnd, rowKey, unpackRow, type RowOp } from "./rocksdb-rows.js";
import { encodeSnapshotGroups } from "./rocksdb-snapshot.js";
import type { Cell, MapCell, StateTable } from "./state-table.js";

/** Default bound of the working set, in keys. */
export const DEFAULT_CACHE_KEYS = 100_000;
/** Rows per write batch while restoring. */
const RESTORE_BATCH_ROWS = 10_000;

/**
 * A key in the working set: its key group index and how many declared states were loaded. A state
 * that holds no restored entries needs no loading for a key in the working set, even if declared
 * later: its rows of that key can only have been written through the working set.
 */
interface LoadedKey {
  g: number;
  states: number;
}

/** Unflushed change of one (state, key): the whole value, or these map entries. */
interface Dirty {
  g: number;
  ucks: Set<CanonicalKey> | null;
}

/** A key to load, from declared state `from` on. */
interface Wanted {
  ck: CanonicalKey;
  g: number;
  from: number;
}

export class RocksDBKeyedStateBackend extends KeyedBackendBase {
  readonly kind = "rocksdb" as const;
  /** The instance's directory. */
  readonly dir: string;
  private readonly cacheKeys: number;
  private db: RocksDB | null = null;
  /** The last write enqueued (and initially the open); reads and later writes start after it. */
  private tail: Promise<void>;
  private failure: unknown = undefined;
  /** The working set's keys, least recently prefetched first. */
  private readonly loaded = new Map<CanonicalKey, LoadedKey>();
  private dirty = new Map<StateTable, Map<CanonicalKey, Dirty>>();
  private restoreRows: RowOp[] = [];

  constructor(opts: KeyedBackendOptions) {
    super(opts);
    this.cacheKeys = opts.cacheKeys ?? DEFAULT_CACHE_KEYS;
    const parent = opts.localDir || tmpdir();
    this.dir = join(parent, `${opts.uid.replace(/[^\w.-]/g, "_")}-${randomUUID().slice(0, 8)}`);
    mkdirSync(parent, { recursive: true });
    this.tail = this.track(openRocksDB(this.dir).then((db) => void (this.db = db)));
  }

  // --- working set -------------------------------------------------------------------------------

  protected checkAccess(table: StateTable): void {
    const k = this.loaded.get(this.ck!);
    if (k === undefined || (table.restored && table.declIndex >= k.states)) {
      throw new WeirError(
        "WEIR_E_STATE_NOT_PREFETCHED",
        `internal: RocksDB state "${table.spec.name}" of "${this.operatorName}" used for key ${String(this.ck)}, which was not prefetched`,
      );
    }
  }

  prefetch(keys: ReadonlyArray<readonly [CanonicalKey, unknown]>): Promise<void> | null {
    this.throwIfFailed();
    const requested = new Set<CanonicalKey>();
    const wanted = new Map<CanonicalKey, Wanted>();
    for (const [ck] of keys) {
      if (requested.has(ck)) continue;
      requested.add(ck);
      const k = this.loaded.get(ck);
      if (k !== undefined) {
        this.loaded.delete(ck); // most recently used last
        this.loaded.set(ck, k);
      }
      if (k === undefined || this.needsLoad(k.states)) wanted.set(ck, this.wanted(ck, k));
    }
    if (wanted.size === 0) return null;
    this.evict(requested, wanted.size);
    const n = this.declared.length;
    return this.afterWrites((db) => this.load(db, [...wanted.values()], n));
  }

  /** True when a restored state was declared after a key was loaded with `states` states. */
  private needsLoad(states: number): boolean {
    for (let i = states; i < this.declared.length; i++) if (this.declared[i]!.restored) return true;
    return false;
  }

  private wanted(ck: CanonicalKey, k: LoadedKey | undefined): Wanted {
    const g = k?.g ?? this.groupIndexOf(ck);
    if (g < 0) throw new WeirError("WEIR_E_USER_FUNCTION", `"${this.operatorName}": key ${String(ck)} is not in this subtask's key groups`);
    return { ck, g, from: k?.states ?? 0 };
  }

  /** Drop clean keys not `requested`, least recently used first, until `adding` more keys fit. */
  private evict(requested: Set<CanonicalKey>, adding: number): void {
    let excess = this.loaded.size + adding - this.cacheKeys;
    for (const [ck, k] of this.loaded) {
      if (excess <= 0) return;
      if (requested.has(ck) || this.isDirty(ck)) continue;
      for (const t of this.byId) t.groups[k.g]?.delete(ck);
      this.loaded.delete(ck);
      excess--;
    }
  }

  private isDirty(ck: CanonicalKey): boolean {
    for (const d of this.dirty.values()) if (d.has(ck)) return true;
    return false;
  }

  /** Read declared states `from..n-1` of the wanted keys into the working set. */
  private async load(db: RocksDB, wanted: Wanted[], n: number): Promise<void> {
    const reads = db.read({ capacity: wanted.length });
    const pending: Promise<void>[] = [];
    let gets = 0;
    for (const w of wanted) {
      for (let i = w.from; i < n; i++) {
        const t = this.declared[i]!;
        if (w.from > 0 && !t.restored) continue; // in the working set already
        const kg = this.range.start + w.g;
        if (t.spec.kind === "map") pending.push(this.loadMap(db, t, w, kg));
        else {
          gets++;
          pending.push(reads.get(rowKey(kg, t.id, w.ck)).then((v) => void (v && this.fill(t, w, i, unpackRow(v)))));
        }
      }
    }
    await Promise.all([gets > 0 ? reads.flush() : undefined, ...pending]);
    reads.destroy();
    for (const w of wanted) this.loaded.set(w.ck, { g: w.g, states: Math.max(n, this.loaded.get(w.ck)?.states ?? 0) });
  }

  private async loadMap(db: RocksDB, t: StateTable, w: Wanted, kg: number): Promise<void> {
    const prefix = rowKey(kg, t.id, w.ck);
    const m: MapCell = new Map();
    let key: unknown;
    for await (const { value } of db.iterator({ gte: prefix, lt: prefixEnd(prefix) }, { capacity: 64 })) {
      const [k, uk, stored] = unpackRow(value);
      key = k;
      m.set(canonicalKey(uk), [uk, stored]);
    }
    if (m.size > 0) this.fill(t, w, t.declIndex, [key, m]);
  }

  /** Put a loaded `[key, stored]` in the working set, unless a concurrent prefetch loaded it first. */
  private fill(t: StateTable, w: Wanted, declIndex: number, [key, stored]: unknown[]): void {
    if ((this.loaded.get(w.ck)?.states ?? 0) > declIndex) return;
    t.group(w.g).set(w.ck, { key, value: stored } satisfies Cell);
  }

  // --- writes ------------------------------------------------------------------------------------

  protected override written(table: StateTable, uck: CanonicalKey | null): void {
    const isMap = table.spec.kind === "map";
    if (isMap && uck === null) return; // a new map's container: rows come with its entries
    let cells = this.dirty.get(table);
    if (cells === undefined) this.dirty.set(table, (cells = new Map()));
    let d = cells.get(this.ck!);
    if (d === undefined) cells.set(this.ck!, (d = { g: this.g, ucks: isMap ? new Set() : null }));
    if (uck !== null) d.ucks!.add(uck);
  }

  protected override removed(table: StateTable, cell: Cell): void {
    if (table.spec.kind !== "map") this.written(table, null);
    else for (const uck of (cell.value as MapCell).keys()) this.written(table, uck);
  }

  /** The dirty rows as write operations (encoded now, so later changes do not leak in). */
  private takeDirty(): RowOp[] {
    const ops: RowOp[] = [];
    for (const [t, cells] of this.dirty) {
      for (const [ck, d] of cells) {
        const cell = t.groups[d.g]?.get(ck);
        const kg = this.range.start + d.g;
        if (d.ucks === null) {
          ops.push({ key: rowKey(kg, t.id, ck), value: cell === undefined ? null : packRow(cell.key, cell.value) });
          continue;
        }
        for (const uck of d.ucks) {
          const e = (cell?.value as MapCell | undefined)?.get(uck);
          ops.push({ key: rowKey(kg, t.id, ck, uck), value: e === undefined ? null : packMapRow(cell!.key, e[0], e[1]) });
        }
      }
    }
    this.dirty = new Map();
    return ops;
  }

  flush(): Promise<void> | null {
    this.throwIfFailed();
    const ops = this.takeDirty();
    return ops.length === 0 ? null : this.enqueue((db) => writeRows(db, ops));
  }

  snapshot(extra: ExtraEntries): () => Promise<EncodedKeyGroups> {
    this.throwIfFailed();
    const extras = this.captureExtras(extra);
    const now = this.now();
    const ops = this.takeDirty();
    let snapshot: RocksDB | undefined;
    const taken = this.enqueue(async (db) => {
      if (ops.length > 0) await writeRows(db, ops);
      snapshot = db.snapshot();
    });
    taken.catch(() => {}); // reported by the returned function
    return async () => {
      await taken;
      try {
        const { start, end } = this.range;
        return await encodeSnapshotGroups({ snapshot: snapshot!, start, end, tables: this.byId, extras, now, canceled: () => this.disposing });
      } finally {
        await snapshot!.close();
      }
    };
  }

  protected restoreEntry(table: StateTable, g: number, ck: CanonicalKey, key: unknown, value: unknown): Promise<void> | void {
    const kg = this.range.start + g;
    if (table.spec.kind !== "map") this.restoreRows.push({ key: rowKey(kg, table.id, ck), value: packRow(key, value) });
    else for (const [uk, v] of value as [unknown, unknown][]) this.restoreRows.push({ key: rowKey(kg, table.id, ck, canonicalKey(uk)), value: packMapRow(key, uk, v) });
    if (this.restoreRows.length >= RESTORE_BATCH_ROWS) return this.restoreDone();
  }

  protected override restoreDone(): Promise<void> | void {
    const ops = this.restoreRows;
    this.restoreRows = [];
    if (ops.length > 0) return this.enqueue((db) => writeRows(db, ops));
  }

  // --- the write chain ---------------------------------------------------------------------------

  /** Run `step` after every write enqueued so far, as the next write. */
  private enqueue(step: (db: RocksDB) => Promise<void>): Promise<void> {
    const p = this.afterWrites(step);
    this.tail = this.track(p);
    return p;
  }

  /** Run `step` (a read) after every write enqueued so far. */
  private afterWrites<T>(step: (db: RocksDB) => Promise<T>): Promise<T> {
    return this.tail.then(() => {
      this.throwIfFailed();
      return step(this.db!);
    });
  }

  /** `p`, remembering its failure: a failed write leaves the DB behind the working set for good. */
  private track(p: Promise<void>): Promise<void> {
    return p.catch((err) => {
      this.failure ??= err;
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw new WeirError("WEIR_E_TASK_FAILED", `RocksDB state of "${this.operatorName}" in ${this.dir} failed`, { cause: this.failure });
    }
  }

  /** Set by `dispose`: snapshot scans in flight stop instead of holding the close up. */
  private disposing = false;

  async dispose(): Promise<void> {
    this.disposing = true;
    await this.tail;
    await this.db?.close({ force: true });
    this.db = null;
    this.failure ??= new Error("disposed");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function writeRows(db: RocksDB, ops: RowOp[]): Promise<void> {
  const w = db.write({ capacity: ops.length });
  for (const op of ops) {
    if (op.value === null) w.tryDelete(op.key);
    else w.tryPut(op.key, op.value);
  }
  await w.flush();
  w.destroy();
}
