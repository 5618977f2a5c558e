import { describe, expect, it } from "vitest";
import { count } from "../../runtime/api/aggregates.js";
import { decodeKeyGroupBlocks } from "../../runtime/state/key-group-file.js";
import { as, backend, batch, FakeClock, FULL_RANGE, KINDS } from "./support.js";

const ttl = { ttlMs: 1_000 };

describe.each(KINDS)("%s backend: TTL on processing time", (kind) => {
  it("a value expires ttlMs after its last write and is then cleaned up", async () => {
    const clock = new FakeClock();
    const b = backend(kind, { now: clock.now });
    const v = b.valueState("v", { defaultValue: -1, ttl });
    await as(b, "a", () => v.update(1));
    clock.advance(999);
    expect(await as(b, "a", () => v.value())).toBe(1);
    await as(b, "a", () => v.update(2)); // a write refreshes
    clock.advance(999);
    expect(await as(b, "a", () => v.value())).toBe(2);
    clock.advance(1);
    expect(await as(b, "a", () => v.value())).toBe(-1);
    expect(b.entryCount).toBe(0);
  });

  it("with OnCreateAndWrite reads do not refresh; with OnReadAndWrite they do", async () => {
    const clock = new FakeClock();
    const b = backend(kind, { now: clock.now });
    const w = b.valueState<number>("w", { ttl });
    const r = b.valueState<number>("r", { ttl: { ...ttl, updateType: "OnReadAndWrite" } });
    await as(b, "a", () => {
      w.update(1);
      r.update(1);
    });
    for (let i = 0; i < 3; i++) {
      clock.advance(600);
      expect(await as(b, "a", () => r.value())).toBe(1);
    }
    expect(await as(b, "a", () => [w.value(), r.value()])).toEqual([undefined, 1]);
  });

  it("ReturnExpiredIfNotCleanedUp returns an expired value once, then it is gone", async () => {
    const clock = new FakeClock();
    const b = backend(kind, { now: clock.now });
    const v = b.valueState<number>("v", { ttl: { ...ttl, visibility: "ReturnExpiredIfNotCleanedUp" } });
    await as(b, "a", () => v.update(5));
    clock.advance(5_000);
    expect(await as(b, "a", () => v.value())).toBe(5);
    expect(await as(b, "a", () => v.value())).toBeUndefined();
  });

  it("list, reducing and aggregating state expire as a whole", async () => {
    const clock = new FakeClock();
    const b = backend(kind, { now: clock.now });
    const l = b.listState<number>("l", { ttl });
    const r = b.reducingState<number>("r", (x, y) => x + y, { ttl });
    const a = b.aggregatingState("a", count<number>(), { ttl });
    const addAll = () => {
      l.add(1);
      r.add(1);
      a.add(1);
    };
    await as(b, "k", addAll);
    clock.advance(500);
    await as(b, "k", addAll);
    clock.advance(999);
    expect(await as(b, "k", () => [l.get(), r.get(), a.get()])).toEqual([[1, 1], 2, 2]);
    clock.advance(1);
    expect(await as(b, "k", () => [l.get(), r.get(), a.get()])).toEqual([[], undefined, undefined]);
    await as(b, "k", addAll);
    expect(await as(b, "k", () => [l.get(), r.get(), a.get()])).toEqual([[1], 1, 1]);
  });

  it("map entries expire one by one", async () => {
    const clock = new FakeClock();
    const b = backend(kind, { now: clock.now });
    const m = b.mapState<string, number>("m", { ttl });
    await as(b, "k", () => m.put("old", 1));
    clock.advance(600);
    await as(b, "k", () => m.put("new", 2));
    clock.advance(400);
    expect(await as(b, "k", () => [[...m.entries()], m.get("old"), m.contains("new")])).toEqual([[["new", 2]], undefined, true]);
    clock.advance(600);
    expect(await as(b, "k", () => m.isEmpty())).toBe(true);
    expect(b.entryCount).toBe(0);
  });

  it("expired entries are left out of snapshots", async () => {
    const clock = new FakeClock();
    const b = backend(kind, { now: clock.now });
    const v = b.valueState<number>("v", { ttl });
    const m = b.mapState<string, number>("m", { ttl });
    await batch(b, ["a", "b"], (k) => {
      v.update(1);
      m.put(`x-${String(k)}`, 1);
    });
    clock.advance(600);
    await as(b, "b", () => {
      v.update(2);
      m.put("y", 2);
    });
    clock.advance(400);
    const file = await b.snapshot(() => undefined)();
    const entries = [...decodeKeyGroupBlocks(file.data, file, FULL_RANGE)];
    expect(entries.map(([ns, key, value]) => [ns, key, stripTime(value)]).sort()).toEqual([
      ["s:map+ttl:m", "b", [["y", 2]]],
      ["s:value+ttl:v", "b", 2],
    ]);
  });
});

/** A snapshot value without its TTL timestamps. */
function stripTime(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(([k, w]: [unknown, { v: unknown }]) => [k, w.v]);
  return (value as { v: unknown }).v;
}
