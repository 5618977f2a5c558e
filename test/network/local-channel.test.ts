import { describe, expect, it } from "vitest";
import { batchOf, END_OF_PARTITION, watermarkEvent, type StreamElement } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { InputGate, type GateElement } from "../../runtime/network/input-gate.js";
import { LocalInputChannel } from "../../runtime/network/local-channel.js";
import { PartitionManager } from "../../runtime/network/partition-manager.js";
import { RecordWriter } from "../../runtime/network/record-writer.js";
import { ResultPartition } from "../../runtime/network/result-partition.js";

/** A consumer task in miniature: drain on wake-up until every channel ended; reject on a channel error. */
function consume(gate: InputGate): Promise<GateElement[]> {
  const out: GateElement[] = [];
  return new Promise((resolve, reject) => {
    const drain = (): void => {
      try {
        for (let next = gate.poll(); next !== undefined; next = gate.poll()) out.push(next);
      } catch (err) {
        reject(err);
        return;
      }
      if (gate.isFinished()) resolve(out);
    };
    gate.onAvailable(() => setImmediate(drain));
    gate.start();
  });
}

const valuesOf = (elements: GateElement[], channel: number): unknown[] =>
  elements.filter((e) => e.channel === channel).flatMap((e) => (e.element.kind === "batch" ? e.element.values : []));

describe("local channel", () => {
  it("carries batches and events in order, end to end through a writer and a gate", async () => {
    const partitions = new PartitionManager();
    const partition = new ResultPartition({ id: "job/e1/0", numberOfSubpartitions: 1, capacity: 2 });
    partitions.register(partition);
    const writer = new RecordWriter(partition, { partitioner: { kind: "forward" }, consumerName: "sink", batchSize: 10 });
    const gate = new InputGate([{ channel: new LocalInputChannel(partitions, { partitionId: "job/e1/0", subpartition: 0 }), input: 0 }]);
    const received = consume(gate);

    let next = 0;
    await new Promise<void>((done) => {
      const produce = (): void => {
        while (next < 1000 && writer.isWritable()) {
          writer.emit(batchOf([next, next + 1, next + 2, next + 3, next + 4]));
          next += 5;
          if (next % 100 === 0) writer.broadcastEvent(watermarkEvent(next));
        }
        if (next < 1000) writer.onWritable(produce);
        else done();
      };
      produce();
    });
    writer.broadcastEvent(END_OF_PARTITION);

    const elements = await received;
    expect(valuesOf(elements, 0)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const kinds = elements.map((e) => e.element);
    const watermarkPositions = kinds.flatMap((e, i) => (e.kind === "watermark" ? [[i, e.timestamp]] : []));
    expect(watermarkPositions).toHaveLength(10);
    for (const [index, ts] of watermarkPositions) {
      const before = kinds.slice(0, index).flatMap((e) => (e.kind === "batch" ? e.values : [])) as number[];
      expect(before.length).toBe(ts); // every record below the watermark came first
    }
    expect(kinds.at(-1)).toBe(END_OF_PARTITION);
    expect(partition.isFullyConsumed()).toBe(true);
  });

  it("serves two inputs round robin and reports each channel's end", async () => {
    const partitions = new PartitionManager();
    const a = new ResultPartition({ id: "a", numberOfSubpartitions: 1 });
    const b = new ResultPartition({ id: "b", numberOfSubpartitions: 1 });
    const gate = new InputGate([
      { channel: new LocalInputChannel(partitions, { partitionId: "a", subpartition: 0 }), input: 0 },
      { channel: new LocalInputChannel(partitions, { partitionId: "b", subpartition: 0 }), input: 1 },
    ]);
    const received = consume(gate); // before the partitions exist: channels wait for registration
    partitions.register(a);
    partitions.register(b);
    for (const [p, tag] of [[a, "a"], [b, "b"]] as const) {
      for (let i = 0; i < 3; i++) p.subpartitions[0]!.add(batchOf([`${tag}${i}`]));
      p.subpartitions[0]!.add(END_OF_PARTITION);
    }
    const elements = await received;
    const order = elements.map((e) => (e.element.kind === "batch" ? e.element.values[0] : `${e.element.kind}${e.input}`));
    expect(order).toEqual(["a0", "b0", "a1", "b1", "a2", "b2", "end0", "end1"]);
    expect(gate.isChannelFinished(0) && gate.isChannelFinished(1)).toBe(true);
    expect(gate.unfinishedChannels(0)).toBe(0);
  });

  it("blocks a channel at a barrier until the task unblocks it", async () => {
    const partitions = new PartitionManager();
    const a = new ResultPartition({ id: "a", numberOfSubpartitions: 1 });
    const b = new ResultPartition({ id: "b", numberOfSubpartitions: 1 });
    partitions.register(a);
    partitions.register(b);
    const gate = new InputGate([
      { channel: new LocalInputChannel(partitions, { partitionId: "a", subpartition: 0 }), input: 0 },
      { channel: new LocalInputChannel(partitions, { partitionId: "b", subpartition: 0 }), input: 0 },
    ]);
    const barrier: StreamElement = { kind: "barrier", checkpointId: 1, timestamp: 0, savepoint: false, stop: false, targetDir: "file:///x" };
    a.subpartitions[0]!.add(batchOf(["a0"]));
    a.subpartitions[0]!.add(barrier);
    a.subpartitions[0]!.add(batchOf(["a1"]));
    for (let i = 0; i < 3; i++) b.subpartitions[0]!.add(batchOf([`b${i}`]));
    gate.start();
    await new Promise((r) => setImmediate(r));
    const seen: unknown[] = [];
    const drain = (): void => {
      for (let next = gate.poll(); next !== undefined; next = gate.poll()) seen.push(next.element.kind === "batch" ? next.element.values[0] : next.element.kind);
    };
    drain();
    // After the barrier nothing more of channel a, however much b delivers.
    expect(seen).toEqual(["a0", "b0", "barrier", "b1", "b2"]);
    expect(gate.isBlocked(0)).toBe(true);
    gate.unblockAll();
    drain();
    expect(seen.slice(5)).toEqual(["a1"]);
  });

  it("fails the gate when the partition never appears", async () => {
    const gate = new InputGate([{ channel: new LocalInputChannel(new PartitionManager(), { partitionId: "ghost", subpartition: 0, requestTimeoutMs: 50 }), input: 0 }]);
    const error = await consume(gate).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe("WEIR_E_NOT_FOUND");
    expect((error as Error).message).toMatch(/ghost/);
  });

  it("fails the gate when the producer fails its partition", async () => {
    const partitions = new PartitionManager();
    const partition = new ResultPartition({ id: "p", numberOfSubpartitions: 1 });
    partitions.register(partition);
    const gate = new InputGate([{ channel: new LocalInputChannel(partitions, { partitionId: "p", subpartition: 0 }), input: 0 }]);
    const received = consume(gate);
    partition.subpartitions[0]!.add(batchOf([1]) as StreamElement);
    setTimeout(() => partition.fail(new WeirError("WEIR_E_TASK_FAILED", "map (2/4) failed")), 10);
    await expect(received).rejects.toThrow(/partition p subpartition 0: map \(2\/4\) failed/);
  });
});
