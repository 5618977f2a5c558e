/**
 * Keyed state backends, heap vs RocksDB, driven the way the engine drives them: per batch of 1024
 * keys, prefetch, then for each key `value()` + `update()` of a ValueState<number>, then flush.
 *
 *   npx tsx bench/state-backends.ts [keys]      (default 1M keys)
 *
 * Prints record ops/s (one op = one read + one write) for inserting every key once, then for as
 * many updates of uniformly random keys (RocksDB's working set holds 100k keys, so most miss), then
 * the snapshot: synchronous pause, total duration and size, and the restore time of that snapshot.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyedStateBackend, type KeyedStateBackend } from "../runtime/state/keyed-backend.js";
import { decodeKeyGroupBlocks } from "../runtime/state/key-group-file.js";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const BATCH = 1024;
const RANGE = { start: 0, end: 127 };

function make(kind: "heap" | "rocksdb", localDir: string): KeyedStateBackend {
  return createKeyedStateBackend(kind, { operatorName: "bench", uid: "bench", keyGroupRange: RANGE, maxParallelism: 128, localDir });
}

async function run(b: KeyedStateBackend, keyAt: (i: number) => number): Promise<number> {
  const v = b.valueState("count", 0);
  const t0 = performance.now();
  for (let s = 0; s < KEYS; s += BATCH) {
    const keys: (readonly [number, number])[] = [];
    for (let i = s; i < Math.min(s + BATCH, KEYS); i++) {
      const k = keyAt(i);
      keys.push([k, k]);
    }
    const loading = b.prefetch(keys);
    if (loading) await loading;
    for (const [ck, k] of keys) {
      b.setCurrentKey(ck, k);
      v.update(v.value()! + 1);
    }
    const writing = b.flush();
    if (writing) await writing;
  }
  return KEYS / ((performance.now() - t0) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en").padStart(11);

async function bench(kind: "heap" | "rocksdb", localDir: string): Promise<void> {
  const b = make(kind, localDir);
  const insert = await run(b, (i) => i);
  let seed = 42;
  const random = await run(b, () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % KEYS);
  const t0 = performance.now();
  const write = b.snapshot(() => undefined);
  const pause = performance.now() - t0;
  const file = await write();
  const total = performance.now() - t0;
  const t1 = performance.now();
  const restored = make(kind, localDir);
  await restored.restore(decodeKeyGroupBlocks(file.data, file, RANGE));
  const restore = performance.now() - t1;
  console.log(
    `${kind.padEnd(8)} insert ${fmt(insert)} ops/s  random update ${fmt(random)} ops/s  ` +
      `snapshot: pause ${pause.toFixed(1)} ms, total ${total.toFixed(0)} ms, ${(file.data.length / 1e6).toFixed(1)} MB  ` +
      `restore ${restore.toFixed(0)} ms (${restored.entryCount} entries)`,
  );
  await Promise.all([b.dispose(), restored.dispose()]);
}

const dir = mkdtempSync(join(tmpdir(), "weir-state-bench-"));
try {
  console.log(`${KEYS.toLocaleString("en")} keys, ValueState<number>, batches of ${BATCH}`);
  await bench("heap", dir);
  await bench("rocksdb", dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
