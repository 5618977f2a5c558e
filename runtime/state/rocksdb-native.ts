/**
 * The part of the `rocksdb-native` binding (CommonJS, untyped) that the RocksDB backend uses, typed,
 * and loaded on first use so that jobs on the heap backend never load the native addon.
 */
import { createRequire } from "node:module";

export interface RocksWriteBatch {
  tryPut(key: Buffer, value: Buffer): void;
  tryDelete(key: Buffer): void;
  flush(): Promise<void>;
  destroy(): void;
}

export interface RocksReadBatch {
  get(key: Buffer): Promise<Buffer | null>;
  flush(): Promise<void>;
  destroy(): void;
}

export interface RocksRange {
  gte?: Buffer;
  lt?: Buffer;
}

/** A database session; `snapshot()` returns a session reading the state of that moment. */
export interface RocksDB {
  ready(): Promise<void>;
  write(opts?: { capacity?: number }): RocksWriteBatch;
  read(opts?: { capacity?: number }): RocksReadBatch;
  iterator(range: RocksRange, opts?: { capacity?: number }): AsyncIterable<{ key: Buffer; value: Buffer }>;
  snapshot(): RocksDB;
  close(opts?: { force?: boolean }): Promise<void>;
}

type RocksDBConstructor = new (path: string) => RocksDB;

let ctor: RocksDBConstructor | undefined;

/** Open (create) a database in `dir`; resolves when it is ready. */
export async function openRocksDB(dir: string): Promise<RocksDB> {
  ctor ??= createRequire(import.meta.url)("rocksdb-native") as RocksDBConstructor;
  const db = new ctor(dir);
  await db.ready();
  return db;
}
