/**
 * The ceiling of the Kafka benchmark: a plain kafkajs consume -> transform -> produce loop, in one
 * process, doing the same work per record as bench/jobs/kafka-map.ts (no engine, no checkpoints).
 *
 *   node dist/bench/kafka-plain-loop.js <brokers> <input> <output>
 *
 * Reads the input topic from the beginning up to its end offsets at start, all partitions
 * concurrently, writes each fetched batch with one acks=all produce request, and prints one JSON line: records, wall ms, CPU ms (this
 * process: user + system time of all its threads).
 */
import { Kafka, logLevel } from "kafkajs";
import { transform } from "./jobs/kafka-map.js";

async function main(): Promise<void> {
  const [brokers, input, output] = process.argv.slice(2);
  if (!brokers || !input || !output) throw new Error("usage: kafka-plain-loop <brokers> <input> <output>");
  const kafka = new Kafka({ brokers: brokers.split(","), clientId: "plain-loop", logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(input)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p));
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `plain-loop-${Date.now()}`, maxBytesPerPartition: 1 << 20, maxBytes: 16 << 20 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: input, fromBeginning: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let records = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  if (remaining.size === 0) resolveDone();
  await consumer.run({
    autoCommit: false,
    // Every partition's batches processed at once: the most this client does in one process.
    partitionsConsumedConcurrently: ends.size,
    eachBatch: async ({ batch }) => {
      const end = ends.get(batch.partition)!;
      const messages = [];
      for (const m of batch.messages) {
        if (Number(m.offset) >= end) break;
        messages.push({ key: m.key, value: transform(m.value!.toString()) });
      }
      if (messages.length > 0) await producer.send({ topic: output, messages, acks: -1 });
      records += messages.length;
      if (Number(batch.lastOffset()) + 1 >= end && remaining.delete(batch.partition) && remaining.size === 0) resolveDone();
    },
  });
  await done;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  console.log(JSON.stringify({ records, wallMs: Math.round(wallMs), cpuMs: Math.round((cpu.user + cpu.system) / 1000) }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
