/**
 * The logical plan a job module builds: one node per operator, edges carrying a partitioning.
 * Built identically in every process from the same module and arguments, so node ids and uids agree
 * everywhere and user functions are never serialized.
 */
import type {
  AggregateFunction,
  CoProcessFunction,
  FlatMapFunction,
  FilterFunction,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  ProcessFunction,
  ProcessWindowFunction,
  ReduceFunction,
} from "../api/functions.js";
import type { AnySink } from "../api/sink.js";
import type { Source } from "../api/source.js";
import type { WatermarkStrategy } from "../api/watermarks.js";
import type { WindowAssigner } from "../api/windows.js";

/** How a window's contents are turned into results. */
export type WindowFunctionSpec =
  | { kind: "reduce"; reduce: ReduceFunction<any>; window: ProcessWindowFunction<any, any, any> | null }
  | { kind: "aggregate"; aggregate: AggregateFunction<any, any, any>; window: ProcessWindowFunction<any, any, any> | null }
  | { kind: "process"; window: ProcessWindowFunction<any, any, any> };

/** What an operator does; the task manager turns a spec into a running operator. */
export type OperatorSpec =
  | { kind: "source"; source: Source<any, any>; watermarks: WatermarkStrategy<any> | null }
  | { kind: "timestamps"; watermarks: WatermarkStrategy<any> }
  | { kind: "map"; fn: MapFunction<any, any> }
  | { kind: "filter"; fn: FilterFunction<any> }
  | { kind: "flatMap"; fn: FlatMapFunction<any, any> }
  | { kind: "process"; fn: ProcessFunction<any, any> }
  | { kind: "keyedProcess"; fn: KeyedProcessFunction<any, any, any> }
  | { kind: "keyedReduce"; fn: ReduceFunction<any> }
  | { kind: "keyedAggregate"; fn: AggregateFunction<any, any, any> }
  | {
      kind: "window";
      assigner: WindowAssigner;
      allowedLateness: number;
      lateDataTag: string | null;
      fn: WindowFunctionSpec;
    }
  | { kind: "coProcess"; fn: CoProcessFunction<any, any, any> }
  | { kind: "keyedCoProcess"; fn: KeyedCoProcessFunction<any, any, any, any> }
  | { kind: "sink"; sink: AnySink<any> };

export type OperatorKind = OperatorSpec["kind"];

/** How records of an edge are spread over the consumer's subtasks. */
export type Partitioner =
  | { kind: "forward" }
  | { kind: "rebalance" }
  | { kind: "broadcast" }
  | { kind: "hash"; keySelector: KeySelector<any, unknown> };

export interface StreamNode {
  readonly id: number;
  name: string;
  /** Explicit uid, or null to derive one from the node's position in the graph. */
  uid: string | null;
  /** Explicit parallelism, or null for the environment's default. */
  parallelism: number | null;
  maxParallelism: number | null;
  chaining: boolean;
  readonly spec: OperatorSpec;
  /** Key selectors per input for keyed operators (index = input), else empty. */
  readonly keySelectors: ReadonlyArray<KeySelector<any, unknown> | null>;
}

export interface StreamEdge {
  readonly source: number;
  readonly target: number;
  /** Which input of the target (0, or 1 for the second stream of a two-input operator). */
  readonly inputIndex: number;
  readonly partitioner: Partitioner | null;
  /** Records of this side output of the source feed the edge; null = main output. */
  readonly sideOutput: string | null;
}

export interface StreamGraph {
  readonly jobName: string;
  readonly nodes: StreamNode[];
  readonly edges: StreamEdge[];
  readonly defaultParallelism: number;
  readonly defaultMaxParallelism: number;
}
