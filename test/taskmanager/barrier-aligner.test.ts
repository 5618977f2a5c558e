import { describe, expect, it } from "vitest";
import type { BarrierEvent } from "../../runtime/common/elements.js";
import { BarrierAligner, type BlockingGate } from "../../runtime/taskmanager/task-checkpointing.js";

/** A gate of `n` channels that records what the aligner unblocks. */
function gate(n: number) {
  const finished = new Set<number>();
  const blocked = new Set<number>();
  const g: BlockingGate & { finished: Set<number>; blocked: Set<number> } = {
    numberOfChannels: n,
    finished,
    blocked,
    isChannelFinished: (i) => finished.has(i),
    unblock: (i) => void blocked.delete(i),
    unblockAll: () => blocked.clear(),
  };
  return g;
}

const barrier = (checkpointId: number): BarrierEvent => ({ kind: "barrier", checkpointId, timestamp: 0, savepoint: false, stop: false, targetDir: "file:///x" });

/** Deliver barrier `id` on `channel` as the gate would: the channel is blocked first. */
function deliver(a: BarrierAligner, g: ReturnType<typeof gate>, channel: number, id: number, now = 0) {
  g.blocked.add(channel);
  return a.onBarrier(channel, barrier(id), now);
}

describe("barrier alignment", () => {
  it("takes the checkpoint when every channel delivered the barrier, keeping the early ones blocked until then", () => {
    const g = gate(3);
    const a = new BarrierAligner(g);
    expect(deliver(a, g, 0, 1, 10)).toBeNull();
    expect(deliver(a, g, 2, 1, 15)).toBeNull();
    expect([...g.blocked].sort()).toEqual([0, 2]);
    const done = deliver(a, g, 1, 1, 40);
    expect(done?.barrier.checkpointId).toBe(1);
    expect(done?.alignmentMs).toBe(30);
    expect(g.blocked.size).toBe(0);
  });

  it("does not wait for ended channels, also when one ends during alignment", () => {
    const g = gate(3);
    g.finished.add(2);
    const a = new BarrierAligner(g);
    expect(deliver(a, g, 0, 1)).toBeNull();
    g.finished.add(1);
    expect(a.onChannelEnded(5)?.barrier.checkpointId).toBe(1);
  });

  it("abandons an unfinished alignment for a newer barrier and drops stale barriers at once", () => {
    const g = gate(2);
    const a = new BarrierAligner(g);
    deliver(a, g, 0, 1);
    expect(deliver(a, g, 0, 2)).toBeNull(); // 2 overtakes: 1 is abandoned, channels resume
    expect(a.pendingCheckpoint).toBe(2);
    expect(deliver(a, g, 1, 1)).toBeNull(); // stale
    expect(g.blocked.has(1)).toBe(false);
    expect(deliver(a, g, 1, 2)?.barrier.checkpointId).toBe(2);
  });

  it("resumes every channel when the JobManager aborts the checkpoint, and ignores its late barriers", () => {
    const g = gate(2);
    const a = new BarrierAligner(g);
    deliver(a, g, 0, 7);
    a.abandon(7);
    expect(g.blocked.size).toBe(0);
    expect(a.pendingCheckpoint).toBeNull();
    expect(deliver(a, g, 1, 7)).toBeNull();
    expect(g.blocked.size).toBe(0);
  });
});
