/**
 * `npm run bench -- --only kafka-pipeline`: Kafka -> map -> Kafka at parallelism 2 on a real broker
 * (test/kafka/broker.ts), next to a plain kafkajs consume+produce loop doing the same work.
 *
 *   npm run bench -- --only kafka-pipeline --events 2000000 --runs 3
 *
 * The input topic (4 partitions) is filled once; each case then reads all of it in bounded mode
 * (bench/jobs/kafka-map.ts) into a fresh output topic: at-least-once, exactly-once with checkpoints
 * every 1 s and every 10 s, and the plain loop (bench/kafka-plain-loop.ts, one process). Events/s is
 * over the job's RUNNING -> FINISHED span (the plain loop: first fetch to last produce acknowledged);
 * per core divides by the CPU time of the engine's processes (the plain loop's own process). The
 * broker runs on the same 2 cores and its CPU is reported separately. Every case's output is counted
 * with a read_committed consumer and must hold every input record (exactly once for exactly-once).
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { startKafka, type KafkaBroker } from "../test/kafka/broker.js";
import { runPaths, withScratch, writeResults, type CheckpointBenchmark, type SuiteOptions } from "./checkpointing.js";
import { BenchLines, fmt, measure, round, startBenchCluster, type BenchResult } from "./harness.js";
import { cpuSeconds } from "./proc-cpu.js";

const DEFAULT_EVENTS = 2_000_000;
const PARTITIONS = 4;
const INPUT = "bench-in";

interface Case {
  label: string;
  guarantee: "at-least-once" | "exactly-once" | null;
  intervalMs: number;
}

const CASES: readonly Case[] = [
  { label: "plain kafkajs loop (1 process)", guarantee: null, intervalMs: 0 },
  { label: "at-least-once, checkpoints every 10 s", guarantee: "at-least-once", intervalMs: 10_000 },
  { label: "exactly-once, checkpoints every 10 s", guarantee: "exactly-once", intervalMs: 10_000 },
  { label: "exactly-once, checkpoints every 1 s", guarantee: "exactly-once", intervalMs: 1_000 },
];

interface Row {
  c: Case;
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  brokerCpuSeconds: number;
  eventsPerSecond: number;
  eventsPerSecondPerCore: number;
  checkpoints: number | null;
}

async function fillInput(kafka: Kafka, admin: Admin, events: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic: INPUT, numPartitions: PARTITIONS }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const chunk = 10_000;
  const pending: Promise<unknown>[] = [];
  for (let from = 0; from < events; from += chunk) {
    const messages = [];
    for (let i = from; i < Math.min(events, from + chunk); i++) {
      const key = `k${i % 1000}`;
      messages.push({ partition: i % PARTITIONS, key, value: JSON.stringify({ key, ts: i, v: i % 977 }) });
    }
    pending.push(producer.send({ topic: INPUT, messages, acks: -1 }));
    if (pending.length >= 4) await pending.shift();
  }
  await Promise.all(pending);
  await producer.disconnect();
}

/** Records a read_committed consumer finds in `topic` (reads until it saw `expected`, or 60 s of nothing new). */
async function countRecords(kafka: Kafka, topic: string, expected: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `count-${topic}-${Date.now()}`, maxBytes: 32 << 20, maxBytesPerPartition: 8 << 20 });
  let n = 0;
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: PARTITIONS, eachBatch: async ({ batch }) => void ((n += batch.messages.length), (last = Date.now())) });
  while (n < expected && Date.now() - last < 60_000) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1_000)); // anything beyond `expected` shows up too
  await consumer.disconnect();
  return n;
}

async function runCase(c: Case, broker: KafkaBroker, kafka: Kafka, admin: Admin, events: number, opts: SuiteOptions, run: string): Promise<Row> {
  const output = `bench-out-${run}`;
  await admin.createTopics({ topics: [{ topic: output, numPartitions: PARTITIONS }], waitForLeaders: true });
  const broker0 = cpuSeconds(broker.pid);
  let row: Omit<Row, "brokerCpuSeconds">;
  if (c.guarantee === null) {
    const out = execFileSync(process.execPath, [resolve("dist", "bench", "kafka-plain-loop.js"), broker.bootstrap, INPUT, output], { encoding: "utf8" });
    const r = JSON.parse(out.trim().split("\n").pop()!) as { records: number; wallMs: number; cpuMs: number };
    row = {
      c,
      events: r.records,
      wallSeconds: r.wallMs / 1000,
      cpuSeconds: r.cpuMs / 1000,
      eventsPerSecond: Math.round(r.records / (r.wallMs / 1000)),
      eventsPerSecondPerCore: Math.round(r.records / (r.cpuMs / 1000)),
      checkpoints: null,
    };
  } else {
    const guarantee = c.guarantee;
    const r: BenchResult = await withScratch(async (dirs) => {
      const config = [...dirs, `execution.checkpointing.interval=${c.intervalMs}`, ...opts.config];
      const paths = runPaths(opts, run);
      const { cluster, stop } = await startBenchCluster({ ...paths, config }, new BenchLines());
      try {
        const spec = {
          name: run,
          module: "bench/jobs/kafka-map.ts",
          description: c.label,
          goalPerCore: 0,
          args: () => ["--brokers", broker.bootstrap, "--input", INPUT, "--output", output, "--guarantee", guarantee],
          expectedAtSinks: () => events,
        };
        return await measure(spec, cluster, { events, config, ...paths });
      } finally {
        await stop();
      }
    });
    row = { c, events, wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds, eventsPerSecond: r.eventsPerSecond, eventsPerSecondPerCore: r.eventsPerSecondPerCore, checkpoints: r.checkpoints?.completed ?? 0 };
  }
  const brokerCpuSeconds = round(cpuSeconds(broker.pid) - broker0, 2);
  const found = await countRecords(kafka, output, events);
  const ok = c.guarantee === "exactly-once" ? found === events : found >= events;
  if (!ok) throw new Error(`${run}: ${fmt(found)} records in ${output}, expected ${c.guarantee === "exactly-once" ? "" : "at least "}${fmt(events)}`);
  await admin.deleteTopics({ topics: [output] });
  return { ...row, brokerCpuSeconds };
}

async function kafkaPipeline(opts: SuiteOptions): Promise<string> {
  const events = opts.events ?? DEFAULT_EVENTS;
  const broker = await startKafka();
  const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: "bench", logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    process.stderr.write(`kafka-pipeline: filling ${INPUT} with ${fmt(events)} events... `);
    await fillInput(kafka, admin, events);
    process.stderr.write("done\n");
    const rows: Row[] = [];
    for (const [k, c] of CASES.entries()) {
      const runs: Row[] = [];
      for (let i = 0; i < opts.runs; i++) {
        process.stderr.write(`kafka-pipeline: ${c.label}, run ${i + 1}/${opts.runs}... `);
        const r = await runCase(c, broker, kafka, admin, events, opts, `kafka-${k}-${i + 1}`);
        process.stderr.write(`${fmt(r.eventsPerSecond)} events/s, ${fmt(r.eventsPerSecondPerCore)} per core\n`);
        runs.push(r);
      }
      rows.push([...runs].sort((a, b) => a.eventsPerSecondPerCore - b.eventsPerSecondPerCore)[Math.floor(runs.length / 2)]!);
    }
    writeResults(opts, "kafka-pipeline", rows.map((r) => ({ ...r, c: undefined, label: r.c.label })));
    return table(rows, events);
  } finally {
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
  }
}

function table(rows: readonly Row[], events: number): string {
  const plain = rows.find((r) => r.c.guarantee === null)!;
  const alo = rows.find((r) => r.c.guarantee === "at-least-once")!;
  const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
  return [
    `${fmt(events)} events, ${PARTITIONS} partitions, parallelism 2 (the plain loop: 1 process); median of the runs by events/s per core.`,
    "",
    "| case | wall s | engine CPU s | broker CPU s | events/s | events/s per core | per core vs plain loop | per core vs at-least-once | checkpoints |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.c.label} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.brokerCpuSeconds.toFixed(2)} | ${fmt(r.eventsPerSecond)} | ${fmt(r.eventsPerSecondPerCore)} | ` +
        `${ratio(r.eventsPerSecondPerCore, plain.eventsPerSecondPerCore)} | ${r.c.guarantee ? ratio(r.eventsPerSecondPerCore, alo.eventsPerSecondPerCore) : "–"} | ${r.checkpoints ?? "–"} |`,
    ),
  ].join("\n");
}

export const KAFKA_BENCHMARKS: readonly CheckpointBenchmark[] = [
  { name: "kafka-pipeline", description: "Kafka -> map -> Kafka, at-least-once and exactly-once, vs a plain kafkajs loop", run: kafkaPipeline },
];
