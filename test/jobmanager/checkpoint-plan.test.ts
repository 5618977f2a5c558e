/**
 * Which tasks a snapshot triggers and waits for when some have finished (FLIP-147): the running tasks
 * without a running upstream subtask are triggered, every running task acknowledges, finished tasks
 * are recorded as finished; a task still deploying (or a job not RUNNING) refuses the snapshot.
 */
import { describe, expect, it } from "vitest";
import { StreamEnvironment } from "../../runtime/api/environment.js";
import { discardSink } from "../../runtime/connectors/print.js";
import { buildJobGraph, type JobGraph } from "../../runtime/graph/job-graph.js";
import { checkpointPlan, type PlannedJob } from "../../runtime/jobmanager/checkpoint-plan.js";
import type { JobState, TaskState } from "../../runtime/jobmanager/rest-types.js";

function graph(define: (env: StreamEnvironment) => void): JobGraph {
  const env = new StreamEnvironment({ parallelism: 2 });
  define(env);
  return buildJobGraph(env.toStreamGraph());
}

/** Sources A and B, unioned into a keyed reduce chained with its sink: `A`, `B`, `Keyed Reduce -> Sink`. */
const TWO_SOURCES = graph((env) => {
  const a = env.fromCollection([1, 2], { splits: 2 }).name("A");
  const b = env.fromCollection([3, 4], { splits: 2 }).name("B");
  a.union(b)
    .keyBy((x) => x % 2)
    .reduce((x, y) => x + y)
    .sinkTo({ ...discardSink<number>(), name: "Sink" });
});

/** Forward edges between vertices: `Collection Source`, `Map`, `Sink`. */
const FORWARD = graph((env) => {
  env
    .fromCollection([1, 2], { splits: 2 })
    .map((x) => x)
    .disableChaining()
    .sinkTo({ ...discardSink<number>(), name: "Sink" });
});

/** The job with every subtask RUNNING except those named `<vertex name>/<subtask>` in `states`. */
function job(g: JobGraph, states: Record<string, TaskState> = {}, state: JobState = "RUNNING"): PlannedJob {
  const executions = g.vertices.flatMap((vertex) =>
    Array.from({ length: vertex.parallelism }, (_, subtask) => ({
      id: `${vertex.name}/${subtask}`,
      vertex,
      subtask,
      state: states[`${vertex.name}/${subtask}`] ?? ("RUNNING" as TaskState),
    })),
  );
  return { state, graph: g, currentExecutions: () => executions };
}

function planOf(j: PlannedJob) {
  const plan = checkpointPlan(j);
  if (typeof plan === "string") throw new Error(`no plan: ${plan}`);
  return {
    trigger: plan.trigger,
    ackFrom: plan.ackFrom.map((t) => t.executionId),
    finished: plan.finished.map((t) => `${j.graph.vertices.find((v) => v.id === t.vertexId)!.name}/${t.subtask}`),
  };
}

describe("checkpointPlan", () => {
  it("triggers the sources and waits for every task while all run", () => {
    expect(planOf(job(TWO_SOURCES))).toEqual({
      trigger: ["A/0", "A/1", "B/0", "B/1"],
      ackFrom: ["A/0", "A/1", "B/0", "B/1", "Keyed Reduce -> Sink/0", "Keyed Reduce -> Sink/1"],
      finished: [],
    });
  });

  it("leaves finished source subtasks out; the keyed reduce still has running inputs", () => {
    expect(planOf(job(TWO_SOURCES, { "A/1": "FINISHED", "B/0": "FINISHED" }))).toEqual({
      trigger: ["A/0", "B/1"],
      ackFrom: ["A/0", "B/1", "Keyed Reduce -> Sink/0", "Keyed Reduce -> Sink/1"],
      finished: ["A/1", "B/0"],
    });
  });

  it("triggers a running task whose upstream subtasks all finished", () => {
    const finishedSources = { "A/0": "FINISHED", "A/1": "FINISHED", "B/0": "FINISHED", "B/1": "FINISHED" } as const;
    expect(planOf(job(TWO_SOURCES, { ...finishedSources, "Keyed Reduce -> Sink/0": "FINISHED" }))).toEqual({
      trigger: ["Keyed Reduce -> Sink/1"],
      ackFrom: ["Keyed Reduce -> Sink/1"],
      finished: ["A/0", "A/1", "B/0", "B/1", "Keyed Reduce -> Sink/0"],
    });
  });

  it("follows forward edges subtask by subtask", () => {
    expect(planOf(job(FORWARD, { "Collection Source/1": "FINISHED" }))).toEqual({
      trigger: ["Collection Source/0", "Map/1"],
      ackFrom: ["Collection Source/0", "Map/0", "Map/1", "Sink/0", "Sink/1"],
      finished: ["Collection Source/1"],
    });
  });

  it("lists every vertex with its operators for _metadata", () => {
    const plan = checkpointPlan(job(FORWARD, { "Collection Source/1": "FINISHED" }));
    expect(typeof plan !== "string" && plan.vertices.map((v) => [v.parallelism, v.operators.map((o) => o.name)])).toEqual([
      [2, ["Collection Source"]],
      [2, ["Map"]],
      [2, ["Sink"]],
    ]);
  });

  it("says why no snapshot can start: a task not running or finished, a job not running, nothing left running", () => {
    expect(checkpointPlan(job(FORWARD, { "Map/1": "DEPLOYING", "Collection Source/0": "FINISHED" }))).toBe(
      "not all tasks are running or finished (job RUNNING, Map (2/2) is DEPLOYING)",
    );
    expect(checkpointPlan(job(FORWARD, {}, "RESTARTING"))).toBe("not all tasks are running or finished (job RESTARTING)");
    const allFinished = Object.fromEntries(FORWARD.vertices.flatMap((v) => [0, 1].map((i) => [`${v.name}/${i}`, "FINISHED" as TaskState])));
    expect(checkpointPlan(job(FORWARD, allFinished))).toBe("every task has finished");
  });
});
