import { describe, expect, it } from "vitest";
import {
  canonicalKey,
  checkMaxParallelism,
  hashKey,
  keyGroupOf,
  keyGroupRangeFor,
  operatorIndexForKeyGroup,
  UPPER_BOUND_MAX_PARALLELISM,
} from "../../runtime/common/keys.js";
import { WeirError } from "../../runtime/common/errors.js";

describe("canonicalKey", () => {
  it("keeps strings and finite numbers as they are", () => {
    expect(canonicalKey("user-1")).toBe("user-1");
    expect(canonicalKey("")).toBe("");
    expect(canonicalKey(42)).toBe(42);
    expect(canonicalKey(-1.5)).toBe(-1.5);
  });

  it("distinguishes the string '1' from the number 1", () => {
    expect(canonicalKey("1")).not.toBe(canonicalKey(1));
    const m = new Map([[canonicalKey("1"), "s"]]);
    m.set(canonicalKey(1), "n");
    expect(m.size).toBe(2);
  });

  it("makes objects with the same entries in a different order equal", () => {
    expect(canonicalKey({ a: 1, b: "x" })).toBe(canonicalKey({ b: "x", a: 1 }));
    expect(canonicalKey({ outer: { y: 2, x: 1 } })).toBe(canonicalKey({ outer: { x: 1, y: 2 } }));
  });

  it("tells objects with different values apart", () => {
    expect(canonicalKey({ a: 1 })).not.toBe(canonicalKey({ a: 2 }));
    expect(canonicalKey({ a: 1 })).not.toBe(canonicalKey({ a: "1" }));
    expect(canonicalKey({ a: 1 })).not.toBe(canonicalKey({ b: 1 }));
  });

  it("makes equal arrays equal and keeps their order significant", () => {
    expect(canonicalKey([1, "a", { z: 0, y: 1 }])).toBe(canonicalKey([1, "a", { y: 1, z: 0 }]));
    expect(canonicalKey([1, 2])).not.toBe(canonicalKey([2, 1]));
    expect(canonicalKey(["1"])).not.toBe(canonicalKey([1]));
  });

  it("keeps composite keys apart from strings that look like them", () => {
    expect(canonicalKey([1, 2])).not.toBe(canonicalKey("[1,2]"));
    expect(canonicalKey({ a: 1 })).not.toBe(canonicalKey('{"a":1}'));
  });

  it("handles booleans, null, bigint, dates and non-finite numbers", () => {
    expect(canonicalKey(true)).not.toBe(canonicalKey("true"));
    expect(canonicalKey(null)).toBe(canonicalKey(null));
    expect(canonicalKey(null)).not.toBe(canonicalKey("null"));
    expect(canonicalKey(10n)).not.toBe(canonicalKey(10));
    expect(canonicalKey(new Date(5))).toBe(canonicalKey(new Date(5)));
    expect(canonicalKey(new Date(5))).not.toBe(canonicalKey(new Date(6)));
    expect(canonicalKey(Infinity)).toBe(canonicalKey(Infinity));
    expect(canonicalKey(Infinity)).not.toBe(canonicalKey(-Infinity));
  });
});

describe("hashKey", () => {
  // Pinned: the hash decides key groups, so changing it would break savepoint compatibility.
  it.each([
    [0, 0],
    [1, 1364076727],
    [-1, 2180083513],
    [42, 142593372],
    [2147483647, 4190899880],
    [-2147483648, 1832674720],
    [1.5, 1162559503],
    [4294967296, 2414704788],
    ["", 0],
    ["a", 721651713],
    ["hello", 449616461],
    ["user-42", 798118898],
    ["日本", 322114415],
  ] as const)("hashKey(%j) is pinned to %i", (key, hash) => {
    expect(hashKey(key)).toBe(hash);
  });

  it("hashes a composite key's canonical form to a pinned value", () => {
    expect(hashKey(canonicalKey({ b: [2, "x"], a: 1 }))).toBe(733070850);
  });

  it("is a non-negative 32-bit integer for many keys", () => {
    for (let i = -500; i < 500; i++) {
      for (const k of [i, `k${i}`, i + 0.25]) {
        const h = hashKey(k);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      }
    }
  });

  it("is the same for equal keys built separately", () => {
    expect(hashKey(canonicalKey({ x: [1, 2] }))).toBe(hashKey(canonicalKey({ x: [1, 2] })));
    expect(hashKey("ab" + "c")).toBe(hashKey("abc"));
  });
});

describe("key groups", () => {
  it("keyGroupOf stays within 0..maxParallelism-1", () => {
    for (const maxP of [1, 2, 7, 128, 1000, UPPER_BOUND_MAX_PARALLELISM]) {
      for (let i = -300; i < 300; i++) {
        for (const k of [i, `key-${i}`, i / 7]) {
          const g = keyGroupOf(k, maxP);
          expect(Number.isInteger(g) && g >= 0 && g < maxP).toBe(true);
        }
      }
    }
  });

  it("keyGroupOf spreads sequential integer keys over every group", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(keyGroupOf(i, 128));
    expect(seen.size).toBe(128);
  });

  const pairs: Array<[parallelism: number, maxParallelism: number]> = [
    [1, 1],
    [1, 128],
    [2, 128],
    [3, 128],
    [7, 128],
    [128, 128],
    [5, 7],
    [6, 7],
    [10, 1000],
    [13, 32768],
  ];

  it.each(pairs)("keyGroupRangeFor covers every key group exactly once (parallelism %i, max %i)", (p, maxP) => {
    const owner = new Array<number>(maxP).fill(-1);
    let expectedStart = 0;
    for (let i = 0; i < p; i++) {
      const r = keyGroupRangeFor(i, p, maxP);
      expect(r.start).toBe(expectedStart);
      expect(r.end).toBeGreaterThanOrEqual(r.start);
      for (let g = r.start; g <= r.end; g++) {
        expect(owner[g]).toBe(-1);
        owner[g] = i;
      }
      expectedStart = r.end + 1;
    }
    expect(expectedStart).toBe(maxP);
    expect(owner.every((o) => o >= 0)).toBe(true);
  });

  it.each(pairs)("operatorIndexForKeyGroup agrees with keyGroupRangeFor (parallelism %i, max %i)", (p, maxP) => {
    for (let i = 0; i < p; i++) {
      const r = keyGroupRangeFor(i, p, maxP);
      for (let g = r.start; g <= r.end; g++) expect(operatorIndexForKeyGroup(g, maxP, p)).toBe(i);
    }
  });

  it("ranges are balanced: sizes differ by at most one", () => {
    for (const [p, maxP] of pairs) {
      const sizes = Array.from({ length: p }, (_, i) => {
        const r = keyGroupRangeFor(i, p, maxP);
        return r.end - r.start + 1;
      });
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describe("checkMaxParallelism", () => {
  it("accepts parallelism up to maxParallelism", () => {
    expect(() => checkMaxParallelism("op", 128, 128)).not.toThrow();
    expect(() => checkMaxParallelism("op", 1, UPPER_BOUND_MAX_PARALLELISM)).not.toThrow();
  });

  it.each([0, -1, 1.5, UPPER_BOUND_MAX_PARALLELISM + 1, Number.NaN])("rejects maxParallelism %s, naming the operator", (maxP) => {
    const call = () => checkMaxParallelism("counter", 1, maxP);
    expect(call).toThrow(WeirError);
    expect(call).toThrow(/operator "counter": maxParallelism must be an integer in 1\.\.32768/);
  });

  it("rejects parallelism above maxParallelism, naming the operator", () => {
    expect(() => checkMaxParallelism("counter", 9, 8)).toThrow('operator "counter": parallelism 9 exceeds maxParallelism 8');
  });
});
