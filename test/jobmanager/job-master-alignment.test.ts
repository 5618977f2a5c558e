/**
 * The JobMaster's side of watermark alignment with fake time and a fake TaskManager channel: reports
 * of aligned source subtasks go into their group, every update interval each aligned source's running
 * subtasks get the group's limit (one message per TaskManager), and ended or restarted subtasks stop
 * counting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StreamEnvironment } from "../../runtime/api/environment.js";
import { watermarks } from "../../runtime/api/watermarks.js";
import { generatorSource } from "../../runtime/connectors/generator.js";
import { discardSink } from "../../runtime/connectors/print.js";
import { buildJobGraph } from "../../runtime/graph/job-graph.js";
import type { JmToTm } from "../../runtime/jobmanager/control-protocol.js";
import { JobMaster } from "../../runtime/jobmanager/job-master.js";

const source = () => generatorSource({ generate: (i) => i, timestamp: (i) => i });

/** Sources "A" (interval 100, drift 1_000) and "B" (interval 200, drift 5_000) in group "g", and an unaligned "C". */
function jobMaster(parallelism: number) {
  const env = new StreamEnvironment({ parallelism });
  const a = env.fromSource(source(), watermarks.monotonic<number>().withWatermarkAlignment("g", 1_000, 100), "A");
  const b = env.fromSource(source(), watermarks.monotonic<number>().withWatermarkAlignment("g", 5_000, 200), "B");
  const c = env.fromSource(source(), watermarks.monotonic<number>(), "C");
  a.union(b, c).sinkTo(discardSink());
  const graph = buildJobGraph(env.toStreamGraph());
  const sent: { tmId: string; msg: JmToTm }[] = [];
  const restarts = { onFailure: () => ({ restart: true as const, delayMs: 0 }), description: "test" };
  const deps = { send: (tmId: string, msg: JmToTm) => sent.push({ tmId, msg }), onTerminal: () => {}, onRestart: () => {}, log: () => {} };
  const jm = new JobMaster("job", { module: "m", args: [], parallelism }, graph, deps, restarts);
  jm.deploy(Array.from({ length: parallelism }, (_, i) => ({ tmId: `tm-${i}`, dataAddress: `h:${i}` })));
  const ids = (name: string) => jm.currentExecutions().filter((e) => e.vertex.name === name).map((e) => e.id);
  for (const e of jm.currentExecutions()) jm.onTaskState(e.id, "RUNNING");
  /** The announcements sent since the last call, as [vertex name, tmId, maxAllowed]. */
  const announced = () =>
    sent.splice(0).flatMap(({ tmId, msg }) => {
      if (msg.type !== "watermarkAlignment") return [];
      const name = jm.currentExecutions().find((e) => e.id === msg.executionIds[0])!.vertex.name;
      return msg.executionIds.map(() => [name, tmId, msg.maxAllowed]);
    });
  return { jm, ids, announced };
}

describe("JobMaster watermark alignment", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("announces no limit (null) to every running aligned subtask until reports arrive, each source at its interval", () => {
    const { announced } = jobMaster(2);
    announced();
    vi.advanceTimersByTime(200);
    expect(announced().sort()).toEqual(
      [
        ["A", "tm-0", null],
        ["A", "tm-1", null],
        ["A", "tm-0", null],
        ["A", "tm-1", null],
        ["B", "tm-0", null],
        ["B", "tm-1", null],
      ].sort(),
    );
  });

  it("announces the group's minimum plus each source's drift, across both sources of the group", () => {
    const { jm, ids, announced } = jobMaster(1);
    jm.onWatermarkReport(ids("A")[0]!, 50_000);
    jm.onWatermarkReport(ids("B")[0]!, 10_000);
    jm.onWatermarkReport(ids("C")[0]!, 0); // not aligned: ignored
    announced();
    vi.advanceTimersByTime(200);
    expect(announced().sort()).toEqual([["A", "tm-0", 11_000], ["A", "tm-0", 11_000], ["B", "tm-0", 15_000]].sort());
    jm.onWatermarkReport(ids("B")[0]!, "idle");
    vi.advanceTimersByTime(100);
    expect(announced()).toEqual([["A", "tm-0", 51_000]]);
  });

  it("drops a finished subtask from the group and stops announcing to it", () => {
    const { jm, ids, announced } = jobMaster(1);
    jm.onWatermarkReport(ids("A")[0]!, 50_000);
    jm.onWatermarkReport(ids("B")[0]!, 10_000);
    jm.onTaskState(ids("B")[0]!, "FINISHED");
    announced();
    vi.advanceTimersByTime(200);
    expect(announced()).toEqual([["A", "tm-0", 51_000], ["A", "tm-0", 51_000]]);
    jm.onWatermarkReport(ids("B")[0]!, 0); // late report of the finished subtask: ignored
    vi.advanceTimersByTime(100);
    expect(announced()).toEqual([["A", "tm-0", 51_000]]);
  });

  it("stops announcing when the job ends", () => {
    const { jm, announced } = jobMaster(1);
    for (const e of jm.currentExecutions()) jm.onTaskState(e.id, "FINISHED");
    expect(jm.state).toBe("FINISHED");
    announced();
    vi.advanceTimersByTime(1_000);
    expect(announced()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("forgets the reports of a failed attempt and announces nothing while restarting", () => {
    const { jm, ids, announced } = jobMaster(1);
    jm.onWatermarkReport(ids("B")[0]!, 10_000);
    jm.onTaskState(ids("C")[0]!, "FAILED", "boom");
    for (const id of [...ids("A"), ...ids("B"), ...ids("C")]) jm.onTaskState(id, "CANCELED");
    announced();
    vi.advanceTimersByTime(400);
    expect(announced()).toEqual([]);
    jm.deploy([{ tmId: "tm-9", dataAddress: "h:9" }]);
    for (const e of jm.currentExecutions()) jm.onTaskState(e.id, "RUNNING");
    announced();
    vi.advanceTimersByTime(100);
    expect(announced()).toEqual([["A", "tm-9", null]]);
  });
});
