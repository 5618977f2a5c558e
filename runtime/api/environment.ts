/**
 * The environment a job module's default export receives. It collects the dataflow the module builds;
 * the engine then plans and runs it.
 *
 *   export default (env: StreamEnvironment, args: string[]) => {
 *     env.fromSource(generatorSource({ ... }), watermarks.monotonic()).map(...).print();
 *   };
 */
import { DEFAULT_MAX_PARALLELISM } from "../common/keys.js";
import type { OperatorSpec, StreamEdge, StreamGraph, StreamNode } from "../graph/stream-graph.js";
import { DataStream, type StreamRef } from "./datastream.js";
import type { Source } from "./source.js";
import type { WatermarkStrategy } from "./watermarks.js";
import { collectionSource, generatorSource, type GeneratorOptions } from "../connectors/generator.js";

export interface EnvironmentOptions {
  jobName?: string;
  parallelism?: number;
  maxParallelism?: number;
}

export class StreamEnvironment {
  private readonly nodes: StreamNode[] = [];
  private readonly edges: StreamEdge[] = [];
  private jobName: string;
  private parallelism: number;
  private maxParallelism: number;

  constructor(opts: EnvironmentOptions = {}) {
    this.jobName = opts.jobName ?? "weir-job";
    this.parallelism = opts.parallelism ?? 1;
    this.maxParallelism = opts.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
  }

  /** Default parallelism of operators that do not set their own (`weir run --parallelism`). */
  getParallelism(): number {
    return this.parallelism;
  }
  setParallelism(n: number): this {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`parallelism must be a positive integer, got ${n}`);
    this.parallelism = n;
    return this;
  }
  /** Default number of key groups of keyed operators (128 unless set). */
  setMaxParallelism(n: number): this {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxParallelism must be a positive integer, got ${n}`);
    this.maxParallelism = n;
    return this;
  }
  setJobName(name: string): this {
    this.jobName = name;
    return this;
  }

  /** Read a source; with a watermark strategy its records carry event time. */
  fromSource<T>(source: Source<T, any>, strategy: WatermarkStrategy<T> | null = null, name?: string): DataStream<T> {
    const id = this.addNode({ kind: "source", source, watermarks: strategy }, name ?? source.name ?? "Source", []);
    return new DataStream<T>(this, [{ node: id, sideOutput: null, partitioner: null }]);
  }

  /** A bounded stream of the given values (spread over `splits` splits, 1 by default). */
  fromCollection<T>(values: readonly T[], opts: { splits?: number; strategy?: WatermarkStrategy<T> } = {}): DataStream<T> {
    return this.fromSource(collectionSource(values, opts.splits ?? 1), opts.strategy ?? null, "Collection Source");
  }

  /** Integers from..to inclusive, as a bounded stream. */
  fromSequence(from: number, to: number): DataStream<number> {
    return this.fromSource(
      generatorSource({ count: to - from + 1, generate: (i) => from + i }),
      null,
      "Sequence Source",
    );
  }

  /** Records made by `generate(index)`, bounded when `count` is given. */
  fromGenerator<T>(opts: GeneratorOptions<T>, strategy: WatermarkStrategy<T> | null = null): DataStream<T> {
    return this.fromSource(generatorSource(opts), strategy, "Generator Source");
  }

  /** @internal Add an operator node fed by `inputs` (one list per operator input). */
  addNode(spec: OperatorSpec, name: string, inputs: StreamRef[][], keySelectors: StreamNode["keySelectors"] = []): number {
    const id = this.nodes.length;
    this.nodes.push({ id, name, uid: null, parallelism: null, maxParallelism: null, chaining: true, spec, keySelectors });
    inputs.forEach((refs, inputIndex) => {
      for (const ref of refs) {
        this.edges.push({ source: ref.node, target: id, inputIndex, partitioner: ref.partitioner, sideOutput: ref.sideOutput });
      }
    });
    return id;
  }

  /** @internal */
  node(id: number): StreamNode {
    const n = this.nodes[id];
    if (!n) throw new RangeError(`no operator node ${id}`);
    return n;
  }

  /** The logical plan built so far. */
  toStreamGraph(): StreamGraph {
    return {
      jobName: this.jobName,
      nodes: this.nodes,
      edges: this.edges,
      defaultParallelism: this.parallelism,
      defaultMaxParallelism: this.maxParallelism,
    };
  }
}
