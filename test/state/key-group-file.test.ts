import { describe, expect, it } from "vitest";
import { decodeKeyGroupBlocks, encodeKeyGroupFile } from "../../runtime/state/key-group-file.js";
import type { KeyedEntry } from "../../runtime/state/snapshot-types.js";

const entriesOf = (kg: number): KeyedEntry[] | undefined =>
  kg % 3 === 0 ? undefined : [["s:value:v", `k${kg}`, { n: kg, at: new Date(kg), m: new Map([[kg, [kg]]]) }], ["t:event", kg, kg * 10]];

describe("key-group file", () => {
  it("round-trips entries and gives empty groups zero-length blocks", () => {
    const f = encodeKeyGroupFile(10, 19, entriesOf);
    expect(f.keyGroupStart).toBe(10);
    expect(f.offsets).toHaveLength(11);
    expect(f.offsets[3]! - f.offsets[2]!).toBe(0); // key group 12 is empty
    expect(f.offsets[10]).toBe(f.data.length);
    const expected = Array.from({ length: 10 }, (_, i) => entriesOf(10 + i) ?? []).flat();
    expect([...decodeKeyGroupBlocks(f.data, f, { start: 0, end: 127 })]).toEqual(expected);
  });

  it("decodes only the blocks inside the range", () => {
    const f = encodeKeyGroupFile(10, 19, entriesOf);
    const got = [...decodeKeyGroupBlocks(f.data, f, { start: 14, end: 16 })];
    expect(got.map((e) => e[1])).toEqual(["k14", 14, "k16", 16]);
    expect([...decodeKeyGroupBlocks(f.data, f, { start: 20, end: 30 })]).toEqual([]);
  });

  it("does not read blocks outside the range (their bytes may be anything)", () => {
    const f = encodeKeyGroupFile(0, 3, entriesOf);
    f.data.fill(0xc1, f.offsets[1], f.offsets[2]); // garbage in key group 1
    expect([...decodeKeyGroupBlocks(f.data, f, { start: 2, end: 3 })].length).toBe(2);
  });

  it("refuses a truncated file with WEIR_E_CORRUPT_STATE", () => {
    const f = encodeKeyGroupFile(0, 7, entriesOf);
    const cut = f.data.subarray(0, f.data.length - 1);
    expect(() => [...decodeKeyGroupBlocks(cut, f, { start: 0, end: 0 })]).toThrow(expect.objectContaining({ code: "WEIR_E_CORRUPT_STATE" }));
  });

  it("refuses a block that does not decode, or is not a list of entries, with WEIR_E_CORRUPT_STATE", () => {
    const f = encodeKeyGroupFile(0, 7, entriesOf);
    const bad = Buffer.from(f.data);
    bad.fill(0xc1, f.offsets[1], f.offsets[2]);
    expect(() => [...decodeKeyGroupBlocks(bad, f, { start: 0, end: 7 })]).toThrow(expect.objectContaining({ code: "WEIR_E_CORRUPT_STATE" }));
    const notEntries = encodeKeyGroupFile(0, 0, () => [42 as unknown as KeyedEntry]);
    expect(() => [...decodeKeyGroupBlocks(notEntries.data, notEntries, { start: 0, end: 0 })]).toThrow(
      expect.objectContaining({ code: "WEIR_E_CORRUPT_STATE", message: expect.stringContaining("key group 0") }),
    );
  });
});
