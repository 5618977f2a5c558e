import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalKey } from "../../runtime/common/keys.js";
import type { RocksDBKeyedStateBackend } from "../../runtime/state/rocksdb-keyed-state.js";
import { decodeKeyGroupBlocks } from "../../runtime/state/key-group-file.js";
import { as, backend, batch, FULL_RANGE } from "./support.js";

const pair = (k: unknown) => [canonicalKey(k), k] as const;

describe("RocksDB backend: prefetch, working set and flush", () => {
  it("is driven per batch: prefetch, process, flush (batches of 1024 keys)", async () => {
    const b = backend("rocksdb");
    const count = b.valueState("count", 0);
    const seen = b.mapState<number, boolean>("seen");
    const keys = Array.from({ length: 4096 }, (_, i) => `k${i % 1500}`);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < keys.length; i += 1024) {
        const chunk = keys.slice(i, i + 1024);
        const loading = b.prefetch(chunk.map(pair));
        if (loading) await loading;
        for (const [j, k] of chunk.entries()) {
          b.setCurrentKey(k, k);
          count.update(count.value()! + 1);
          seen.put(i + j, true);
        }
        const writing = b.flush();
        expect(writing).not.toBeNull();
        await writing;
      }
    }
    expect(b.flush()).toBeNull(); // nothing changed since
    expect(b.prefetch([pair("k0")])).toBeNull(); // cached
    const [c0, s0] = await as(b, "k0", () => [count.value(), [...seen.keys()].length]);
    expect(c0).toBe(6); // k0 is at 0, 1500 and 3000 of each round of 4096
    expect(s0).toBe(3);
    expect(b.entryCount).toBe(3000);
  });

  it("refuses, with an internal error, a key that was not prefetched", async () => {
    const b = backend("rocksdb");
    const v = b.valueState<number>("v");
    await as(b, "a", () => v.update(1));
    b.setCurrentKey("b", "b");
    expect(() => v.value()).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_NOT_PREFETCHED", message: expect.stringContaining('"v"') }));
    expect(() => v.update(2)).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_NOT_PREFETCHED" }));
  });

  it("evicts clean keys past cacheKeys and reads them back from RocksDB", async () => {
    const b = backend("rocksdb", { cacheKeys: 10 });
    const v = b.valueState<number>("v");
    const l = b.listState<string>("l");
    const m = b.mapState<string, number>("m");
    const keys = Array.from({ length: 100 }, (_, i) => i);
    for (let i = 0; i < keys.length; i += 5) {
      await batch(b, keys.slice(i, i + 5), (k) => {
        v.update(Number(k) * 2);
        l.add(`x${String(k)}`);
        m.put("a", Number(k));
      });
    }
    b.setCurrentKey(0, 0);
    expect(() => v.value()).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_NOT_PREFETCHED" }));
    const got = await batch(b, keys, () => [v.value(), l.get(), m.get("a")]);
    expect(got).toEqual(keys.map((k) => [k * 2, [`x${k}`], k]));
  });

  it("serves state declared after a prefetch, and loads restored state declared later on the next prefetch", async () => {
    const src = backend("heap");
    await as(src, "k", () => src.valueState<number>("restored").update(5));
    const file = await src.snapshot(() => undefined)();
    const b = backend("rocksdb");
    await b.restore(decodeKeyGroupBlocks(file.data, file, FULL_RANGE));
    const early = b.valueState<number>("early");
    await as(b, "k", () => early.update(1));

    const loading = b.prefetch([pair("k")]);
    if (loading) await loading;
    b.setCurrentKey("k", "k");
    const fresh = b.valueState<number>("fresh");
    fresh.update(2); // a new state has nothing in RocksDB: usable at once
    const restored = b.valueState<number>("restored");
    expect(() => restored.value()).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_NOT_PREFETCHED" }));
    await b.flush();
    expect(await as(b, "k", () => [early.value(), fresh.value(), restored.value()])).toEqual([1, 2, 5]);
  });

  it("dispose closes the instance and deletes its directory", async () => {
    const b = backend("rocksdb") as RocksDBKeyedStateBackend;
    await as(b, "k", () => b.valueState<number>("v").update(1));
    expect(existsSync(b.dir)).toBe(true);
    await b.dispose();
    expect(existsSync(b.dir)).toBe(false);
  });
});
