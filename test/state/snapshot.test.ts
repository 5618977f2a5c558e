import { describe, expect, it } from "vitest";
import { avg } from "../../runtime/api/aggregates.js";
import { canonicalKey, keyGroupOf } from "../../runtime/common/keys.js";
import type { KeyedStateBackend } from "../../runtime/state/keyed-backend.js";
import { decodeKeyGroupBlocks, type EncodedKeyGroups } from "../../runtime/state/key-group-file.js";
import type { KeyedEntry } from "../../runtime/state/snapshot-types.js";
import { as, backend, batch, FULL_RANGE, KINDS, type BackendKind } from "./support.js";

const KEYS: unknown[] = [...Array.from({ length: 300 }, (_, i) => (i % 2 ? `user-${i}` : i)), { user: 1, region: "eu" }, [1, "a"]];

/** Declare one state of every kind (the same way on every backend). */
function declare(b: KeyedStateBackend) {
  return {
    value: b.valueState<{ n: number; at: Date }>("value"),
    list: b.listState<number>("list"),
    map: b.mapState<unknown, string>("map"),
    reducing: b.reducingState<number>("reducing", (x, y) => x + y),
    aggregating: b.aggregatingState("aggregating", avg((x: number) => x)),
    ttl: b.valueState<number>("ttl", { ttl: { ttlMs: 3_600_000 } }),
  };
}
type States = ReturnType<typeof declare>;

function fill(s: States, key: unknown, i: number): void {
  if (i % 3 === 0) s.value.update({ n: i, at: new Date(i) });
  if (i % 4 !== 1) s.list.addAll([i, i + 1]);
  if (i % 5 !== 2) {
    s.map.put(`a${i}`, "x");
    s.map.put({ k: i }, "y");
  }
  s.reducing.add(i);
  s.aggregating.add(i);
  s.aggregating.add(i + 2);
  if (i % 2 === 0) s.ttl.update(i);
}

function read(s: States) {
  return [s.value.value(), s.list.get(), [...s.map.entries()].sort(), s.reducing.get(), s.aggregating.get(), s.ttl.value()];
}

/** Decoded entries, sorted, with map pairs sorted: comparable across backends. */
function normalized(f: EncodedKeyGroups, range = FULL_RANGE): unknown[] {
  const norm = ([ns, key, v]: KeyedEntry) => {
    const value = ns.startsWith("s:map") ? [...(v as [unknown, unknown][])].sort((a, b) => String(canonicalKey(a[0])).localeCompare(String(canonicalKey(b[0])))) : v;
    return [`${ns}|${String(canonicalKey(key))}`, key, value];
  };
  return [...decodeKeyGroupBlocks(f.data, f, range)].map(norm).sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

const timers = (kg: number): KeyedEntry[] | undefined => (kg % 2 ? [["t:event", `timer-${kg}`, kg * 1000]] : undefined);

async function restoreInto(kind: BackendKind, f: EncodedKeyGroups, range = FULL_RANGE): Promise<{ b: KeyedStateBackend; others: KeyedEntry[] }> {
  const b = backend(kind, { keyGroupRange: range });
  const others = await b.restore(decodeKeyGroupBlocks(f.data, f, range));
  return { b, others };
}

describe("snapshots across backends", () => {
  it("heap -> snapshot -> RocksDB restore -> snapshot -> heap restore gives the same state", async () => {
    const heap = backend("heap");
    const hs = declare(heap);
    await batch(heap, KEYS, (k) => fill(hs, k, KEYS.indexOf(k)));
    const first = await heap.snapshot(timers)();

    const rocks = await restoreInto("rocksdb", first);
    expect(rocks.others.sort()).toEqual(Array.from({ length: 64 }, (_, i) => timers(2 * i + 1)![0]).sort());
    expect(rocks.b.entryCount).toBe(heap.entryCount);
    const rs = declare(rocks.b);
    expect(await batch(rocks.b, KEYS, () => read(rs))).toEqual(await batch(heap, KEYS, () => read(hs)));
    const second = await rocks.b.snapshot(timers)();
    expect(normalized(second)).toEqual(normalized(first));

    const back = await restoreInto("heap", second);
    const bs = declare(back.b);
    expect(await batch(back.b, KEYS, () => read(bs))).toEqual(await batch(heap, KEYS, () => read(hs)));
    expect(normalized(await back.b.snapshot(timers)())).toEqual(normalized(first));
  });

  it.each(KINDS)("restoring into a smaller key-group range (%s) keeps only its groups", async (kind) => {
    const src = backend("heap");
    const s = declare(src);
    await batch(src, KEYS, (k) => fill(s, k, KEYS.indexOf(k)));
    const full = await src.snapshot(() => undefined)();
    const half = { start: 0, end: 63 };
    // Given every entry of the file, the backend skips the key groups outside its range itself.
    const small = backend(kind, { keyGroupRange: half });
    await small.restore(decodeKeyGroupBlocks(full.data, full, FULL_RANGE));
    const inHalf = KEYS.filter((k) => keyGroupOf(canonicalKey(k), 128) <= 63);
    expect(small.entryCount).toBe(normalized(full, half).length);
    const ss = declare(small);
    expect(await batch(small, inHalf, () => read(ss))).toEqual(await batch(src, inHalf, () => read(s)));
    const snap = await small.snapshot(() => undefined)();
    expect(snap.keyGroupStart).toBe(0);
    expect(snap.offsets).toHaveLength(65);
    expect(normalized(snap, half)).toEqual(normalized(full, half));
  });
});

describe.each(KINDS)("%s snapshot isolation", (kind) => {
  it("writes after the synchronous part are not in the snapshot, whether flushed before or not", async () => {
    const b = backend(kind);
    const v = b.valueState<number>("v");
    const l = b.listState<number>("l");
    await batch(b, ["flushed", "dirty"], () => {
      v.update(1);
      l.add(1);
    });
    // "dirty" is written but not flushed when the snapshot starts.
    const loading = b.prefetch([["dirty", "dirty"]]);
    if (loading) await loading;
    b.setCurrentKey("dirty", "dirty");
    v.update(2);
    const write = b.snapshot(() => undefined);
    v.update(3); // same key, after the synchronous part, not flushed yet
    l.add(3); // in-place append to a list captured by the snapshot
    await batch(b, ["flushed", "new"], () => {
      v.update(9);
      l.add(9);
    });
    const entries = normalized(await write());
    expect(entries.map((e) => [(e[0] as string).split("|")[0], e[1], e[2]])).toEqual([
      ["s:list:l", "dirty", [1]],
      ["s:list:l", "flushed", [1]],
      ["s:value:v", "dirty", 2],
      ["s:value:v", "flushed", 1],
    ]);
    expect(await batch(b, ["flushed", "dirty", "new"], () => [v.value(), l.get()])).toEqual([
      [9, [1, 9]],
      [3, [1, 3]],
      [9, [9]],
    ]);
  });

  it("a second snapshot while the first is still being written gets its own view", async () => {
    const b = backend(kind);
    const v = b.valueState<number>("v");
    await as(b, "k", () => v.update(1));
    const first = b.snapshot(() => undefined);
    await as(b, "k", () => v.update(2));
    const second = b.snapshot(() => undefined);
    await as(b, "k", () => v.update(3));
    const [f, s] = await Promise.all([first(), second()]);
    expect(normalized(f).map((e) => e[2])).toEqual([1]);
    expect(normalized(s).map((e) => e[2])).toEqual([2]);
  });
});

describe.each(KINDS)("%s restore", (kind) => {
  async function snapshotOf(declareAndWrite: (b: KeyedStateBackend) => void): Promise<EncodedKeyGroups> {
    const src = backend("heap");
    await as(src, "k", () => declareAndWrite(src));
    return src.snapshot(() => undefined)();
  }

  it("refuses state declared with another kind or TTL setting than the snapshot's", async () => {
    const f = await snapshotOf((b) => b.valueState<number>("x").update(1));
    const { b } = await restoreInto(kind, f);
    expect(() => b.listState("x")).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_MISMATCH", message: expect.stringContaining('value state "x"') }));
    expect(() => b.valueState("x", { ttl: { ttlMs: 5 } })).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_MISMATCH" }));
    const v = b.valueState<number>("x");
    expect(await as(b, "k", () => v.value())).toBe(1);
  });

  it("keeps restored state that is not declared (yet) in later snapshots", async () => {
    const f = await snapshotOf((b) => {
      b.valueState<number>("kept").update(7);
      b.mapState<string, number>("m").put("a", 1);
    });
    const { b } = await restoreInto(kind, f);
    const other = b.valueState<number>("other");
    await as(b, "k", () => other.update(1));
    const again = await b.snapshot(() => undefined)();
    expect(normalized(again).map((e) => [(e[0] as string).split("|")[0], e[2]])).toEqual([
      ["s:map:m", [["a", 1]]],
      ["s:value:kept", 7],
      ["s:value:other", 1],
    ]);
  });
});
