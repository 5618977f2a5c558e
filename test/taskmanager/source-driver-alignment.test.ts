/**
 * Watermark alignment in the source driver: which splits it pauses and resumes on announcements, after
 * polls and at periodic emits; readers without split-level pausing paused as a whole; paused splits
 * never idle.
 */
import { describe, expect, it } from "vitest";
import type { RuntimeContext } from "../../runtime/api/functions.js";
import type { ReaderOutput, Source, SourceReader, SourceSplit } from "../../runtime/api/source.js";
import { watermarks } from "../../runtime/api/watermarks.js";
import type { Batch } from "../../runtime/common/elements.js";
import { SourceDriver } from "../../runtime/taskmanager/source-driver.js";
import { DefaultOperatorStateStore } from "../../runtime/state/operator-state.js";

/** A reader that emits the timestamps queued per split at the next poll, and logs pause/resume calls. */
class ScriptedReader implements SourceReader<number> {
  readonly queued = new Map<string, number[]>();
  readonly calls: [string[], string[]][] = [];
  addSplits(): void {}
  poll(output: ReaderOutput<number>): "more" {
    for (const [id, tss] of this.queued) for (const ts of tss.splice(0)) output.forSplit(id).collect(ts, ts);
    return "more";
  }
  pauseOrResumeSplits(pause: readonly string[], resume: readonly string[]): void {
    this.calls.push([[...pause], [...resume]]);
  }
}

const ctx: RuntimeContext = {
  jobId: "job",
  jobName: "test",
  operatorUid: "source",
  taskName: "source",
  subtaskIndex: 0,
  parallelism: 1,
  maxParallelism: 128,
  jobArgs: [],
  operatorState: new DefaultOperatorStateStore("test"),
};

interface Setup {
  splits?: string[];
  splitLevel?: boolean;
  idleTimeout?: number;
  aligned?: boolean;
}

function driver({ splits = ["a", "b"], splitLevel = true, idleTimeout, aligned = true }: Setup = {}) {
  const reader = new ScriptedReader();
  const plain: SourceReader<number> = { addSplits: () => {}, poll: (out) => reader.poll(out) };
  const source: Source<number> = { bounded: false, splits: () => splits.map((id): SourceSplit => ({ id })), createReader: () => (splitLevel ? reader : plain) };
  let strategy = watermarks.monotonic<number>();
  if (idleTimeout !== undefined) strategy = strategy.withIdleness(idleTimeout);
  if (aligned) strategy = strategy.withWatermarkAlignment("g", 2_000);
  const clock = { now: 0 };
  const log: string[] = [];
  const output = { emit: (_b: Batch) => {}, emitWatermark: (ts: number) => log.push(`wm:${ts}`) };
  const d = new SourceDriver("src", source as Source<unknown>, strategy as never, ctx, output, (idle) => log.push(idle ? "idle" : "active"), () => clock.now, null);
  /** Queue records (timestamps per split) and poll them. */
  const emit = (records: Record<string, number[]>) => {
    for (const [id, tss] of Object.entries(records)) reader.queued.set(id, tss);
    d.poll(100);
  };
  return { d, reader, clock, log, emit };
}

describe("SourceDriver watermark alignment, split by split", () => {
  it("pauses the splits above an announced maxAllowed and resumes them once it moved past, passing only changes", () => {
    const { d, reader, emit } = driver({ splits: ["a", "b", "c"] });
    // Monotonic: split watermark = highest timestamp - 1. The local limit (own minimum 1_000 - 1 + drift) is 2_999.
    emit({ a: [1_000], b: [2_500], c: [2_800] });
    expect(reader.calls).toEqual([]);
    d.onAlignment(2_000);
    expect(reader.calls).toEqual([[["b", "c"], []]]);
    expect(d.pausedSplits).toBe(2);
    d.onAlignment(2_000); // nothing changed: no call
    d.onAlignment(2_600);
    expect(reader.calls).toEqual([[["b", "c"], []], [[], ["b"]]]);
    d.onAlignment(Number.POSITIVE_INFINITY);
    expect(reader.calls.at(-1)).toEqual([[], ["c"]]);
    expect(d.pausedSplits).toBe(0);
    expect(d.paused).toBe(false); // split-level readers are never paused as a whole
  });

  it("pauses right after the poll in which a split passed the limit, using its own watermark before any announcement", () => {
    const { d, reader, emit } = driver();
    emit({ a: [1_000], b: [1_500] });
    expect(reader.calls).toEqual([]);
    emit({ b: [3_500] }); // b: 3_499 > a's 999 + 2_000
    expect(reader.calls).toEqual([[["b"], []]]);
    emit({ a: [1_600] }); // the limit rose to 3_599, but polls only pause: b waits for the next emit or announcement
    expect(reader.calls).toHaveLength(1);
    d.onPeriodicEmit(200);
    expect(reader.calls).toEqual([[["b"], []], [[], ["b"]]]);
  });

  it("never pauses a split without a watermark, and does not limit itself while one is missing", () => {
    const { d, reader, emit } = driver();
    emit({ a: [50_000] }); // b has no records: the subtask has no watermark of its own
    expect(d.alignmentReport()).toBeUndefined();
    expect(reader.calls).toEqual([]);
    d.onAlignment(1_000);
    expect(reader.calls).toEqual([[["a"], []]]);
  });

  it("reports the minimum over its active splits, or idle when it has none", () => {
    expect(driver({ splits: [] }).d.alignmentReport()).toBe("idle");
    const { d, emit } = driver();
    emit({ a: [7_000], b: [9_000] });
    expect(d.alignmentReport()).toBe(6_999);
    expect(driver({ aligned: false }).d.alignmentReport()).toBeUndefined();
  });

  it("keeps a paused split from going idle, so it still counts for the subtask's watermark", () => {
    const { d, clock, log, emit } = driver({ idleTimeout: 1_000 });
    emit({ a: [1_000], b: [10_000] }); // b paused at once: above a's 999 + drift
    d.onAlignment(5_000); // another subtask holds the group back: b stays paused when a goes idle
    d.onPeriodicEmit((clock.now = 200));
    expect(d.pausedSplits).toBe(1);
    for (clock.now = 400; clock.now <= 3_000; clock.now += 200) d.onPeriodicEmit(clock.now);
    // a went quiet and idle; paused b did not, so the subtask is not idle and reports b's watermark.
    expect(log).toEqual(["wm:999", "wm:9999"]);
    expect(d.alignmentReport()).toBe(9_999);
    clock.now = 3_000;
    d.onAlignment(20_000); // resumed; its idle timer excludes the time it was paused
    d.onPeriodicEmit((clock.now = 3_400));
    expect(log).not.toContain("idle");
    d.onPeriodicEmit((clock.now = 4_000));
    expect(log).toEqual(["wm:999", "wm:9999", "idle"]);
  });
});

describe("SourceDriver watermark alignment, readers without pauseOrResumeSplits", () => {
  it("pauses the whole reader while the subtask's own watermark is above maxAllowed", () => {
    const { d, emit } = driver({ splitLevel: false });
    emit({ a: [1_000], b: [10_000] }); // b is far ahead of a, but only the subtask's minimum counts
    d.onPeriodicEmit(200);
    expect(d.paused).toBe(false);
    d.onAlignment(500);
    expect(d.paused).toBe(true);
    expect(d.pausedSplits).toBe(2);
    d.onPeriodicEmit(400);
    expect(d.paused).toBe(true);
    d.onAlignment(1_000);
    expect(d.paused).toBe(false);
    expect(d.pausedSplits).toBe(0);
  });

  it("pauses after a poll that took it past the last announcement", () => {
    const { d, emit } = driver({ splitLevel: false, splits: ["a"] });
    emit({ a: [1_000] });
    d.onAlignment(3_000);
    expect(d.paused).toBe(false);
    emit({ a: [3_500] });
    expect(d.paused).toBe(true);
  });
});
