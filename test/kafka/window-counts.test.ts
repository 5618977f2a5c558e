/**
 * Issue 6's acceptance, on a real broker: keyed events in a 4-partition topic, counted per key in
 * tumbling 1 s event-time windows at parallelism 2 (examples/kafka-window-counts.ts) into an output
 * topic, compared with brute force as a read_committed consumer sees it:
 *   - exactly-once, 1 M events, a TaskManager SIGKILLed three times (once right after a checkpoint
 *     completes): every window's count exactly once;
 *   - at-least-once under the same crashes: nothing lost, duplicates counted;
 *   - a broker restart while the job runs: no loss, no duplicates;
 *   - bounded mode: the job finishes with the brute-force result.
 * Events are produced while the job runs, so crashes and the restart happen mid-stream.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Producer } from "kafkajs";
import { prng, REPO, startCluster, tempDir, waitFor, type TestCluster } from "../support/cluster.js";
import { createTopic, useKafka } from "./support.js";

const KEYS = 100;
const WINDOW_MS = 1_000;
const PARTITIONS = 4;
/** The key of the events that close the last windows (their own windows never fire while unbounded). */
const END_KEY = "__end";
/**
 * Event i happens at BASE + i ms. Recent on purpose: the sink writes each result's event time as its
 * Kafka timestamp (as Flink's does), and the broker's 7-day time retention would delete a segment of
 * results stamped in 1970 within seconds (it rolls such a segment at once and drops it at its first
 * retention check), which looks exactly like lost output.
 */
const BASE = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;

const k = useKafka("window-counts-test");

function keyOf(i: number): string {
  return `k${(Math.imul(i + 1, 0x9e3779b1) >>> 0) % KEYS}`;
}

/** The window counts of events 0..n-1 (event i: time BASE + i ms), as the job writes them, sorted. */
function bruteForce(n: number): string[] {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = `${keyOf(i)} ${BASE + (Math.floor(i / WINDOW_MS) + 1) * WINDOW_MS}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts].map(([id, count]) => `${id} ${count}`).sort();
}

/**
 * Produce events 0..n-1 (event i to partition i mod 4, so every partition's times increase) at about
 * `rate` per second, then one END_KEY event per partition far enough ahead to close every window.
 */
async function produceEvents(topic: string, n: number, rate: number): Promise<void> {
  const producer: Producer = k().kafka.producer({ retry: { retries: 20, maxRetryTime: 5_000 } });
  await producer.connect();
  try {
    const chunk = 5_000;
    const start = Date.now();
    for (let from = 0; from < n; from += chunk) {
      const ahead = from / rate - (Date.now() - start) / 1000;
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead * 1000));
      const messages = [];
      for (let i = from; i < Math.min(n, from + chunk); i++) {
        messages.push({ partition: i % PARTITIONS, key: keyOf(i), value: JSON.stringify({ key: keyOf(i), ts: BASE + i }) });
      }
      await producer.send({ topic, messages, acks: -1 });
    }
    const closing = BASE + n + 2 * WINDOW_MS;
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, key: END_KEY, value: JSON.stringify({ key: END_KEY, ts: closing }) })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Every record a fresh read_committed consumer reads from `topic`, once it read at least `atLeast` and then nothing for a while. */
async function readCounts(topic: string, atLeast: number, timeoutMs = 120_000): Promise<string[]> {
  const consumer = k().kafka.consumer({ groupId: `verify-${topic}-${Date.now()}`, maxWaitTimeInMs: 200 });
  const out: string[] = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const c = JSON.parse(m.value!.toString()) as { key: string; windowEnd: number; count: number };
        if (c.key !== END_KEY) out.push(`${c.key} ${c.windowEnd} ${c.count}`);
      }
      if (batch.messages.length > 0) last = Date.now();
    },
  });
  try {
    await waitFor(async () => out.length >= atLeast && Date.now() - last > 2_000, timeoutMs, `${atLeast} window counts in ${topic}`);
  } catch (err) {
    throw new Error(`${(err as Error).message} (read ${out.length})`);
  } finally {
    await consumer.disconnect();
  }
  return out.sort();
}

async function completed(c: TestCluster, jobId: string): Promise<number> {
  return (await c.client.checkpoints(jobId)).counts.completed;
}

/**
 * SIGKILL a TaskManager of the job, start a replacement, wait until the job runs again. `rightAfter`:
 * the moment a checkpoint completes (before its sink batches can be published); else at a random
 * moment up to 1.5 s after one.
 */
async function crash(c: TestCluster, jobId: string, restartsBefore: number, rightAfter: boolean, random: () => number): Promise<void> {
  const base = await completed(c, jobId);
  await waitFor(async () => (await completed(c, jobId)) > base, 60_000, "a checkpoint to complete", 5);
  if (!rightAfter) await new Promise((r) => setTimeout(r, Math.floor(random() * 1_500)));
  const live = c.taskmanagers.filter((t) => t.child.exitCode === null && t.child.signalCode === null);
  live[Math.floor(random() * live.length)]!.child.kill("SIGKILL");
  await c.addTaskManager();
  await waitFor(async () => {
    const d = await c.client.jobDetail(jobId);
    return d.restarts > restartsBefore && d.state === "RUNNING";
  }, 60_000, "the job to run again");
}

async function startJob(args: string[], checkpointDir = tempDir("kafka-chk")) {
  const c = await startCluster(2, 1, [
    "execution.checkpointing.interval=1000",
    "restart-strategy.type=fixed-delay",
    "restart-strategy.fixed-delay.attempts=10",
    "restart-strategy.fixed-delay.delay=200",
    `state.checkpoints.dir=${pathToFileURL(checkpointDir).href}`,
  ]);
  const { jobId } = await c.client.submitJob({
    module: join(REPO, "examples/kafka-window-counts.ts"),
    // Idleness far beyond the test: a partition never lets the watermark pass records it still holds.
    args: ["--brokers", k().broker.bootstrap, "--window-ms", String(WINDOW_MS), "--idle-ms", "600000", ...args],
    parallelism: 2,
  });
  return { c, jobId };
}

/** Wait until two more checkpoints completed (and so everything before them was published), then read the output. */
async function settledOutput(c: TestCluster, jobId: string, topic: string, expected: number): Promise<string[]> {
  try {
    await readCounts(topic, expected);
    const base = await completed(c, jobId);
    await waitFor(async () => (await completed(c, jobId)) >= base + 2, 60_000, "two more checkpoints");
    return await readCounts(topic, expected);
  } catch (err) {
    // Say what the job was doing: its state, restarts, failures and checkpoints.
    const d = await c.client.jobDetail(jobId);
    const cp = await c.client.checkpoints(jobId);
    const failures = d.failureHistory.map((f) => f.cause.split("\n")[0]).join(" | ");
    throw new Error(`${(err as Error).message}; job ${d.state}, ${d.restarts} restarts (${failures}), checkpoints ${JSON.stringify(cp.counts)}, logs in ${c.logDir}`);
  }
}

/**
 * Produce `events` into a fresh `input` topic at `rate`/s while the job counts them into `output` with
 * `guarantee`, SIGKILLing a TaskManager three times (the first right after a checkpoint completes);
 * then the settled output, the brute-force result and the job's restarts.
 */
async function throughThreeCrashes(guarantee: string, input: string, output: string, events: number, rate: number, seed: number) {
  await createTopic(k().admin, input, PARTITIONS);
  const expected = bruteForce(events);
  const { c, jobId } = await startJob(["--input", input, "--output", output, "--guarantee", guarantee]);
  try {
    const produced = produceEvents(input, events, rate);
    const random = prng(seed);
    await crash(c, jobId, 0, true, random);
    await crash(c, jobId, 1, false, random);
    await crash(c, jobId, 2, false, random);
    await produced;
    const got = await settledOutput(c, jobId, output, expected.length);
    return { got, expected, restarts: (await c.client.jobDetail(jobId)).restarts };
  } finally {
    await c.stop();
  }
}

describe("Kafka -> windowed count -> Kafka", () => {

  const EVENTS = 1_000_000;
  const input = "events";

  it("exactly-once through three TaskManager SIGKILLs equals brute force", async () => {
    const { got, expected, restarts } = await throughThreeCrashes("exactly-once", input, "counts-eo", EVENTS, 40_000, 6);
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    expect(restarts).toBe(3);
  }, 600_000);

  it("bounded mode reads what the topic holds, finishes, and equals brute force", async () => {
    const topic = "events-bounded";
    const events = 200_000;
    await createTopic(k().admin, topic, PARTITIONS);
    await produceEvents(topic, events, 1_000_000);
    const expected = bruteForce(events);
    // The END_KEY windows fire too at the end of a bounded input (readCounts filters them out).
    const bounded = await startJob(["--input", topic, "--output", "counts-bounded", "--bounded"]);
    try {
      const d = await bounded.c.client.waitForJobState(bounded.jobId, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 180_000 });
      expect(d.state, d.failure?.cause).toBe("FINISHED");
      expect(await readCounts("counts-bounded", expected.length)).toEqual(expected);
    } finally {
      await bounded.c.stop();
    }
  }, 300_000);

  it("at-least-once through TaskManager SIGKILLs loses nothing", async () => {
    const { got, expected } = await throughThreeCrashes("at-least-once", "events-alo", "counts-alo", 300_000, 15_000, 7);
    const distinct = [...new Set(got)].sort();
    expect(distinct).toEqual(expected);
    console.log(`at-least-once: ${got.length - expected.length} duplicate window counts of ${expected.length} after 3 crashes`);
  }, 300_000);

  it("exactly-once across a broker restart", async () => {
    const topic = "events-restart";
    const events = 300_000;
    await createTopic(k().admin, topic, PARTITIONS);
    const expected = bruteForce(events);
    const { c, jobId } = await startJob(["--input", topic, "--output", "counts-restart", "--guarantee", "exactly-once"]);
    try {
      const produced = produceEvents(topic, events, 15_000);
      const base = await completed(c, jobId);
      await waitFor(async () => (await completed(c, jobId)) >= base + 3, 60_000, "three checkpoints");
      await k().broker.restart();
      await produced;
      const got = await settledOutput(c, jobId, "counts-restart", expected.length);
      expect(got).toEqual(expected);
      const d = await c.client.jobDetail(jobId);
      console.log(`broker restart: the job restarted ${d.restarts} time(s)`);
    } finally {
      await c.stop();
    }
  }, 300_000);
});
