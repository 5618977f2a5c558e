/**
 * Wiring of an operator chain inside one task: each operator's main and side outputs lead to chained
 * operators (direct calls) and to network writers. Watermarks reach every output, side outputs included,
 * because downstream event time needs them.
 */
import type { Batch, StreamEvent } from "../common/elements.js";
import { watermarkEvent } from "../common/elements.js";
import type { JobVertex } from "../graph/job-graph.js";
import { createOperator } from "../operators/factory.js";
import type { Output, StreamOperator } from "../operators/operator.js";

/** The part of a record writer the chain needs. */
export interface ChainWriter {
  emit(batch: Batch): void;
  broadcastEvent(event: StreamEvent): void;
}

/** Callbacks from the chain into its task. */
export interface ChainHooks {
  /** A sink returned a Promise: hold input until it settles. */
  block(pending: Promise<void>): void;
  /** Records leaving the chain (to the network or into a sink). */
  countOut(n: number): void;
}

const OPERATOR_TAG = Symbol("weir.operator");

/** Name the operator an error came from, once (the innermost operator wins). */
export function tagOperator(err: unknown, operator: string): unknown {
  if (err && typeof err === "object" && !(OPERATOR_TAG in err)) {
    (err as Record<symbol, string>)[OPERATOR_TAG] = operator;
  }
  return err;
}

export function operatorOf(err: unknown): string | undefined {
  return err && typeof err === "object" ? (err as Record<symbol, string | undefined>)[OPERATOR_TAG] : undefined;
}

/** Feeds one input of a chained operator; tags errors with the operator's name. */
export class ChainingOutput implements Output {
  constructor(
    readonly operator: StreamOperator,
    private readonly input: number,
    private readonly name: string,
    private readonly hooks: ChainHooks,
    private readonly isSink: boolean,
  ) {}
  emit(batch: Batch): void {
    try {
      if (this.isSink) this.hooks.countOut(batch.values.length);
      const pending = this.operator.processBatch(batch, this.input);
      if (pending) this.hooks.block(pending);
    } catch (err) {
      throw tagOperator(err, this.name);
    }
  }
  emitWatermark(timestamp: number): void {
    try {
      this.operator.processWatermark(timestamp);
    } catch (err) {
      throw tagOperator(err, this.name);
    }
  }
}

/** Writes to a network (or in-process) channel; drops repeated watermarks. */
class NetworkOutput implements Output {
  private lastWatermark = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly writer: ChainWriter,
    private readonly hooks: ChainHooks,
  ) {}
  emit(batch: Batch): void {
    this.hooks.countOut(batch.values.length);
    this.writer.emit(batch);
  }
  emitWatermark(timestamp: number): void {
    if (timestamp <= this.lastWatermark) return;
    this.lastWatermark = timestamp;
    this.writer.broadcastEvent(watermarkEvent(timestamp));
  }
}

/** Fan-out of one operator's output: records to the main targets, watermarks to every target. */
class OperatorOutput implements Output {
  constructor(
    private readonly main: Output[],
    private readonly all: Output[],
  ) {}
  emit(batch: Batch): void {
    for (const o of this.main) o.emit(batch);
  }
  emitWatermark(timestamp: number): void {
    for (const o of this.all) o.emitWatermark(timestamp);
  }
}

const DISCARD: Output = { emit() {}, emitWatermark() {} };

export interface Chain {
  /** Operators in topological order (head first); the head is absent for source vertices. */
  readonly operators: { operator: StreamOperator; name: string; nodeId: number }[];
  /** Input of the head operator (non-source vertices). */
  readonly headInputs: ChainingOutput[];
  /** Output of the head: where a source driver emits. */
  readonly headOutput: Output;
  /** Outputs of every node, and side outputs per tag, for operator setup. */
  readonly outputs: Map<number, { main: Output; side: Map<string, Output> }>;
}

/** Instantiate the chain of `vertex`; `writers` maps job edge index to its writer. */
export function buildChain(vertex: JobVertex, writers: Map<number, ChainWriter>, hooks: ChainHooks): Chain {
  const ops = new Map<number, StreamOperator>();
  for (const rn of vertex.operators) if (rn.node.spec.kind !== "source") ops.set(rn.node.id, createOperator(rn.node));
  const nameOf = new Map(vertex.operators.map((rn) => [rn.node.id, rn.node.name]));
  const isSink = (id: number) => vertex.operators.some((rn) => rn.node.id === id && rn.node.spec.kind === "sink");
  const outputs = new Map<number, { main: Output; side: Map<string, Output> }>();
  for (const rn of vertex.operators) {
    const targets = new Map<string | null, Output[]>();
    const add = (tag: string | null, o: Output) => targets.set(tag, [...(targets.get(tag) ?? []), o]);
    for (const e of vertex.chainEdges) {
      if (e.source !== rn.node.id) continue;
      add(e.sideOutput, new ChainingOutput(ops.get(e.target)!, e.inputIndex, nameOf.get(e.target)!, hooks, isSink(e.target)));
    }
    for (const e of vertex.outputs) {
      if (e.sourceNode !== rn.node.id) continue;
      add(e.sideOutput, new NetworkOutput(writers.get(e.index)!, hooks));
    }
    const all = [...targets.values()].flat();
    const side = new Map<string, Output>();
    for (const [tag, outs] of targets) if (tag !== null) side.set(tag, new OperatorOutput(outs, []));
    outputs.set(rn.node.id, { main: new OperatorOutput(targets.get(null) ?? [], all), side });
  }
  const head = vertex.operators[0]!;
  const headOp = ops.get(head.node.id);
  return {
    operators: vertex.operators.filter((rn) => ops.has(rn.node.id)).map((rn) => ({ operator: ops.get(rn.node.id)!, name: rn.node.name, nodeId: rn.node.id })),
    headInputs: headOp ? [0, 1].map((i) => new ChainingOutput(headOp, i, head.node.name, hooks, head.node.spec.kind === "sink")) : [],
    headOutput: outputs.get(head.node.id)!.main,
    outputs,
  };
}

/** A side output nobody consumes. */
export function sideOutputOf(outputs: Chain["outputs"], nodeId: number, tag: string): Output {
  return outputs.get(nodeId)?.side.get(tag) ?? DISCARD;
}
