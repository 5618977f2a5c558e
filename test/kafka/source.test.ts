/**
 * The Kafka source against a real broker (test/kafka/broker.ts, one per file):
 * - readers in this process: start offsets of every kind, offsets committed for monitoring, a missing topic;
 * - jobs on an embedded cluster (test/jobs/kafka-source.ts): every record exactly once across a
 *   TaskManager SIGKILL (4 partitions, parallelism 2, records produced while it runs), bounded mode,
 *   a partition added while running, rescaling through savepoints 2 -> 3 -> 1, per-partition
 *   watermarks with an idle partition, the lag metric, and the missing-topic failure of a job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Admin, Kafka, Producer } from "kafkajs";
import type { ReaderOutput, SourceReader } from "../../runtime/api/source.js";
import { WeirError } from "../../runtime/common/errors.js";
import { kafkaSource, type KafkaPartitionSplit, type KafkaSourceOptions } from "../../runtime/connectors/kafka/source.js";
import { DefaultOperatorStateStore } from "../../runtime/state/operator-state.js";
import { readJsonLines, REPO, startCluster, tempDir, waitFor, type TestCluster } from "../support/cluster.js";
import type { KafkaBroker } from "./broker.js";
import { createTopic as createTopicOn, useKafka } from "./support.js";
import type { KafkaJobConfig } from "../jobs/kafka-source.js";

const JOB = join(REPO, "test/jobs/kafka-source.ts");

const k = useKafka("source-test", { log: () => {} });
let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;

beforeAll(() => {
  ({ broker, kafka, admin } = k());
});

const createTopic = (topic: string, partitions: number) => createTopicOn(admin, topic, partitions);

/**
 * Produce `count` records per partition, values `<prefix>-<partition>-<i>`, with timestamps `ts(i)` if
 * given. A fresh producer each time: kafkajs's producer drops records for partitions its (5-minute)
 * metadata does not know yet, and topics here gain partitions.
 */
async function produce(topic: string, partitions: number[], count: number, prefix: string, ts?: (i: number) => number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await sendAll(producer, topic, partitions, count, prefix, ts);
  } finally {
    await producer.disconnect();
  }
}

async function sendAll(producer: Producer, topic: string, partitions: number[], count: number, prefix: string, ts?: (i: number) => number): Promise<void> {
  for (let start = 0; start < count; start += 5_000) {
    const n = Math.min(5_000, count - start);
    await producer.sendBatch({
      topicMessages: partitions.map((partition) => ({
        topic,
        messages: Array.from({ length: n }, (_, k) => ({
          partition,
          value: `${prefix}-${partition}-${start + k}`,
          ...(ts ? { timestamp: String(ts(start + k)) } : {}),
        })),
      })),
    });
  }
}

// ---- readers in this process ------------------------------------------------------------------------

type Line = [topic: string, partition: number, offset: number, value: string];

function reader(opts: Partial<KafkaSourceOptions<Line>>, subtask = 0, parallelism = 1, store = new DefaultOperatorStateStore("kafka")) {
  const source = kafkaSource<Line>({
    brokers: broker.bootstrap,
    deserializer: { deserialize: (r) => [r.topic, r.partition, r.offset, r.value!.toString()] },
    ...opts,
  } as KafkaSourceOptions<Line>);
  const r = source.createReader({ jobId: "test", jobName: "test", operatorUid: "kafka", taskName: "kafka", subtaskIndex: subtask, parallelism, maxParallelism: 128, jobArgs: [], operatorState: store });
  return { reader: r, store };
}

/** The records a reader emitted, in order, and the output they went through (one per reader, as in a task). */
const emitted = new WeakMap<object, { lines: Line[]; out: ReaderOutput<Line> }>();

/** Poll until the reader ends (bounded) or `until` holds; returns all it emitted so far. */
async function readUntil(r: SourceReader<Line, KafkaPartitionSplit>, until: (lines: Line[]) => boolean = () => false, timeoutMs = 30_000): Promise<Line[]> {
  let e = emitted.get(r);
  if (!e) {
    const lines: Line[] = [];
    emitted.set(r, (e = { lines, out: { forSplit: () => ({ collect: (v) => void lines.push(v) }), releaseSplit: () => {} } }));
  }
  const { lines, out } = e;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = r.poll(out, 500);
    if (res === "end" || until(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`reader did not finish within ${timeoutMs} ms (${lines.length} records)`);
    if (res !== "more") await Promise.race([res, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
}

const values = (lines: Line[]) => lines.map((l) => l[3]).sort();
const expected = (prefix: string, partitions: number[], from: number, to: number) =>
  partitions.flatMap((p) => Array.from({ length: to - from }, (_, i) => `${prefix}-${p}-${from + i}`)).sort();

describe("kafkaSource readers", () => {
  const topic = "starts";
  // A day ago: within the broker's 7-day time retention, which deletes older-stamped records.
  const T0 = Math.floor(Date.now() / 1000) * 1000 - 86_400_000;

  beforeAll(async () => {
    await createTopic(topic, 2);
    await produce(topic, [0, 1], 100, "s", (i) => T0 + i * 1000);
  });

  async function readBounded(opts: Partial<KafkaSourceOptions<Line>>): Promise<Line[]> {
    const { reader: r } = reader({ topics: topic, bounded: true, ...opts });
    try {
      return await readUntil(r);
    } finally {
      await r.close?.();
    }
  }

  it("starts at the earliest offsets by default, and bounded mode ends at the offsets of the start", async () => {
    expect(values(await readBounded({}))).toEqual(expected("s", [0, 1], 0, 100));
  });

  it("starts at the latest offsets: a bounded read of them ends at once, empty", async () => {
    expect(await readBounded({ startingOffsets: "latest" })).toEqual([]);
  });

  it("starts at the first record at or after a timestamp", async () => {
    expect(values(await readBounded({ startingOffsets: { timestamp: T0 + 90_000 } }))).toEqual(expected("s", [0, 1], 90, 100));
  });

  it("starts at explicit offsets, the fallback for unlisted partitions", async () => {
    const lines = await readBounded({ startingOffsets: { offsets: { [topic]: { 0: 97 } }, fallback: "latest" } });
    expect(values(lines)).toEqual(expected("s", [0], 97, 100));
    expect(lines.map((l) => l[2])).toEqual([97, 98, 99]);
  });

  it("starts at the group's committed offsets (fallback for partitions without), and commits positions when checkpoints complete", async () => {
    const groupId = "starts-group";
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 1, offset: "95" }] });
    const { reader: r } = reader({ topics: topic, groupId, startingOffsets: { committed: "latest" } });
    try {
      const lines = await readUntil(r, (ls) => ls.length >= 5);
      expect(values(lines)).toEqual(expected("s", [1], 95, 100));
      const splits = r.snapshotState!(7);
      expect(splits.map((s) => [s.id, s.offset])).toEqual([["starts-0", 100], ["starts-1", 100]]);
      await r.notifyCheckpointComplete!(7);
      await waitFor(async () => {
        const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return t!.partitions.every((p) => p.offset === "100");
      }, 10_000, "offsets committed into the group");
    } finally {
      await r.close?.();
    }
  });

  it("restores from its snapshot: positions, and the known partitions in union state", async () => {
    const { reader: first, store } = reader({ topics: topic });
    let snapshot: KafkaPartitionSplit[];
    try {
      await readUntil(first, (ls) => ls.length >= 200);
      snapshot = first.snapshotState!(1);
    } finally {
      await first.close?.();
    }
    const lists = store.snapshot();
    expect(lists.find((l) => l.name === "kafka-source.known-partitions")?.items).toHaveLength(2);
    await produce(topic, [0, 1], 10, "more");
    const restoredStore = new DefaultOperatorStateStore("kafka");
    restoredStore.restore(lists);
    const { reader: second } = reader({ topics: topic }, 0, 1, restoredStore);
    second.addSplits(snapshot);
    try {
      const lines = await readUntil(second, (ls) => ls.length >= 20);
      expect(values(lines)).toEqual(expected("more", [0, 1], 0, 10));
    } finally {
      await second.close?.();
    }
  });

  it("keeps reading across a broker restart, every record once, and counts the retries", async () => {
    const t = "restarts";
    await createTopic(t, 2);
    await produce(t, [0, 1], 1_000, "before");
    const retries: Record<string, () => number> = {};
    const metrics = { gauge: () => () => {}, counter: (_n: string, _d: string, labels: Record<string, string>, read: () => number) => ((retries[labels.reason!] = read), () => {}) };
    const source = kafkaSource<Line>({ brokers: broker.bootstrap, topics: t, deserializer: { deserialize: (r) => [r.topic, r.partition, r.offset, r.value!.toString()] } });
    const r = source.createReader({ jobId: "test", jobName: "test", operatorUid: "kafka", taskName: "kafka", subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobArgs: [], operatorState: new DefaultOperatorStateStore("kafka"), metrics });
    try {
      await readUntil(r, (ls) => ls.length >= 2_000);
      await broker.restart();
      await produce(t, [0, 1], 1_000, "after");
      const lines = await readUntil(r, (ls) => ls.length >= 4_000, 90_000);
      expect(values(lines)).toEqual([...expected("before", [0, 1], 0, 1_000), ...expected("after", [0, 1], 0, 1_000)].sort());
      expect(Object.values(retries).reduce((n, read) => n + read(), 0)).toBeGreaterThan(0);
    } finally {
      await r.close?.();
    }
  }, 120_000);

  it("pauses and resumes partitions (watermark alignment)", async () => {
    const t = "pauses";
    await createTopic(t, 2);
    await produce(t, [0, 1], 10, "one");
    const { reader: r } = reader({ topics: t });
    try {
      await readUntil(r, (ls) => ls.length >= 20);
      r.pauseOrResumeSplits!(["pauses-0", "unknown-split"], []);
      await produce(t, [0, 1], 10, "two");
      await readUntil(r, (ls) => ls.length >= 30);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      let lines = await readUntil(r, () => true);
      expect(values(lines.slice(20))).toEqual(expected("two", [1], 0, 10));
      r.pauseOrResumeSplits!([], ["pauses-0"]);
      lines = await readUntil(r, (ls) => ls.length >= 40);
      expect(values(lines.slice(30))).toEqual(expected("two", [0], 0, 10));
    } finally {
      await r.close?.();
    }
  });

  it("fails with a WeirError naming the record a deserializer rejects", async () => {
    const t = "not-json";
    await createTopic(t, 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: t, messages: [{ value: "{}" }, { value: "{oops" }] });
    await producer.disconnect();
    const source = kafkaSource({ brokers: broker.bootstrap, topics: t, bounded: true });
    const r = source.createReader({ jobId: "test", jobName: "test", operatorUid: "kafka", taskName: "kafka", subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobArgs: [], operatorState: new DefaultOperatorStateStore("kafka") });
    try {
      const err = await readUntil(r as SourceReader<never, KafkaPartitionSplit>).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe("WEIR_E_DESERIALIZE");
      expect((err as WeirError).message).toMatch(/the json deserializer failed on the record at offset 1 of topic "not-json" partition 0: .*JSON/);
    } finally {
      await r.close?.();
    }
  });

  it("fails with a WeirError naming a missing topic and the brokers", async () => {
    const { reader: r } = reader({ topics: ["starts", "no-such-topic"] });
    try {
      const err = await readUntil(r).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe("WEIR_E_KAFKA_TOPIC_NOT_FOUND");
      expect((err as WeirError).message).toContain(`"no-such-topic" does not exist on brokers ${broker.bootstrap}`);
    } finally {
      await r.close?.();
    }
  });
});

// ---- jobs on an embedded cluster ----------------------------------------------------------------------

describe("kafkaSource jobs", () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startCluster(2, 2, [
      "execution.checkpointing.interval=500",
      "restart-strategy.type=fixed-delay",
      "restart-strategy.fixed-delay.attempts=3",
      "restart-strategy.fixed-delay.delay=200",
      `state.checkpoints.dir=${pathToFileURL(tempDir("kafka-chk")).href}`,
    ]);
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  const submit = async (cfg: KafkaJobConfig, parallelism: number, savepointPath?: string) =>
    (await c.client.submitJob({ module: JOB, args: [JSON.stringify(cfg)], parallelism, ...(savepointPath ? { savepointPath } : {}) })).jobId;

  /** The committed output lines, each record (topic, partition, offset) at most once, else the test fails naming it. */
  function committed(out: string): Line[] {
    const lines = readJsonLines<Line>(out);
    const seen = new Set<string>();
    const dups = lines.filter((l) => {
      const k = `${l[0]}/${l[1]}/${l[2]}`;
      if (seen.has(k)) return true;
      seen.add(k);
      return false;
    });
    expect(dups.slice(0, 5), "records committed twice").toEqual([]);
    return lines;
  }

  const waitForLines = (out: string, n: number, what: string, timeoutMs = 60_000) =>
    waitFor(() => readJsonLines(out).length >= n, timeoutMs, `${n} committed lines (${what})`);

  const completed = async (jobId: string) => (await c.client.checkpoints(jobId)).counts.completed;

  async function cancel(jobId: string): Promise<void> {
    await c.client.cancelJob(jobId);
    await c.client.waitForJobState(jobId, ["CANCELED", "FAILED", "FINISHED"], { timeoutMs: 30_000 });
  }

  it("reads every record exactly once across a TaskManager SIGKILL, produced before and while it runs", async () => {
    const topic = "eo";
    await createTopic(topic, 4);
    await produce(topic, [0, 1, 2, 3], 5_000, "a");
    const out = tempDir("kafka-eo");
    const jobId = await submit({ brokers: broker.bootstrap, topics: [topic], out, groupId: "eo-group", spinMicros: 100 }, 2);
    await waitFor(async () => (await completed(jobId)) >= 2, 60_000, "two checkpoints");
    await produce(topic, [0, 1, 2, 3], 5_000, "b");
    const base = await completed(jobId);
    await waitFor(async () => (await completed(jobId)) > base, 30_000, "a checkpoint after producing more");
    await new Promise((r) => setTimeout(r, 150));
    // SIGKILL the TaskManager running the source's first subtask.
    const tmId = (await c.client.jobDetail(jobId)).vertices[0]!.subtasks[0]!.taskmanager;
    const pid = (await c.client.taskManagers()).find((t) => t.id === tmId)!.pid;
    c.taskmanagers.find((t) => t.child.pid === pid)!.child.kill("SIGKILL");
    await c.addTaskManager();
    await produce(topic, [0, 1, 2, 3], 5_000, "c");
    await waitFor(async () => (await c.client.jobDetail(jobId)).restarts >= 1, 60_000, "the job to restart");
    await waitForLines(out, 60_000, "all records after the crash", 90_000);
    // One more checkpoint: duplicates (if any) would be committed by now.
    const after = await completed(jobId);
    await waitFor(async () => (await completed(jobId)) > after + 1, 30_000, "more checkpoints");
    const lines = committed(out);
    expect(values(lines)).toEqual([...expected("a", [0, 1, 2, 3], 0, 5_000), ...expected("b", [0, 1, 2, 3], 0, 5_000), ...expected("c", [0, 1, 2, 3], 0, 5_000)].sort());
    // Lag per partition is exported by the TaskManagers (0: everything read).
    const lags = await lagSeries(topic);
    expect(lags.map((l) => l.partition).sort()).toEqual(["0", "1", "2", "3"]);
    expect(lags.every((l) => l.value === 0)).toBe(true);
    // Positions were committed into the group for monitoring.
    const [offsets] = await admin.fetchOffsets({ groupId: "eo-group", topics: [topic] });
    expect(offsets!.partitions.map((p) => p.offset)).toEqual(["15000", "15000", "15000", "15000"]);
    await cancel(jobId);
  }, 180_000);

  async function lagSeries(topic: string): Promise<{ partition: string; value: number }[]> {
    const out: { partition: string; value: number }[] = [];
    for (const tm of await c.client.taskManagers()) {
      if (!tm.metricsUrl) continue;
      const text = await fetch(tm.metricsUrl).then((r) => r.text(), () => "");
      for (const line of text.split("\n")) {
        const m = /^weir_source_kafka_lag\{(.*)\} (\S+)/.exec(line);
        if (m && m[1]!.includes(`topic="${topic}"`)) out.push({ partition: /partition="(\d+)"/.exec(m[1]!)![1]!, value: Number(m[2]) });
      }
    }
    return out;
  }

  it("bounded mode finishes with all records, ending subtasks without partitions and empty partitions at once", async () => {
    const topic = "bounded";
    await createTopic(topic, 4);
    await produce(topic, [0, 1, 2], 2_000, "x"); // partition 3 stays empty
    const out = tempDir("kafka-bounded");
    const jobId = await submit({ brokers: broker.bootstrap, topics: [topic], out, bounded: true }, 3);
    const d = await c.client.waitForJobState(jobId, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 60_000 });
    expect(d.state, d.failure?.cause).toBe("FINISHED");
    expect(values(committed(out))).toEqual(expected("x", [0, 1, 2], 0, 2_000));
    // A subtask of a topic with fewer partitions than subtasks has none, and ends.
    const single = "bounded-single";
    await createTopic(single, 1);
    await produce(single, [0], 100, "y");
    const out2 = tempDir("kafka-bounded");
    const job2 = await submit({ brokers: broker.bootstrap, topics: [single], out: out2, bounded: true }, 2);
    const d2 = await c.client.waitForJobState(job2, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 60_000 });
    expect(d2.state, d2.failure?.cause).toBe("FINISHED");
    expect(values(committed(out2))).toEqual(expected("y", [0], 0, 100));
  }, 120_000);

  it("discovers a partition added while running and reads it", async () => {
    const topic = "grows";
    await createTopic(topic, 2);
    await produce(topic, [0, 1], 1_000, "g");
    const out = tempDir("kafka-grows");
    const jobId = await submit({ brokers: broker.bootstrap, topics: [topic], out, discoveryMs: 500 }, 2);
    await waitForLines(out, 2_000, "before the new partitions");
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    await produce(topic, [0, 1, 2, 3], 1_000, "h");
    await waitForLines(out, 6_000, "after the new partitions");
    const after = await completed(jobId);
    await waitFor(async () => (await completed(jobId)) > after + 1, 30_000, "more checkpoints");
    expect(values(committed(out))).toEqual([...expected("g", [0, 1], 0, 1_000), ...expected("h", [0, 1, 2, 3], 0, 1_000)].sort());
    await cancel(jobId);
  }, 120_000);

  it("rescales through savepoints 2 -> 3 -> 1, reading every record once, partitions added between", async () => {
    const topic = "rescale";
    await createTopic(topic, 4);
    const out = tempDir("kafka-rescale");
    const savepoints = pathToFileURL(tempDir("kafka-sp")).href;
    const cfg: KafkaJobConfig = { brokers: broker.bootstrap, topics: [topic], out, discoveryMs: 500 };
    let total = 0;
    let savepoint: string | undefined;
    const phases: [parallelism: number, partitions: number][] = [[2, 4], [3, 6], [1, 7]];
    for (const [i, [parallelism, partitions]] of phases.entries()) {
      if (i > 0) await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] });
      const ps = Array.from({ length: partitions }, (_, p) => p);
      await produce(topic, ps, 500, `r${i}`);
      total += 500 * partitions;
      const jobId = await submit(cfg, parallelism, savepoint);
      await waitForLines(out, total, `phase ${i} at parallelism ${parallelism}`);
      const { triggerId } = await c.client.stopWithSavepoint(jobId, { dir: savepoints });
      savepoint = await c.client.waitForSavepoint(jobId, triggerId, 60_000);
      await c.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 30_000 });
    }
    const all = phases.flatMap(([, partitions], i) => expected(`r${i}`, Array.from({ length: partitions }, (_, p) => p), 0, 500));
    expect(values(committed(out))).toEqual(all.sort());
  }, 180_000);

  it("tracks a watermark per partition: a partition read later is not late, an idle one does not hold windows back", async () => {
    const topic = "windows";
    await createTopic(topic, 3);
    const out = tempDir("kafka-windows");
    // Values are event times: partition 0 first, partition 1 later with the same times, partition 2 never.
    const jobId = await submit({ brokers: broker.bootstrap, topics: [topic], out, windows: { sizeMs: 1_000, idleMs: 3_000 } }, 1);
    await waitFor(async () => (await completed(jobId)) >= 1, 30_000, "the job to run");
    const producer = kafka.producer();
    await producer.connect();
    const events = (partition: number, from: number, to: number) =>
      producer.send({ topic, messages: Array.from({ length: to - from }, (_, i) => ({ partition, value: String(from + i) })) });
    // Partition 1's first record keeps it active (not idle) for 3 s: it holds event time back meanwhile.
    await events(1, 0, 1);
    await events(0, 0, 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await events(1, 1, 5_000);
    await events(0, 6_000, 6_001);
    await events(1, 6_000, 6_001);
    // Partition 2 goes idle after 3 s; then the watermark passes 5 999 and windows [0, 5 000) fire.
    await waitFor(() => readJsonLines(out).length >= 5, 30_000, "five windows");
    const windows = readJsonLines<[string, number, number]>(out).sort((a, b) => a[1] - b[1]);
    expect(windows.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((w) => ["w", w * 1_000, 2_000]));
    await producer.disconnect();
    await cancel(jobId);
  }, 90_000);

  it("fails a job reading a missing topic with an error naming it and the brokers", async () => {
    const jobId = await submit({ brokers: broker.bootstrap, topics: ["missing-topic"], out: tempDir("kafka-missing") }, 1);
    const d = await c.client.waitForJobState(jobId, ["FAILED", "FINISHED", "CANCELED"], { timeoutMs: 60_000 });
    expect(d.state).toBe("FAILED");
    expect(d.failure?.cause).toContain(`Kafka topic "missing-topic" does not exist on brokers ${broker.bootstrap}`);
  }, 60_000);
});
