/**
 * Data-plane micro-benchmark (not a test): records/s through
 *   1. RecordWriter.emit + partitioning alone (forward, rebalance, hash) into subpartitions,
 *   2. writer -> LocalInputChannel -> InputGate,
 *   3. writer -> DataServer -> TCP loopback -> RemoteInputChannel -> InputGate, in one process
 *      (so both ends share one core: the figure is a lower bound for two TaskManagers).
 * Records are `{ word, count }` with short string keys (1000 distinct), in input batches of 1024;
 * "fwd-pass" batches already have the network batch size, so forward hands them on without touching
 * records (the figure is per-batch overhead); "-100+ts" cases use 100-record batches with timestamps.
 *
 *   npx tsx bench/network-micro.ts
 */
import { batchOf, END_OF_PARTITION, type Batch } from "../runtime/common/elements.js";
import type { Partitioner } from "../runtime/graph/stream-graph.js";
import {
  ConnectionManager,
  DataServer,
  InputGate,
  LocalInputChannel,
  PartitionManager,
  RecordWriter,
  ResultPartition,
  type InputChannel,
} from "../runtime/network/index.js";

const HOST = process.env.WEIR_BENCH_HOST ?? "127.0.0.1";
const WORDS = Array.from({ length: 1000 }, (_, i) => `w${i.toString(36)}`);
const INPUT: Batch[] = Array.from({ length: 64 }, (_, b) =>
  batchOf(Array.from({ length: 1024 }, (_, i) => ({ word: WORDS[(b * 1024 + i) % WORDS.length]!, count: i }))),
);
/** Odd-sized batches with timestamps: forward must copy records into pending arrays (no pass-through). */
const SMALL: Batch[] = Array.from({ length: 64 }, (_, b) => {
  const values = Array.from({ length: 100 }, (_, i) => ({ word: WORDS[(b * 100 + i) % WORDS.length]!, count: i }));
  return batchOf(values, values.map((_, i) => 1_700_000_000_000 + b * 100 + i));
});
const hash: Partitioner = { kind: "hash", keySelector: (v: { word: string }) => v.word };

function rate(records: number, ms: number): string {
  return `${((records / ms) * 1000 / 1e6).toFixed(2)} M records/s`;
}

/** Emit + partition only: subpartitions are emptied synchronously without looking at the data. */
function writerOnly(name: string, partitioner: Partitioner, parallelism: number, batches: number, input = INPUT): number {
  const size = input[0]!.values.length;
  const partition = new ResultPartition({ id: name, numberOfSubpartitions: parallelism, capacity: 1 << 20 });
  const writer = new RecordWriter(partition, { partitioner, consumerName: "bench" });
  const start = performance.now();
  for (let i = 0; i < batches; i++) {
    writer.emit(input[i & 63]!);
    if ((i & 15) === 15) for (const sub of partition.subpartitions) while (sub.poll() !== undefined);
  }
  writer.flush();
  const ms = performance.now() - start;
  console.log(`writer only   ${name.padEnd(10)} p=${parallelism}  ${rate(batches * size, ms)}`);
  return (batches * size * 1000) / ms;
}

/** Writer -> local channels -> gate, alternating produce/drain on one stack (no event-loop turns). */
function local(name: string, partitioner: Partitioner, parallelism: number, batches: number): number {
  const partitions = new PartitionManager();
  const partition = new ResultPartition({ id: name, numberOfSubpartitions: parallelism });
  partitions.register(partition);
  const writer = new RecordWriter(partition, { partitioner, consumerName: "bench" });
  const gate = new InputGate(partition.subpartitions.map((s) => ({ channel: new LocalInputChannel(partitions, { partitionId: name, subpartition: s.index }), input: 0 })));
  gate.start();
  let received = 0;
  const start = performance.now();
  for (let i = 0; i < batches; ) {
    while (i < batches && writer.isWritable()) writer.emit(INPUT[i++ & 63]!);
    if (i === batches) writer.broadcastEvent(END_OF_PARTITION);
    for (let next = gate.poll(); next !== undefined; next = gate.poll()) {
      if (next.element.kind === "batch") received += next.element.values.length;
    }
  }
  const ms = performance.now() - start;
  if (received !== batches * 1024 || !gate.isFinished()) throw new Error(`local ${name}: lost records (${received})`);
  console.log(`local         ${name.padEnd(10)} p=${parallelism}  ${rate(received, ms)}`);
  return (received * 1000) / ms;
}

/** Writer -> TCP loopback -> remote channels -> gate; producer and consumer share this event loop. */
async function remote(name: string, partitioner: Partitioner, parallelism: number, batches: number): Promise<number> {
  const partitions = new PartitionManager();
  const server = new DataServer(partitions, { host: HOST });
  const address = await server.listen();
  const connections = new ConnectionManager();
  const partition = new ResultPartition({ id: name, numberOfSubpartitions: parallelism });
  partitions.register(partition);
  const writer = new RecordWriter(partition, { partitioner, consumerName: "bench" });
  const channels: InputChannel[] = partition.subpartitions.map((s) => connections.createRemoteChannel({ address, partitionId: name, subpartition: s.index }));
  const gate = new InputGate(channels.map((channel) => ({ channel, input: 0 })));
  let received = 0;
  const start = performance.now();
  await new Promise<void>((done, fail) => {
    const drain = (): void => {
      try {
        for (let next = gate.poll(); next !== undefined; next = gate.poll()) {
          if (next.element.kind === "batch") received += next.element.values.length;
        }
      } catch (err) {
        fail(err);
      }
      if (gate.isFinished()) done();
    };
    gate.onAvailable(() => setImmediate(drain));
    gate.start();
    let i = 0;
    const produce = (): void => {
      while (i < batches && writer.isWritable()) writer.emit(INPUT[i++ & 63]!);
      if (i < batches) writer.onWritable(() => setImmediate(produce));
      else writer.broadcastEvent(END_OF_PARTITION);
    };
    produce();
  });
  const ms = performance.now() - start;
  connections.close();
  await server.close();
  if (received !== batches * 1024) throw new Error(`remote ${name}: lost records (${received})`);
  console.log(`tcp loopback  ${name.padEnd(10)} p=${parallelism}  ${rate(received, ms)}`);
  return (received * 1000) / ms;
}

/** Median of three runs: the TCP figures are noisy on a shared machine. */
async function median(run: () => Promise<number> | number): Promise<number> {
  const rates = [await run(), await run(), await run()].sort((a, b) => a - b);
  return rates[1]!;
}

async function main(): Promise<void> {
  const n = 5000;
  console.log("--- warm-up ---");
  writerOnly("hash", hash, 4, 500);
  local("hash", hash, 4, 500);
  await remote("hash", hash, 4, 100);
  console.log("--- measured ---");
  writerOnly("fwd-pass", { kind: "forward" }, 1, n);
  writerOnly("fwd-100+ts", { kind: "forward" }, 1, n * 10, SMALL);
  writerOnly("rebalance", { kind: "rebalance" }, 4, n);
  const hashW = await median(() => writerOnly("hash", hash, 4, n));
  writerOnly("hash-100+ts", hash, 4, n * 10, SMALL);
  local("fwd-pass", { kind: "forward" }, 1, n);
  const hashL = await median(() => local("hash", hash, 4, n));
  const forwardR = await median(() => remote("forward", { kind: "forward" }, 1, n / 5));
  const hashR = await median(() => remote("hash", hash, 4, n / 5));
  console.log(
    `medians: writer-only hash ${rate(hashW, 1000)}, local hash ${rate(hashL, 1000)}, tcp forward ${rate(forwardR, 1000)}, tcp hash ${rate(hashR, 1000)}`,
  );
  console.log(`ratios: local/writer-only (hash) ${(hashL / hashW).toFixed(2)}, tcp/local (hash) ${(hashR / hashL).toFixed(2)}`);
}

await main();
