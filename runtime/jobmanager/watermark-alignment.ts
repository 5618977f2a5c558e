/**
 * Watermark alignment on the JobManager (Flink's FLIP-182 `WatermarkAggregator` in the coordinator
 * store; Bilibili's "GlobalWatermark"): the latest watermark each source subtask reported, per
 * alignment group, and the `maxAllowed` watermark announced to the group's subtasks.
 *
 *   const alignment = new WatermarkAlignment();
 *   alignment.report("clicks", executionId, 42_000);   // or "idle"
 *   alignment.maxAllowed("clicks", 5_000);              // 47_000 = group minimum + drift
 *   alignment.remove(executionId);                      // the subtask ended
 *
 * A group spans every source whose strategy names it. Idle subtasks, and subtasks that have not
 * reported yet (no watermark so far), do not hold the group back; with no watermark to go by the limit
 * is +Infinity, so sources read freely at startup until the first reports arrive, as in Flink.
 */
import type { JobGraph } from "../graph/job-graph.js";

/** A source vertex taking part in watermark alignment, with its strategy's settings. */
export interface AlignedSource {
  readonly vertexId: string;
  readonly group: string;
  readonly maxDriftMs: number;
  readonly updateIntervalMs: number;
}

/** The source vertices of `graph` whose watermark strategy has alignment. */
export function alignedSources(graph: JobGraph): AlignedSource[] {
  return graph.vertices.flatMap((v) => {
    const spec = v.operators[0]?.node.spec;
    const alignment = spec?.kind === "source" ? spec.watermarks?.alignment : null;
    return alignment ? [{ vertexId: v.id, ...alignment }] : [];
  });
}

/** Latest reports per group: subtask key (execution id) -> watermark or "idle". */
export class WatermarkAlignment {
  private readonly groups = new Map<string, Map<string, number | "idle">>();

  /** Subtask `subtask` of a source in `group` reported its watermark (the latest report wins). */
  report(group: string, subtask: string, watermark: number | "idle"): void {
    let reports = this.groups.get(group);
    if (!reports) this.groups.set(group, (reports = new Map()));
    reports.set(subtask, watermark);
  }

  /** The subtask ended (finished, failed or canceled): it no longer holds its group back. */
  remove(subtask: string): void {
    for (const reports of this.groups.values()) reports.delete(subtask);
  }

  /** Forget every report (a new attempt of the job starts). */
  clear(): void {
    this.groups.clear();
  }

  /** The minimum reported watermark of the group's non-idle subtasks; +Infinity when there is none. */
  groupMin(group: string): number {
    let min = Number.POSITIVE_INFINITY;
    for (const w of this.groups.get(group)?.values() ?? []) if (w !== "idle" && w < min) min = w;
    return min;
  }

  /** What the group's subtasks may reach: its minimum + `maxDriftMs`, or +Infinity (no limit). */
  maxAllowed(group: string, maxDriftMs: number): number {
    return this.groupMin(group) + maxDriftMs;
  }
}
