/**
 * The CLI against real processes: `weir list` and `weir cancel` on a JobManager, Ctrl-C on
 * `weir run` cancels the job and stops every process, and a job using every kind of connection
 * (union, broadcast, rebalance, side outputs, keyed co-process) gives the same result at any parallelism.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RestClient } from "../../runtime/jobmanager/rest-client.js";
import { readJsonLines, REPO, runWeir, useCluster, tempDir, waitFor, WEIR_BIN } from "../support/cluster.js";

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe("weir list and weir cancel", () => {
  const cluster = useCluster(1, 2);

  it("lists a running job and cancels it", async () => {
    const { jobId } = await cluster().client.submitJob({ module: join(REPO, "test/jobs/unbounded-pipeline.ts"), parallelism: 2 });
    await cluster().client.waitForJobState(jobId, ["RUNNING"]);
    const list = await runWeir(["list", "--jobmanager", cluster().restUrl]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${jobId}\\s+RUNNING`));
    const cancel = await runWeir(["cancel", jobId, "--jobmanager", cluster().restUrl]);
    expect(cancel.code).toBe(0);
    await cluster().client.waitForJobState(jobId, ["CANCELED"]);
    const again = await runWeir(["cancel", "0123456789abcdef0123456789abcdef", "--jobmanager", cluster().restUrl]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/0123456789abcdef0123456789abcdef/);
  });
});

describe("weir run", () => {
  it("Ctrl-C cancels the job, stops every process and exits 130", async () => {
    const child = spawn(process.execPath, [WEIR_BIN, "run", "test/jobs/unbounded-pipeline.ts", "-p", "2"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await waitFor(() => /JobManager (http:\S+)/.test(stderr), 30_000, "weir run to start its cluster");
    const client = new RestClient(/JobManager (http:\S+)/.exec(stderr)![1]!);
    await waitFor(async () => (await client.listJobs()).some((j) => j.state === "RUNNING"), 30_000, "the job to run");
    const pids = (await client.taskManagers()).map((t) => t.pid);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/CANCELED/);
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, "TaskManager processes to exit");
    await expect(client.overview()).rejects.toThrow();
  });

  it("union, broadcast, side outputs and keyed co-process: the same result at parallelism 1 and 3", async () => {
    const dir = tempDir("topology");
    const results: unknown[][] = [];
    for (const p of [1, 3]) {
      const out = join(dir, `p${p}`);
      const r = await runWeir(["run", "test/jobs/topology.ts", "-p", String(p), "--", out]);
      expect(r.stderr).toMatch(/FINISHED/);
      results.push([readJsonLines(join(out, "totals")).sort(byJson), readJsonLines(join(out, "big")).sort(byJson)]);
    }
    const [totals, big] = results[0] as [{ customer: number; total: number }[], { id: number; doubled: number }[]];
    expect(totals).toHaveLength(37);
    const want = new Map<number, number>();
    for (let i = 0; i < 4_000; i++) {
      const amount = i < 3_000 ? (i * 7) % 101 : 1;
      if (amount <= 90) want.set(i % 37, (want.get(i % 37) ?? 0) + amount);
    }
    for (const t of totals) expect(t.total).toBe(want.get(t.customer)! - (t.customer % 5));
    expect(big.length).toBe([...Array(3_000).keys()].filter((i) => (i * 7) % 101 > 90).length);
    expect(results[1]).toEqual(results[0]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
