/**
 * Checkpointing as users see it: checkpoint history and statistics over REST, retention of the last N
 * on disk, the JobManager's checkpoint metrics, and `weir checkpoints | savepoint | stop` against a
 * running job; user operator list state through a stop-with-savepoint and a rescaled restore.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readJsonLines, REPO, runWeir, tempDir, useCluster, waitFor } from "../support/cluster.js";
import { resolveConfig } from "../../runtime/config/options.js";
import { storageFor } from "../../runtime/state/storage/checkpoint-storage.js";
import { readMetadata, verifyStateFiles } from "../../runtime/state/storage/metadata.js";

const checkpoints = tempDir("api-chk");

describe("checkpoints over REST, metrics and the CLI", () => {
  const cluster = useCluster(2, 1, [
    "execution.checkpointing.interval=200",
    "execution.checkpointing.num-retained=2",
    `state.checkpoints.dir=${pathToFileURL(checkpoints).href}`,
  ]);

  it("reports history and statistics, keeps the last 2, exports metrics, and takes savepoints from the CLI", async () => {
    const c = cluster();
    const { jobId } = await c.client.submitJob({ module: join(REPO, "test/jobs/unbounded-pipeline.ts"), parallelism: 2 });
    await waitFor(async () => (await c.client.checkpoints(jobId)).counts.completed >= 4, 60_000, "four checkpoints");

    const overview = await c.client.checkpoints(jobId);
    const done = overview.history.filter((h) => h.status === "COMPLETED");
    expect(done.length).toBeGreaterThanOrEqual(4);
    for (const h of done) {
      expect(h.kind).toBe("checkpoint");
      expect(h.acknowledged).toBe(h.total);
      expect(h.total).toBe(4); // source and reduce, 2 subtasks each
      expect(h.stateSize).toBeGreaterThan(0);
      expect(h.endToEndDuration).toBeGreaterThanOrEqual(0);
      expect(h.alignmentMs).toBeGreaterThanOrEqual(0);
      expect(h.triggerTimestamp).toBeGreaterThan(0);
    }
    const latest = overview.latest.completed!;
    expect(existsSync(join(fileURLToPath(latest.externalPath!), "_metadata"))).toBe(true);
    // Retention: only the 2 newest chk-N directories stay (a third may be being written).
    await waitFor(() => readdirSync(join(checkpoints, jobId)).filter((d) => d.startsWith("chk-")).length <= 3, 10_000, "old checkpoints deleted");
    const kept = readdirSync(join(checkpoints, jobId)).filter((d) => d.startsWith("chk-")).map((d) => Number(d.slice(4)));
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(latest.id - 2);

    const metrics = await (await fetch(`${c.restUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`weir_job_checkpoints_completed_total\\{[^}]*job_id="${jobId}"[^}]*\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`weir_job_last_checkpoint_size_bytes\\{[^}]*job_id="${jobId}"`));
    expect(metrics).toMatch(new RegExp(`weir_job_restarts_total\\{[^}]*job_id="${jobId}"[^}]*\\} 0`));

    const listed = await runWeir(["checkpoints", jobId, "--jobmanager", c.restUrl]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/COMPLETED/);

    const savepoints = tempDir("api-sp");
    const taken = await runWeir(["savepoint", jobId, savepoints, "--jobmanager", c.restUrl]);
    expect(taken.code, taken.stderr).toBe(0);
    const path = taken.stdout.trim().split("\n").at(-1)!;
    expect(path).toContain(savepoints);
    expect(existsSync(join(path.startsWith("file:") ? fileURLToPath(path) : path, "_metadata"))).toBe(true);
    expect((await c.client.jobDetail(jobId)).state).toBe("RUNNING"); // a savepoint does not stop the job

    const stopped = await runWeir(["stop", jobId, "--savepoint-dir", savepoints, "--jobmanager", c.restUrl]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const d = await c.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 30_000 });
    expect(d.state).toBe("FINISHED");
    expect(readdirSync(savepoints).filter((f) => f.startsWith("savepoint-"))).toHaveLength(2);
    // A finished job needs no checkpoints: its directory goes; the savepoints stay.
    await waitFor(() => !existsSync(join(checkpoints, jobId)), 10_000, "the finished job's checkpoints to be deleted");
  }, 120_000);
});

describe("operator list state of user functions", () => {
  const cluster = useCluster(2, 2, ["execution.checkpointing.interval=200", `state.checkpoints.dir=${pathToFileURL(tempDir("ops-chk")).href}`]);

  it("is checkpointed per subtask and spread over the subtasks of a rescaled restore", async () => {
    const c = cluster();
    const job = join(REPO, "test/jobs/operator-state.ts");
    const { jobId } = await c.client.submitJob({ module: job, args: [tempDir("ops-out")], parallelism: 2 });
    await waitFor(async () => (await c.client.checkpoints(jobId)).counts.completed >= 2, 60_000, "two checkpoints");
    const { triggerId } = await c.client.stopWithSavepoint(jobId, { dir: tempDir("ops-sp") });
    const location = await c.client.waitForSavepoint(jobId, triggerId, 30_000);
    await c.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 30_000 });
    const { meta } = await readMetadata(storageFor(location, resolveConfig()), location);
    const counter = meta.operators.find((o) => o.uid === "counter")!;
    const saved = counter.subtasks.map((s) => s.lists.find((l) => l.name === "count")!.items[0] as number);
    expect(saved).toHaveLength(2);
    expect(saved.every((n) => n > 0)).toBe(true);

    const out = tempDir("ops-out");
    const restored = await c.client.submitJob({ module: job, args: [out], parallelism: 3, savepointPath: location });
    await waitFor(() => readJsonLines(out).length >= 2, 30_000, "restored counts to be emitted");
    await c.client.cancelJob(restored.jobId);
    const got = readJsonLines<[string, number, number[]]>(out).sort((a, b) => a[1] - b[1]);
    // Split redistribution: item i goes to subtask i % 3, so subtask 2 gets nothing.
    expect(got.map((r) => [r[1], r[2]])).toEqual([
      [0, [saved[0]]],
      [1, [saved[1]]],
    ]);
  }, 120_000);
});

describe("keyed state that did not change", () => {
  const dir = tempDir("idle-chk");
  const cluster = useCluster(2, 1, ["execution.checkpointing.interval=100", `state.checkpoints.dir=${pathToFileURL(dir).href}`]);

  it("is not written again: later checkpoints share the file, and retention keeps it while they need it", async () => {
    const c = cluster();
    const { jobId } = await c.client.submitJob({ module: join(REPO, "test/jobs/idle-keyed.ts"), parallelism: 2 });
    await waitFor(async () => (await c.client.checkpoints(jobId)).counts.completed >= 8, 60_000, "eight checkpoints");
    const history = (await c.client.checkpoints(jobId)).history.filter((h) => h.status === "COMPLETED");
    // The newest checkpoints wrote nothing: every keyed file is one an earlier checkpoint wrote.
    expect(history[0]!.stateSize).toBe(0);
    const config = resolveConfig();
    const latest = await readMetadata(storageFor(history[0]!.externalPath!, config), history[0]!.externalPath!);
    const counts = latest.meta.operators.find((o) => o.uid === "counts")!;
    const files = counts.subtasks.map((s) => s.keyed!.file.url);
    expect(files.every((f) => !f.includes(`/chk-${latest.meta.checkpointId}/`))).toBe(true);
    // Only one checkpoint is retained, yet the shared files are still there, and the snapshot restores.
    await verifyStateFiles(storageFor(files[0]!, config), latest.meta);
    await c.client.cancelJob(jobId);
    await c.client.waitForJobState(jobId, ["CANCELED"], { timeoutMs: 30_000 });
    const restored = await c.client.submitJob({ module: join(REPO, "test/jobs/idle-keyed.ts"), parallelism: 2, savepointPath: history[0]!.externalPath! });
    await waitFor(async () => (await c.client.jobDetail(restored.jobId)).state === "RUNNING", 30_000, "the restored job to run");
    await c.client.cancelJob(restored.jobId);
  }, 120_000);
});
