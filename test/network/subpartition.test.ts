import { describe, expect, it, vi } from "vitest";
import { batchOf, END_OF_PARTITION, STATUS_IDLE, watermarkEvent, type StreamElement } from "../../runtime/common/elements.js";
import { ResultPartition } from "../../runtime/network/result-partition.js";
import type { SubpartitionConsumer } from "../../runtime/network/subpartition.js";

const consumer = (): SubpartitionConsumer & { available: number; failures: Error[] } => {
  const c = {
    available: 0,
    failures: [] as Error[],
    onDataAvailable: () => void c.available++,
    onFailure: (e: Error) => void c.failures.push(e),
  };
  return c;
};

function drain(poll: () => StreamElement | undefined): StreamElement[] {
  const out: StreamElement[] = [];
  for (let e = poll(); e !== undefined; e = poll()) out.push(e);
  return out;
}

describe("Subpartition", () => {
  it("is full at capacity batches; events do not count but keep their order", () => {
    const sub = new ResultPartition({ id: "p", numberOfSubpartitions: 1, capacity: 2 }).subpartitions[0]!;
    sub.add(batchOf([1]));
    sub.add(STATUS_IDLE);
    expect(sub.isFull()).toBe(false);
    sub.add(batchOf([2]));
    expect(sub.isFull()).toBe(true);
    sub.add(watermarkEvent(5));
    sub.add(batchOf([3])); // add always accepts
    expect(sub.queuedBatches).toBe(3);
    expect(drain(() => sub.poll()).map((e) => e.kind)).toEqual(["batch", "status", "batch", "watermark", "batch"]);
  });

  it("coalesces consecutive queued watermarks to the newest", () => {
    const sub = new ResultPartition({ id: "p", numberOfSubpartitions: 1 }).subpartitions[0]!;
    sub.add(watermarkEvent(1));
    sub.add(watermarkEvent(2));
    sub.add(batchOf([1]));
    sub.add(watermarkEvent(3));
    sub.add(watermarkEvent(4));
    expect(drain(() => sub.poll())).toEqual([watermarkEvent(2), batchOf([1]), watermarkEvent(4)]);
  });

  it("tells the consumer when data arrives in an empty queue, and the producer when space frees", () => {
    const sub = new ResultPartition({ id: "p", numberOfSubpartitions: 1, capacity: 1 }).subpartitions[0]!;
    const c = consumer();
    const space = vi.fn();
    sub.onSpaceAvailable(space);
    sub.setConsumer(c);
    sub.add(batchOf([1]));
    sub.add(batchOf([2]));
    expect(c.available).toBe(1);
    sub.poll();
    expect(space).not.toHaveBeenCalled(); // still 1 queued = capacity
    sub.poll();
    expect(space).toHaveBeenCalledTimes(1);
    sub.add(batchOf([3]));
    expect(c.available).toBe(2);
  });

  it("marks the partition fully consumed once every consumer read its end", () => {
    const partition = new ResultPartition({ id: "p", numberOfSubpartitions: 2 });
    const done = vi.fn();
    partition.onFullyConsumed(done);
    for (const sub of partition.subpartitions) sub.add(END_OF_PARTITION);
    partition.subpartitions[0]!.poll();
    expect(partition.isFullyConsumed()).toBe(false);
    partition.subpartitions[1]!.poll();
    expect(partition.isFullyConsumed()).toBe(true);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("rejects a second consumer and data after the end", () => {
    const sub = new ResultPartition({ id: "p", numberOfSubpartitions: 1 }).subpartitions[0]!;
    sub.setConsumer(consumer());
    expect(() => sub.setConsumer(consumer())).toThrow(/already being consumed/);
    sub.add(END_OF_PARTITION);
    expect(() => sub.add(batchOf([1]))).toThrow(/after end of partition/);
  });

  it("fails unfinished consumers on release", () => {
    const partition = new ResultPartition({ id: "p", numberOfSubpartitions: 1 });
    const c = consumer();
    partition.subpartitions[0]!.setConsumer(c);
    partition.release();
    expect(c.failures[0]?.message).toMatch(/partition p was released/);
  });
});
