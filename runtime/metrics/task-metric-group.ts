/**
 * Metrics that user functions and connectors register on their subtask (`RuntimeContext.metrics`),
 * exported at each scrape next to the `weir_task_*` series, with the task's labels plus their own:
 *
 *   const remove = ctx.metrics?.gauge("weir_source_kafka_lag", "Records behind the partition end",
 *                                     { topic, partition: String(p) }, () => lag);
 *
 * Values are read by callback at scrape time (nothing on the record path). A series exists while it is
 * registered and while its task runs.
 */
import type { MetricData } from "@opentelemetry/sdk-metrics";
import type { MetricGroup } from "../api/functions.js";
import { snapshotCounter, snapshotGauge, type SnapshotPoint } from "./snapshot-producer.js";

interface Entry {
  readonly kind: "gauge" | "counter";
  readonly name: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly read: () => number | null;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The metrics registered on one subtask. */
export class TaskMetricGroup implements MetricGroup {
  private readonly entries = new Set<Entry>();

  gauge(name: string, description: string, labels: Readonly<Record<string, string>>, read: () => number | null): () => void {
    return this.add({ kind: "gauge", name, description, labels, read });
  }

  counter(name: string, description: string, labels: Readonly<Record<string, string>>, read: () => number): () => void {
    return this.add({ kind: "counter", name, description, labels, read });
  }

  /** The registered metrics, in registration order. */
  list(): Iterable<Entry> {
    return this.entries;
  }

  private add(e: Entry): () => void {
    if (!METRIC_NAME.test(e.name)) throw new RangeError(`metric name "${e.name}" is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    for (const l of Object.keys(e.labels)) {
      if (!LABEL_NAME.test(l)) throw new RangeError(`metric "${e.name}": label "${l}" is not a Prometheus label name`);
    }
    this.entries.add(e);
    return () => void this.entries.delete(e);
  }
}

/** The registered metrics of `tasks`, one MetricData per name, each point with the task's labels and its own. */
export function groupSeries(tasks: Iterable<{ labels: Record<string, string>; group: TaskMetricGroup }>): MetricData[] {
  const byName = new Map<string, { kind: Entry["kind"]; description: string; points: SnapshotPoint[] }>();
  for (const t of tasks) {
    for (const e of t.group.list()) {
      const value = e.read();
      if (value === null || !Number.isFinite(value)) continue;
      let m = byName.get(e.name);
      if (!m) byName.set(e.name, (m = { kind: e.kind, description: e.description, points: [] }));
      m.points.push({ attributes: { ...t.labels, ...e.labels }, value });
    }
  }
  return [...byName].map(([name, m]) =>
    m.kind === "counter"
      ? snapshotCounter({ name, description: m.description, unit: "" }, m.points)
      : snapshotGauge({ name, description: m.description, unit: "" }, m.points),
  );
}
