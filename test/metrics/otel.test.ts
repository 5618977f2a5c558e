import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createMetricsRegistry,
  registerTaskMetrics,
  startMetrics,
  type MetricsServer,
} from "../../runtime/metrics/otel.js";
import { TaskIoMetrics } from "../../runtime/metrics/task-io-metrics.js";

const LABELS = { job_id: "job-1", vertex: "v1", task_name: "Source: numbers -> Map", subtask: "0" };

function sampledTask(): TaskIoMetrics {
  const io = new TaskIoMetrics(0);
  io.markBusy(0);
  io.recordsIn = 1200;
  io.recordsOut = 600;
  io.markBackpressured(700);
  io.markIdle(900);
  io.currentInputWatermark = 1_000_000;
  io.outputQueueLength = () => 3;
  io.inputQueueLength = () => 2;
  io.sample(1000, 1_005_000);
  return io;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of the series `name{labels}` (exactly these labels, any order) in a Prometheus text exposition. */
function seriesValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = [...match[2].matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]);
    if (JSON.stringify(found.sort()) === wanted) return Number(match[3]);
  }
  return undefined;
}

describe("createMetricsRegistry", () => {
  it("serves the Prometheus text from a handler mounted on another HTTP server", async () => {
    const registry = createMetricsRegistry("weir-jobmanager");
    registerTaskMetrics(registry, () => [{ labels: LABELS, metrics: sampledTask() }]);
    const http = createServer((req, res) => registry.handler(req, res));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const text = await scrape(`http://127.0.0.1:${port}/anything`);
      expect(text).toContain('service_name="weir-jobmanager"');
      expect(seriesValue(text, "weir_task_records_out_total", LABELS)).toBe(600);
    } finally {
      http.close();
      await registry.shutdown();
    }
  });
});

describe("startMetrics", () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.shutdown();
    server = undefined;
  });

  it("serves /metrics on an ephemeral port and reports the port it bound", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(server.url).not.toContain(":0/");
    const text = await scrape(server.url);
    expect(text).toContain('service_name="weir-test"');
    const other = await fetch(server.url.replace("/metrics", "/other"));
    expect(other.status).toBe(404);
  });

  it("exports the weir_task_* series of registered tasks with their labels", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    registerTaskMetrics(server, () => [{ labels: LABELS, metrics: sampledTask() }]);
    const text = await scrape(server.url);
    const expected: Record<string, number> = {
      weir_task_records_in_total: 1200,
      weir_task_records_out_total: 600,
      weir_task_records_in_per_second: 1200,
      weir_task_records_out_per_second: 600,
      weir_task_busy_time_ms_per_second: 700,
      weir_task_backpressured_time_ms_per_second: 200,
      weir_task_idle_time_ms_per_second: 100,
      weir_task_watermark_lag_ms: 5000,
      weir_task_output_queue_length: 3,
      weir_task_input_queue_length: 2,
    };
    for (const [name, value] of Object.entries(expected)) {
      expect(seriesValue(text, name, LABELS), name).toBe(value);
    }
    expect(text).toContain("# TYPE weir_task_records_in_total counter");
    expect(text).toContain("# TYPE weir_task_busy_time_ms_per_second gauge");
  });

  it("reads counters live and gauges from the last sample, without resetting the task's rates", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    const io = sampledTask();
    registerTaskMetrics(server, () => [{ labels: LABELS, metrics: io }]);
    io.recordsIn = 5000;
    const before = io.lastSample;
    const text = await scrape(server.url);
    expect(seriesValue(text, "weir_task_records_in_total", LABELS)).toBe(5000);
    expect(seriesValue(text, "weir_task_records_in_per_second", LABELS)).toBe(1200);
    expect(io.lastSample).toBe(before);
  });

  it("reports only counters for a task that has not been sampled yet", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    const io = new TaskIoMetrics(0);
    io.recordsIn = 7;
    const labels = { job_id: "job-2", vertex: "v9", task_name: "Sink", subtask: "1" };
    registerTaskMetrics(server, () => [{ labels, metrics: io }]);
    const text = await scrape(server.url);
    expect(seriesValue(text, "weir_task_records_in_total", labels)).toBe(7);
    expect(seriesValue(text, "weir_task_busy_time_ms_per_second", labels)).toBeUndefined();
  });

  it("stops exporting the series of an unregistered source", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    const unregister = registerTaskMetrics(server, () => [{ labels: LABELS, metrics: sampledTask() }]);
    expect(seriesValue(await scrape(server.url), "weir_task_records_in_total", LABELS)).toBe(1200);
    unregister();
    expect(seriesValue(await scrape(server.url), "weir_task_records_in_total", LABELS)).toBeUndefined();
  });

  it("drops a task's series once the source stops yielding it (no stale series after a job ends)", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    let tasks = [{ labels: LABELS, metrics: sampledTask() }];
    registerTaskMetrics(server, () => tasks);
    expect(seriesValue(await scrape(server.url), "weir_task_busy_time_ms_per_second", LABELS)).toBe(700);
    tasks = [];
    const text = await scrape(server.url);
    expect(text).not.toContain("weir_task_");
  });

  it("merges the series of several sources into one metric family per name", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    const other = { ...LABELS, subtask: "1" };
    registerTaskMetrics(server, () => [{ labels: LABELS, metrics: sampledTask() }]);
    registerTaskMetrics(server, () => [{ labels: other, metrics: sampledTask() }]);
    const text = await scrape(server.url);
    expect(text.match(/# TYPE weir_task_records_in_total /g)).toHaveLength(1);
    expect(seriesValue(text, "weir_task_records_in_total", LABELS)).toBe(1200);
    expect(seriesValue(text, "weir_task_records_in_total", other)).toBe(1200);
  });

  it("still exports the other sources when one source throws", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    registerTaskMetrics(server, () => {
      throw new Error("task list unavailable");
    });
    registerTaskMetrics(server, () => [{ labels: LABELS, metrics: sampledTask() }]);
    expect(seriesValue(await scrape(server.url), "weir_task_records_in_total", LABELS)).toBe(1200);
  });

  it("exports instruments created on the meter next to the task series", async () => {
    server = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    server.meter.createCounter("weir_checkpoints_completed").add(3, { job_id: "job-1" });
    registerTaskMetrics(server, () => [{ labels: LABELS, metrics: sampledTask() }]);
    const text = await scrape(server.url);
    expect(seriesValue(text, "weir_checkpoints_completed_total", { job_id: "job-1" })).toBe(3);
    expect(seriesValue(text, "weir_task_records_in_total", LABELS)).toBe(1200);
  });

  it("rejects naming the address when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port })).rejects.toThrow(
        `cannot serve metrics on 127.0.0.1:${port}`,
      );
    } finally {
      blocker.close();
    }
  });

  it("shutdown is idempotent and closes the port", async () => {
    const s = await startMetrics({ serviceName: "weir-test", host: "127.0.0.1", port: 0 });
    await Promise.all([s.shutdown(), s.shutdown()]);
    await expect(fetch(s.url)).rejects.toThrow();
  });
});
