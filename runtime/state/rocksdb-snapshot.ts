/**
 * Turns the rows of a RocksDB snapshot into the canonical key-group blocks: one ordered iteration over
 * the backend's key-group range, cutting a block whenever the key group changes and gathering the
 * rows of one map state of one key (which are adjacent) into its `[userKey, value]` pairs. Expired
 * TTL entries are left out.
 */
import { assembleKeyGroupFile, encodeBlock, type EncodedKeyGroups } from "./key-group-file.js";
import { groupPrefix, keyPrefixLength, rowGroup, rowStateId, unpackRow } from "./rocksdb-rows.js";
import type { RocksDB } from "./rocksdb-native.js";
import type { KeyedEntry } from "./snapshot-types.js";
import type { StateTable } from "./state-table.js";
import { isExpired } from "./ttl.js";

/** Rows fetched from RocksDB per iterator read. */
const ITERATOR_CAPACITY = 4096;

export interface SnapshotScan {
  snapshot: RocksDB;
  start: number;
  end: number;
  /** State tables by id. */
  tables: readonly StateTable[];
  /** Operator entries per key group index. */
  extras: readonly (KeyedEntry[] | undefined)[];
  now: number;
  /** True once the backend is being disposed: the scan stops (a canceled task must not wait for it). */
  canceled?: () => boolean;
}

export async function encodeSnapshotGroups(scan: SnapshotScan): Promise<EncodedKeyGroups> {
  const blocks = new BlockBuilder(scan.extras);
  let map: { prefix: Buffer; entry: KeyedEntry; pairs: unknown[][] } | null = null;
  const endMap = () => {
    if (map !== null && map.pairs.length > 0) blocks.add(map.entry);
    map = null;
  };
  const range = { gte: groupPrefix(scan.start), lt: groupPrefix(scan.end + 1) };
  for await (const { key: row, value } of scan.snapshot.iterator(range, { capacity: ITERATOR_CAPACITY })) {
    if (scan.canceled?.()) throw new Error("snapshot abandoned: the state backend was disposed");
    const g = rowGroup(row) - scan.start;
    if (g !== blocks.group) {
      endMap();
      blocks.advanceTo(g);
    }
    const table = scan.tables[rowStateId(row)]!;
    const ttl = table.spec.ttl;
    const r = unpackRow(value);
    if (table.spec.kind !== "map") {
      if (!isExpired(ttl, r[1], scan.now)) blocks.add([table.namespace, r[0], r[1]]);
      continue;
    }
    const prefix = row.subarray(0, keyPrefixLength(row));
    if (map === null || !prefix.equals(map.prefix)) {
      endMap();
      const pairs: unknown[][] = [];
      map = { prefix, pairs, entry: [table.namespace, r[0], pairs] };
    }
    if (!isExpired(ttl, r[2], scan.now)) map.pairs.push([r[1], r[2]]);
  }
  endMap();
  blocks.advanceTo(scan.end - scan.start + 1);
  return assembleKeyGroupFile(scan.start, blocks.blocks);
}

/** Blocks of consecutive key groups, filled in key-group order. */
class BlockBuilder {
  readonly blocks: Buffer[] = [];
  /** The key group index being filled. */
  group = 0;
  private entries: KeyedEntry[] = [];

  constructor(private readonly extras: readonly (KeyedEntry[] | undefined)[]) {}

  add(e: KeyedEntry): void {
    this.entries.push(e);
  }

  /** Close the current group and every group before `g` (those without rows hold only extras). */
  advanceTo(g: number): void {
    while (this.group < g) {
      for (const e of this.extras[this.group] ?? []) this.entries.push(e);
      this.blocks.push(encodeBlock(this.entries));
      this.entries = [];
      this.group++;
    }
  }
}
