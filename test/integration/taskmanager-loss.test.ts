/**
 * SIGKILL of a TaskManager process fails the job with a clear cause naming the lost TaskManager when
 * no restart strategy is set (the default; recovery from checkpoints is in exactly-once.test.ts).
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { REPO, useCluster, waitFor } from "../support/cluster.js";

describe("losing a TaskManager", () => {
  const cluster = useCluster(2, 1);

  it("fails the job naming the killed TaskManager", async () => {
    const { jobId } = await cluster().client.submitJob({ module: join(REPO, "test/jobs/unbounded-pipeline.ts"), parallelism: 2 });
    await waitFor(async () => {
      const d = await cluster().client.jobDetail(jobId);
      return d.state === "RUNNING" && d.vertices.every((v) => v.state === "RUNNING" && (v.metrics?.recordsIn ?? 0) > 0);
    }, 30_000, "records flowing through every vertex");
    const victim = cluster().taskmanagers[1]!;
    const tm = (await cluster().client.taskManagers()).find((t) => t.pid === victim.child.pid)!;
    expect(tm).toBeDefined();
    victim.child.kill("SIGKILL");
    const d = await cluster().client.waitForJobState(jobId, ["FAILED"], { timeoutMs: 30_000 }).catch((e) => {
      throw new Error(`job did not fail: ${e.message}`);
    });
    expect(d.failure).not.toBeNull();
    expect(d.failure!.taskmanager).toBe(tm.id);
    expect(d.failure!.cause).toContain(`TaskManager ${tm.id}`);
    expect(d.failure!.cause).toContain(`pid ${victim.child.pid}`);
    expect(d.failure!.cause).toMatch(/lost/);
    // The survivor's tasks were canceled, and its slots are free again.
    const overview = await cluster().client.overview();
    expect(overview.taskmanagers).toBe(1);
    expect(overview.slotsAvailable).toBe(1);
  });
});
