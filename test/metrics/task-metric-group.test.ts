import { describe, expect, it } from "vitest";
import { TaskIoMetrics } from "../../runtime/metrics/task-io-metrics.js";
import { taskSeries } from "../../runtime/metrics/task-series.js";

describe("metrics registered through RuntimeContext.metrics", () => {
  it("are exported with the task's labels and their own, one metric per name, while registered", () => {
    const a = new TaskIoMetrics();
    const b = new TaskIoMetrics();
    let lag = 7;
    const removeA = a.group.gauge("weir_source_kafka_lag", "lag", { topic: "t", partition: "0" }, () => lag);
    b.group.gauge("weir_source_kafka_lag", "lag", { topic: "t", partition: "1" }, () => 3);
    b.group.gauge("weir_source_kafka_lag", "lag", { topic: "t", partition: "2" }, () => null); // no value now
    b.group.counter("weir_source_kafka_retries_total", "retries", { reason: "connection" }, () => 2);
    const series = () =>
      taskSeries(() => [
        { labels: { subtask: "0" }, metrics: a },
        { labels: { subtask: "1" }, metrics: b },
      ]);
    const lagMetric = series().find((m) => m.descriptor.name === "weir_source_kafka_lag")!;
    expect(lagMetric.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ subtask: "0", topic: "t", partition: "0" }, 7],
      [{ subtask: "1", topic: "t", partition: "1" }, 3],
    ]);
    expect(series().find((m) => m.descriptor.name === "weir_source_kafka_retries_total")!.dataPoints[0]!.value).toBe(2);
    lag = 9;
    expect(series().find((m) => m.descriptor.name === "weir_source_kafka_lag")!.dataPoints[0]!.value).toBe(9);
    removeA();
    expect(series().find((m) => m.descriptor.name === "weir_source_kafka_lag")!.dataPoints).toHaveLength(1);
  });

  it("rejects names Prometheus cannot take", () => {
    const m = new TaskIoMetrics();
    expect(() => m.group.gauge("kafka-lag", "x", {}, () => 1)).toThrow(/not a Prometheus metric name/);
    expect(() => m.group.gauge("kafka_lag", "x", { "bad-label": "v" }, () => 1)).toThrow(/not a Prometheus label name/);
  });
});
