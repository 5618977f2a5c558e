import { describe, expect, it } from "vitest";
import { batchOf, watermarkEvent } from "../../runtime/common/elements.js";
import {
  decodeMessage,
  encodeAddCredit,
  encodeCancelRequest,
  encodeData,
  encodeErrorResponse,
  encodePartitionRequest,
  FrameDecoder,
} from "../../runtime/network/framing.js";
import { decodeElement } from "../../runtime/network/serializer.js";

function frames(): Buffer[] {
  return [
    encodePartitionRequest(7, "exec/edge-1/3", 2, 4),
    encodeData(7, 3, batchOf(Array.from({ length: 200 }, (_, i) => ({ i, s: "x".repeat(i % 10) })), null)),
    encodeData(7, 0, watermarkEvent(99)),
    encodeAddCredit([{ receiverId: 7, credit: 2 }, { receiverId: 9, credit: 1 }]),
    encodeCancelRequest(9),
    encodeErrorResponse(9, "WEIR_E_NOT_FOUND", "partition p not registered"),
  ];
}

function collect(chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const decoder = new FrameDecoder((body) => out.push(Buffer.from(body)));
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.bufferedBytes).toBe(0);
  return out;
}

const bodies = (): Buffer[] => frames().map((f) => f.subarray(4));

describe("FrameDecoder", () => {
  it("decodes frames delivered one per chunk", () => {
    expect(collect(frames())).toEqual(bodies());
  });

  it("decodes frames coalesced into one chunk", () => {
    expect(collect([Buffer.concat(frames())])).toEqual(bodies());
  });

  it("decodes frames split at every possible byte", () => {
    const all = Buffer.concat(frames());
    for (let cut = 1; cut < all.length; cut += 13) {
      expect(collect([all.subarray(0, cut), all.subarray(cut)])).toEqual(bodies());
    }
  });

  it("decodes a byte-at-a-time stream", () => {
    const all = Buffer.concat(frames());
    const chunks = Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1));
    expect(collect(chunks)).toEqual(bodies());
  });

  it("decodes random chunkings", () => {
    const all = Buffer.concat([...frames(), ...frames()]);
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = [];
      for (let pos = 0; pos < all.length; ) {
        const size = 1 + Math.floor(Math.random() * 300);
        chunks.push(all.subarray(pos, pos + size));
        pos += size;
      }
      expect(collect(chunks)).toEqual([...bodies(), ...bodies()]);
    }
  });

  it("rejects an absurd length prefix", () => {
    const decoder = new FrameDecoder(() => undefined, 1024);
    expect(() => decoder.push(Buffer.from([0, 1, 0, 0, 1]))).toThrow(/frame length/);
  });
});

describe("messages", () => {
  it("round-trip through decodeMessage", () => {
    const [request, data, watermark, credit, cancel, error] = bodies().map(decodeMessage);
    expect(request).toEqual({ kind: "partitionRequest", receiverId: 7, partitionId: "exec/edge-1/3", subpartition: 2, credit: 4 });
    expect(data).toMatchObject({ kind: "data", receiverId: 7, backlog: 3 });
    expect(decodeElement((data as { payload: Buffer }).payload)).toMatchObject({ kind: "batch" });
    expect(decodeElement((watermark as { payload: Buffer }).payload)).toEqual(watermarkEvent(99));
    expect(credit).toEqual({ kind: "addCredit", grants: [{ receiverId: 7, credit: 2 }, { receiverId: 9, credit: 1 }] });
    expect(cancel).toEqual({ kind: "cancelRequest", receiverId: 9 });
    expect(error).toEqual({ kind: "errorResponse", receiverId: 9, code: "WEIR_E_NOT_FOUND", message: "partition p not registered" });
  });
});
