/**
 * Checks of a submitted job against the cluster's configuration that planning alone cannot make.
 * They run before anything is deployed, so a job that could never work is refused with the reason.
 */
import { isTransactionalSink, isWriteAheadSink } from "../api/sink.js";
import { WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import type { JobGraph } from "../graph/job-graph.js";

/**
 * An exactly-once sink (two-phase commit or write-ahead) makes output visible only when a checkpoint
 * completes, or when its input ends. An unbounded job without periodic checkpoints would therefore
 * hold its output forever (in memory, for a write-ahead sink): refuse it, naming the sink.
 */
export function checkExactlyOnceSinksCanCommit(graph: JobGraph, config: Pick<RuntimeConfig, "execution.checkpointing.interval">): void {
  if (config["execution.checkpointing.interval"] > 0) return;
  const nodes = graph.vertices.flatMap((v) => v.operators);
  const unbounded = nodes.some((n) => n.node.spec.kind === "source" && !n.node.spec.source.bounded);
  if (!unbounded) return;
  for (const n of nodes) {
    const spec = n.node.spec;
    if (spec.kind !== "sink" || !(isWriteAheadSink(spec.sink) || isTransactionalSink(spec.sink))) continue;
    throw new WeirError(
      "WEIR_E_CONFIG",
      `sink "${n.node.name}" (uid ${n.uid}) is exactly-once: its output becomes visible only when a checkpoint ` +
        "completes, and this unbounded job takes no checkpoints (execution.checkpointing.interval is 0); " +
        "set execution.checkpointing.interval, or give the sink an at-least-once delivery guarantee",
    );
  }
}
