/**
 * Compares the two RocksDB bindings on npm for the keyed state backend: batched puts, batched gets and
 * a full iteration over a snapshot, each over 1M small keys (16-byte keys, 8-byte values).
 *
 *   npx tsx bench/rocksdb-packages.ts [keys]
 *
 * `rocksdb-native` is a dependency; `rocksdb` (discontinued) is not, so it is loaded from the
 * node_modules folder named by WEIR_BENCH_MODULES (e.g. after `npm install --prefix /tmp/rx rocksdb@5.2.1`)
 * and skipped when absent.
 */
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const BATCH = 1000;

interface Bindings {
  name: string;
  open(dir: string): Promise<void>;
  putBatch(keys: Buffer[], value: Buffer): Promise<void>;
  getBatch(keys: Buffer[]): Promise<number>;
  /** Iterate everything through a snapshot taken first; returns the number of entries seen. */
  iterateSnapshot(): Promise<number>;
  close(): Promise<void>;
}

function key(i: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(i % 128, 0);
  b.writeUInt32BE(i, 12);
  return b;
}

function loader(fromDir: string): NodeRequire {
  return createRequire(join(fromDir, "noop.js"));
}

function rocksdbNative(req: NodeRequire): Bindings {
  const RocksDB = req("rocksdb-native");
  let db: any;
  return {
    name: `rocksdb-native ${req("rocksdb-native/package").version}`,
    async open(dir) {
      db = new RocksDB(dir);
      await db.ready();
    },
    async putBatch(keys, value) {
      const w = db.write({ capacity: keys.length });
      for (const k of keys) w.tryPut(k, value);
      await w.flush();
      w.destroy();
    },
    async getBatch(keys) {
      const r = db.read({ capacity: keys.length });
      const ps = keys.map((k) => r.get(k));
      await r.flush();
      r.destroy();
      return (await Promise.all(ps)).filter((v) => v !== null).length;
    },
    async iterateSnapshot() {
      const snap = db.snapshot();
      let n = 0;
      for await (const _e of snap.iterator({}, { capacity: 1024 })) n++;
      await snap.close();
      return n;
    },
    close: () => db.close(),
  };
}

function rocksdbLeveldown(req: NodeRequire): Bindings {
  const rocksdb = req("rocksdb");
  let db: any;
  const cb = (f: (done: (err?: Error | null, v?: any) => void) => void) =>
    new Promise<any>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
  return {
    name: `rocksdb ${req("rocksdb/package.json").version}`,
    async open(dir) {
      db = rocksdb(dir);
      await cb((d) => db.open(d));
    },
    putBatch: (keys, value) => cb((d) => db.batch(keys.map((k) => ({ type: "put", key: k, value })), d)),
    async getBatch(keys) {
      const vs: unknown[] = await cb((d) => db.getMany(keys, d));
      return vs.filter((v) => v !== undefined).length;
    },
    async iterateSnapshot() {
      // A leveldown iterator reads from an implicit snapshot taken when it is created.
      const it = db.iterator({ keyAsBuffer: true, valueAsBuffer: true });
      let n = 0;
      for (;;) {
        const k = await new Promise<unknown>((resolve, reject) => it.next((err: Error | null, k: unknown) => (err ? reject(err) : resolve(k))));
        if (k === undefined) break;
        n++;
      }
      await cb((d) => it.end(d));
      return n;
    },
    close: () => cb((d) => db.close(d)),
  };
}

async function timed(label: string, ops: number, f: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  const r = await f();
  const s = (performance.now() - t0) / 1000;
  console.log(`  ${label.padEnd(18)} ${Math.round(ops / s).toLocaleString("en").padStart(12)} ops/s  (${s.toFixed(2)} s${r === undefined ? "" : `, ${r}`})`);
}

async function run(b: Bindings): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-rocks-bench-"));
  const value = Buffer.alloc(8, 7);
  const batches: Buffer[][] = [];
  for (let s = 0; s < KEYS; s += BATCH) batches.push(Array.from({ length: Math.min(BATCH, KEYS - s) }, (_, i) => key(s + i)));
  // Reads in another order than writes, so they are not served by a warm sequential block.
  const shuffled = batches.map((_, i) => batches[(i * 7919) % batches.length]!);
  try {
    await b.open(dir);
    console.log(b.name);
    await timed("batched put", KEYS, async () => {
      for (const ks of batches) await b.putBatch(ks, value);
    });
    await timed("batched get", KEYS, async () => {
      let found = 0;
      for (const ks of shuffled) found += await b.getBatch(ks);
      return `${found} found`;
    });
    await timed("snapshot iterate", KEYS, async () => `${await b.iterateSnapshot()} entries`);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`${KEYS.toLocaleString("en")} keys, batches of ${BATCH}`);
  await run(rocksdbNative(loader(process.cwd())));
  const other = process.env.WEIR_BENCH_MODULES;
  try {
    await run(rocksdbLeveldown(loader(other ?? process.cwd())));
  } catch (err) {
    console.log(`rocksdb (leveldown): skipped (${(err as Error).message.split("\n")[0]}); set WEIR_BENCH_MODULES to a folder where it is installed`);
  }
}

await main();
