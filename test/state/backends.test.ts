import { describe, expect, it } from "vitest";
import { avg, count } from "../../runtime/api/aggregates.js";
import { keyGroupOf } from "../../runtime/common/keys.js";
import { WeirError } from "../../runtime/common/errors.js";
import { as, backend, batch, KINDS } from "./support.js";

describe.each(KINDS)("%s backend: value state", (kind) => {
  it("keeps one value per key", async () => {
    const b = backend(kind);
    const v = b.valueState<number>("count");
    expect(await as(b, "a", () => v.value())).toBeUndefined();
    await as(b, "a", () => v.update(1));
    await as(b, "b", () => v.update(10));
    expect(await batch(b, ["a", "b", "c"], () => v.value())).toEqual([1, 10, undefined]);
  });

  it("returns the default (old positional form and options form) for a key without a value, and after clear", async () => {
    const b = backend(kind);
    const v = b.valueState("count", 0);
    const w = b.valueState("other", { defaultValue: 7 });
    expect(await as(b, "a", () => [v.value(), w.value()])).toEqual([0, 7]);
    await as(b, "a", () => v.update(5));
    expect(await as(b, "a", () => v.value())).toBe(5);
    await as(b, "a", () => v.clear());
    expect(await as(b, "a", () => v.value())).toBe(0);
    expect(b.entryCount).toBe(0);
  });

  it("reads an object that is not an options object as the default value", async () => {
    const b = backend(kind);
    const v = b.valueState("v", { total: 0 });
    const empty = b.valueState("e", {});
    expect(await as(b, "a", () => [v.value(), empty.value()])).toEqual([{ total: 0 }, {}]);
  });

  it("keeps falsy values (0, '', false, null) rather than the default", async () => {
    const b = backend(kind);
    const v = b.valueState<unknown>("x", "default");
    for (const falsy of [0, "", false, null]) {
      await as(b, "k", () => v.update(falsy));
      expect(await as(b, "k", () => v.value())).toBe(falsy);
    }
  });

  it("round-trips structured values (Map, Date, undefined fields, nested arrays)", async () => {
    const b = backend(kind);
    const v = b.valueState<unknown>("x");
    const value = { m: new Map<unknown, unknown>([[1, "a"], ["k", [1, { z: 2 }]]]), d: new Date(5), u: undefined, s: new Set([1]) };
    await as(b, "k", () => v.update(value));
    const got = await batch(b, ["k"], () => v.value());
    expect(got[0]).toEqual(value);
  });

  it("two handles of the same name share the state; different names do not", async () => {
    const b = backend(kind);
    await as(b, "a", () => b.valueState<number>("n").update(3));
    expect(await as(b, "a", () => [b.valueState<number>("n").value(), b.valueState<number>("m").value()])).toEqual([3, undefined]);
  });

  it("treats equal composite keys as the same key and '1' and 1 as different keys", async () => {
    const b = backend(kind);
    const v = b.valueState<string>("v");
    await as(b, { user: 1, region: "eu" }, () => v.update("x"));
    expect(await as(b, { region: "eu", user: 1 }, () => v.value())).toBe("x");
    await as(b, 1, () => v.update("number"));
    expect(await as(b, "1", () => v.value())).toBeUndefined();
    expect(await as(b, 1, () => v.value())).toBe("number");
  });

  it("fails naming the operator when used outside a keyed context", () => {
    const b = backend(kind);
    const v = b.valueState<number>("count");
    const call = () => v.value();
    expect(call).toThrow(WeirError);
    expect(call).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION", message: expect.stringContaining('"counter"') }));
  });

  it("refuses one name declared as two kinds, or with another TTL", () => {
    const b = backend(kind);
    b.valueState<number>("s");
    expect(() => b.listState<number>("s")).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION", message: expect.stringContaining('value state "s"') }));
    expect(() => b.valueState("s", { ttl: { ttlMs: 10 } })).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION" }));
    expect(() => b.valueState("bad", { ttl: { ttlMs: 0 } })).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION" }));
  });
});

describe.each(KINDS)("%s backend: list state", (kind) => {
  it("appends per key and returns a copy", async () => {
    const b = backend(kind);
    const l = b.listState<number>("l");
    expect(await as(b, "a", () => l.get())).toEqual([]);
    await as(b, "a", () => {
      l.add(1);
      l.addAll([2, 3]);
    });
    await as(b, "b", () => l.add(9));
    const got = await as(b, "a", () => l.get());
    expect(got).toEqual([1, 2, 3]);
    got.push(100);
    expect(await batch(b, ["a", "b"], () => l.get())).toEqual([[1, 2, 3], [9]]);
  });

  it("update replaces the list with a copy; update([]) and clear remove the key", async () => {
    const b = backend(kind);
    const l = b.listState<number>("l");
    const input = [4, 5];
    await as(b, "a", () => l.update(input));
    input.push(6);
    expect(await as(b, "a", () => l.get())).toEqual([4, 5]);
    await as(b, "a", () => l.update([]));
    expect(await as(b, "a", () => l.get())).toEqual([]);
    expect(b.entryCount).toBe(0);
    await as(b, "a", () => l.add(1));
    await as(b, "a", () => l.clear());
    expect(await as(b, "a", () => l.get())).toEqual([]);
    expect(b.entryCount).toBe(0);
  });
});

describe.each(KINDS)("%s backend: map state", (kind) => {
  it("keeps a map per key", async () => {
    const b = backend(kind);
    const m = b.mapState<string, number>("m");
    await as(b, "a", () => {
      m.put("x", 1);
      m.put("y", 2);
    });
    expect(await as(b, "b", () => [m.isEmpty(), m.get("x")])).toEqual([true, undefined]);
    await as(b, "b", () => m.put("x", 100));
    const [entries, keys, values, has] = await as(b, "a", () => [[...m.entries()], [...m.keys()], [...m.values()], [m.contains("x"), m.contains("z")]]);
    expect(entries).toEqual([["x", 1], ["y", 2]]);
    expect(keys).toEqual(["x", "y"]);
    expect(values).toEqual([1, 2]);
    expect(has).toEqual([true, false]);
  });

  it("uses map keys by value, returning the original key objects", async () => {
    const b = backend(kind);
    const m = b.mapState<{ a: number; b: number }, string>("m");
    await as(b, "k", () => {
      m.put({ a: 1, b: 2 }, "first");
      m.put({ b: 2, a: 1 }, "second");
    });
    expect(await as(b, "k", () => [m.get({ a: 1, b: 2 }), [...m.keys()]])).toEqual(["second", [{ b: 2, a: 1 }]]);
    await as(b, "k", () => m.put({ a: 2, b: 1 }, "other"));
    expect((await as(b, "k", () => [...m.values()])).sort()).toEqual(["other", "second"]);
  });

  it("distinguishes the map keys '1' and 1", async () => {
    const b = backend(kind);
    const m = b.mapState<string | number, string>("m");
    await as(b, "k", () => {
      m.put(1, "number");
      m.put("1", "string");
    });
    expect(await as(b, "k", () => [m.get(1), m.get("1")])).toEqual(["number", "string"]);
  });

  it("removing the last entry, or clear, removes the key", async () => {
    const b = backend(kind);
    const m = b.mapState<string, number>("m");
    await as(b, "a", () => {
      m.put("x", 1);
      m.put("y", 2);
    });
    await as(b, "a", () => m.remove("x"));
    expect(await as(b, "a", () => m.isEmpty())).toBe(false);
    await as(b, "a", () => m.remove("y"));
    expect(await as(b, "a", () => m.isEmpty())).toBe(true);
    expect(b.entryCount).toBe(0);
    await as(b, "a", () => {
      m.remove("never-there");
      m.put("z", 3);
    });
    await as(b, "a", () => m.clear());
    expect(await as(b, "a", () => [...m.entries()])).toEqual([]);
    expect(b.entryCount).toBe(0);
  });

  it("reading an absent key's map does not create state", async () => {
    const b = backend(kind);
    const m = b.mapState<string, number>("m");
    await as(b, "ghost", () => [m.get("x"), m.contains("x"), [...m.keys()], [...m.values()]]);
    expect(b.entryCount).toBe(0);
  });
});

describe.each(KINDS)("%s backend: reducing and aggregating state", (kind) => {
  it("reducing state folds added values per key", async () => {
    const b = backend(kind);
    const r = b.reducingState<number>("max", (x, y) => Math.max(x, y));
    expect(await as(b, "a", () => r.get())).toBeUndefined();
    await batch(b, ["a", "b", "a", "a"], (k) => r.add(k === "a" ? 3 : 1));
    await as(b, "a", () => r.add(2));
    expect(await batch(b, ["a", "b"], () => r.get())).toEqual([3, 1]);
    await as(b, "a", () => r.clear());
    expect(await as(b, "a", () => r.get())).toBeUndefined();
  });

  it("aggregating state keeps the accumulator and returns the result", async () => {
    const b = backend(kind);
    const a = b.aggregatingState("avg", avg((x: number) => x));
    const n = b.aggregatingState("n", count<number>());
    expect(await as(b, "k", () => [a.get(), n.get()])).toEqual([undefined, undefined]);
    await batch(b, ["k", "k", "k"], () => undefined);
    for (const x of [1, 2, 6]) {
      await as(b, "k", () => {
        a.add(x);
        n.add(x);
      });
    }
    expect(await as(b, "k", () => [a.get(), n.get()])).toEqual([3, 3]);
    await as(b, "k", () => a.clear());
    expect(await as(b, "k", () => a.get())).toBeUndefined();
  });
});

describe.each(KINDS)("%s backend: entryCount", (kind) => {
  it("counts keys with state, summed over states", async () => {
    const b = backend(kind);
    const v = b.valueState<number>("v");
    const l = b.listState<number>("l");
    await batch(b, ["a", "b", "c"], () => v.update(1));
    await as(b, "a", () => l.add(1));
    expect(b.entryCount).toBe(4);
    await as(b, "a", () => v.clear());
    expect(b.entryCount).toBe(3);
  });
});

describe("setCurrentKey", () => {
  it("refuses a key of a key group outside the backend's range", () => {
    const b = backend("heap", { keyGroupRange: { start: 0, end: 0 } });
    const outside = ["a", "b", "c", "d", "e"].find((k) => keyGroupOf(k, 128) !== 0)!;
    expect(() => b.setCurrentKey(outside, outside)).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION" }));
  });
});
