import { describe, expect, it } from "vitest";
import { END_OF_PARTITION, type BarrierEvent, type StreamElement } from "../../runtime/common/elements.js";
import { InputGate } from "../../runtime/network/input-gate.js";
import type { InputChannel } from "../../runtime/network/input-channel.js";
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

  it("aligns a barrier at once when every other channel already ended", () => {
    const g = gate(3);
    g.finished.add(0);
    g.finished.add(2);
    const a = new BarrierAligner(g);
    expect(deliver(a, g, 1, 4)?.barrier.checkpointId).toBe(4);
    expect(g.blocked.size).toBe(0);
  });
});

describe("barrier alignment of a checkpoint triggered at a task whose upstream tasks finished", () => {
  it("takes it at once when every channel ended", () => {
    const g = gate(2);
    g.finished.add(0);
    g.finished.add(1);
    const a = new BarrierAligner(g);
    expect(a.onTrigger(barrier(3), 0)?.barrier.checkpointId).toBe(3);
    expect(a.pendingCheckpoint).toBeNull();
  });

  it("takes it when the last channel ends, reading the channels meanwhile", () => {
    const g = gate(2);
    g.finished.add(0);
    const a = new BarrierAligner(g);
    expect(a.onTrigger(barrier(3), 10)).toBeNull();
    expect(a.pendingCheckpoint).toBe(3);
    expect(g.blocked.size).toBe(0);
    g.finished.add(1);
    expect(a.onChannelEnded(25)).toEqual({ barrier: barrier(3), alignmentMs: 15 });
  });

  it("ignores a trigger of a checkpoint taken, abandoned or overtaken already", () => {
    const g = gate(2);
    const a = new BarrierAligner(g);
    a.abandon(3);
    expect(a.onTrigger(barrier(3), 0)).toBeNull();
    expect(a.pendingCheckpoint).toBeNull();
    deliver(a, g, 0, 5);
    expect(a.onTrigger(barrier(4), 0)).toBeNull();
    expect(a.pendingCheckpoint).toBe(5);
  });
});

/** A channel that holds `elements` from the start. */
function channel(elements: StreamElement[]): InputChannel {
  return {
    description: "test channel",
    start: (listener) => listener.onAvailable(),
    queuedBatches: () => elements.length,
    poll: () => elements.shift(),
    release: () => {},
  };
}

describe("barrier alignment on an InputGate", () => {
  it("does not wait for channels that ended, and reads the blocked channel only after the checkpoint", () => {
    const batch = (v: number): StreamElement => ({ kind: "batch", values: [v], timestamps: null });
    const g = new InputGate(
      [
        [barrier(1), batch(1)],
        [END_OF_PARTITION],
        [batch(2), batch(3), END_OF_PARTITION],
      ].map((elements) => ({ channel: channel(elements), input: 0 })),
    );
    g.start();
    const a = new BarrierAligner(g);
    const seen: string[] = [];
    for (let next = g.poll(); next; next = g.poll()) {
      const el = next.element;
      const aligned = el.kind === "barrier" ? a.onBarrier(next.channel, el, 0) : el.kind === "end" ? a.onChannelEnded(0) : null;
      seen.push(el.kind === "batch" ? `batch ${String(el.values[0])}` : `${el.kind} on ${next.channel}`);
      if (aligned) seen.push(`checkpoint ${aligned.barrier.checkpointId}`);
    }
    expect(seen).toEqual(["barrier on 0", "end on 1", "batch 2", "batch 3", "end on 2", "checkpoint 1", "batch 1"]);
    expect(g.isFinished()).toBe(false);
  });
});
