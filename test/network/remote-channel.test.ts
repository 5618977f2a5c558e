import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { batchOf, END_OF_PARTITION, watermarkEvent } from "../../runtime/common/elements.js";
import { WeirError } from "../../runtime/common/errors.js";
import { InputGate, type GateElement } from "../../runtime/network/input-gate.js";
import { PartitionManager } from "../../runtime/network/partition-manager.js";
import { RecordWriter } from "../../runtime/network/record-writer.js";
import type { RemoteInputChannel } from "../../runtime/network/remote-channel.js";
import { ResultPartition } from "../../runtime/network/result-partition.js";
import { ConnectionManager, DataServer } from "../../runtime/network/transport.js";

const HOST = "127.0.0.1"; // tests only: production code binds what the caller gives it
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function cluster(options: { partitionRequestTimeoutMs?: number } = {}) {
  const partitions = new PartitionManager();
  const server = new DataServer(partitions, { host: HOST, ...options });
  const address = await server.listen();
  const connections = new ConnectionManager();
  cleanups.push(() => server.close(), () => connections.close());
  return { partitions, server, address, connections };
}

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

/** Emit `total` records in batches of `batchSize`, only while writable; a watermark after every batch. */
function produce(writer: RecordWriter, total: number, batchSize: number): Promise<void> {
  let next = 0;
  return new Promise((done) => {
    const step = (): void => {
      while (next < total && writer.isWritable()) {
        const values = Array.from({ length: batchSize }, (_, i) => ({ n: next + i, word: `w${(next + i) % 97}` }));
        writer.emit(batchOf(values, values.map((v) => v.n)));
        next += batchSize;
        writer.broadcastEvent(watermarkEvent(next - 1));
      }
      if (next < total) writer.onWritable(step);
      else {
        writer.broadcastEvent(END_OF_PARTITION);
        done();
      }
    };
    step();
  });
}

const until = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe("remote channel over TCP", () => {
  it("preserves order, with events in place between batches, over one shared connection", async () => {
    const { partitions, address, connections } = await cluster();
    const partition = new ResultPartition({ id: "job/e2/0", numberOfSubpartitions: 2 });
    partitions.register(partition);
    const writer = new RecordWriter(partition, { partitioner: { kind: "rebalance" }, consumerName: "count", batchSize: 100 });
    const gate = new InputGate([0, 1].map((s) => ({ channel: connections.createRemoteChannel({ address, partitionId: "job/e2/0", subpartition: s }), input: 0 })));
    const received = consume(gate);
    await produce(writer, 20_000, 250);
    const elements = await received;

    expect(connections.connectionCount).toBe(1);
    for (const channel of [0, 1]) {
      const mine = elements.filter((e) => e.channel === channel).map((e) => e.element);
      const ns = mine.flatMap((e) => (e.kind === "batch" ? (e.values as Array<{ n: number }>).map((v) => v.n) : []));
      expect(ns).toEqual(Array.from({ length: 10_000 }, (_, i) => 2 * i + channel));
      let seen = -1;
      for (const element of mine) {
        if (element.kind === "batch") seen = (element.values.at(-1) as { n: number }).n;
        if (element.kind === "watermark") expect(element.timestamp).toBeGreaterThanOrEqual(seen); // nothing after it is older
      }
      expect(mine.at(-1)).toEqual(END_OF_PARTITION);
    }
    await until(() => partition.isFullyConsumed(), "the partition to be consumed");
  });

  it("carries frames far larger than socket chunks and buffers, for two partitions on one connection", async () => {
    const { partitions, address, connections } = await cluster();
    const big = "x".repeat(20_000);
    const channels = ["big-a", "big-b"].map((id) => {
      const partition = new ResultPartition({ id, numberOfSubpartitions: 1 });
      partitions.register(partition);
      return { partition, channel: connections.createRemoteChannel({ address, partitionId: id, subpartition: 0 }) };
    });
    const gate = new InputGate(channels.map(({ channel }, input) => ({ channel, input })));
    const received = consume(gate);
    await Promise.all(
      channels.map(({ partition }) => {
        const writer = new RecordWriter(partition, { partitioner: { kind: "forward" }, consumerName: "sink", batchSize: 64 });
        return (async () => {
          for (let i = 0; i < 20; i++) {
            while (!writer.isWritable()) await new Promise<void>((r) => writer.onWritable(r));
            writer.emit(batchOf(Array.from({ length: 64 }, (_, k) => ({ i, k, big }))));
          }
          writer.broadcastEvent(END_OF_PARTITION);
        })();
      }),
    );
    const elements = await received;
    for (const input of [0, 1]) {
      const records = elements.filter((e) => e.input === input).flatMap((e) => (e.element.kind === "batch" ? e.element.values : []));
      expect(records).toHaveLength(20 * 64);
      expect((records as Array<{ i: number; k: number; big: string }>).every((r, n) => r.i * 64 + r.k === n && r.big === big)).toBe(true);
    }
    expect(connections.connectionCount).toBe(1);
  });

  it("waits for a partition registered after the request", async () => {
    const { partitions, address, connections } = await cluster();
    const gate = new InputGate([{ channel: connections.createRemoteChannel({ address, partitionId: "late", subpartition: 0 }), input: 0 }]);
    const received = consume(gate);
    await new Promise((r) => setTimeout(r, 50));
    const partition = new ResultPartition({ id: "late", numberOfSubpartitions: 1 });
    partitions.register(partition);
    partition.subpartitions[0]!.add(batchOf(["hello", { at: new Date(5) }]));
    partition.subpartitions[0]!.add(END_OF_PARTITION);
    const elements = await received;
    expect(elements.map((e) => e.element)).toEqual([batchOf(["hello", { at: new Date(5) }]), END_OF_PARTITION]);
  });

  it("bounds a fast producer by a slow consumer: unwritable writer, queued <= capacity + credit", async () => {
    const { partitions, address, connections } = await cluster();
    const capacity = 3;
    const credit = 2;
    const partition = new ResultPartition({ id: "slow", numberOfSubpartitions: 1, capacity });
    partitions.register(partition);
    const writer = new RecordWriter(partition, { partitioner: { kind: "forward" }, consumerName: "sink", batchSize: 50 });
    const channel = connections.createRemoteChannel({ address, partitionId: "slow", subpartition: 0, buffersPerChannel: credit });
    const gate = new InputGate([{ channel, input: 0 }]);
    gate.onAvailable(() => undefined);
    gate.start();

    let produced = 0;
    let consumed = 0;
    const fill = (): void => {
      while (writer.isWritable() && produced < 200) {
        writer.emit(batchOf(Array.from({ length: 50 }, (_, i) => produced * 50 + i)));
        produced++;
      }
    };
    fill();
    await until(() => (channel as RemoteInputChannel).queuedBatches() === credit, "the credit window to fill");
    await new Promise((r) => setTimeout(r, 50));
    fill();
    expect(writer.isWritable()).toBe(false);
    expect(produced).toBe(capacity + credit);
    expect(partition.subpartitions[0]!.queuedBatches).toBe(capacity);

    while (consumed < 200) {
      const next = gate.poll();
      if (next === undefined) {
        await new Promise((r) => setTimeout(r, 2));
        fill();
        continue;
      }
      if (next.element.kind === "batch") {
        expect(next.element.values[0]).toBe(consumed * 50);
        consumed++;
      }
      expect(produced - consumed).toBeLessThanOrEqual(capacity + credit);
      expect((channel as RemoteInputChannel).queuedBatches()).toBeLessThanOrEqual(credit);
    }
  });

  it("fails the consumer's gate with an error naming the address when the connection is lost", async () => {
    const { partitions, server, address, connections } = await cluster();
    const partition = new ResultPartition({ id: "doomed", numberOfSubpartitions: 1 });
    partitions.register(partition);
    const lostOnProducer: WeirError[] = [];
    partition.onConsumerError((e) => lostOnProducer.push(e));
    const gate = new InputGate([{ channel: connections.createRemoteChannel({ address, partitionId: "doomed", subpartition: 0 }), input: 0 }]);
    const errors: WeirError[] = [];
    gate.onError((e) => errors.push(e));
    const received = consume(gate);
    partition.subpartitions[0]!.add(batchOf([1]));
    await until(() => server.connectionCount === 1 && lostOnProducer.length === 0, "the connection");
    await new Promise((r) => setTimeout(r, 20));
    await server.close();

    const error = (await received.catch((e: unknown) => e)) as WeirError;
    expect(error.code).toBe("WEIR_E_CONNECTION_LOST");
    expect(error.message).toContain(address);
    expect(errors).toEqual([error]);
    expect(lostOnProducer[0]?.code).toBe("WEIR_E_CONNECTION_LOST");
    expect(connections.connectionCount).toBe(0);
  });

  it("reports an unknown partition after the request timeout, naming the TaskManager", async () => {
    const { address, connections } = await cluster({ partitionRequestTimeoutMs: 50 });
    const gate = new InputGate([{ channel: connections.createRemoteChannel({ address, partitionId: "nope", subpartition: 0 }), input: 0 }]);
    const error = (await consume(gate).catch((e: unknown) => e)) as WeirError;
    expect(error.code).toBe("WEIR_E_NOT_FOUND");
    expect(error.message).toMatch(new RegExp(`partition nope.*${address.replace(/\./g, "\\.")}.*not registered`));
  });

  it("reports a refused connection naming the address", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, HOST, r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r)); // the port is now (almost certainly) closed
    const connections = new ConnectionManager();
    cleanups.push(() => connections.close());
    const gate = new InputGate([{ channel: connections.createRemoteChannel({ address: `${HOST}:${port}`, partitionId: "p", subpartition: 0 }), input: 0 }]);
    const error = (await consume(gate).catch((e: unknown) => e)) as WeirError;
    expect(error.code).toBe("WEIR_E_CONNECTION_LOST");
    expect(error.message).toContain(`${HOST}:${port}`);
  });

  it("releases the remote request when the consumer releases its gate", async () => {
    const { partitions, address, connections } = await cluster();
    const partition = new ResultPartition({ id: "cancel", numberOfSubpartitions: 1 });
    partitions.register(partition);
    const gate = new InputGate([{ channel: connections.createRemoteChannel({ address, partitionId: "cancel", subpartition: 0 }), input: 0 }]);
    gate.start();
    const sub = partition.subpartitions[0]!;
    await until(() => sub.hasConsumer, "the request");
    gate.release();
    await until(() => !sub.hasConsumer, "the cancel");
    // a new consumer may attach to the same subpartition and continue
    const again = new InputGate([{ channel: connections.createRemoteChannel({ address, partitionId: "cancel", subpartition: 0 }), input: 0 }]);
    const received = consume(again);
    sub.add(batchOf(["after"]));
    sub.add(END_OF_PARTITION);
    expect((await received).map((e) => e.element)).toEqual([batchOf(["after"]), END_OF_PARTITION]);
  });
});
