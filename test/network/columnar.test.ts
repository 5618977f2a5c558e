import { describe, expect, it } from "vitest";
import { decodeColumns, encodeColumns } from "../../runtime/network/columnar.js";
import { decodeElement, encodeElement } from "../../runtime/network/serializer.js";

function roundTrip(values: unknown[]): unknown[] {
  const el = decodeElement(encodeElement({ kind: "batch", values, timestamps: null }));
  if (el.kind !== "batch") throw new Error("not a batch");
  return el.values;
}

describe("columnar batches", () => {
  it("round-trips int, double, string, nested and missing-value columns", () => {
    const values = Array.from({ length: 500 }, (_, i) => ({
      id: i,
      price: i % 7 === 0 ? i + 0.25 : i, // an int column that turns into doubles midway
      big: 2 ** 40 + i,
      name: `n${i}`,
      tags: [i, { deep: i % 3 }],
      maybe: i % 2 ? null : undefined,
      when: new Date(1_700_000_000_000 + i),
    }));
    expect(encodeColumns(values)).not.toBeNull();
    expect(roundTrip(values)).toEqual(values);
  });

  it("keeps -0, NaN and infinities", () => {
    const values = [{ x: -0 }, { x: Number.NaN }, { x: Infinity }, { x: -Infinity }, { x: 1 }];
    const back = roundTrip(values) as { x: number }[];
    expect(Object.is(back[0]!.x, -0)).toBe(true);
    expect(back.map((v) => v.x).slice(1)).toEqual([Number.NaN, Infinity, -Infinity, 1]);
  });

  it("keeps key order, and quotes keys that are not identifiers", () => {
    const values = [{ "a-b": 1, "c d": "x", z: 2 }, { "a-b": 3, "c d": "y", z: 4 }];
    const back = roundTrip(values) as object[];
    expect(back).toEqual(values);
    expect(Object.keys(back[1]!)).toEqual(["a-b", "c d", "z"]);
  });

  it.each([
    ["different key order", [{ a: 1, b: 2 }, { b: 2, a: 1 }]],
    ["different key sets", [{ a: 1 }, { a: 1, b: 2 }]],
    ["class instances", [new (class P { a = 1; })()]],
    ["primitives", [1, 2, 3]],
    ["mixed records and primitives", [{ a: 1 }, 2]],
  ])("falls back to msgpack records for %s, losslessly", (_, values) => {
    expect(encodeColumns(values as unknown[])).toBeNull();
    const back = roundTrip(values as unknown[]);
    expect(JSON.stringify(back)).toBe(JSON.stringify(values));
  });

  it("never builds objects with an own __proto__ key (the builder would set the prototype)", () => {
    expect(encodeColumns([JSON.parse('{"__proto__": 5, "a": 1}')])).toBeNull();
  });

  it("rejects a truncated columnar payload", () => {
    const buf = encodeColumns([{ a: 1.5 }, { a: 2.5 }])!;
    expect(() => decodeColumns(buf.subarray(0, buf.length - 3), 2)).toThrow(/truncated/);
  });
});
