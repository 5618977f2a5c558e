import { describe, expect, it, vi } from "vitest";
import { batchOf, END_OF_PARTITION, watermarkEvent, type Batch, type StreamElement } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { keyGroupOf, keyGroupRangeFor, canonicalKey } from "../../runtime/common/keys.js";
import type { Partitioner } from "../../runtime/graph/stream-graph.js";
import { RecordWriter } from "../../runtime/network/record-writer.js";
import { ResultPartition } from "../../runtime/network/result-partition.js";

function setup(partitioner: Partitioner, n: number, opts: { batchSize?: number; capacity?: number; subtaskIndex?: number; maxParallelism?: number } = {}) {
  const partition = new ResultPartition({ id: "p", numberOfSubpartitions: n, capacity: opts.capacity ?? 1000 });
  const writer = new RecordWriter(partition, { partitioner, consumerName: "sum", ...opts });
  const drain = (i: number): StreamElement[] => {
    const out: StreamElement[] = [];
    for (let e = partition.subpartitions[i]!.poll(); e !== undefined; e = partition.subpartitions[i]!.poll()) out.push(e);
    return out;
  };
  return { partition, writer, drain };
}

const values = (els: StreamElement[]): unknown[] => els.flatMap((e) => (e.kind === "batch" ? e.values : []));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("RecordWriter batching", () => {
  it("cuts batches at batchSize and pushes partial batches on flush", () => {
    const { writer, drain } = setup({ kind: "forward" }, 1, { batchSize: 4 });
    writer.emit(batchOf(range(3)));
    expect(drain(0)).toEqual([]);
    writer.emit(batchOf([3, 4, 5, 6, 7, 8]));
    expect(drain(0)).toEqual([batchOf([0, 1, 2, 3]), batchOf([4, 5, 6, 7])]);
    expect(writer.pendingRecords()).toBe(1);
    writer.flush();
    expect(drain(0)).toEqual([batchOf([8])]);
    expect(writer.recordsOut).toBe(9);
  });

  it("passes a full-size forward batch through as the same object", () => {
    const { writer, drain } = setup({ kind: "forward" }, 1, { batchSize: 3 });
    const batch = batchOf([1, 2, 3], [10, 20, 30]);
    writer.emit(batch);
    expect(drain(0)[0]).toBe(batch);
  });

  it("keeps timestamps aligned and never mixes batches with and without timestamps", () => {
    const { writer, drain } = setup({ kind: "forward" }, 1, { batchSize: 10 });
    writer.emit(batchOf(["a", "b"], [1, 2]));
    writer.emit(batchOf(["c"], null));
    writer.emit(batchOf(["d"], [4]));
    writer.flush();
    expect(drain(0)).toEqual([batchOf(["a", "b"], [1, 2]), batchOf(["c"], null), batchOf(["d"], [4])]);
  });

  it("flushes pending data before broadcasting an event to every subpartition", () => {
    const { writer, drain } = setup({ kind: "rebalance" }, 2, { batchSize: 100 });
    writer.emit(batchOf([1, 2, 3]));
    writer.broadcastEvent(watermarkEvent(9));
    writer.broadcastEvent(END_OF_PARTITION);
    expect(drain(0)).toEqual([batchOf([1, 3]), watermarkEvent(9), END_OF_PARTITION]);
    expect(drain(1)).toEqual([batchOf([2]), watermarkEvent(9), END_OF_PARTITION]);
  });

  it("is unwritable while a subpartition is full and calls onWritable once when it drains", async () => {
    const { partition, writer } = setup({ kind: "rebalance" }, 2, { batchSize: 1, capacity: 2 });
    writer.emit(batchOf([1, 2, 3]));
    expect(writer.isWritable()).toBe(false); // subpartition 0 holds 2 batches
    expect(writer.outputQueueLength()).toBe(3);
    const resumed = vi.fn();
    writer.onWritable(resumed);
    partition.subpartitions[1]!.poll();
    expect(resumed).not.toHaveBeenCalled();
    partition.subpartitions[0]!.poll();
    expect(resumed).toHaveBeenCalledTimes(1);
    partition.subpartitions[0]!.poll();
    expect(resumed).toHaveBeenCalledTimes(1);
    const later = vi.fn();
    writer.onWritable(later); // already writable: called in a microtask
    await Promise.resolve();
    expect(later).toHaveBeenCalledTimes(1);
  });
});

describe("partitioners", () => {
  it("forward requires exactly one subpartition", () => {
    expect(() => setup({ kind: "forward" }, 2)).toThrow(/forward edge into operator "sum"/);
  });

  it("rebalance goes round robin starting at the producer's subtask index", () => {
    const { writer, drain } = setup({ kind: "rebalance" }, 3, { subtaskIndex: 4 });
    writer.emit(batchOf(range(7)));
    writer.flush();
    expect([0, 1, 2].map((i) => values(drain(i)))).toEqual([[2, 5], [0, 3, 6], [1, 4]]);
  });

  it("broadcast hands the same batch object to every subpartition", () => {
    const { writer, drain } = setup({ kind: "broadcast" }, 3, { batchSize: 2 });
    writer.emit(batchOf([1, 2, 3]));
    writer.flush();
    const [a, b, c] = [drain(0), drain(1), drain(2)];
    expect(values(a)).toEqual([1, 2, 3]);
    expect(b[0]).toBe(a[0]);
    expect(c[1]).toBe(a[1]);
  });

  it("hash sends equal keys to the same subtask, the one owning the key group", () => {
    const maxParallelism = 128;
    const parallelism = 5;
    const words = Array.from({ length: 2000 }, (_, i) => ({ word: `w${i % 300}`, n: i }));
    const { writer, drain } = setup({ kind: "hash", keySelector: (v: { word: string }) => v.word }, parallelism, { maxParallelism, batchSize: 64 });
    writer.emit(batchOf(words, words.map((w) => w.n)));
    writer.flush();
    const owner = new Map<string, number>();
    for (let i = 0; i < parallelism; i++) {
      const { start, end } = keyGroupRangeFor(i, parallelism, maxParallelism);
      for (const element of drain(i)) {
        if (element.kind !== "batch") continue;
        element.values.forEach((v, k) => {
          const { word, n } = v as { word: string; n: number };
          expect((element as Batch).timestamps![k]).toBe(n);
          expect(owner.get(word) ?? i).toBe(i);
          owner.set(word, i);
          const group = keyGroupOf(canonicalKey(word), maxParallelism);
          expect(group >= start && group <= end).toBe(true);
        });
      }
    }
    expect(owner.size).toBe(300);
    expect(new Set(owner.values()).size).toBe(parallelism);
  });

  it("hash names the consumer when a key selector returns undefined", () => {
    const { writer } = setup({ kind: "hash", keySelector: (v: { id?: string }) => v.id }, 2);
    try {
      writer.emit(batchOf([{ id: "a" }, { other: 1 }]));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe("WEIR_E_KEY_UNDEFINED");
      expect((err as Error).message).toMatch(/operator "sum".*\{"other":1\}/);
    }
  });
});
