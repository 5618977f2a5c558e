/**
 * Keyed state of one operator subtask on the JS heap: per state, per key group, a Map from canonical
 * key to cell (state-table.ts), so a snapshot walks key groups directly.
 *
 * Snapshots are copy-on-access per key group. The synchronous part only records the moment (and the
 * operator's extra entries); a key group is then encoded into its block either by the asynchronous
 * part, which walks the groups yielding to the event loop between them, or just before processing
 * first touches any state of that group, whichever comes first. So the pause at the barrier does not
 * grow with the state, and the copy of a group is exactly its state at the barrier. (Encoding all
 * groups synchronously would be simpler but costs ~300 ms per million small entries inside the barrier.)
 * Caveat shared with Flink's heap backend: a value object kept by user code across records and
 * mutated without a state access is not protected.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { CanonicalKey } from "../common/keys.js";
import { KeyedBackendBase } from "./backend-base.js";
import type { ExtraEntries, KeyedBackendOptions } from "./keyed-backend.js";
import { assembleKeyGroupFile, encodeBlock, type EncodedKeyGroups } from "./key-group-file.js";
import type { KeyedEntry } from "./snapshot-types.js";
import { cellValueOf, snapshotValueOf, type StateTable } from "./state-table.js";

/** Key groups encoded between two yields of a snapshot's asynchronous part. */
const GROUPS_PER_TURN = 4;

export class HeapKeyedStateBackend extends KeyedBackendBase {
  readonly kind = "heap" as const;
  /** The snapshot whose groups are still being copied, if any. */
  private pending: PendingSnapshot | null = null;

  constructor(opts: KeyedBackendOptions) {
    super(opts);
  }

  protected checkAccess(): void {
    this.pending?.capture(this.g);
  }

  prefetch(): null {
    return null;
  }

  flush(): null {
    return null;
  }

  snapshot(extra: ExtraEntries): () => Promise<EncodedKeyGroups> {
    this.pending?.captureAll();
    const snap = new PendingSnapshot(this.captureExtras(extra), this.now(), (g, now) => this.groupEntries(g, now));
    this.pending = snap;
    return async () => {
      for (let g = 0; g < this.groupCount; g++) {
        snap.capture(g);
        if (g % GROUPS_PER_TURN === GROUPS_PER_TURN - 1) await nextTurn();
      }
      if (this.pending === snap) this.pending = null;
      return assembleKeyGroupFile(this.range.start, snap.blocks);
    };
  }

  /** Snapshot entries of key group index `g` at `now`; expired entries are dropped from the state. */
  private groupEntries(g: number, now: number): KeyedEntry[] {
    const out: KeyedEntry[] = [];
    for (const table of this.byId) {
      const cells = table.groups[g];
      if (cells === undefined) continue;
      for (const [ck, cell] of cells) {
        const v = snapshotValueOf(table.spec, cell.value, now);
        if (v !== undefined) out.push([table.namespace, cell.key, v]);
        else this.drop(cells, ck);
      }
    }
    return out;
  }

  private drop(cells: Map<CanonicalKey, unknown>, ck: CanonicalKey): void {
    cells.delete(ck);
    this.entries--;
  }

  protected restoreEntry(table: StateTable, g: number, ck: CanonicalKey, key: unknown, value: unknown): void {
    table.group(g).set(ck, { key, value: cellValueOf(table.spec, value) });
  }

  async dispose(): Promise<void> {
    this.pending = null;
    for (const t of this.byId) t.groups.fill(undefined);
    this.entries = 0;
  }
}

/** Blocks of one heap snapshot, each encoded at most once. */
class PendingSnapshot {
  readonly blocks: Buffer[] = [];

  constructor(
    private readonly extras: (KeyedEntry[] | undefined)[],
    private readonly now: number,
    private readonly entriesOf: (g: number, now: number) => KeyedEntry[],
  ) {}

  capture(g: number): void {
    if (this.blocks[g] !== undefined) return;
    const entries = this.entriesOf(g, this.now);
    const extra = this.extras[g];
    if (extra !== undefined) for (const e of extra) entries.push(e);
    this.blocks[g] = encodeBlock(entries);
  }

  captureAll(): void {
    for (let g = 0; g < this.extras.length; g++) this.capture(g);
  }
}
