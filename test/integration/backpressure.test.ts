/**
 * Credit-based flow control behind a slow sink: the upstream vertex reports backpressure above
 * 500 ms/s, and TaskManager memory stays under a fixed bound while ten times more records than all
 * network buffers can hold flow through.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, useCluster, waitFor } from "../support/cluster.js";

const BATCH = 256;
const CAPACITY = 4;
const CREDITS = 4;
/** Peak resident memory a TaskManager may reach; without flow control the ~2 KB records pile up by the gigabyte. */
const RSS_BOUND_MB = 300;

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

describe("backpressure behind a slow sink", () => {
  const cluster = useCluster(2, 1, [`network.batch-size=${BATCH}`, `network.subpartition-capacity=${CAPACITY}`, `network.buffers-per-channel=${CREDITS}`]);

  it("reports backpressure upstream and keeps memory bounded", async () => {
    const { jobId } = await cluster().client.submitJob({ module: join(REPO, "test/jobs/slow-sink.ts"), args: ["20"], parallelism: 2 });
    const detail = await cluster().client.jobDetail(jobId);
    // Every exchange: each producer subtask has a queue per consumer subtask, each consumer a channel per producer.
    const channels = detail.edges.reduce((n, e) => {
      const src = detail.vertices.find((v) => v.id === e.source)!;
      const dst = detail.vertices.find((v) => v.id === e.target)!;
      return n + (e.partitioner === "forward" ? src.parallelism : src.parallelism * dst.parallelism);
    }, 0);
    const inFlightCapacity = channels * (CAPACITY + CREDITS) * BATCH;
    const enrich = () => cluster().client.jobDetail(jobId).then((d) => d.vertices.find((v) => v.name === "Enrich")!);
    const sink = () => cluster().client.jobDetail(jobId).then((d) => d.vertices.find((v) => v.name === "Slow sink")!);

    let backpressure = 0;
    await waitFor(async () => {
      backpressure = (await enrich()).metrics?.backPressuredTimeMsPerSecond ?? 0;
      return backpressure > 500;
    }, 30_000, "the Enrich vertex to report backpressure above 500 ms/s", 250);
    expect(backpressure).toBeGreaterThan(500);

    await waitFor(async () => ((await sink()).metrics?.recordsIn ?? 0) > 10 * inFlightCapacity, 60_000, `more than ${10 * inFlightCapacity} records through the slow sink`, 250);
    for (const tm of cluster().taskmanagers) expect(peakRssMb(tm.child.pid!)).toBeLessThan(RSS_BOUND_MB);

    // Each TaskManager's Prometheus endpoint exports the same figures per task.
    for (const tm of await cluster().client.taskManagers()) {
      const text = await (await fetch(tm.metricsUrl!)).text();
      expect(text).toMatch(new RegExp(`weir_task_backpressured_time_ms_per_second\\{[^}]*job_id="${jobId}"`));
      expect(text).toMatch(/weir_task_records_in_total\{[^}]*task_name="Enrich \(\d\/2\)"/);
    }
    // The sink, the bottleneck, is busy rather than backpressured.
    const s = (await sink()).metrics!;
    expect(s.backPressuredTimeMsPerSecond).toBeLessThan(100);
    await cluster().client.cancelJob(jobId);
    await cluster().client.waitForJobState(jobId, ["CANCELED"]);
  });
});
