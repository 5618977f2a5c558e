import { describe, expect, it } from "vitest";
import type { DataStream } from "../../runtime/api/datastream.js";
import { StreamEnvironment, type EnvironmentOptions } from "../../runtime/api/environment.js";
import { OutputTag } from "../../runtime/api/functions.js";
import { discardSink } from "../../runtime/connectors/print.js";
import { WeirError } from "../../runtime/common/errors.js";
import { buildJobGraph, type JobGraph } from "../../runtime/graph/job-graph.js";

/** Build a job with `define` and plan it. */
function plan(define: (env: StreamEnvironment) => void, opts: EnvironmentOptions = {}): JobGraph {
  const env = new StreamEnvironment(opts);
  define(env);
  return buildJobGraph(env.toStreamGraph());
}

/** The planning error of a job (fails the test when planning succeeds). */
function planError(define: (env: StreamEnvironment) => void, opts: EnvironmentOptions = {}): WeirError {
  try {
    plan(define, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error("expected the job graph to be rejected");
}

const names = (g: JobGraph): string[] => g.vertices.map((v) => v.name);
const sink = <T>(s: DataStream<T>) => s.sinkTo({ ...discardSink<T>(), name: "Sink" });
const numbers = (env: StreamEnvironment) => env.fromCollection([1, 2, 3]);

describe("buildJobGraph: chaining", () => {
  it("chains forward edges of equal parallelism into one vertex, names joined with ' -> '", () => {
    const g = plan((env) => sink(numbers(env).map((x) => x + 1).filter((x) => x > 1)));
    expect(names(g)).toEqual(["Collection Source -> Map -> Filter -> Sink"]);
    expect(g.edges).toEqual([]);
    expect(g.vertices[0]!.operators.map((o) => o.node.spec.kind)).toEqual(["source", "map", "filter", "sink"]);
    expect(g.vertices[0]!.chainEdges).toHaveLength(3);
  });

  it("uses operator names set with name()", () => {
    const g = plan((env) => sink(numbers(env).name("numbers").map((x) => x).name("double")).name("out"));
    expect(names(g)).toEqual(["numbers -> double -> out"]);
  });

  it("breaks the chain at keyBy with a hash edge", () => {
    const g = plan((env) => sink(numbers(env).keyBy((x) => x % 2).reduce((a, b) => a + b)));
    expect(names(g)).toEqual(["Collection Source", "Keyed Reduce -> Sink"]);
    expect(g.edges).toHaveLength(1);
    expect(g.edges[0]!.partitioner.kind).toBe("hash");
  });

  it("breaks the chain at rebalance even with equal parallelism", () => {
    const g = plan((env) => sink(numbers(env).rebalance().map((x) => x)));
    expect(names(g)).toEqual(["Collection Source", "Map -> Sink"]);
    expect(g.edges.map((e) => e.partitioner.kind)).toEqual(["rebalance"]);
  });

  it("breaks the chain at broadcast", () => {
    const g = plan((env) => sink(numbers(env).broadcast().map((x) => x)));
    expect(g.edges.map((e) => e.partitioner.kind)).toEqual(["broadcast"]);
  });

  it("breaks the chain where parallelism changes, with a default rebalance edge", () => {
    const g = plan((env) => sink(numbers(env).map((x) => x).setParallelism(3)), { parallelism: 2 });
    expect(names(g)).toEqual(["Collection Source", "Map", "Sink"]);
    expect(g.edges.map((e) => e.partitioner.kind)).toEqual(["rebalance", "rebalance"]);
    expect(g.vertices.map((v) => v.parallelism)).toEqual([2, 3, 2]);
  });

  it("chains with an explicit forward() of equal parallelism", () => {
    const g = plan((env) => sink(numbers(env).forward().map((x) => x)), { parallelism: 4 });
    expect(names(g)).toEqual(["Collection Source -> Map -> Sink"]);
  });

  it("disableChaining() puts the operator in its own vertex", () => {
    const g = plan((env) => sink(numbers(env).map((x) => x).disableChaining().filter(() => true)));
    expect(names(g)).toEqual(["Collection Source", "Map", "Filter -> Sink"]);
    expect(g.edges.map((e) => e.partitioner.kind)).toEqual(["forward", "forward"]);
  });

  it("disableChaining() on a sink separates the sink", () => {
    const g = plan((env) => sink(numbers(env).map((x) => x)).disableChaining());
    expect(names(g)).toEqual(["Collection Source -> Map", "Sink"]);
  });

  it("does not chain an operator fed by a union", () => {
    const g = plan((env) => {
      const a = numbers(env);
      const b = env.fromSequence(1, 5);
      sink(a.union(b).map((x) => x));
    });
    expect(names(g)).toEqual(["Collection Source", "Sequence Source", "Map -> Sink"]);
    const map = g.vertices[2]!;
    expect(map.inputs.map((e) => e.sourceVertex)).toEqual([g.vertices[0]!.id, g.vertices[1]!.id]);
  });

  it("does not chain a two-input operator, and feeds each input from its stream", () => {
    const g = plan((env) => {
      const a = numbers(env);
      const b = env.fromCollection(["x"]).name("letters");
      sink(
        a.connect(b).process<string>({
          processElement1: (v, _c, out) => out.collect(String(v)),
          processElement2: (v, _c, out) => out.collect(v),
        }),
      );
    });
    expect(names(g)).toEqual(["Collection Source", "letters", "CoProcess -> Sink"]);
    const co = g.vertices[2]!;
    expect(co.inputs.map((e) => [e.sourceVertex, e.inputIndex])).toEqual([
      [g.vertices[0]!.id, 0],
      [g.vertices[1]!.id, 1],
    ]);
  });

  it("fans out: one operator chains to several forward consumers", () => {
    const g = plan((env) => {
      const s = numbers(env);
      sink(s.map((x) => x));
      sink(s.filter(() => true));
    });
    expect(g.vertices).toHaveLength(1);
    expect(g.vertices[0]!.operators.map((o) => o.node.spec.kind)).toEqual(["source", "map", "sink", "filter", "sink"]);
  });

  it("connects vertex inputs and outputs through the same job edges", () => {
    const g = plan((env) => sink(numbers(env).keyBy((x) => x).reduce((a, b) => a + b)));
    const [src, red] = g.vertices;
    expect(src!.outputs).toEqual(g.edges);
    expect(red!.inputs).toEqual(g.edges);
    expect(g.edges[0]).toMatchObject({ index: 0, sourceVertex: src!.id, targetVertex: red!.id, inputIndex: 0, sideOutput: null });
  });
});

describe("buildJobGraph: side outputs", () => {
  const tag = new OutputTag<string>("odd");
  const splitter = (env: StreamEnvironment) =>
    numbers(env).process<number>({
      processElement: (v, ctx, out) => (v % 2 ? ctx.output(tag, `odd ${v}`) : out.collect(v)),
    });

  it("a side output consumed over the network is an edge with sideOutput set", () => {
    const g = plan((env) => {
      const p = splitter(env);
      sink(p);
      sink(p.getSideOutput(tag).rebalance());
    });
    expect(g.edges).toHaveLength(1);
    expect(g.edges[0]!.sideOutput).toBe("odd");
    expect(g.edges[0]!.partitioner.kind).toBe("rebalance");
  });

  it("a side output with a different parallelism is a rebalance edge with sideOutput set", () => {
    const g = plan((env) => {
      const p = splitter(env);
      sink(p.getSideOutput(tag)).setParallelism(2);
    });
    expect(g.edges.map((e) => [e.sideOutput, e.partitioner.kind])).toEqual([["odd", "rebalance"]]);
  });

  it("a side output chained in the same task keeps its tag on the chain edge", () => {
    const g = plan((env) => sink(splitter(env).getSideOutput(tag).map((s) => s.length)));
    expect(g.vertices).toHaveLength(1);
    expect(g.vertices[0]!.chainEdges.map((e) => e.sideOutput)).toEqual([null, "odd", null]);
  });

  it("a keyed side output keeps its tag and a hash partitioner", () => {
    const g = plan((env) => sink(splitter(env).getSideOutput(tag).keyBy((s) => s).reduce((a) => a)));
    expect(g.edges.map((e) => [e.sideOutput, e.partitioner.kind])).toEqual([["odd", "hash"]]);
  });
});

describe("buildJobGraph: uids", () => {
  const job = (env: StreamEnvironment) => {
    const s = numbers(env).map((x) => x * 2);
    sink(s.keyBy((x) => x).reduce((a, b) => a + b));
    sink(s.filter((x) => x > 2));
  };

  it("derives the same uids and vertex ids for two builds of the same job", () => {
    const a = plan(job);
    const b = plan(job);
    const uids = (g: JobGraph) => g.vertices.flatMap((v) => v.operators.map((o) => o.uid));
    expect(uids(a)).toEqual(uids(b));
    expect(a.vertices.map((v) => v.id)).toEqual(b.vertices.map((v) => v.id));
  });

  it("derives a different uid for every operator, even of the same kind", () => {
    const g = plan((env) => {
      sink(numbers(env).map((x) => x).map((x) => x).map((x) => x));
      sink(numbers(env).map((x) => x));
    });
    const uids = g.vertices.flatMap((v) => v.operators.map((o) => o.uid));
    expect(uids).toHaveLength(8);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it("keeps an explicit uid as given", () => {
    const g = plan((env) => sink(numbers(env).uid("numbers").map((x) => x).uid("doubler")).uid("out"));
    expect(g.vertices[0]!.operators.map((o) => o.uid)).toEqual(["numbers", "doubler", "out"]);
  });

  it("vertex ids differ between vertices", () => {
    const g = plan(job);
    expect(new Set(g.vertices.map((v) => v.id)).size).toBe(g.vertices.length);
  });

  it("rejects an explicit uid used twice, naming both operators", () => {
    const err = planError((env) => {
      numbers(env).map((x) => x).name("first").uid("dup").map((x) => x).name("second").uid("dup").print();
    });
    expect(err.code).toBe("WEIR_E_INVALID_GRAPH");
    expect(err.message).toContain('"dup"');
    expect(err.message).toContain('"first"');
    expect(err.message).toContain('"second"');
  });
});

describe("buildJobGraph: validation", () => {
  it("rejects forward() between different parallelisms, naming both operators", () => {
    const err = planError((env) => {
      sink(numbers(env).name("src").forward().map((x) => x).name("mapper").setParallelism(2));
    });
    expect(err.code).toBe("WEIR_E_INVALID_GRAPH");
    expect(err.message).toContain('"src"');
    expect(err.message).toContain('"mapper"');
    expect(err.message).toMatch(/parallelism 1\b.*parallelism 2\b/);
  });

  it("rejects parallelism above maxParallelism, naming the operator", () => {
    const err = planError((env) => {
      sink(numbers(env).map((x) => x).name("wide").setParallelism(8).setMaxParallelism(4));
    });
    expect(err.code).toBe("WEIR_E_INVALID_GRAPH");
    expect(err.message).toContain('"wide"');
    expect(err.message).toContain("parallelism 8 exceeds maxParallelism 4");
  });

  it("rejects a default parallelism above the environment's maxParallelism", () => {
    const err = planError((env) => sink(numbers(env)), { parallelism: 10, maxParallelism: 8 });
    expect(err.message).toContain("exceeds maxParallelism 8");
  });

  it("rejects an empty job", () => {
    const err = planError(() => {});
    expect(err.code).toBe("WEIR_E_INVALID_GRAPH");
    expect(err.message).toMatch(/no operators/);
  });

  it("rejects a two-input operator with only one input connected", () => {
    const err = planError((env) => {
      const a = numbers(env);
      // Only the API could wire a two-input node; build one with its second input missing.
      env.addNode({ kind: "coProcess", fn: { processElement1() {}, processElement2() {} } }, "half-connected", [[...a.refs]]);
    });
    expect(err.code).toBe("WEIR_E_INVALID_GRAPH");
    expect(err.message).toContain('"half-connected"');
    expect(err.message).toMatch(/both inputs/);
  });

  it("resolves maxParallelism from the environment and per operator", () => {
    const g = plan(
      (env) => sink(numbers(env).keyBy((x) => x).reduce((a, b) => a + b).setMaxParallelism(16).disableChaining()),
      { maxParallelism: 64 },
    );
    expect(g.vertices.map((v) => v.maxParallelism)).toEqual([64, 16, 64]);
  });
});

describe("buildJobGraph: key groups of chained vertices", () => {
  it("each chained operator keeps its own maxParallelism (records are routed by the target operator's)", () => {
    const g = plan(
      (env) => sink(numbers(env).keyBy((x) => x).reduce((a, b) => a + b).setMaxParallelism(16).map((x) => x).setMaxParallelism(256)),
      { maxParallelism: 64, parallelism: 2 },
    );
    expect(names(g)).toEqual(["Collection Source", "Keyed Reduce -> Map -> Sink"]);
    expect(g.vertices[1]!.operators.map((o) => o.maxParallelism)).toEqual([16, 256, 64]);
    expect(g.edges[0]!.targetNode).toBe(g.vertices[1]!.operators[0]!.node.id);
  });
});

describe("buildJobGraph: slots", () => {
  it("needs as many slots as the highest vertex parallelism", () => {
    const g = plan((env) => sink(numbers(env).map((x) => x).setParallelism(5).rebalance().filter(() => true).setParallelism(3)), {
      parallelism: 2,
    });
    expect(g.vertices.map((v) => v.parallelism)).toEqual([2, 5, 3, 2]);
    expect(g.slotsRequired).toBe(5);
  });

  it("a single-vertex job at default parallelism needs that many slots", () => {
    expect(plan((env) => sink(numbers(env)), { parallelism: 3 }).slotsRequired).toBe(3);
  });

  it("the job graph carries the job name", () => {
    expect(plan((env) => sink(numbers(env)), { jobName: "wc" }).name).toBe("wc");
  });
});
