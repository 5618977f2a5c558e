/**
 * What the heap and RocksDB backends share: the current key, state declarations and their tables,
 * the cell access the handles go through, and restore's routing of entries to tables. A subclass
 * decides whether a key's cells can be used (`checkAccess`), learns about writes (`written`,
 * `removed`), and stores restored entries (`restoreEntry`).
 */
import type { AggregateFunction, ReduceFunction } from "../api/functions.js";
import type { StateOptions, StateTtlConfig, ValueStateOptions } from "../api/state.js";
import { WeirError } from "../common/errors.js";
import { canonicalKey, keyGroupOf, type CanonicalKey, type KeyGroupRange } from "../common/keys.js";
import type { EncodedKeyGroups, ExtraEntries, KeyedBackendOptions, KeyedStateBackend } from "./keyed-backend.js";
import type { KeyedEntry } from "./snapshot-types.js";
import { aggregatingHandle, listHandle, mapHandle, reducingHandle, valueHandle, type CellAccess } from "./state-handles.js";
import { compileSpec, describeSpec, sameLayout, sameSpec, specOfNamespace, valueStateArgs, type StateKind, type StateSpec } from "./state-spec.js";
import { StateTable, type Cell } from "./state-table.js";

export abstract class KeyedBackendBase implements KeyedStateBackend, CellAccess {
  abstract readonly kind: "heap" | "rocksdb";
  protected readonly operatorName: string;
  protected readonly range: KeyGroupRange;
  protected readonly maxParallelism: number;
  readonly now: () => number;
  /** Every state, declared or only restored, by name and by id. */
  protected readonly tables = new Map<string, StateTable>();
  protected readonly byId: StateTable[] = [];
  /** Declared states in declaration order (StateTable.declIndex). */
  protected readonly declared: StateTable[] = [];
  protected ck: CanonicalKey | undefined = undefined;
  protected key: unknown = undefined;
  /** Key group index (key group - range.start) of the current key. */
  protected g = -1;
  /** (state, key) entries. */
  protected entries = 0;

  constructor(opts: KeyedBackendOptions) {
    this.operatorName = opts.operatorName;
    this.range = opts.keyGroupRange;
    this.maxParallelism = opts.maxParallelism;
    this.now = opts.now ?? Date.now;
  }

  get entryCount(): number {
    return this.entries;
  }

  protected get groupCount(): number {
    return this.range.end - this.range.start + 1;
  }

  /** Key group index of `ck`, or -1 when its key group is not in this backend's range. */
  protected groupIndexOf(ck: CanonicalKey): number {
    const kg = keyGroupOf(ck, this.maxParallelism);
    return kg < this.range.start || kg > this.range.end ? -1 : kg - this.range.start;
  }

  setCurrentKey(ck: CanonicalKey, key: unknown): void {
    const g = this.groupIndexOf(ck);
    if (g < 0) {
      throw new WeirError("WEIR_E_USER_FUNCTION", `keyed state of "${this.operatorName}": key ${String(ck)} is not in this subtask's key groups ${this.range.start}..${this.range.end}`);
    }
    this.ck = ck;
    this.key = key;
    this.g = g;
  }

  valueState<T>(name: string, optionsOrDefault?: ValueStateOptions<T> | T) {
    const o = valueStateArgs(optionsOrDefault);
    return valueHandle<T>(this, this.declare(name, "value", o.ttl), o.defaultValue);
  }
  listState<T>(name: string, options?: StateOptions) {
    return listHandle<T>(this, this.declare(name, "list", options?.ttl));
  }
  mapState<K, V>(name: string, options?: StateOptions) {
    return mapHandle<K, V>(this, this.declare(name, "map", options?.ttl));
  }
  reducingState<T>(name: string, reduce: ReduceFunction<T>, options?: StateOptions) {
    return reducingHandle(this, this.declare(name, "reducing", options?.ttl), reduce);
  }
  aggregatingState<IN, ACC, OUT>(name: string, aggregate: AggregateFunction<IN, ACC, OUT>, options?: StateOptions) {
    return aggregatingHandle(this, this.declare(name, "aggregating", options?.ttl), aggregate);
  }

  /** The table of a declaration: new, the same one again, or a restored one adopted. */
  private declare(name: string, kind: StateKind, ttl: StateTtlConfig | undefined): StateTable {
    const spec = compileSpec(name, kind, ttl);
    const t = this.tables.get(name) ?? this.register(spec);
    if (t.declIndex >= 0) {
      if (sameSpec(t.spec, spec)) return t;
      throw new WeirError("WEIR_E_USER_FUNCTION", `"${this.operatorName}" declares ${describeSpec(spec)}, but it is already declared as ${describeSpec(t.spec)}`);
    }
    if (!sameLayout(t.spec, spec)) {
      throw new WeirError("WEIR_E_STATE_MISMATCH", `"${this.operatorName}" declares ${describeSpec(spec)}, but the restored snapshot holds it as ${describeSpec(t.spec)}`);
    }
    t.spec = spec;
    t.declIndex = this.declared.push(t) - 1;
    return t;
  }

  private register(spec: StateSpec): StateTable {
    const t = new StateTable(spec, this.byId.length, this.groupCount);
    this.byId.push(t);
    this.tables.set(spec.name, t);
    return t;
  }

  // --- CellAccess: the current key's cells -------------------------------------------------------

  cell(table: StateTable): Cell | undefined {
    return this.cells(table).get(this.ck!);
  }

  write(table: StateTable, stored: unknown): Cell {
    const cells = this.cells(table);
    let c = cells.get(this.ck!);
    if (c !== undefined) c.value = stored;
    else {
      cells.set(this.ck!, (c = { key: this.key, value: stored }));
      this.entries++;
    }
    this.written(table, null);
    return c;
  }

  remove(table: StateTable): void {
    const cells = this.cells(table);
    const c = cells.get(this.ck!);
    if (c === undefined) return;
    cells.delete(this.ck!);
    this.entries--;
    this.removed(table, c);
  }

  mapEntryWritten(table: StateTable, uck: CanonicalKey): void {
    this.written(table, uck);
  }

  /** The current key group's cells of `table`, after checking that the current key can be used. */
  private cells(table: StateTable): Map<CanonicalKey, Cell> {
    if (this.ck === undefined) {
      throw new WeirError("WEIR_E_USER_FUNCTION", `keyed state of "${this.operatorName}" used outside a keyed context`);
    }
    this.checkAccess(table);
    return table.group(this.g);
  }

  /** Throw unless the current key's cells of `table` may be used now. */
  protected abstract checkAccess(table: StateTable): void;
  /** The current key's cell of `table` was written (map state: its entry `uck`). */
  protected written(_table: StateTable, _uck: CanonicalKey | null): void {}
  /** The current key's cell of `table` was removed. */
  protected removed(_table: StateTable, _cell: Cell): void {}

  // --- restore and snapshot ----------------------------------------------------------------------

  async restore(entries: Iterable<KeyedEntry>): Promise<KeyedEntry[]> {
    const others: KeyedEntry[] = [];
    // Few namespaces, many entries: resolve each namespace once.
    const tables = new Map<string, StateTable | undefined>();
    for (const e of entries) {
      let table = tables.get(e[0]);
      if (table === undefined && !tables.has(e[0])) tables.set(e[0], (table = this.restoredTable(e[0])));
      if (table === undefined) {
        others.push(e);
        continue;
      }
      const ck = canonicalKey(e[1]);
      const g = this.groupIndexOf(ck);
      if (g < 0) continue;
      this.entries++;
      const pending = this.restoreEntry(table, g, ck, e[1], e[2]);
      if (pending) await pending;
    }
    await this.restoreDone();
    return others;
  }

  /** The table entries of namespace `ns` restore into, or undefined when `ns` is not a state's. */
  private restoredTable(ns: string): StateTable | undefined {
    const spec = specOfNamespace(ns);
    if (spec === null) return undefined;
    const t = this.tables.get(spec.name) ?? this.register(spec);
    if (!sameLayout(t.spec, spec)) {
      throw new WeirError("WEIR_E_STATE_MISMATCH", `"${this.operatorName}" has ${describeSpec(t.spec)}, but the snapshot being restored holds it as ${describeSpec(spec)}`);
    }
    t.restored = true;
    return t;
  }

  /** Store one restored entry (snapshot form) of key `key` in key group index `g`. */
  protected abstract restoreEntry(table: StateTable, g: number, ck: CanonicalKey, key: unknown, value: unknown): void | Promise<void>;
  /** All entries of a restore call were given. */
  protected restoreDone(): void | Promise<void> {}

  /** The operator's own entries of every key group, taken now (index = key group index). */
  protected captureExtras(extra: ExtraEntries): (KeyedEntry[] | undefined)[] {
    const out: (KeyedEntry[] | undefined)[] = [];
    for (let kg = this.range.start; kg <= this.range.end; kg++) out.push(extra(kg));
    return out;
  }

  abstract prefetch(keys: ReadonlyArray<readonly [CanonicalKey, unknown]>): Promise<void> | null;
  abstract flush(): Promise<void> | null;
  abstract snapshot(extra: ExtraEntries): () => Promise<EncodedKeyGroups>;
  abstract dispose(): Promise<void>;
}
