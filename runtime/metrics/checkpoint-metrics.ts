/**
 * The `weir_job_*` checkpoint and restart series of the JobManager, built at each scrape:
 *
 *   registerCheckpointMetrics(metrics, () =>
 *     [...jobs.values()].map((j) => ({ id: j.id, name: j.name, coordinator: j.checkpointing, restarts: j.restarts })),
 *   );
 *
 * Snapshot sources rather than OpenTelemetry observable instruments, so an ended job's series go away
 * with it (see snapshot-producer.ts). Labels: job_id, job_name. The counters get Prometheus' `_total`
 * suffix; the `last_*` gauges describe the latest completed checkpoint (not savepoint) and are absent
 * before the first one.
 */
import type { MetricData } from "@opentelemetry/sdk-metrics";
import type { CheckpointCoordinator } from "../jobmanager/checkpoint-coordinator.js";
import type { CheckpointingOverview, CheckpointStats } from "../jobmanager/rest-types.js";
import { snapshotCounter, snapshotGauge, type SnapshotMetricInfo, type SnapshotPoint } from "./snapshot-producer.js";
import type { SnapshotTarget } from "./task-series.js";

/** What `registerCheckpointMetrics` reads at each scrape: one entry per job to export. */
export type CheckpointMetricsSource = () => Iterable<{
  id: string;
  name: string;
  /** Null for a job without checkpointing (it still reports restarts). */
  coordinator: Pick<CheckpointCoordinator, "overview"> | null;
  restarts: number;
}>;

interface JobView {
  attributes: { job_id: string; job_name: string };
  overview: CheckpointingOverview | null;
  restarts: number;
}

type Read = (job: JobView) => number | null;

const COUNTERS: readonly (SnapshotMetricInfo & { read: Read })[] = [
  {
    name: "weir_job_checkpoints_completed",
    unit: "{checkpoint}",
    description: "Checkpoints and savepoints completed",
    read: (j) => j.overview?.counts.completed ?? null,
  },
  {
    name: "weir_job_checkpoints_failed",
    unit: "{checkpoint}",
    description: "Checkpoints and savepoints failed",
    read: (j) => j.overview?.counts.failed ?? null,
  },
  { name: "weir_job_restarts", unit: "{restart}", description: "Times the job restarted", read: (j) => j.restarts },
];

const lastCompleted = (read: (c: CheckpointStats) => number): Read => {
  return (j) => {
    const completed = j.overview?.latest.completed;
    return completed ? read(completed) : null;
  };
};

const GAUGES: readonly (SnapshotMetricInfo & { read: Read })[] = [
  {
    name: "weir_job_checkpoints_in_progress",
    unit: "{checkpoint}",
    description: "Checkpoints and savepoints in progress",
    read: (j) => j.overview?.counts.inProgress ?? null,
  },
  {
    name: "weir_job_last_checkpoint_duration_ms",
    unit: "ms",
    description: "Trigger to completion of the latest completed checkpoint",
    read: lastCompleted((c) => c.endToEndDuration),
  },
  {
    name: "weir_job_last_checkpoint_size_bytes",
    unit: "By",
    description: "State written by the latest completed checkpoint",
    read: lastCompleted((c) => c.stateSize),
  },
  {
    name: "weir_job_last_checkpoint_alignment_ms",
    unit: "ms",
    description: "Longest barrier alignment of any task in the latest completed checkpoint",
    read: lastCompleted((c) => c.alignmentMs),
  },
];

/** Export the `weir_job_*` series of the jobs `source` yields at each scrape; returns a function that stops it. */
export function registerCheckpointMetrics(target: SnapshotTarget, source: CheckpointMetricsSource): () => void {
  return target.addSnapshotSource(() => checkpointSeries(source));
}

/** The weir_job_* metrics of the jobs the source yields now. */
export function checkpointSeries(source: CheckpointMetricsSource): MetricData[] {
  const jobs: JobView[] = [...source()].map((j) => ({
    attributes: { job_id: j.id, job_name: j.name },
    overview: j.coordinator?.overview() ?? null,
    restarts: j.restarts,
  }));
  const points = (read: Read): SnapshotPoint[] =>
    jobs.flatMap((j) => {
      const value = read(j);
      return value === null ? [] : [{ attributes: j.attributes, value }];
    });
  const metrics = [
    ...COUNTERS.map(({ read, ...info }) => snapshotCounter(info, points(read))),
    ...GAUGES.map(({ read, ...info }) => snapshotGauge(info, points(read))),
  ];
  return metrics.filter((m) => m.dataPoints.length > 0);
}
