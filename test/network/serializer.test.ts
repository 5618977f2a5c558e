import { describe, expect, it } from "vitest";
import { batchOf, END_OF_PARTITION, STATUS_ACTIVE, STATUS_IDLE, watermarkEvent, type StreamElement } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { decodeElement, encodeElement } from "../../runtime/network/serializer.js";

const roundTrip = (element: StreamElement): StreamElement => decodeElement(encodeElement(element));

describe("serializer", () => {
  it("round-trips a batch of small records with timestamps", () => {
    const values = Array.from({ length: 1024 }, (_, i) => ({ word: `w${i % 37}`, count: i }));
    const timestamps = values.map((_, i) => 1_700_000_000_000 + i * 0.5);
    expect(roundTrip(batchOf(values, timestamps))).toEqual(batchOf(values, timestamps));
  });

  it("round-trips mixed values: strings, numbers, nesting, arrays, null, booleans, dates", () => {
    const values = [
      "text",
      "ünïcødé ✓",
      42,
      -1.5,
      2 ** 53 - 1,
      null,
      true,
      false,
      [1, [2, [3]], "x"],
      { nested: { deep: { list: [1, 2], flag: false } }, empty: {} },
      new Date("2024-05-01T12:34:56.789Z"),
      { at: new Date(0), tags: ["a", "b"] },
    ];
    const decoded = roundTrip(batchOf(values, null));
    expect(decoded).toEqual(batchOf(values, null));
    expect((decoded as { values: unknown[] }).values[10]).toBeInstanceOf(Date);
  });

  it("round-trips batches with many distinct record shapes (more than msgpackr's inline slots)", () => {
    const values = Array.from({ length: 300 }, (_, i) => ({ [`field${i}`]: i, common: "x" }));
    expect(roundTrip(batchOf(values, null))).toEqual(batchOf(values, null));
  });

  it("decodes each message on its own, in any order (no state shared between messages)", () => {
    const batches = [0, 1, 2].map((k) => batchOf([{ a: k, b: `s${k}` }, { c: [k], d: null }, { a: k + 1, b: "t" }], null));
    const encoded = batches.map((b) => encodeElement(b));
    expect(decodeElement(encoded[2]!)).toEqual(batches[2]);
    expect(decodeElement(encoded[0]!)).toEqual(batches[0]);
    expect(decodeElement(encoded[1]!)).toEqual(batches[1]);
  });

  it("round-trips events", () => {
    const barrier: StreamElement = { kind: "barrier", checkpointId: 42, timestamp: 1_700_000_000_123, savepoint: true, stop: true, targetDir: "s3://b/ckpt/é" };
    for (const event of [watermarkEvent(123.25), watermarkEvent(-Infinity), STATUS_IDLE, STATUS_ACTIVE, END_OF_PARTITION, barrier]) {
      expect(roundTrip(event)).toEqual(event);
    }
  });

  it("leaves headroom in front when asked", () => {
    const plain = encodeElement(watermarkEvent(7));
    const spaced = encodeElement(watermarkEvent(7), 13);
    expect(spaced.length).toBe(plain.length + 13);
    expect(decodeElement(spaced.subarray(13))).toEqual(watermarkEvent(7));
  });

  it("rejects garbage with WEIR_E_PROTOCOL", () => {
    expect(() => decodeElement(Buffer.from([99]))).toThrow(WeirError);
    const truncated = encodeElement(batchOf([1, 2, 3], [1, 2, 3])).subarray(0, 10);
    expect(() => decodeElement(truncated)).toThrow(/truncated/);
  });
});
