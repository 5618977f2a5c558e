/**
 * Weir's metrics: per-task I/O accounting (busy / backpressured / idle time, rates, watermark lag),
 * vertex aggregation for the REST API, and a Prometheus endpoint per process through OpenTelemetry.
 *
 *   const io = new TaskIoMetrics();                       // one per subtask, updated by the task
 *   setInterval(() => io.sample(performance.now()), 1000); // the one sampler; exporters read lastSample
 *
 *   const metrics = await startMetrics({ serviceName: "weir-taskmanager", host: "0.0.0.0", port: 9249 });
 *   registerTaskMetrics(metrics, () => tasks.map((t) => ({ labels: t.labels, metrics: t.io })));
 *
 *   vertex.metrics = aggregateVertexMetrics(subtasks.map((s) => s.metrics));
 */
export { TaskIoMetrics, type TaskTimeState, type TaskTimeTotals } from "./task-io-metrics.js";
export { aggregateVertexMetrics } from "./aggregate.js";
export {
  createMetricsRegistry,
  startMetrics,
  METRICS_PATH,
  type MetricsOptions,
  type MetricsRegistry,
  type MetricsRequestHandler,
  type MetricsServer,
} from "./otel.js";
export { registerTaskMetrics, taskSeries, type SnapshotTarget, type TaskMetricsSource } from "./task-series.js";
export {
  snapshotCounter,
  snapshotGauge,
  type SnapshotMetricInfo,
  type SnapshotPoint,
  type SnapshotSource,
} from "./snapshot-producer.js";
