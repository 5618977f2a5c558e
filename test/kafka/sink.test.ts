/**
 * The Kafka sink against a real broker: exactly-once across a TaskManager SIGKILLed right after a
 * checkpoint completed (the window a two-phase commit through kafkajs would lose), at-least-once with
 * a crash, keys/headers/partitioners, a missing topic, and a transaction timeout above the broker's
 * maximum.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO, startCluster, tempDir, waitFor, type TestCluster } from "../support/cluster.js";
import { createTopic, useKafka } from "./support.js";

const k = useKafka("sink-test");

interface Consumed {
  key: string | null;
  value: string;
  partition: number;
  headers: Record<string, string>;
}

/** Everything a read_committed consumer sees in `topic` once it has at least `atLeast` records (and a short quiet period after). */
async function consumeAll(topic: string, atLeast: number, timeoutMs = 60_000): Promise<Consumed[]> {
  const consumer = k().kafka.consumer({ groupId: `verify-${topic}-${Date.now()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
  const out: Consumed[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let last = Date.now();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
        out.push({ key: m.key?.toString() ?? null, value: m.value!.toString(), partition: batch.partition, headers });
      }
      if (batch.messages.length > 0) last = Date.now();
    },
  });
  try {
    await waitFor(async () => out.length >= atLeast && Date.now() - last > 1_500, timeoutMs, `${atLeast} records in ${topic}`);
  } catch (err) {
    throw new Error(`${(err as Error).message} (read ${out.length})`);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function completed(c: TestCluster, jobId: string): Promise<number> {
  return (await c.client.checkpoints(jobId)).counts.completed;
}

/** SIGKILL the TaskManager of subtask 0's slot as soon as a new checkpoint completes, and start a replacement. */
async function killRightAfterCheckpoint(c: TestCluster, jobId: string): Promise<void> {
  const base = await completed(c, jobId);
  await waitFor(async () => (await completed(c, jobId)) > base, 60_000, "a checkpoint to complete", 5);
  const victim = c.taskmanagers.find((t) => t.child.exitCode === null && t.child.signalCode === null)!;
  victim.child.kill("SIGKILL");
  await c.addTaskManager();
}

async function runSinkJob(topic: string, guarantee: string, events: number, rate: number, crash: boolean) {
  const c = await startCluster(2, 1, [
    "execution.checkpointing.interval=500",
    "restart-strategy.type=fixed-delay",
    "restart-strategy.fixed-delay.attempts=5",
    "restart-strategy.fixed-delay.delay=200",
    `state.checkpoints.dir=${pathToFileURL(tempDir("kafka-sink-chk")).href}`,
  ]);
  try {
    const { jobId } = await c.client.submitJob({
      module: join(REPO, "test/jobs/kafka-sink.ts"),
      args: [k().broker.bootstrap, topic, guarantee, String(events), String(rate)],
      parallelism: 2,
    });
    if (crash) await killRightAfterCheckpoint(c, jobId);
    const d = await c.client.waitForJobState(jobId, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 120_000 });
    return d;
  } finally {
    await c.stop();
  }
}

describe("Kafka sink", () => {
  it("exactly-once: a TaskManager SIGKILLed right after a checkpoint completes loses nothing and repeats nothing", async () => {
    const topic = "eo-out";
    await createTopic(k().admin, topic, 4);
    const events = 60_000;
    const d = await runSinkJob(topic, "exactly-once", events, 20_000, true);
    expect(d.state, d.failure?.cause).toBe("FINISHED");
    expect(d.restarts).toBeGreaterThanOrEqual(1);
    const got = await consumeAll(topic, events);
    const values = got.map((r) => Number(r.value)).sort((a, b) => a - b);
    expect(values.length).toBe(events);
    expect(values).toEqual(Array.from({ length: events }, (_, i) => i));
    // Keys and headers made it, and the same key always went to the same partition.
    const partitionOfKey = new Map<string, number>();
    for (const r of got) {
      expect(r.key).toBe(`k${Number(r.value) % 13}`);
      expect(r.headers.parity).toBe(Number(r.value) % 2 === 0 ? "even" : "odd");
      expect(partitionOfKey.get(r.key!) ?? r.partition).toBe(r.partition);
      partitionOfKey.set(r.key!, r.partition);
    }
  }, 240_000);

  it("at-least-once: a TaskManager SIGKILL loses nothing", async () => {
    const topic = "alo-out";
    await createTopic(k().admin, topic, 4);
    const events = 60_000;
    const d = await runSinkJob(topic, "at-least-once", events, 20_000, true);
    expect(d.state, d.failure?.cause).toBe("FINISHED");
    const got = await consumeAll(topic, events);
    const distinct = new Set(got.map((r) => Number(r.value)));
    expect(distinct.size).toBe(events);
    expect(Math.min(...distinct)).toBe(0);
    expect(Math.max(...distinct)).toBe(events - 1);
    console.log(`at-least-once: ${got.length - events} duplicates of ${events} records after one crash`);
  }, 240_000);

  it("a missing topic fails the job with an error naming it", async () => {
    const d = await runSinkJob("no-such-topic", "at-least-once", 10, 1_000, false);
    expect(d.state).toBe("FAILED");
    expect(d.failure?.cause).toContain(`topic "no-such-topic" does not exist`);
  }, 120_000);
});
