/**
 * Application mode: `weir jobmanager --job <module> --job-id <id>` submits its job at start (what a
 * StreamJob's JobManager pod runs); a job that cannot start ends the process with status 1.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { startEmbeddedCluster } from "../../runtime/cli/embedded-cluster.js";
import { REPO, tempDir } from "../support/cluster.js";

describe("weir jobmanager --job (application mode)", () => {
  it("runs the job given on its command line under the fixed job id", async () => {
    const jobId = "0123456789abcdef0123456789abcdef";
    const cluster = await startEmbeddedCluster({
      taskmanagers: 2,
      slots: 1,
      logDir: tempDir("app-logs"),
      stdout: process.stderr,
      jobmanagerArgs: ["--job", join(REPO, "examples/wordcount.ts"), "--job-id", jobId, "-p", "2"],
    });
    try {
      const d = await cluster.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 60_000 });
      expect(d.parallelism).toBe(2);
      expect((await cluster.client.listJobs()).map((j) => j.id)).toEqual([jobId]);
    } finally {
      await cluster.stop();
    }
  }, 90_000);

  it("exits with status 1 when the job cannot start", async () => {
    const started = startEmbeddedCluster({
      taskmanagers: 1,
      slots: 1,
      logDir: tempDir("app-logs"),
      jobmanagerArgs: ["--job", join(REPO, "test/jobs/no-default-export.ts")],
    });
    await expect(started).rejects.toThrow(/jobmanager exited with code 1/);
  }, 60_000);
});
