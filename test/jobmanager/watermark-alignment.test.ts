import { describe, expect, it } from "vitest";
import { StreamEnvironment } from "../../runtime/api/environment.js";
import { watermarks } from "../../runtime/api/watermarks.js";
import { collectionSource, generatorSource } from "../../runtime/connectors/generator.js";
import { discardSink } from "../../runtime/connectors/print.js";
import { buildJobGraph } from "../../runtime/graph/job-graph.js";
import { alignedSources, WatermarkAlignment } from "../../runtime/jobmanager/watermark-alignment.js";

describe("WatermarkAlignment", () => {
  it("announces no limit before any report", () => {
    const a = new WatermarkAlignment();
    expect(a.groupMin("g")).toBe(Number.POSITIVE_INFINITY);
    expect(a.maxAllowed("g", 1_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it("allows the group's minimum watermark + max drift, the latest report of each subtask counting", () => {
    const a = new WatermarkAlignment();
    a.report("g", "s0", 10_000);
    a.report("g", "s1", 4_000);
    a.report("g", "s2", 7_000);
    expect(a.maxAllowed("g", 500)).toBe(4_500);
    a.report("g", "s1", 9_000);
    expect(a.groupMin("g")).toBe(7_000);
    expect(a.maxAllowed("g", 0)).toBe(7_000);
  });

  it("keeps groups apart; sources naming the same group share its minimum, each with its own drift", () => {
    const a = new WatermarkAlignment();
    a.report("clicks", "clicks-source.0", 1_000);
    a.report("clicks", "orders-source.0", 50_000);
    a.report("other", "other-source.0", 100);
    expect(a.maxAllowed("clicks", 2_000)).toBe(3_000);
    expect(a.maxAllowed("clicks", 10_000)).toBe(11_000);
    expect(a.maxAllowed("other", 5)).toBe(105);
  });

  it("leaves idle subtasks out of the minimum, and has no limit when all are idle", () => {
    const a = new WatermarkAlignment();
    a.report("g", "s0", 1_000);
    a.report("g", "s1", 20_000);
    a.report("g", "s0", "idle");
    expect(a.maxAllowed("g", 1_000)).toBe(21_000);
    a.report("g", "s1", "idle");
    expect(a.maxAllowed("g", 1_000)).toBe(Number.POSITIVE_INFINITY);
    a.report("g", "s0", 1_500); // active again: holds the group back again
    expect(a.maxAllowed("g", 1_000)).toBe(2_500);
  });

  it("forgets a subtask that ended, so a finished slow source stops holding the group back", () => {
    const a = new WatermarkAlignment();
    a.report("g", "s0", 1_000);
    a.report("g", "s1", 20_000);
    a.remove("s0");
    expect(a.groupMin("g")).toBe(20_000);
    a.remove("s1");
    expect(a.maxAllowed("g", 1)).toBe(Number.POSITIVE_INFINITY);
    a.remove("never-reported"); // harmless
  });

  it("starts over for a new attempt", () => {
    const a = new WatermarkAlignment();
    a.report("g", "job.v0.0.0", 1_000);
    a.clear();
    expect(a.groupMin("g")).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("alignedSources", () => {
  it("lists the source vertices whose watermark strategy has alignment, with their settings", () => {
    const env = new StreamEnvironment();
    const fast = env.fromSource(generatorSource({ generate: (i) => i, timestamp: (i) => i }), watermarks.monotonic<number>().withWatermarkAlignment("g", 5_000, 250), "Fast");
    const slow = env.fromSource(generatorSource({ generate: (i) => i, timestamp: (i) => i }), watermarks.monotonic<number>().withWatermarkAlignment("g", 1_000), "Slow");
    const plain = env.fromSource(collectionSource([1, 2]), watermarks.monotonic<number>(), "Plain");
    fast.union(slow, plain).sinkTo(discardSink());
    const graph = buildJobGraph(env.toStreamGraph());
    const byName = (name: string) => graph.vertices.find((v) => v.name.startsWith(name))!.id;
    expect(alignedSources(graph)).toEqual([
      { vertexId: byName("Fast"), group: "g", maxDriftMs: 5_000, updateIntervalMs: 250 },
      { vertexId: byName("Slow"), group: "g", maxDriftMs: 1_000, updateIntervalMs: 1_000 },
    ]);
  });
});
