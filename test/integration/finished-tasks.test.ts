/**
 * Checkpoints after tasks finished (FLIP-147), on real processes. The bounded generator job of
 * test/jobs/exactly-once.ts is stopped with a savepoint at parallelism 2 and restored at 4: its 2
 * splits go to 2 source subtasks and the other 2 finish at once. Checkpoints and savepoints must go
 * on regardless (the transactional sink commits per checkpoint), recording those subtasks as
 * finished; a stop-with-savepoint then ends the job, and restoring that savepoint at parallelism 3
 * must not read the finished subtasks' splits again: the committed output of the three runs equals
 * the brute-force result. Then a job with a branch that finishes at once (test/jobs/finished-branch):
 * its task is recorded fully finished, and a restore deploys it finished instead of running it again.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { resolveConfig } from "../../runtime/config/options.js";
import type { JobDetail } from "../../runtime/jobmanager/rest-types.js";
import { storageFor } from "../../runtime/state/storage/checkpoint-storage.js";
import { readMetadata } from "../../runtime/state/storage/metadata.js";
import { REPO, startCluster, tempDir, waitFor, type TestCluster } from "../support/cluster.js";
import { expectCommittedLines, expectExactOutput } from "../support/exactly-once.js";
import { keyOf } from "../jobs/exactly-once.js";
import { QUICK_PER_KEY } from "../jobs/finished-branch.js";

const EVENTS = 300_000;
const KEYS = 50;
/** Paced so that the restored run lasts several seconds: long enough for checkpoints and two savepoints. */
const RATE = "30000";
const JOB = join(REPO, "test/jobs/exactly-once.ts");

const snapshotOf = async (location: string) => (await readMetadata(storageFor(location, resolveConfig([], {})), location)).meta;
const completed = async (c: TestCluster, jobId: string) => (await c.client.checkpoints(jobId)).counts.completed;
const finishedSubtasks = (d: JobDetail, name: string) => d.vertices.find((v) => v.name.startsWith(name))?.tasks.FINISHED ?? 0;

const startTestCluster = () =>
  startCluster(2, 2, [
    "restart-strategy.type=none",
    "state.backend=heap",
    "execution.checkpointing.interval=300",
    `state.checkpoints.dir=${pathToFileURL(tempDir("ft-chk")).href}`,
  ]);

/** Rolling counts per key of test/jobs/finished-branch.ts: its "quick" keys and `events` more. */
function expectedBranchLines(events: number, keys: number): Map<string, number> {
  const perKey = new Map<string, number>();
  const add = (key: string) => perKey.set(key, (perKey.get(key) ?? 0) + 1);
  for (let i = 0; i < keys * QUICK_PER_KEY; i++) add(keyOf(i, keys));
  for (let i = 0; i < events; i++) add(keyOf(i, keys));
  const out = new Map<string, number>();
  for (const [key, n] of perKey) for (let c = 1; c <= n; c++) out.set(JSON.stringify(["c", key, c]), 1);
  return out;
}

/** Stop-with-savepoint into `dir`; resolves to its location once the job finished. */
async function stop(c: TestCluster, jobId: string, dir: string): Promise<string> {
  const { triggerId } = await c.client.stopWithSavepoint(jobId, { dir: pathToFileURL(dir).href });
  const location = await c.client.waitForSavepoint(jobId, triggerId, 20_000);
  await c.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 20_000 });
  return location;
}

describe("checkpoints after some tasks finished", () => {
  it("keep completing after a restore at a higher parallelism, and a savepoint taken then restores exactly", async () => {
    const out = tempDir("ft-out");
    const savepoints = tempDir("ft-sp");
    const c = await startTestCluster();
    try {
      const first = await c.client.submitJob({ module: JOB, args: [String(EVENTS), String(KEYS), out, RATE], parallelism: 2 });
      await waitFor(async () => (await completed(c, first.jobId)) >= 1, 20_000, "a checkpoint of the first run");
      const atTwo = await stop(c, first.jobId, savepoints);

      // Parallelism 4: source subtasks 3 and 4 get no split and finish at once.
      const { jobId } = await c.client.submitJob({ module: JOB, args: [String(EVENTS), String(KEYS), out, RATE], parallelism: 4, savepointPath: atTwo });
      await waitFor(async () => finishedSubtasks(await c.client.jobDetail(jobId), "Generator Source") === 2, 20_000, "two source subtasks to finish");
      const before = await completed(c, jobId);
      await waitFor(async () => (await completed(c, jobId)) >= before + 2, 20_000, "two checkpoints after the source subtasks finished");
      const overview = await c.client.checkpoints(jobId);
      expect(overview.latest.completed).toMatchObject({ finished: 2, acknowledged: overview.latest.completed!.total - 2 });
      expect((await c.client.jobDetail(jobId)).state).toBe("RUNNING");

      const { triggerId } = await c.client.triggerSavepoint(jobId, pathToFileURL(savepoints).href);
      const intermediate = await c.client.waitForSavepoint(jobId, triggerId, 20_000);
      const events = (await snapshotOf(intermediate)).operators.find((o) => o.uid === "events")!;
      expect(events.subtasks.map((s) => s.finished ?? false)).toEqual([false, false, true, true]);
      expect(events.subtasks.flatMap((s) => s.lists.flatMap((l) => l.items)).map((s) => (s as { id: string }).id)).toEqual(["gen-0", "gen-1"]);
      const atFour = await stop(c, jobId, savepoints);

      // Parallelism 3 from the savepoint with finished subtasks: only gen-0 and gen-1 go on.
      const last = await c.client.submitJob({ module: JOB, args: [String(EVENTS), String(KEYS), out], parallelism: 3, savepointPath: atFour });
      const d = await c.client.waitForJobState(last.jobId, ["FINISHED"], { timeoutMs: 30_000 });
      expect(d.restoredFrom?.path).toContain(atFour);
    } finally {
      await c.stop();
    }
    expectExactOutput(out, EVENTS, KEYS);
  }, 60_000);

  it("record a branch that finished as fully finished; a restore deploys it finished and ends with the exact result", async () => {
    const out = tempDir("fb-out");
    const job = join(REPO, "test/jobs/finished-branch.ts");
    const c = await startTestCluster();
    try {
      const first = await c.client.submitJob({ module: job, args: ["100000", String(KEYS), out, "20000"], parallelism: 2 });
      await waitFor(async () => finishedSubtasks(await c.client.jobDetail(first.jobId), "Quick") === 2, 20_000, "the quick branch to finish");
      const before = await completed(c, first.jobId);
      await waitFor(async () => (await completed(c, first.jobId)) >= before + 2, 20_000, "two checkpoints after the quick branch finished");
      const savepoint = await stop(c, first.jobId, tempDir("fb-sp"));
      const operators = (await snapshotOf(savepoint)).operators;
      for (const uid of ["quick", "quick-count"]) {
        expect(operators.find((o) => o.uid === uid)!.subtasks).toEqual([0, 1].map(() => ({ keyed: null, lists: [], finished: true })));
      }

      const restored = await c.client.submitJob({ module: job, args: ["100000", String(KEYS), out], parallelism: 3, savepointPath: savepoint });
      await c.client.waitForJobState(restored.jobId, ["FINISHED"], { timeoutMs: 30_000 });
      const deployedFinished = readdirSync(c.logDir)
        .filter((f) => f.startsWith("taskmanager"))
        .flatMap((f) => readFileSync(join(c.logDir, f), "utf8").split("\n"))
        .filter((l) => l.includes(restored.jobId) && l.includes('"finishedOnRestore":true'));
      expect(deployedFinished.map((l) => (JSON.parse(l) as { task: string }).task).sort()).toEqual(["Quick -> Map (1/3)", "Quick -> Map (2/3)", "Quick -> Map (3/3)"]);
    } finally {
      await c.stop();
    }
    expectCommittedLines(out, expectedBranchLines(100_000, KEYS));
  }, 60_000);
});
