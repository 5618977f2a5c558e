/**
 * Turns an operator spec from the graph into a fresh runtime operator. Sources are not operators:
 * the task drives them directly (see taskmanager/source-driver.ts).
 */
import type { StreamNode } from "../graph/stream-graph.js";
import { FilterOperator, FlatMapOperator, MapOperator, SinkOperator } from "./basic-operators.js";
import { TransactionalSinkOperator } from "./transactional-sink-operator.js";
import { WriteAheadSinkOperator } from "./write-ahead-sink-operator.js";
import { isTransactionalSink, isWriteAheadSink } from "../api/sink.js";
import type { StreamOperator } from "./operator.js";
import { KeyedFunctionOperator, ProcessOperator, RollingOperator } from "./process-operators.js";
import { TimestampsOperator } from "./timestamps-operator.js";
import { WindowOperator } from "./window-operator.js";

export function createOperator(node: StreamNode): StreamOperator {
  const spec = node.spec;
  switch (spec.kind) {
    case "map":
      return new MapOperator(spec.fn);
    case "filter":
      return new FilterOperator(spec.fn);
    case "flatMap":
      return new FlatMapOperator(spec.fn);
    case "process":
    case "coProcess":
      return new ProcessOperator(spec.fn);
    case "keyedProcess":
    case "keyedCoProcess":
      return new KeyedFunctionOperator(spec.fn, node.keySelectors);
    case "keyedReduce":
      return new RollingOperator({ kind: "reduce", reduce: spec.fn }, node.keySelectors);
    case "keyedAggregate":
      return new RollingOperator({ kind: "aggregate", aggregate: spec.fn }, node.keySelectors);
    case "window":
      return new WindowOperator(spec, node.keySelectors);
    case "timestamps":
      return new TimestampsOperator(spec.watermarks);
    case "sink":
      if (isWriteAheadSink(spec.sink)) return new WriteAheadSinkOperator(spec.sink);
      return isTransactionalSink(spec.sink) ? new TransactionalSinkOperator(spec.sink) : new SinkOperator(spec.sink);
    case "source":
      throw new Error(`source "${node.name}" is driven by its task, not created as an operator`);
  }
}
