/**
 * Combines the metrics of a vertex's subtasks into the vertex's figures shown by `GET /jobs/:id`:
 *
 *   vertex.metrics = aggregateVertexMetrics(vertex.subtasks.map((s) => s.metrics));
 *
 * - sums: record counts, record rates, queue lengths (the vertex's throughput and buffered batches);
 * - maxima: busy and backpressured ms/s (the vertex is as busy as its busiest subtask, which is what
 *   the autoscaler and bottleneck detection look at) and watermark lag;
 * - minima: idle ms/s (the least idle subtask, mirroring the busy maximum) and the input watermark
 *   (the vertex's event time is held back by its slowest subtask).
 *
 * Subtasks without metrics (not yet running, or no sample yet) are skipped; so are subtasks without a
 * watermark when computing the watermark minimum and lag maximum.
 */
import type { TaskMetrics } from "../jobmanager/rest-types.js";

type NumericKey = {
  [K in keyof TaskMetrics]: TaskMetrics[K] extends number ? K : never;
}[keyof TaskMetrics];

type NullableKey = Exclude<keyof TaskMetrics, NumericKey>;

/** Sum of one numeric field over subtasks. */
function sum(metrics: readonly TaskMetrics[], key: NumericKey): number {
  let total = 0;
  for (const m of metrics) total += m[key];
  return total;
}

/** Max (or min) of one field over subtasks, ignoring nulls; null when every value is null. */
function extreme(metrics: readonly TaskMetrics[], key: NumericKey | NullableKey, pick: "max" | "min"): number | null {
  let result: number | null = null;
  for (const m of metrics) {
    const value = m[key];
    if (value === null) continue;
    if (result === null || (pick === "max" ? value > result : value < result)) result = value;
  }
  return result;
}

/**
 * The vertex-level metrics of a vertex's subtasks (sums, maxima and minima as described in the module
 * comment), or null when no subtask has metrics.
 */
export function aggregateVertexMetrics(subtasks: readonly (TaskMetrics | null)[]): TaskMetrics | null {
  const present = subtasks.filter((m): m is TaskMetrics => m !== null);
  if (present.length === 0) return null;
  return {
    recordsIn: sum(present, "recordsIn"),
    recordsOut: sum(present, "recordsOut"),
    recordsInPerSecond: sum(present, "recordsInPerSecond"),
    recordsOutPerSecond: sum(present, "recordsOutPerSecond"),
    busyTimeMsPerSecond: extreme(present, "busyTimeMsPerSecond", "max") ?? 0,
    backPressuredTimeMsPerSecond: extreme(present, "backPressuredTimeMsPerSecond", "max") ?? 0,
    idleTimeMsPerSecond: extreme(present, "idleTimeMsPerSecond", "min") ?? 0,
    currentInputWatermark: extreme(present, "currentInputWatermark", "min"),
    watermarkLagMs: extreme(present, "watermarkLagMs", "max"),
    outputQueueLength: sum(present, "outputQueueLength"),
    inputQueueLength: sum(present, "inputQueueLength"),
  };
}
