/**
 * Exactly-once under crashes: a keyed pipeline with a rolling count and a keyed process function with
 * timers writes into the transactional file sink, checkpointing every second on 2 TaskManager
 * processes. A TaskManager is SIGKILLed at two random moments and a replacement started each time;
 * the committed output must equal the brute-force result exactly (nothing lost, nothing twice).
 * Runs on heap state, on RocksDB, and with s3:// checkpoint storage (a real S3 server, versitygw).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { prng, REPO, startCluster, tempDir, waitFor, type TestCluster } from "../support/cluster.js";
import { expectExactOutput } from "../support/exactly-once.js";
import { startS3Server, type S3Server } from "../support/s3.js";

const EVENTS = 2_000_000;
const KEYS = 100;
/** Paced so that the job runs long enough for two crashes and recoveries. */
const RATE = 250_000;

async function completedCheckpoints(c: TestCluster, jobId: string): Promise<number> {
  return (await c.client.checkpoints(jobId)).counts.completed;
}

/** Kill one TaskManager of the job at a random moment after a checkpoint, start a replacement, wait for recovery. */
async function crashOnce(c: TestCluster, jobId: string, random: () => number, restartsBefore: number): Promise<void> {
  const base = await completedCheckpoints(c, jobId);
  await waitFor(async () => (await completedCheckpoints(c, jobId)) > base, 60_000, "a checkpoint to complete");
  await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)));
  const live = c.taskmanagers.filter((t) => t.child.exitCode === null && t.child.signalCode === null);
  const victim = live[Math.floor(random() * live.length)]!;
  victim.child.kill("SIGKILL");
  await c.addTaskManager();
  await waitFor(async () => {
    const d = await c.client.jobDetail(jobId);
    return d.restarts > restartsBefore && (d.state === "RUNNING" || d.state === "FINISHED");
  }, 60_000, "the job to restart");
}

async function runWithCrashes(config: string[], seed: number): Promise<void> {
  const out = tempDir("eo-out");
  const c = await startCluster(2, 1, [
    "execution.checkpointing.interval=1000",
    "restart-strategy.type=fixed-delay",
    "restart-strategy.fixed-delay.attempts=10",
    "restart-strategy.fixed-delay.delay=200",
    ...config,
  ]);
  try {
    const { jobId } = await c.client.submitJob({
      module: join(REPO, "test/jobs/exactly-once.ts"),
      args: [String(EVENTS), String(KEYS), out, String(RATE)],
      parallelism: 2,
    });
    const random = prng(seed);
    await crashOnce(c, jobId, random, 0);
    await crashOnce(c, jobId, random, 1);
    const d = await c.client.waitForJobState(jobId, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 120_000 });
    expect(d.state, `job ended ${d.state}: ${d.failure?.cause}`).toBe("FINISHED");
    expect(d.restarts).toBe(2);
    expect(d.failureHistory.map((f) => f.restarted)).toEqual([true, true]);
    expect(d.failureHistory.every((f) => f.restoredCheckpoint !== null)).toBe(true);
    expectExactOutput(out, EVENTS, KEYS);
  } finally {
    await c.stop();
  }
}

describe("exactly-once under TaskManager crashes", () => {
  it("heap state, file:// checkpoints", async () => {
    await runWithCrashes(["state.backend=heap", `state.checkpoints.dir=${pathToFileURL(tempDir("eo-chk")).href}`], 1);
  }, 300_000);

  it("RocksDB state, file:// checkpoints", async () => {
    await runWithCrashes(["state.backend=rocksdb", `state.checkpoints.dir=${pathToFileURL(tempDir("eo-chk")).href}`], 2);
  }, 300_000);

  describe("with s3:// checkpoint storage", () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3Server({ dir: tempDir("s3") });
    }, 900_000);
    afterAll(async () => {
      await s3?.stop();
    });
    it("heap state, s3:// checkpoints", async () => {
      await runWithCrashes(
        [
          "state.backend=heap",
          `state.checkpoints.dir=s3://${s3.bucket}/checkpoints`,
          ...s3.configPairs,
        ],
        3,
      );
    }, 300_000);
  });
});
