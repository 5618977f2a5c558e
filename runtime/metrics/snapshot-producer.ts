/**
 * Metrics computed afresh at every scrape, for series that come and go (tasks, jobs).
 *
 * The OpenTelemetry JS SDK never forgets an attribute set once an instrument has reported it under
 * cumulative temporality (the only one Prometheus uses), even for observable instruments: a finished
 * task's `weir_task_*` series would be exported forever with frozen values, and the SDK's memory would
 * grow with every job (open-telemetry/opentelemetry-js#2997, still open). A `MetricProducer` handed to
 * the Prometheus exporter is asked for its data at each collection and keeps nothing, so a series
 * exists exactly while its source yields it.
 */
import { ValueType, type Attributes, type HrTime } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type GaugeMetricData,
  type MetricData,
  type MetricProducer,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";

/** Returns the metrics to export now; called at each scrape, so it must be cheap and must not block. */
export type SnapshotSource = () => MetricData[];

/** Name, description and unit of a snapshot metric. */
export interface SnapshotMetricInfo {
  name: string;
  description: string;
  unit: string;
}

/** One value with its labels. */
export interface SnapshotPoint {
  attributes: Attributes;
  value: number;
}

/** A MetricProducer serving the union of its registered sources' metrics, merged by metric name. */
export class SnapshotProducer implements MetricProducer {
  private readonly sources = new Set<SnapshotSource>();

  constructor(private readonly resource: Resource) {}

  /** Add a source; returns a function that removes it. */
  add(source: SnapshotSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Collect every source; a throwing source is reported in `errors` and the others still export. */
  async collect(): Promise<CollectionResult> {
    const byName = new Map<string, MetricData>();
    const errors: unknown[] = [];
    for (const source of this.sources) {
      try {
        for (const metric of source()) mergeInto(byName, metric);
      } catch (err) {
        errors.push(err);
      }
    }
    const scopeMetrics = [{ scope: { name: "weir" }, metrics: [...byName.values()] }];
    return { resourceMetrics: { resource: this.resource, scopeMetrics }, errors };
  }
}

/** Two sources exporting the same metric name end up as one metric with both sets of points. */
function mergeInto(byName: Map<string, MetricData>, metric: MetricData): void {
  const existing = byName.get(metric.descriptor.name);
  if (existing === undefined) {
    byName.set(metric.descriptor.name, metric);
  } else {
    (existing.dataPoints as DataPoint<unknown>[]).push(...(metric.dataPoints as DataPoint<unknown>[]));
  }
}

/** A monotonic counter (Prometheus `counter`) from cumulative values. */
export function snapshotCounter(info: SnapshotMetricInfo, points: SnapshotPoint[], now = Date.now()): SumMetricData {
  return {
    descriptor: { ...info, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map((p) => dataPoint(p, now)),
  };
}

/** A gauge (Prometheus `gauge`). */
export function snapshotGauge(info: SnapshotMetricInfo, points: SnapshotPoint[], now = Date.now()): GaugeMetricData {
  return {
    descriptor: { ...info, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map((p) => dataPoint(p, now)),
  };
}

function dataPoint(point: SnapshotPoint, now: number): DataPoint<number> {
  const time = toHrTime(now);
  return { startTime: time, endTime: time, attributes: point.attributes, value: point.value };
}

/** Epoch milliseconds as OpenTelemetry's [seconds, nanoseconds]. */
function toHrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}
