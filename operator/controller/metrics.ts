/**
 * The operator's OpenTelemetry metrics, exported in the Prometheus format on its HTTP port:
 *
 *   weir_operator_reconciles_total{result}            success | error | conflict | not_leader
 *   weir_operator_reconcile_duration_seconds          histogram
 *   weir_operator_actions_total{action}               deploy, triggerSavepoint, cancelJob, ...
 *   weir_operator_queue_depth / _queue_processing     keys waiting / being reconciled
 *   weir_operator_queue_latency_seconds               time a key waited in the queue
 *   weir_operator_leader                              1 on the replica that leads
 *   weir_operator_jobs{lifecycle_state}               StreamJobs per lifecycle state (from the cache)
 */
import type { Meter } from "@opentelemetry/api";
import type { WorkQueueEvent, WorkQueueStats } from "./work-queue.js";

export interface OperatorMetricsSources {
  isLeader(): boolean;
  queueStats(): WorkQueueStats | undefined;
  lifecycleStates(): Iterable<string | undefined>;
}

export interface OperatorMetrics {
  reconciled(result: "success" | "error" | "conflict" | "not_leader", seconds: number, action?: string): void;
  onQueueEvent(event: WorkQueueEvent): void;
}

export function operatorMetrics(meter: Meter, sources: OperatorMetricsSources): OperatorMetrics {
  const reconciles = meter.createCounter("weir_operator_reconciles", { description: "Reconciles of StreamJobs by result." });
  const duration = meter.createHistogram("weir_operator_reconcile_duration_seconds", {
    unit: "s",
    description: "Duration of one reconcile.",
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  });
  const actions = meter.createCounter("weir_operator_actions", { description: "Actions taken on StreamJobs (deploy, savepoints, cancel, teardown)." });
  const latency = meter.createHistogram("weir_operator_queue_latency_seconds", {
    unit: "s",
    description: "How long a StreamJob key waited in the work queue.",
    advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] },
  });
  meter.createObservableGauge("weir_operator_queue_depth", { description: "StreamJob keys waiting in the work queue." })
    .addCallback((r) => r.observe(sources.queueStats()?.depth ?? 0));
  meter.createObservableGauge("weir_operator_queue_processing", { description: "StreamJob keys being reconciled." })
    .addCallback((r) => r.observe(sources.queueStats()?.processing ?? 0));
  meter.createObservableGauge("weir_operator_leader", { description: "1 while this replica holds the leader Lease." })
    .addCallback((r) => r.observe(sources.isLeader() ? 1 : 0));
  meter.createObservableGauge("weir_operator_jobs", { description: "StreamJobs per lifecycle state." }).addCallback((r) => {
    const counts = new Map<string, number>();
    for (const s of sources.lifecycleStates()) counts.set(s ?? "NEW", (counts.get(s ?? "NEW") ?? 0) + 1);
    for (const [state, n] of counts) r.observe(n, { lifecycle_state: state });
  });
  return {
    reconciled(result, seconds, action) {
      reconciles.add(1, { result });
      duration.record(seconds);
      if (action && action !== "none" && action !== "wait" && action !== "pollSavepoint" && action !== "gone") actions.add(1, { action });
    },
    onQueueEvent(event) {
      if (event.kind === "get") latency.record(event.queuedMs / 1000);
    },
  };
}
