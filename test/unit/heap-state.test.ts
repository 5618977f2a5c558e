import { describe, expect, it } from "vitest";
import { canonicalKey } from "../../runtime/common/keys.js";
import { WeirError } from "../../runtime/common/errors.js";
import { HeapKeyedStateBackend } from "../../runtime/state/heap-keyed-state.js";

function backend() {
  const b = new HeapKeyedStateBackend("counter");
  const as = (key: unknown) => b.setCurrentKey(canonicalKey(key));
  return { b, as };
}

describe("HeapKeyedStateBackend: value state", () => {
  it("keeps one value per key", () => {
    const { b, as } = backend();
    const v = b.valueState<number>("count");
    as("a");
    expect(v.value()).toBeUndefined();
    v.update(1);
    as("b");
    expect(v.value()).toBeUndefined();
    v.update(10);
    as("a");
    expect(v.value()).toBe(1);
    as("b");
    expect(v.value()).toBe(10);
  });

  it("returns the default for a key without a value, and after clear", () => {
    const { b, as } = backend();
    const v = b.valueState("count", 0);
    as("a");
    expect(v.value()).toBe(0);
    v.update(5);
    expect(v.value()).toBe(5);
    v.clear();
    expect(v.value()).toBe(0);
    expect(b.entryCount).toBe(0);
  });

  it("keeps falsy values (0, '', false, null) rather than the default", () => {
    const { b, as } = backend();
    const v = b.valueState<unknown>("x", "default");
    as("k");
    for (const falsy of [0, "", false, null]) {
      v.update(falsy);
      expect(v.value()).toBe(falsy);
    }
  });

  it("two handles of the same name share the state; different names do not", () => {
    const { b, as } = backend();
    as("a");
    b.valueState<number>("n").update(3);
    expect(b.valueState<number>("n").value()).toBe(3);
    expect(b.valueState<number>("m").value()).toBeUndefined();
  });

  it("a value, a list and a map of the same name are separate states", () => {
    const { b, as } = backend();
    as("a");
    b.valueState<number>("s").update(1);
    b.listState<number>("s").add(2);
    b.mapState<string, number>("s").put("x", 3);
    expect(b.valueState<number>("s").value()).toBe(1);
    expect(b.listState<number>("s").get()).toEqual([2]);
    expect(b.mapState<string, number>("s").get("x")).toBe(3);
  });

  it("treats equal composite keys as the same key and '1' and 1 as different keys", () => {
    const { b, as } = backend();
    const v = b.valueState<string>("v");
    as({ user: 1, region: "eu" });
    v.update("x");
    as({ region: "eu", user: 1 });
    expect(v.value()).toBe("x");
    as(1);
    v.update("number");
    as("1");
    expect(v.value()).toBeUndefined();
  });

  it("fails naming the operator when used outside a keyed context", () => {
    const { b } = backend();
    const v = b.valueState<number>("count");
    const call = () => v.value();
    expect(call).toThrow(WeirError);
    expect(call).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION", message: expect.stringContaining('"counter"') }));
  });
});

describe("HeapKeyedStateBackend: list state", () => {
  it("appends per key and returns a copy", () => {
    const { b, as } = backend();
    const l = b.listState<number>("l");
    as("a");
    expect(l.get()).toEqual([]);
    l.add(1);
    l.addAll([2, 3]);
    as("b");
    l.add(9);
    as("a");
    const got = l.get();
    expect(got).toEqual([1, 2, 3]);
    got.push(100);
    expect(l.get()).toEqual([1, 2, 3]);
  });

  it("update replaces the list with a copy; update([]) and clear remove the key", () => {
    const { b, as } = backend();
    const l = b.listState<number>("l");
    as("a");
    const input = [4, 5];
    l.update(input);
    input.push(6);
    expect(l.get()).toEqual([4, 5]);
    l.update([]);
    expect(l.get()).toEqual([]);
    expect(b.entryCount).toBe(0);
    l.add(1);
    l.clear();
    expect(l.get()).toEqual([]);
    expect(b.entryCount).toBe(0);
  });
});

describe("HeapKeyedStateBackend: map state", () => {
  it("keeps a map per key", () => {
    const { b, as } = backend();
    const m = b.mapState<string, number>("m");
    as("a");
    m.put("x", 1);
    m.put("y", 2);
    as("b");
    expect(m.isEmpty()).toBe(true);
    expect(m.get("x")).toBeUndefined();
    m.put("x", 100);
    as("a");
    expect([...m.entries()]).toEqual([
      ["x", 1],
      ["y", 2],
    ]);
    expect([...m.keys()]).toEqual(["x", "y"]);
    expect([...m.values()]).toEqual([1, 2]);
    expect(m.contains("x")).toBe(true);
    expect(m.contains("z")).toBe(false);
  });

  it("uses map keys by value, returning the original key objects", () => {
    const { b, as } = backend();
    const m = b.mapState<{ a: number; b: number }, string>("m");
    as("k");
    m.put({ a: 1, b: 2 }, "first");
    m.put({ b: 2, a: 1 }, "second");
    expect(m.get({ a: 1, b: 2 })).toBe("second");
    expect([...m.keys()]).toEqual([{ b: 2, a: 1 }]);
    m.put({ a: 2, b: 1 }, "other");
    expect([...m.values()].sort()).toEqual(["other", "second"]);
  });

  it("distinguishes the map keys '1' and 1", () => {
    const { b, as } = backend();
    const m = b.mapState<string | number, string>("m");
    as("k");
    m.put(1, "number");
    m.put("1", "string");
    expect(m.get(1)).toBe("number");
    expect(m.get("1")).toBe("string");
  });

  it("removing the last entry, or clear, removes the key", () => {
    const { b, as } = backend();
    const m = b.mapState<string, number>("m");
    as("a");
    m.put("x", 1);
    m.put("y", 2);
    m.remove("x");
    expect(m.isEmpty()).toBe(false);
    m.remove("y");
    expect(m.isEmpty()).toBe(true);
    expect(b.entryCount).toBe(0);
    m.remove("never-there");
    m.put("z", 3);
    m.clear();
    expect([...m.entries()]).toEqual([]);
    expect(b.entryCount).toBe(0);
  });

  it("reading an absent key's map does not create state", () => {
    const { b, as } = backend();
    const m = b.mapState<string, number>("m");
    as("ghost");
    expect(m.get("x")).toBeUndefined();
    expect(m.contains("x")).toBe(false);
    expect([...m.keys()]).toEqual([]);
    expect([...m.values()]).toEqual([]);
    expect(b.entryCount).toBe(0);
  });
});

describe("HeapKeyedStateBackend: entryCount", () => {
  it("counts keys with state, summed over states", () => {
    const { b, as } = backend();
    const v = b.valueState<number>("v");
    const l = b.listState<number>("l");
    for (const k of ["a", "b", "c"]) {
      as(k);
      v.update(1);
    }
    as("a");
    l.add(1);
    expect(b.entryCount).toBe(4);
    v.clear();
    expect(b.entryCount).toBe(3);
  });
});
