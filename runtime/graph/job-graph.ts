/**
 * StreamGraph -> JobGraph: resolve parallelism and uids, validate, and chain operators. Operators are
 * chained into one task (vertex) when the edge between them is forward, parallelism is equal, the
 * downstream operator has that edge as its only input, and neither disabled chaining.
 */
import { checkMaxParallelism, murmurString } from "../common/keys.js";
import { WeirError } from "../common/errors.js";
import type { Partitioner, StreamEdge, StreamGraph, StreamNode } from "./stream-graph.js";

/** An operator placed in a vertex, with everything resolved. */
export interface ResolvedNode {
  readonly node: StreamNode;
  readonly uid: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
}

/** An edge between two vertices (a network exchange, or in-memory when co-located). */
export interface JobEdge {
  /** Position in JobGraph.edges; partition ids derive from it. */
  readonly index: number;
  readonly sourceVertex: string;
  readonly targetVertex: string;
  readonly sourceNode: number;
  readonly targetNode: number;
  readonly inputIndex: number;
  readonly sideOutput: string | null;
  readonly partitioner: Partitioner;
}

export interface JobVertex {
  readonly id: string;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Chained operators, head first, in topological order. */
  readonly operators: ResolvedNode[];
  /** Edges between operators of this chain. */
  readonly chainEdges: StreamEdge[];
  readonly inputs: JobEdge[];
  readonly outputs: JobEdge[];
}

export interface JobGraph {
  readonly name: string;
  readonly vertices: JobVertex[];
  readonly edges: JobEdge[];
  /** Slots needed: the highest vertex parallelism (all vertices share slots, as in Flink). */
  readonly slotsRequired: number;
}

export function buildJobGraph(g: StreamGraph): JobGraph {
  if (g.nodes.length === 0) throw new WeirError("WEIR_E_INVALID_GRAPH", "the job module built no operators: add a source and a sink");
  const resolved = resolveNodes(g);
  const inEdges = groupBy(g.edges, (e) => e.target);
  const outEdges = groupBy(g.edges, (e) => e.source);
  validateInputs(g, inEdges);
  const partitioners = new Map<StreamEdge, Partitioner>(g.edges.map((e) => [e, resolvePartitioner(e, resolved)]));
  const chained = (e: StreamEdge): boolean => {
    const src = resolved[e.source]!;
    const dst = resolved[e.target]!;
    return (
      partitioners.get(e)!.kind === "forward" &&
      src.parallelism === dst.parallelism &&
      (inEdges.get(e.target)?.length ?? 0) === 1 &&
      src.node.chaining &&
      dst.node.chaining
    );
  };
  // Heads: nodes not chained to their (single) input.
  const vertexOf = new Map<number, string>();
  const vertices: { head: ResolvedNode; members: ResolvedNode[]; chainEdges: StreamEdge[] }[] = [];
  for (const n of resolved) {
    const ins = inEdges.get(n.node.id) ?? [];
    if (ins.length === 1 && chained(ins[0]!)) continue;
    const members: ResolvedNode[] = [];
    const chainEdges: StreamEdge[] = [];
    const visit = (m: ResolvedNode) => {
      members.push(m);
      for (const e of outEdges.get(m.node.id) ?? []) {
        if (chained(e)) {
          chainEdges.push(e);
          visit(resolved[e.target]!);
        }
      }
    };
    visit(n);
    const id = vertexId(n.uid);
    for (const m of members) vertexOf.set(m.node.id, id);
    vertices.push({ head: n, members, chainEdges });
  }
  const edges: JobEdge[] = [];
  for (const e of g.edges) {
    if (chained(e)) continue;
    edges.push({
      index: edges.length,
      sourceVertex: vertexOf.get(e.source)!,
      targetVertex: vertexOf.get(e.target)!,
      sourceNode: e.source,
      targetNode: e.target,
      inputIndex: e.inputIndex,
      sideOutput: e.sideOutput,
      partitioner: partitioners.get(e)!,
    });
  }
  const jobVertices: JobVertex[] = vertices.map(({ head, members, chainEdges }) => {
    const id = vertexOf.get(head.node.id)!;
    return {
      id,
      name: members.map((m) => m.node.name).join(" -> "),
      parallelism: head.parallelism,
      maxParallelism: Math.max(...members.map((m) => m.maxParallelism)),
      operators: members,
      chainEdges,
      inputs: edges.filter((e) => e.targetVertex === id),
      outputs: edges.filter((e) => e.sourceVertex === id),
    };
  });
  return {
    name: g.jobName,
    vertices: jobVertices,
    edges,
    slotsRequired: Math.max(...jobVertices.map((v) => v.parallelism)),
  };
}

/**
 * The subtasks of `edge`'s producer vertex that subtask `consumerSubtask` of its consumer reads from:
 * the one of the same index over a forward edge, every one over the others.
 */
export function producerSubtasks(edge: JobEdge, consumerSubtask: number, producerParallelism: number): number[] {
  if (edge.partitioner.kind === "forward") return [consumerSubtask];
  return Array.from({ length: producerParallelism }, (_, i) => i);
}

function resolveNodes(g: StreamGraph): ResolvedNode[] {
  const inputsOf = groupBy(g.edges, (e) => e.target);
  const uids = new Map<string, StreamNode>();
  const out: ResolvedNode[] = [];
  for (const node of g.nodes) {
    const parallelism = node.parallelism ?? g.defaultParallelism;
    const maxParallelism = node.maxParallelism ?? g.defaultMaxParallelism;
    checkMaxParallelism(node.name, parallelism, maxParallelism);
    // Derived uids depend only on the operator's kind, position and inputs, as Flink's hashes do.
    const upstream = (inputsOf.get(node.id) ?? []).map((e) => out[e.source]?.uid ?? String(e.source)).join(",");
    const uid = node.uid ?? `${node.spec.kind}-${hex(`${node.id}|${node.spec.kind}|${upstream}`)}`;
    const clash = uids.get(uid);
    if (clash) throw new WeirError("WEIR_E_INVALID_GRAPH", `uid "${uid}" is used by both "${clash.name}" and "${node.name}"; uids must be unique`);
    uids.set(uid, node);
    out.push({ node, uid, parallelism, maxParallelism });
  }
  return out;
}

function validateInputs(g: StreamGraph, inEdges: Map<number, StreamEdge[]>): void {
  for (const node of g.nodes) {
    const ins = inEdges.get(node.id) ?? [];
    const twoInput = node.spec.kind === "coProcess" || node.spec.kind === "keyedCoProcess";
    if (node.spec.kind === "source") continue;
    if (ins.length === 0) throw new WeirError("WEIR_E_INVALID_GRAPH", `operator "${node.name}" has no input`);
    if (twoInput && !(ins.some((e) => e.inputIndex === 0) && ins.some((e) => e.inputIndex === 1))) {
      throw new WeirError("WEIR_E_INVALID_GRAPH", `two-input operator "${node.name}" needs both inputs connected`);
    }
  }
}

function resolvePartitioner(e: StreamEdge, nodes: ResolvedNode[]): Partitioner {
  const src = nodes[e.source]!;
  const dst = nodes[e.target]!;
  if (e.partitioner === null) return src.parallelism === dst.parallelism ? { kind: "forward" } : { kind: "rebalance" };
  if (e.partitioner.kind === "forward" && src.parallelism !== dst.parallelism) {
    throw new WeirError(
      "WEIR_E_INVALID_GRAPH",
      `forward() from "${src.node.name}" (parallelism ${src.parallelism}) to "${dst.node.name}" (parallelism ${dst.parallelism}) needs equal parallelism`,
    );
  }
  return e.partitioner;
}

function vertexId(headUid: string): string {
  return hex(headUid) + hex("v:" + headUid);
}

function hex(s: string): string {
  return murmurString(s).toString(16).padStart(8, "0");
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const l = m.get(k);
    if (l) l.push(it);
    else m.set(k, [it]);
  }
  return m;
}
