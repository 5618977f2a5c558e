/**
 * The `weir_task_*` series, built at each scrape from the tasks' `TaskIoMetrics`, and the metrics
 * their functions and connectors registered (`RuntimeContext.metrics`, task-metric-group.ts):
 *
 *   const unregister = registerTaskMetrics(metrics, () =>
 *     runningTasks.map((t) => ({
 *       labels: { job_id: t.jobId, vertex: t.vertexId, task_name: t.name, subtask: String(t.index) },
 *       metrics: t.io,
 *     })),
 *   );
 *
 * Counters are read live from the task's fields; gauges come from the task's `lastSample`, so a scrape
 * never starts a new rate window (the task's own once-a-second sampler owns that). A task without a
 * sample yet reports only its counters. A task the source no longer yields has no series at the next
 * scrape (see snapshot-producer.ts for why these are not OpenTelemetry observable instruments).
 */
import type { MetricData } from "@opentelemetry/sdk-metrics";
import type { TaskMetrics } from "../jobmanager/rest-types.js";
import {
  snapshotCounter,
  snapshotGauge,
  type SnapshotMetricInfo,
  type SnapshotPoint,
  type SnapshotSource,
} from "./snapshot-producer.js";
import type { TaskIoMetrics } from "./task-io-metrics.js";
import { groupSeries } from "./task-metric-group.js";

/** What `registerTaskMetrics` reads at each scrape: one entry per running subtask. */
export type TaskMetricsSource = () => Iterable<{
  /** Prometheus labels; Weir uses job_id, vertex, task_name and subtask. */
  labels: Record<string, string>;
  metrics: TaskIoMetrics;
}>;

/** Where snapshot sources are registered: a `MetricsRegistry` from otel.ts. */
export interface SnapshotTarget {
  addSnapshotSource(source: SnapshotSource): () => void;
}

type CounterField = "recordsIn" | "recordsOut";
type GaugeField = Exclude<keyof TaskMetrics, CounterField | "currentInputWatermark">;

const COUNTERS: readonly (SnapshotMetricInfo & { field: CounterField })[] = [
  { name: "weir_task_records_in_total", field: "recordsIn", unit: "{record}", description: "Records read by the task" },
  {
    name: "weir_task_records_out_total",
    field: "recordsOut",
    unit: "{record}",
    description: "Records emitted by the task",
  },
];

const GAUGES: readonly (SnapshotMetricInfo & { field: GaugeField })[] = [
  {
    name: "weir_task_busy_time_ms_per_second",
    field: "busyTimeMsPerSecond",
    unit: "ms",
    description: "Milliseconds per second the task spent processing (1000 - idle - backpressured)",
  },
  {
    name: "weir_task_backpressured_time_ms_per_second",
    field: "backPressuredTimeMsPerSecond",
    unit: "ms",
    description: "Milliseconds per second the task waited for output credit",
  },
  {
    name: "weir_task_idle_time_ms_per_second",
    field: "idleTimeMsPerSecond",
    unit: "ms",
    description: "Milliseconds per second the task waited for input",
  },
  {
    name: "weir_task_records_in_per_second",
    field: "recordsInPerSecond",
    unit: "{record}/s",
    description: "Records read per second",
  },
  {
    name: "weir_task_records_out_per_second",
    field: "recordsOutPerSecond",
    unit: "{record}/s",
    description: "Records emitted per second",
  },
  {
    name: "weir_task_watermark_lag_ms",
    field: "watermarkLagMs",
    unit: "ms",
    description: "Wall clock minus the task's current input watermark",
  },
  {
    name: "weir_task_output_queue_length",
    field: "outputQueueLength",
    unit: "{batch}",
    description: "Batches queued in the task's output subpartitions",
  },
  {
    name: "weir_task_input_queue_length",
    field: "inputQueueLength",
    unit: "{batch}",
    description: "Batches queued in the task's input channels",
  },
];

/**
 * Export the `weir_task_*` series of the tasks `source` yields at each scrape.
 * Returns a function that stops exporting them (e.g. when a TaskManager stops).
 */
export function registerTaskMetrics(target: SnapshotTarget, source: TaskMetricsSource): () => void {
  return target.addSnapshotSource(() => taskSeries(source));
}

/** The weir_task_* metrics of the tasks the source yields now. */
export function taskSeries(source: TaskMetricsSource): MetricData[] {
  const tasks = [...source()];
  const counters = COUNTERS.map((info) => {
    const { field, ...rest } = info;
    return snapshotCounter(rest, tasks.map((t) => ({ attributes: t.labels, value: t.metrics[field] })));
  });
  const gauges = GAUGES.map((info) => {
    const { field, ...rest } = info;
    return snapshotGauge(rest, tasks.flatMap((t) => gaugePoint(t.labels, t.metrics.lastSample, field)));
  });
  const registered = groupSeries(tasks.map((t) => ({ labels: t.labels, group: t.metrics.group })));
  return [...counters, ...gauges, ...registered].filter((m) => m.dataPoints.length > 0);
}

function gaugePoint(labels: Record<string, string>, sample: TaskMetrics | null, field: GaugeField): SnapshotPoint[] {
  const value = sample?.[field] ?? null;
  return value === null ? [] : [{ attributes: labels, value }];
}
