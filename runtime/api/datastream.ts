/**
 * DataStream and friends: the fluent builder over a StreamEnvironment. Each call adds an operator node
 * (or, for keyBy/rebalance/broadcast/union, changes how the next operator is fed) and returns a stream.
 */
import type { OperatorSpec, Partitioner, StreamNode, WindowFunctionSpec } from "../graph/stream-graph.js";
import type { StreamEnvironment } from "./environment.js";
import type {
  AggregateFunction,
  CoProcessFunction,
  FilterFunction,
  FlatMapFunction,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  ProcessFunction,
  ProcessWindowFunction,
  ReduceFunction,
} from "./functions.js";
import { OutputTag } from "./functions.js";
import type { AnySink } from "./sink.js";
import type { WatermarkStrategy } from "./watermarks.js";
import type { WindowAssigner } from "./windows.js";
import { printSink } from "../connectors/print.js";

/** @internal One upstream of a stream: a node's main or side output and how it is partitioned. */
export interface StreamRef {
  readonly node: number;
  readonly sideOutput: string | null;
  readonly partitioner: Partitioner | null;
}

export class DataStream<T> {
  /** @internal */
  constructor(
    protected readonly env: StreamEnvironment,
    /** @internal */ readonly refs: readonly StreamRef[],
  ) {}

  /** The node this stream was produced by (for setters); union and partition views have none of their own. */
  private ownNode(what: string): StreamNode {
    const ref = this.refs[0];
    if (this.refs.length !== 1 || ref === undefined || ref.partitioner !== null || ref.sideOutput !== null) {
      throw new Error(`${what} applies to an operator's output, not to a union, side output or partitioning`);
    }
    return this.env.node(ref.node);
  }

  /** Stable operator id that maps state in savepoints; unique in the job. */
  uid(uid: string): this {
    this.ownNode("uid()").uid = uid;
    return this;
  }
  name(name: string): this {
    this.ownNode("name()").name = name;
    return this;
  }
  setParallelism(n: number): this {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`parallelism must be a positive integer, got ${n}`);
    this.ownNode("setParallelism()").parallelism = n;
    return this;
  }
  setMaxParallelism(n: number): this {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxParallelism must be a positive integer, got ${n}`);
    this.ownNode("setMaxParallelism()").maxParallelism = n;
    return this;
  }
  /** Run this operator in its own task, never chained to its neighbours. */
  disableChaining(): this {
    this.ownNode("disableChaining()").chaining = false;
    return this;
  }

  /** @internal Add a one-input operator fed by this stream (used by the builders, not by jobs). */
  addOperator<O>(spec: OperatorSpec, name: string, keySelector: KeySelector<any, unknown> | null = null): DataStream<O> {
    const id = this.env.addNode(spec, name, [this.refs as StreamRef[]], keySelector ? [keySelector] : []);
    return new DataStream<O>(this.env, [{ node: id, sideOutput: null, partitioner: null }]);
  }

  private repartition(partitioner: Partitioner): DataStream<T> {
    return new DataStream<T>(this.env, this.refs.map((r) => ({ ...r, partitioner })));
  }

  map<O>(fn: MapFunction<T, O>): DataStream<O> {
    return this.addOperator({ kind: "map", fn }, "Map");
  }
  filter(fn: FilterFunction<T>): DataStream<T> {
    return this.addOperator({ kind: "filter", fn }, "Filter");
  }
  flatMap<O>(fn: FlatMapFunction<T, O>): DataStream<O> {
    return this.addOperator({ kind: "flatMap", fn }, "FlatMap");
  }
  process<O>(fn: ProcessFunction<T, O>): DataStream<O> {
    return this.addOperator({ kind: "process", fn }, "Process");
  }
  /** Derive event time and watermarks in the middle of a pipeline (prefer doing it in the source). */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    return this.addOperator({ kind: "timestamps", watermarks: strategy }, "Timestamps/Watermarks");
  }

  /** Partition by key: records with equal keys go to the same subtask (by key group). */
  keyBy<K>(key: KeySelector<T, K>): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.env, this.refs.map((r) => ({ ...r, partitioner: { kind: "hash", keySelector: key } })), key);
  }
  rebalance(): DataStream<T> {
    return this.repartition({ kind: "rebalance" });
  }
  broadcast(): DataStream<T> {
    return this.repartition({ kind: "broadcast" });
  }
  /** One-to-one to the next operator (which must have the same parallelism). */
  forward(): DataStream<T> {
    return this.repartition({ kind: "forward" });
  }

  /** Merge streams of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    return new DataStream<T>(this.env, [...this.refs, ...others.flatMap((o) => o.refs)]);
  }
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U> {
    return new ConnectedStreams<T, U>(this.env, this, other);
  }

  /** The records this operator sent to `tag`. */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    const node = this.ownNode("getSideOutput()");
    return new DataStream<X>(this.env, [{ node: node.id, sideOutput: tag.id, partitioner: null }]);
  }

  sinkTo(sink: AnySink<T>): DataStreamSink {
    const id = this.env.addNode({ kind: "sink", sink }, sink.name ?? "Sink", [this.refs as StreamRef[]]);
    return new DataStreamSink(this.env, id);
  }
  /** Print each record as a line on the task manager's standard output. */
  print(prefix?: string): DataStreamSink {
    return this.sinkTo(printSink<T>(prefix));
  }
}

/** The handle of a sink, for naming and parallelism. */
export class DataStreamSink {
  /** @internal */
  constructor(
    private readonly env: StreamEnvironment,
    private readonly id: number,
  ) {}
  uid(uid: string): this {
    this.env.node(this.id).uid = uid;
    return this;
  }
  name(name: string): this {
    this.env.node(this.id).name = name;
    return this;
  }
  setParallelism(n: number): this {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`parallelism must be a positive integer, got ${n}`);
    this.env.node(this.id).parallelism = n;
    return this;
  }
  disableChaining(): this {
    this.env.node(this.id).chaining = false;
    return this;
  }
}

export class KeyedStream<T, K> extends DataStream<T> {
  /** @internal */
  constructor(
    env: StreamEnvironment,
    refs: readonly StreamRef[],
    /** @internal */ readonly keySelector: KeySelector<T, K>,
  ) {
    super(env, refs);
  }

  override process<O>(fn: ProcessFunction<T, O> | KeyedProcessFunction<K, T, O>): DataStream<O> {
    return this.addOperator({ kind: "keyedProcess", fn: fn as KeyedProcessFunction<K, T, O> }, "KeyedProcess", this.keySelector);
  }
  /** Rolling reduce: emits the new reduced value per key for every record. */
  reduce(fn: ReduceFunction<T>): DataStream<T> {
    return this.addOperator({ kind: "keyedReduce", fn }, "Keyed Reduce", this.keySelector);
  }
  /** Rolling aggregation: emits the current result per key for every record. */
  aggregate<ACC, O>(fn: AggregateFunction<T, ACC, O>): DataStream<O> {
    return this.addOperator({ kind: "keyedAggregate", fn }, "Keyed Aggregate", this.keySelector);
  }
  window(assigner: WindowAssigner): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this, assigner);
  }
}

export class WindowedStream<T, K> {
  private lateness = 0;
  private lateTag: string | null = null;

  /** @internal */
  constructor(
    private readonly input: KeyedStream<T, K>,
    private readonly assigner: WindowAssigner,
  ) {}

  /** Keep windows this long after they fire; late records within it re-fire the window. */
  allowedLateness(ms: number): this {
    if (!(ms >= 0)) throw new RangeError(`allowed lateness must be >= 0 ms, got ${ms}`);
    this.lateness = ms;
    return this;
  }
  /** Send records that arrive after their windows are gone to this side output instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag.id;
    return this;
  }

  /**
   * Reduce each window incrementally; with `windowFn`, that function turns the reduced value into
   * results and sees the key and window (its output type cannot be inferred from its body: name it
   * as a type argument when the default `unknown` is not enough).
   */
  reduce(fn: ReduceFunction<T>): DataStream<T>;
  reduce<O = unknown>(fn: ReduceFunction<T>, windowFn: ProcessWindowFunction<T, O, K>): DataStream<O>;
  reduce<O>(fn: ReduceFunction<T>, windowFn?: ProcessWindowFunction<T, O, K>): DataStream<O | T> {
    return this.build({ kind: "reduce", reduce: fn, window: windowFn ?? null }, "Window Reduce");
  }
  /** Aggregate each window incrementally (see `reduce` for the optional window function). */
  aggregate<ACC, V>(fn: AggregateFunction<T, ACC, V>): DataStream<V>;
  aggregate<ACC, V, O = unknown>(fn: AggregateFunction<T, ACC, V>, windowFn: ProcessWindowFunction<V, O, K>): DataStream<O>;
  aggregate<ACC, V, O>(fn: AggregateFunction<T, ACC, V>, windowFn?: ProcessWindowFunction<V, O, K>): DataStream<O | V> {
    return this.build({ kind: "aggregate", aggregate: fn, window: windowFn ?? null }, "Window Aggregate");
  }
  process<O>(fn: ProcessWindowFunction<T, O, K>): DataStream<O> {
    return this.build({ kind: "process", window: fn }, "Window Process");
  }

  private build<O>(fn: WindowFunctionSpec, name: string): DataStream<O> {
    const spec: OperatorSpec = { kind: "window", assigner: this.assigner, allowedLateness: this.lateness, lateDataTag: this.lateTag, fn };
    return this.input.addOperator<O>(spec, `${name} (${this.assigner.kind})`, this.input.keySelector as KeySelector<any, unknown>);
  }
}

export class ConnectedStreams<A, B> {
  /** @internal */
  constructor(
    private readonly env: StreamEnvironment,
    private readonly first: DataStream<A>,
    private readonly second: DataStream<B>,
  ) {}

  /** Key both inputs; equal keys of the two streams meet in the same subtask and state. */
  keyBy<K>(key1: KeySelector<A, K>, key2: KeySelector<B, K>): KeyedConnectedStreams<A, B, K> {
    return new KeyedConnectedStreams(this.env, this.first.keyBy(key1), this.second.keyBy(key2));
  }

  process<O>(fn: CoProcessFunction<A, B, O>): DataStream<O> {
    const id = this.env.addNode({ kind: "coProcess", fn }, "CoProcess", [this.first.refs as StreamRef[], this.second.refs as StreamRef[]]);
    return new DataStream<O>(this.env, [{ node: id, sideOutput: null, partitioner: null }]);
  }
}

export class KeyedConnectedStreams<A, B, K> {
  /** @internal */
  constructor(
    private readonly env: StreamEnvironment,
    private readonly first: KeyedStream<A, K>,
    private readonly second: KeyedStream<B, K>,
  ) {}

  process<O>(fn: KeyedCoProcessFunction<K, A, B, O>): DataStream<O> {
    const id = this.env.addNode(
      { kind: "keyedCoProcess", fn },
      "KeyedCoProcess",
      [this.first.refs as StreamRef[], this.second.refs as StreamRef[]],
      [this.first.keySelector as KeySelector<any, unknown>, this.second.keySelector as KeySelector<any, unknown>],
    );
    return new DataStream<O>(this.env, [{ node: id, sideOutput: null, partitioner: null }]);
  }
}

export { OutputTag };
