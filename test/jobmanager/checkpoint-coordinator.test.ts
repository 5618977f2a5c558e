import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/common/logging.js";
import { WeirError } from "../../runtime/common/errors.js";
import { resolveConfig } from "../../runtime/config/options.js";
import {
  CheckpointCoordinator,
  type CheckpointAck,
  type CheckpointCoordinatorDeps,
  type CheckpointPlan,
  type SnapshotStore,
  type TriggerMessage,
} from "../../runtime/jobmanager/checkpoint-coordinator.js";
import type { CheckpointMetadata } from "../../runtime/state/snapshot-types.js";

const T0 = 1_700_000_000_000;
const CHECKPOINT_ROOT = "file:///data/checkpoints";

/** Timers on a clock that moves only when the test says so. */
class FakeTime {
  now = T0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** Run every timer due within `ms`, in time order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Let resolved promises (the fake store's) run their continuations. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An in-memory SnapshotStore that records what it is asked to do; writes can be held back. */
class FakeStore implements SnapshotStore {
  readonly metadata = new Map<string, CheckpointMetadata>();
  readonly completed: { meta: CheckpointMetadata; metadataUrl: string }[] = [];
  readonly discardedUrls: string[] = [];
  readonly discardedDirs: string[] = [];
  /** While set, writeMetadata waits for it. */
  holdWrites: Promise<void> | null = null;
  failWrites: Error | null = null;
  private savepoints = 0;

  checkpointDir(n: number): string {
    return `${CHECKPOINT_ROOT}/job-1/chk-${n}`;
  }
  newSavepointDir(targetDir: string): string {
    return `${targetDir}/savepoint-job-1-${++this.savepoints}`;
  }
  /** Hold every writeMetadata until the returned function is called. */
  holdMetadataWrites(): () => void {
    let release!: () => void;
    this.holdWrites = new Promise((resolve) => (release = resolve));
    return release;
  }
  async writeMetadata(url: string, meta: CheckpointMetadata): Promise<number> {
    await this.holdWrites;
    if (this.failWrites) throw this.failWrites;
    this.metadata.set(url, meta);
    return 1234;
  }
  async addCompleted(meta: CheckpointMetadata, metadataUrl: string): Promise<void> {
    this.completed.push({ meta, metadataUrl });
  }
  latest(): { meta: CheckpointMetadata; metadataUrl: string } | null {
    return this.completed.at(-1) ?? null;
  }
  async discardUnregistered(urls: string[]): Promise<void> {
    this.discardedUrls.push(...urls);
  }
  async discardDirectory(dirUrl: string): Promise<void> {
    this.discardedDirs.push(dirUrl);
  }
}

/** Two sources, then a chain of a map and an aggregate; parallelism 2 everywhere. */
const PLAN: CheckpointPlan = {
  trigger: ["job-1.src.0.0", "job-1.src.1.0"],
  ackFrom: [
    { executionId: "job-1.src.0.0", vertexId: "src", subtask: 0 },
    { executionId: "job-1.src.1.0", vertexId: "src", subtask: 1 },
    { executionId: "job-1.agg.0.0", vertexId: "agg", subtask: 0 },
    { executionId: "job-1.agg.1.0", vertexId: "agg", subtask: 1 },
  ],
  finished: [],
  vertices: [
    { id: "src", parallelism: 2, maxParallelism: 128, operators: [{ uid: "source", name: "Source: numbers" }] },
    {
      id: "agg",
      parallelism: 2,
      maxParallelism: 128,
      operators: [
        { uid: "map", name: "Map" },
        { uid: "count", name: "Count" },
      ],
    },
  ],
};

const ALL_TASKS = PLAN.ackFrom.map((t) => t.executionId);

/** What one task acks: keyed state for keyed operators, a list for the source, with its figures. */
function ackOf(executionId: string, checkpointId: number, bytes = 100, alignmentMs = 5): CheckpointAck {
  const subtask = Number(executionId.split(".")[2]);
  if (executionId.includes(".src.")) {
    return {
      operators: { source: { keyed: null, lists: [{ name: "offsets", mode: "split", items: [subtask * 10] }] } },
      stats: { alignmentMs: 0, syncMs: 1, asyncMs: 2, bytes },
    };
  }
  const file = (uid: string) => ({
    url: `${CHECKPOINT_ROOT}/job-1/chk-${checkpointId}/${executionId}-${uid}`,
    size: bytes,
    sha256: "ab",
  });
  const keyed = (uid: string) => ({ file: file(uid), keyGroupStart: subtask * 64, offsets: [0, bytes] });
  return {
    operators: { count: { keyed: keyed("count"), lists: [] } }, // "map" is stateless: it reports nothing
    stats: { alignmentMs, syncMs: 1, asyncMs: 3, bytes },
  };
}

interface Harness {
  c: CheckpointCoordinator;
  time: FakeTime;
  store: FakeStore;
  triggers: { executionId: string; msg: TriggerMessage }[];
  completes: { executionIds: string[]; checkpointId: number }[];
  aborts: { executionIds: string[]; checkpointId: number; reason: string }[];
  jobFailures: string[];
  /** Every task acks `checkpointId`, in the given order. */
  ackAll(checkpointId: number, order?: string[]): Promise<void>;
}

function harness(
  config: string[] = ["execution.checkpointing.interval=1000", `state.checkpoints.dir=${CHECKPOINT_ROOT}`],
  extra: Partial<CheckpointCoordinatorDeps> = {},
): Harness {
  const time = new FakeTime();
  const store = new FakeStore();
  const h = { time, store, triggers: [], completes: [], aborts: [], jobFailures: [] } as unknown as Harness;
  h.c = new CheckpointCoordinator({
    jobId: "job-1",
    jobName: "numbers",
    config: resolveConfig(config, {}),
    store,
    plan: () => PLAN,
    trigger: (executionId, msg) => h.triggers.push({ executionId, msg }),
    notifyComplete: (executionIds, checkpointId) => h.completes.push({ executionIds, checkpointId }),
    notifyAborted: (executionIds, checkpointId, reason) => h.aborts.push({ executionIds, checkpointId, reason }),
    failJob: (reason) => h.jobFailures.push(reason),
    log: createLogger("test", { level: "silent" }),
    now: () => time.now,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    ...extra,
  });
  h.ackAll = async (checkpointId, order = ALL_TASKS) => {
    for (const ex of order) h.c.receiveAck(ex, checkpointId, ackOf(ex, checkpointId));
    await h.c.whenIdle();
  };
  return h;
}

const triggeredIds = (h: Harness) => [...new Set(h.triggers.map((t) => t.msg.checkpointId))];

describe("CheckpointCoordinator, periodic checkpoints", () => {
  it("triggers the sources every interval and completes once every task acked", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(999);
    expect(h.triggers).toEqual([]);
    await h.time.advance(1);
    const msg = { checkpointId: 1, timestamp: T0 + 1000, kind: "checkpoint", targetDir: `${CHECKPOINT_ROOT}/job-1/chk-1` };
    expect(h.triggers).toEqual(PLAN.trigger.map((executionId) => ({ executionId, msg })));

    await h.ackAll(1);
    expect([...h.store.metadata.keys()]).toEqual([`${CHECKPOINT_ROOT}/job-1/chk-1/_metadata`]);
    expect(h.store.completed.map((c) => c.metadataUrl)).toEqual([`${CHECKPOINT_ROOT}/job-1/chk-1/_metadata`]);
    expect(h.completes).toEqual([{ executionIds: ALL_TASKS, checkpointId: 1 }]);

    await h.time.advance(1000);
    expect(triggeredIds(h)).toEqual([1, 2]);
  });

  it("notifies tasks only after _metadata is written and the store took the checkpoint", async () => {
    const h = harness();
    const release = h.store.holdMetadataWrites();
    h.c.start();
    await h.time.advance(1000);
    for (const ex of ALL_TASKS) h.c.receiveAck(ex, 1, ackOf(ex, 1));
    await settle();
    expect(h.completes).toEqual([]);
    expect(h.c.overview().counts.inProgress).toBe(1);
    release();
    await h.c.whenIdle();
    expect(h.completes).toHaveLength(1);
    expect(h.store.completed).toHaveLength(1);
  });

  it("runs one checkpoint at a time: a slow one delays the next", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(4500); // checkpoint 1 triggered at 1000 and still waiting for acks
    expect(triggeredIds(h)).toEqual([1]);
    await h.ackAll(1);
    await h.time.advance(0); // due since 2000: starts at once (no min-pause)
    expect(triggeredIds(h)).toEqual([1, 2]);
    expect(h.triggers.at(-1)!.msg.timestamp).toBe(T0 + 4500);
  });

  it("waits min-pause between the end of one checkpoint and the start of the next", async () => {
    const h = harness([
      "execution.checkpointing.interval=1000",
      "execution.checkpointing.min-pause=500",
      `state.checkpoints.dir=${CHECKPOINT_ROOT}`,
    ]);
    h.c.start();
    await h.time.advance(1000);
    await h.time.advance(800); // checkpoint 1 completes at 1800; next not before 2300
    await h.ackAll(1);
    await h.time.advance(499);
    expect(triggeredIds(h)).toEqual([1]);
    await h.time.advance(1);
    expect(triggeredIds(h)).toEqual([1, 2]);
  });

  it("continues the ids after initialCheckpointId", async () => {
    const h = harness(undefined, { initialCheckpointId: 41 });
    h.c.start();
    await h.time.advance(1000);
    expect(triggeredIds(h)).toEqual([42]);
  });

  it("continues the ids after the store's latest checkpoint by default", async () => {
    const store = new FakeStore();
    const earlier = harness();
    earlier.c.start();
    await earlier.time.advance(1000);
    await earlier.ackAll(1);
    store.completed.push(...earlier.store.completed);
    const h = harness(undefined, { store });
    h.c.start();
    await h.time.advance(1000);
    expect(triggeredIds(h)).toEqual([2]);
  });

  it("stop() ends periodic triggering", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(1000);
    await h.ackAll(1);
    h.c.stop();
    await h.time.advance(10_000);
    expect(triggeredIds(h)).toEqual([1]);
  });

  it("skips a periodic checkpoint while not all tasks run, without counting a failure", async () => {
    let plan: CheckpointPlan | string = "task Map (1/2) is DEPLOYING";
    const h = harness(undefined, { plan: () => plan });
    h.c.start();
    await h.time.advance(3000);
    expect(h.triggers).toEqual([]);
    expect(h.c.overview().counts).toMatchObject({ total: 0, failed: 0 });
    expect(h.jobFailures).toEqual([]);
    plan = PLAN;
    await h.time.advance(1000);
    expect(triggeredIds(h)).toEqual([1]);
  });

  it("rejects periodic checkpoints without state.checkpoints.dir", () => {
    const err = (() => {
      try {
        harness(["execution.checkpointing.interval=1000"]);
      } catch (e) {
        return e as WeirError;
      }
    })();
    expect(err).toBeInstanceOf(WeirError);
    expect(err?.code).toBe("WEIR_E_CONFIG");
    expect(err?.message).toContain("state.checkpoints.dir is not set");
  });
});

describe("CheckpointCoordinator, _metadata", () => {
  it("lists operators in plan order by uid, each with its subtasks by index", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(1000);
    await h.ackAll(1, [...ALL_TASKS].reverse());
    const meta = h.store.metadata.get(`${CHECKPOINT_ROOT}/job-1/chk-1/_metadata`)!;
    expect(meta).toMatchObject({
      format: "weir-snapshot",
      version: 1,
      kind: "checkpoint",
      jobId: "job-1",
      jobName: "numbers",
      checkpointId: 1,
      timestamp: T0 + 1000,
    });
    expect(meta.operators.map((o) => [o.uid, o.name, o.parallelism, o.maxParallelism])).toEqual([
      ["source", "Source: numbers", 2, 128],
      ["map", "Map", 2, 128],
      ["count", "Count", 2, 128],
    ]);
    const [source, map, count] = meta.operators;
    expect(source!.subtasks.map((s) => s.lists[0]!.items)).toEqual([[0], [10]]);
    expect(map!.subtasks).toEqual([
      { keyed: null, lists: [] },
      { keyed: null, lists: [] },
    ]);
    expect(count!.subtasks.map((s) => [s.keyed?.file.url, s.keyed?.keyGroupStart])).toEqual([
      [`${CHECKPOINT_ROOT}/job-1/chk-1/job-1.agg.0.0-count`, 0],
      [`${CHECKPOINT_ROOT}/job-1/chk-1/job-1.agg.1.0-count`, 64],
    ]);
    expect(h.store.completed[0]!.meta).toBe(meta);
  });
});

describe("CheckpointCoordinator, failures", () => {
  it("aborts a checkpoint that times out, tells the tasks and deletes what was written", async () => {
    const h = harness([
      "execution.checkpointing.interval=1000",
      "execution.checkpointing.timeout=5000",
      "execution.checkpointing.tolerable-failed-checkpoints=1",
      `state.checkpoints.dir=${CHECKPOINT_ROOT}`,
    ]);
    h.c.start();
    await h.time.advance(1000);
    h.c.receiveAck("job-1.agg.0.0", 1, ackOf("job-1.agg.0.0", 1));
    await h.time.advance(5000);
    expect(h.aborts).toEqual([
      { executionIds: ALL_TASKS, checkpointId: 1, reason: "Checkpoint 1 expired before completing (timeout 5000 ms)" },
    ]);
    await h.c.whenIdle();
    expect(h.store.discardedUrls).toEqual([`${CHECKPOINT_ROOT}/job-1/chk-1/job-1.agg.0.0-count`]);
    expect(h.store.discardedDirs).toEqual([`${CHECKPOINT_ROOT}/job-1/chk-1`]);
    expect(h.store.completed).toEqual([]);
    expect(h.c.overview().latest.failed).toMatchObject({ id: 1, status: "FAILED", acknowledged: 1, total: 4 });
    expect(h.jobFailures).toEqual([]); // 1 failure is tolerated
  });

  it("aborts a declined checkpoint", async () => {
    const h = harness(["execution.checkpointing.interval=1000", "execution.checkpointing.tolerable-failed-checkpoints=5", `state.checkpoints.dir=${CHECKPOINT_ROOT}`]);
    h.c.start();
    await h.time.advance(1000);
    h.c.receiveDecline("job-1.agg.1.0", 1, "state backend closed");
    expect(h.aborts.map((a) => a.reason)).toEqual(["Checkpoint 1 declined by task job-1.agg.1.0: state backend closed"]);
    expect(h.c.overview().counts).toMatchObject({ failed: 1, inProgress: 0 });
    h.c.receiveDecline("job-1.agg.1.0", 1, "again"); // no longer pending: ignored
    expect(h.aborts).toHaveLength(1);
  });

  it("fails the job after more than tolerable-failed-checkpoints consecutive failures", async () => {
    const h = harness([
      "execution.checkpointing.interval=1000",
      "execution.checkpointing.tolerable-failed-checkpoints=1",
      `state.checkpoints.dir=${CHECKPOINT_ROOT}`,
    ]);
    h.c.start();
    await h.time.advance(1000);
    h.c.receiveDecline("job-1.src.0.0", 1, "boom");
    await h.time.advance(1000);
    await h.ackAll(2); // a success resets the count
    await h.time.advance(1000);
    h.c.receiveDecline("job-1.src.0.0", 3, "boom");
    expect(h.jobFailures).toEqual([]);
    await h.time.advance(1000);
    h.c.receiveDecline("job-1.src.0.0", 4, "boom again");
    expect(h.jobFailures).toHaveLength(1);
    expect(h.jobFailures[0]).toMatch(/^Exceeded checkpoint tolerable failure threshold: 2 consecutive checkpoints failed/);
    expect(h.jobFailures[0]).toContain("tolerable-failed-checkpoints is 1");
    expect(h.jobFailures[0]).toContain("boom again");
    await h.time.advance(5000); // periodic checkpoints stopped with the failure
    expect(triggeredIds(h)).toEqual([1, 2, 3, 4]);
  });

  it("counts a failed _metadata write", async () => {
    const h = harness();
    h.store.failWrites = new Error("disk full");
    h.c.start();
    await h.time.advance(1000);
    await h.ackAll(1);
    expect(h.aborts.map((a) => a.reason)).toEqual(["Checkpoint 1 could not be finalized: disk full"]);
    expect(h.jobFailures).toHaveLength(1);
    expect(h.completes).toEqual([]);
    expect(h.store.discardedDirs).toEqual([`${CHECKPOINT_ROOT}/job-1/chk-1`]);
  });

  it("discards the files of late and unknown acks", async () => {
    const h = harness([
      "execution.checkpointing.interval=1000",
      "execution.checkpointing.tolerable-failed-checkpoints=5",
      `state.checkpoints.dir=${CHECKPOINT_ROOT}`,
    ]);
    h.c.start();
    await h.time.advance(1000);
    h.c.receiveDecline("job-1.src.0.0", 1, "no");
    await h.c.whenIdle();
    h.store.discardedUrls.length = 0;
    h.c.receiveAck("job-1.agg.1.0", 1, ackOf("job-1.agg.1.0", 1)); // late: checkpoint 1 was aborted
    h.c.receiveAck("job-1.agg.0.0", 99, ackOf("job-1.agg.0.0", 99)); // unknown checkpoint
    await h.time.advance(1000);
    h.c.receiveAck("job-9.agg.0.0", 2, ackOf("job-9.agg.0.0", 2)); // not a task of checkpoint 2
    await h.c.whenIdle();
    expect(h.store.discardedUrls).toEqual([
      `${CHECKPOINT_ROOT}/job-1/chk-1/job-1.agg.1.0-count`,
      `${CHECKPOINT_ROOT}/job-1/chk-99/job-1.agg.0.0-count`,
      `${CHECKPOINT_ROOT}/job-1/chk-2/job-9.agg.0.0-count`,
    ]);
    expect(h.c.overview().history[0]).toMatchObject({ id: 2, status: "IN_PROGRESS", acknowledged: 0 });
  });

  it("discards raw state files like keyed ones: of a failed checkpoint and of late acks", async () => {
    const h = harness(["execution.checkpointing.interval=1000", "execution.checkpointing.tolerable-failed-checkpoints=5", `state.checkpoints.dir=${CHECKPOINT_ROOT}`]);
    const withRaw = (ex: string, id: number): CheckpointAck => {
      const ack = ackOf(ex, id);
      const raw = [0, 1].map((i) => ({ url: `${CHECKPOINT_ROOT}/job-1/chk-${id}/${ex}-wal-${i}.raw`, size: 10, sha256: "cd" }));
      return { ...ack, operators: { ...ack.operators, wal: { keyed: null, lists: [], raw } } };
    };
    h.c.start();
    await h.time.advance(1000);
    h.c.receiveAck("job-1.agg.0.0", 1, withRaw("job-1.agg.0.0", 1));
    h.c.receiveDecline("job-1.src.0.0", 1, "no");
    h.c.receiveAck("job-1.agg.1.0", 1, withRaw("job-1.agg.1.0", 1)); // late
    await h.c.whenIdle();
    expect(h.store.discardedUrls.sort()).toEqual(
      ["job-1.agg.0.0", "job-1.agg.1.0"].flatMap((ex) => ["count", "wal-0.raw", "wal-1.raw"].map((f) => `${CHECKPOINT_ROOT}/job-1/chk-1/${ex}-${f}`)),
    );
  });

  it("abortAll aborts without counting a failure and fails queued savepoints", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(1000);
    const triggerId = h.c.triggerSavepoint({ targetDir: "file:///sp" });
    const done = h.c.completion(triggerId);
    h.c.abortAll("task Map (1/2) failed");
    expect(h.aborts.map((a) => a.reason)).toEqual(["Checkpoint 1 aborted: task Map (1/2) failed"]);
    await expect(done).rejects.toThrow("task Map (1/2) failed");
    expect(h.c.savepointStatus(triggerId)).toEqual({ status: "FAILED", failure: "task Map (1/2) failed" });
    expect(h.jobFailures).toEqual([]);
  });

  it("a checkpoint aborted while _metadata is written is deleted once the write ends", async () => {
    const h = harness(["execution.checkpointing.interval=1000", "execution.checkpointing.timeout=2000", "execution.checkpointing.tolerable-failed-checkpoints=5", `state.checkpoints.dir=${CHECKPOINT_ROOT}`]);
    const release = h.store.holdMetadataWrites();
    h.c.start();
    await h.time.advance(1000);
    for (const ex of ALL_TASKS) h.c.receiveAck(ex, 1, ackOf(ex, 1));
    await h.time.advance(2000);
    expect(h.aborts.map((a) => a.reason)).toEqual(["Checkpoint 1 expired before completing (timeout 2000 ms)"]);
    h.store.discardedDirs.length = 0;
    release();
    await h.c.whenIdle();
    expect(h.store.discardedDirs).toEqual([`${CHECKPOINT_ROOT}/job-1/chk-1`]);
    expect(h.store.completed).toEqual([]);
    expect(h.completes).toEqual([]);
  });
});

describe("CheckpointCoordinator, savepoints", () => {
  it("queues a savepoint behind a running checkpoint and does not retain or commit it", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(1000);
    const triggerId = h.c.triggerSavepoint({ targetDir: "file:///savepoints" });
    expect(h.c.savepointStatus(triggerId)).toEqual({ status: "IN_PROGRESS" });
    expect(triggeredIds(h)).toEqual([1]);

    await h.ackAll(1);
    expect(triggeredIds(h)).toEqual([1, 2]);
    const dir = "file:///savepoints/savepoint-job-1-1";
    expect(h.triggers.at(-1)!.msg).toEqual({ checkpointId: 2, timestamp: T0 + 1000, kind: "savepoint", targetDir: dir });
    await h.ackAll(2);
    expect(h.c.savepointStatus(triggerId)).toEqual({ status: "COMPLETED", location: dir });
    await expect(h.c.completion(triggerId)).resolves.toBe(dir);
    expect(h.store.metadata.get(`${dir}/_metadata`)?.kind).toBe("savepoint");
    expect(h.store.completed.map((c) => c.meta.checkpointId)).toEqual([1]); // not in the retention store
    expect(h.completes.map((c) => c.checkpointId)).toEqual([1]); // intermediate savepoints commit nothing
    expect(h.c.overview().latest.savepoint).toMatchObject({ id: 2, kind: "savepoint", externalPath: dir });
  });

  it("defaults the target to state.savepoints.dir and starts at once when idle", async () => {
    const h = harness(["state.savepoints.dir=s3://bucket/sp"]);
    const triggerId = h.c.triggerSavepoint();
    expect(h.triggers.map((t) => t.msg.targetDir)).toEqual(["s3://bucket/sp/savepoint-job-1-1", "s3://bucket/sp/savepoint-job-1-1"]);
    const done = h.c.completion(triggerId);
    await h.ackAll(1);
    await expect(done).resolves.toBe("s3://bucket/sp/savepoint-job-1-1");
  });

  it("refuses a savepoint without a target directory", () => {
    const h = harness([]);
    expect(() => h.c.triggerSavepoint()).toThrow(WeirError);
    expect(() => h.c.triggerSavepoint({ targetDir: "" })).toThrow(/no savepoint target directory.*state\.savepoints\.dir/);
  });

  it("fails a savepoint at once when not all tasks run", async () => {
    const h = harness([], { plan: () => "task Sink (2/2) is SCHEDULED" });
    const triggerId = h.c.triggerSavepoint({ targetDir: "file:///sp" });
    expect(h.c.savepointStatus(triggerId)).toEqual({
      status: "FAILED",
      failure: "savepoint could not be triggered: task Sink (2/2) is SCHEDULED",
    });
    await expect(h.c.completion(triggerId)).rejects.toThrow("task Sink (2/2) is SCHEDULED");
  });

  it("savepoint failures do not count towards the tolerable checkpoint failures", async () => {
    const h = harness([]);
    h.c.triggerSavepoint({ targetDir: "file:///sp" });
    h.c.receiveDecline("job-1.src.0.0", 1, "busy");
    expect(h.aborts).toHaveLength(1);
    expect(h.jobFailures).toEqual([]);
  });

  it("stop-with-savepoint notifies the tasks, then completes and ends periodic checkpoints", async () => {
    const h = harness();
    h.c.start();
    const triggerId = h.c.triggerSavepoint({ targetDir: "file:///sp", stop: { drain: true } });
    expect(h.triggers[0]!.msg).toMatchObject({ checkpointId: 1, kind: "savepoint", stop: { drain: true } });
    const order: string[] = [];
    const done = h.c.completion(triggerId).then((location) => order.push(`completed ${location}`));
    await h.ackAll(1);
    await done;
    expect(h.completes).toEqual([{ executionIds: ALL_TASKS, checkpointId: 1 }]);
    expect(order).toEqual(["completed file:///sp/savepoint-job-1-1"]);
    await h.time.advance(10_000);
    expect(triggeredIds(h)).toEqual([1]);
    const later = h.c.triggerSavepoint({ targetDir: "file:///sp" });
    expect(h.c.savepointStatus(later)?.failure).toContain("the job is finishing: stopped with savepoint file:///sp/savepoint-job-1-1");
  });

  it("an unknown trigger id has no status and its completion rejects", async () => {
    const h = harness([]);
    expect(h.c.savepointStatus("nope")).toBeUndefined();
    await expect(h.c.completion("nope")).rejects.toMatchObject({ code: "WEIR_E_NOT_FOUND" });
  });
});

describe("CheckpointCoordinator, statistics", () => {
  it("reports counts, the latest snapshots and history newest first", async () => {
    const h = harness([
      "execution.checkpointing.interval=1000",
      "execution.checkpointing.tolerable-failed-checkpoints=5",
      `state.checkpoints.dir=${CHECKPOINT_ROOT}`,
    ]);
    h.c.recordRestore({ id: 7, kind: "savepoint", externalPath: "file:///sp/savepoint-x", restoreTimestamp: T0 });
    h.c.start();
    await h.time.advance(1000);
    await h.time.advance(300);
    h.c.receiveAck("job-1.src.0.0", 8, ackOf("job-1.src.0.0", 8, 100, 0));
    h.c.receiveAck("job-1.src.1.0", 8, ackOf("job-1.src.1.0", 8, 100, 0));
    h.c.receiveAck("job-1.agg.0.0", 8, ackOf("job-1.agg.0.0", 8, 500, 40));
    await h.time.advance(200);
    h.c.receiveAck("job-1.agg.1.0", 8, ackOf("job-1.agg.1.0", 8, 250, 12));
    await h.c.whenIdle();
    await h.time.advance(500);
    h.c.receiveDecline("job-1.src.0.0", 9, "no");
    await h.time.advance(1000);
    await h.time.advance(250);

    const o = h.c.overview();
    expect(o.counts).toEqual({ completed: 1, failed: 1, inProgress: 1, restored: 1, total: 3 });
    expect(o.latest.restored).toEqual({ id: 7, kind: "savepoint", externalPath: "file:///sp/savepoint-x", restoreTimestamp: T0 });
    expect(o.latest.completed).toEqual({
      id: 8,
      kind: "checkpoint",
      status: "COMPLETED",
      triggerTimestamp: T0 + 1000,
      latestAckTimestamp: T0 + 1500,
      endToEndDuration: 500,
      stateSize: 950,
      alignmentMs: 40,
      syncMs: 1,
      asyncMs: 3,
      acknowledged: 4,
      finished: 0,
      total: 4,
      externalPath: `${CHECKPOINT_ROOT}/job-1/chk-8`,
    });
    expect(o.latest.failed).toMatchObject({ id: 9, failure: "Checkpoint 9 declined by task job-1.src.0.0: no" });
    expect(o.history.map((s) => [s.id, s.status, s.endToEndDuration])).toEqual([
      [10, "IN_PROGRESS", 250],
      [9, "FAILED", 0],
      [8, "COMPLETED", 500],
    ]);
  });

  it("keeps the last 20 in its history", async () => {
    const h = harness();
    h.c.start();
    for (let i = 1; i <= 25; i++) {
      await h.time.advance(1000);
      await h.ackAll(i);
    }
    const o = h.c.overview();
    expect(o.history).toHaveLength(20);
    expect(o.history[0]!.id).toBe(25);
    expect(o.counts.completed).toBe(25);
  });
});

describe("CheckpointCoordinator, finished tasks", () => {
  /** Source subtask 1 finished: only source 0 is triggered; the aggregate still runs (source 0 feeds it). */
  const SOURCE_1_FINISHED: CheckpointPlan = {
    ...PLAN,
    trigger: ["job-1.src.0.0"],
    ackFrom: PLAN.ackFrom.filter((t) => t.executionId !== "job-1.src.1.0"),
    finished: [{ vertexId: "src", subtask: 1 }],
  };
  const RUNNING = SOURCE_1_FINISHED.ackFrom.map((t) => t.executionId);
  const FINISHED_STATE = { keyed: null, lists: [], finished: true };
  const metadataOf = (h: Harness, id: number) => h.store.metadata.get(`${CHECKPOINT_ROOT}/job-1/chk-${id}/_metadata`)!;

  it("triggers the running tasks only, completes without the finished ones and records them as finished", async () => {
    const h = harness(undefined, { plan: () => SOURCE_1_FINISHED });
    h.c.start();
    await h.time.advance(1000);
    expect(h.triggers.map((t) => t.executionId)).toEqual(["job-1.src.0.0"]);
    await h.ackAll(1, RUNNING);
    expect(h.store.completed).toHaveLength(1);
    expect(h.completes).toEqual([{ executionIds: RUNNING, checkpointId: 1 }]);
    const [source, map, count] = metadataOf(h, 1).operators;
    expect(source!.subtasks).toEqual([{ keyed: null, lists: [{ name: "offsets", mode: "split", items: [0] }] }, FINISHED_STATE]);
    expect(map!.subtasks).toEqual([
      { keyed: null, lists: [] },
      { keyed: null, lists: [] },
    ]);
    expect(count!.subtasks.map((s) => s.keyed?.keyGroupStart)).toEqual([0, 64]);
    expect(h.c.overview().latest.completed).toMatchObject({ acknowledged: 3, finished: 1, total: 4 });
  });

  it("records a task that finishes instead of taking part as finished, ignoring its later decline", async () => {
    const h = harness();
    h.c.start();
    await h.time.advance(1000);
    h.c.receiveAck("job-1.src.0.0", 1, ackOf("job-1.src.0.0", 1));
    h.c.taskFinished("job-1.src.0.0"); // acked before finishing: its ack stands
    h.c.taskFinished("job-1.src.1.0"); // finished before the trigger reached it
    h.c.receiveDecline("job-1.src.1.0", 1, "task job-1.src.1.0 is not running on TaskManager tm-1");
    expect(h.c.overview().history[0]).toMatchObject({ status: "IN_PROGRESS", acknowledged: 1, finished: 1 });
    await h.ackAll(1, ["job-1.agg.0.0", "job-1.agg.1.0"]);
    expect(h.aborts).toEqual([]);
    expect(metadataOf(h, 1).operators[0]!.subtasks.map((s) => s.finished ?? false)).toEqual([false, true]);
    expect(h.completes).toEqual([{ executionIds: ["job-1.src.0.0", "job-1.agg.0.0", "job-1.agg.1.0"], checkpointId: 1 }]);
  });

  it("completes a stop-with-savepoint whose tasks all finished before taking part, and nothing more starts", async () => {
    const h = harness();
    h.c.start();
    const triggerId = h.c.triggerSavepoint({ targetDir: "file:///sp", stop: { drain: false } });
    for (const ex of ALL_TASKS) h.c.taskFinished(ex);
    await expect(h.c.completion(triggerId)).resolves.toBe("file:///sp/savepoint-job-1-1");
    const meta = h.store.metadata.get("file:///sp/savepoint-job-1-1/_metadata")!;
    expect(meta.operators.every((o) => o.subtasks.every((s) => s.finished === true))).toBe(true);
    expect(h.completes).toEqual([{ executionIds: [], checkpointId: 1 }]);
    await h.time.advance(10_000);
    expect(triggeredIds(h)).toEqual([1]);
  });

  it("ignores a task finishing once the snapshot is being written", async () => {
    const h = harness();
    const release = h.store.holdMetadataWrites();
    h.c.start();
    await h.time.advance(1000);
    for (const ex of ALL_TASKS) h.c.receiveAck(ex, 1, ackOf(ex, 1));
    h.c.taskFinished("job-1.agg.1.0");
    release();
    await h.c.whenIdle();
    expect(h.c.overview().latest.completed).toMatchObject({ acknowledged: 4, finished: 0 });
    expect(metadataOf(h, 1).operators[2]!.subtasks[1]!.finished).toBeUndefined();
  });

  it("refuses, without counting a failure, a snapshot where a partly finished operator keeps union list state", async () => {
    const h = harness(undefined, { plan: () => SOURCE_1_FINISHED }); // no failure tolerated
    h.c.start();
    await h.time.advance(1000);
    const union = { keyed: null, lists: [{ name: "progress", mode: "union" as const, items: [7] }] };
    h.c.receiveAck("job-1.src.0.0", 1, { operators: { source: union }, stats: { alignmentMs: 0, syncMs: 0, asyncMs: 0, bytes: 0 } });
    await h.ackAll(1, ["job-1.agg.0.0", "job-1.agg.1.0"]);
    expect(h.store.completed).toEqual([]);
    expect(h.c.overview().latest.failed?.failure).toBe(
      'Checkpoint 1 cannot be completed: operator "Source: numbers" (uid "source") keeps union list state "progress" and 1 of its 2 subtasks finished, ' +
        "whose part of that state is gone; checkpoints resume once all its subtasks finished",
    );
    expect(h.aborts.map((a) => a.checkpointId)).toEqual([1]);
    expect(h.store.discardedUrls).toHaveLength(2); // the aggregate's keyed files
    expect(h.jobFailures).toEqual([]);
  });
});
