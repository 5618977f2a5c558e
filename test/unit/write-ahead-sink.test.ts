// The write-ahead sink operator's bookkeeping, with an in-memory log that keeps markers like the
// Kafka sink does: what is in a checkpoint, when batches are published, and what a restore republishes.
import { describe, expect, it } from "vitest";
import type { WriteAheadBatchId, WriteAheadLog, WriteAheadSink } from "../../runtime/api/sink.js";
import { decodeWriteAheadState, WriteAheadSinkOperator } from "../../runtime/operators/write-ahead-sink-operator.js";
import type { OperatorSnapshot } from "../../runtime/operators/operator.js";
import { harness } from "../support/operator-harness.js";

/** An external system: published values, and a marker per origin. */
class FakeSystem {
  published: string[] = [];
  markers = new Map<string, number>();
  recovered: number[] = [];
  failNext = false;
  /** Publishes wait for this when set (to observe what happens while a publish is slow). */
  gate: Promise<void> | null = null;

  sink(): WriteAheadSink<string> {
    return { writeAhead: true, name: "fake", createLog: () => this.log() };
  }

  private log(): WriteAheadLog<string> {
    return {
      encode: (values) => Buffer.from(JSON.stringify(values)),
      publish: async (id: WriteAheadBatchId, chunks) => {
        if (this.gate) await this.gate;
        if (this.failNext) {
          this.failNext = false;
          throw new Error("broker gone");
        }
        const key = `${id.lineage}/${id.subtask}`;
        if ((this.markers.get(key) ?? -1) >= id.checkpointId) return;
        for (const c of chunks) this.published.push(...(JSON.parse(c.toString()) as string[]));
        this.markers.set(key, id.checkpointId);
      },
      recover: async (info) => void this.recovered.push(info.previousParallelism),
    };
  }
}

const batch = (...values: string[]) => ({ kind: "batch" as const, values, timestamps: null });
const snapshot = async (op: WriteAheadSinkOperator, checkpointId: number, savepoint = false): Promise<OperatorSnapshot> =>
  op.snapshotState({ checkpointId, timestamp: 0, savepoint, mayReuseKeyed: false })();
const restoreFrom = (snap: OperatorSnapshot) => ({ isRestored: true, lists: [], keyedEntries: async () => [], rawState: async () => snap.raw ?? [] });

describe("write-ahead sink operator", () => {
  it("publishes a checkpoint's records only once the checkpoint completes, in order", async () => {
    const sys = new FakeSystem();
    const { op } = await harness(new WriteAheadSinkOperator(sys.sink()));
    await op.processBatch(batch("a", "b"));
    await snapshot(op, 1);
    await op.processBatch(batch("c"));
    await snapshot(op, 2);
    expect(sys.published).toEqual([]);
    await op.notifyCheckpointComplete(2);
    await op.endInput(); // waits for the publishing chain
    expect(sys.published).toEqual(["a", "b", "c"]);
    expect(sys.markers.get("job/0")).toBe(2);
  });

  it("keeps a batch in every checkpoint until its publish succeeded", async () => {
    const sys = new FakeSystem();
    let open!: () => void;
    sys.gate = new Promise((r) => (open = r));
    const { op } = await harness(new WriteAheadSinkOperator(sys.sink()));
    await op.processBatch(batch("a"));
    await snapshot(op, 1);
    await op.notifyCheckpointComplete(1); // publish starts, and waits at the gate
    await op.processBatch(batch("b"));
    const during = await snapshot(op, 2);
    expect(decodeWriteAheadState(during.raw![0]!).batches.map((b) => b.id.checkpointId)).toEqual([1, 2]);
    open();
    await op.notifyCheckpointComplete(2);
    await op.endInput();
    const after = await snapshot(op, 3);
    expect(decodeWriteAheadState(after.raw![0]!)).toEqual({ parallelism: 1, batches: [] });
  });

  it("after a failure, republishes the restored batches and skips those whose marker is there", async () => {
    const sys = new FakeSystem();
    const first = await harness(new WriteAheadSinkOperator(sys.sink()));
    await first.op.processBatch(batch("a"));
    await snapshot(first.op, 1);
    await first.op.processBatch(batch("b"));
    const chk2 = await snapshot(first.op, 2);
    await first.op.notifyCheckpointComplete(1);
    await first.op.notifyCheckpointComplete(2);
    // Dies right after publishing checkpoint 1 (2 was not published): restored from checkpoint 2.
    await new Promise((r) => setImmediate(r));
    expect(sys.published).toEqual(["a", "b"]);
    sys.published = ["a"];
    sys.markers.set("job/0", 1);
    await harness(new WriteAheadSinkOperator(sys.sink()), { restore: restoreFrom(chk2) });
    expect(sys.recovered).toEqual([1]);
    expect(sys.published).toEqual(["a", "b"]);
  });

  it("a failed publish fails the task at its next call, and the batch stays in the next checkpoint", async () => {
    const sys = new FakeSystem();
    const { op } = await harness(new WriteAheadSinkOperator(sys.sink()));
    await op.processBatch(batch("a"));
    const chk1 = await snapshot(op, 1);
    sys.failNext = true;
    await op.notifyCheckpointComplete(1);
    await new Promise((r) => setImmediate(r));
    expect(() => op.processBatch(batch("b"))).toThrow("broker gone");
    expect(decodeWriteAheadState(chk1.raw![0]!).batches).toHaveLength(1);
  });

  it("publishes a savepoint's batch before the notification returns (stop-with-savepoint ends the task next)", async () => {
    const sys = new FakeSystem();
    const { op } = await harness(new WriteAheadSinkOperator(sys.sink()));
    await op.processBatch(batch("a"));
    await snapshot(op, 1, true);
    await op.notifyCheckpointComplete(1);
    expect(sys.published).toEqual(["a"]);
  });

  it("at the end of input publishes what no checkpoint covered, with an id no checkpoint reaches", async () => {
    const sys = new FakeSystem();
    const { op } = await harness(new WriteAheadSinkOperator(sys.sink()));
    await op.processBatch(batch("a"));
    await snapshot(op, 1);
    await op.processBatch(batch("b"));
    await op.endInput();
    expect(sys.published).toEqual(["a", "b"]);
    expect(sys.markers.get("job/0")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses a raw state file that is not its own", async () => {
    const sys = new FakeSystem();
    const bad = { isRestored: true, lists: [], keyedEntries: async () => [], rawState: async () => [Buffer.from("not msgpack of ours")] };
    await expect(harness(new WriteAheadSinkOperator(sys.sink()), { restore: bad })).rejects.toThrow(/write-ahead sink state/);
  });
});
