/**
 * Raw operator state through real snapshots on file://: a non-keyed operator hands over binary blobs,
 * the task's persist step writes them as state files, the checkpoint coordinator completes the
 * snapshot through the real snapshot store (`_metadata`, retention), and fresh operators restore them,
 * at the same and at other parallelisms, after the JobManager's checks (readMetadata, verifyStateFiles,
 * every file read and verified).
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Batch } from "../../runtime/common/elements.js";
import { keyGroupRangeFor } from "../../runtime/common/keys.js";
import { createLogger } from "../../runtime/common/logging.js";
import { resolveConfig, type RuntimeConfig } from "../../runtime/config/options.js";
import { CheckpointCoordinator, type TriggerMessage } from "../../runtime/jobmanager/checkpoint-coordinator.js";
import { disposeSavepoint } from "../../runtime/jobmanager/savepoint-disposal.js";
import { snapshotStoreFor } from "../../runtime/jobmanager/snapshot-store.js";
import { StreamOperator, type OperatorSnapshot, type StateInitContext } from "../../runtime/operators/operator.js";
import { assignRestore } from "../../runtime/state/restore-assignment.js";
import type { CheckpointMetadata, OperatorSubtaskState } from "../../runtime/state/snapshot-types.js";
import { fileRefsOf, readMetadata, readVerified, storageFor, verifyStateFiles } from "../../runtime/state/storage/index.js";
import { mergeSubtaskStates, persistOperatorSnapshot, stateInitContext } from "../../runtime/taskmanager/task-checkpointing.js";
import { expectWeirError } from "../storage/fixtures.js";
import { tempDir } from "../support/cluster.js";

const base = tempDir("raw-state");
afterAll(() => rmSync(base, { recursive: true, force: true }));
const UID = "wal-sink";
const MAX = 128;
let jobs = 0;

/**
 * A write-ahead buffer in the spirit of GenericWriteAheadSink: records since the last barrier become
 * one blob at the barrier; every blob not yet "committed" is handed over again at each snapshot.
 */
class WriteAheadBuffer extends StreamOperator {
  /** Restored and sealed blobs, as text. */
  blobs: string[] = [];
  private open: string[] = [];

  override async initializeState(ctx: StateInitContext): Promise<void> {
    this.blobs = (await ctx.rawState()).map((b) => b.toString());
  }

  processBatch(batch: Batch): void {
    for (const v of batch.values) this.open.push(String(v));
  }

  override snapshotState(): () => Promise<OperatorSnapshot> {
    if (this.open.length > 0) this.blobs.push(this.open.splice(0).join(","));
    const raw = this.blobs.map((b) => Buffer.from(b));
    return async () => ({ keyed: null, lists: [], raw });
  }
}

const executionId = (i: number) => `wal.${i}`;

/** A job of one vertex running WriteAheadBuffer at `parallelism`, checkpointed into a fresh directory. */
function job(parallelism: number, ops: WriteAheadBuffer[] = Array.from({ length: parallelism }, () => new WriteAheadBuffer())) {
  const root = join(base, `job${jobs++}`);
  const config = resolveConfig([`state.checkpoints.dir=${pathToFileURL(root).href}`, "execution.checkpointing.interval=1000"], {});
  const triggers: TriggerMessage[] = [];
  /** Live timers: the periodic trigger (due in about an interval) and the checkpoint timeout. */
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let timerIds = 0;
  const ids = Array.from({ length: parallelism }, (_, i) => executionId(i));
  const log = createLogger("raw-state-test", { level: "silent" });
  const coordinator = new CheckpointCoordinator({
    jobId: "rawjob",
    jobName: "raw state",
    config,
    store: snapshotStoreFor("rawjob", config, log),
    plan: () => ({
      trigger: ids,
      ackFrom: ids.map((id, subtask) => ({ executionId: id, vertexId: "v", subtask })),
      finished: [],
      vertices: [{ id: "v", parallelism, maxParallelism: MAX, operators: [{ uid: UID, name: "WAL" }] }],
    }),
    trigger: (id, msg) => {
      if (id === ids[0]) triggers.push(msg);
    },
    notifyComplete: () => undefined,
    notifyAborted: () => undefined,
    failJob: () => undefined,
    log,
    setTimeout: (fn, ms) => {
      timers.set(++timerIds, { fn, ms });
      return timerIds;
    },
    clearTimeout: (id) => void timers.delete(id as number),
  });
  coordinator.start();

  /** Subtask `i` takes its part of the snapshot `msg` as a task does; returns what it acked. */
  const snapshotOf = async (i: number, msg: TriggerMessage): Promise<OperatorSubtaskState> => {
    const run = ops[i]!.snapshotState({ checkpointId: msg.checkpointId, timestamp: msg.timestamp, savepoint: msg.kind === "savepoint", mayReuseKeyed: false });
    const where = { targetDir: msg.targetDir, uid: UID, subtask: i, checkpointId: msg.checkpointId };
    const { state, bytes } = await persistOperatorSnapshot(await run(), where, null, config);
    coordinator.receiveAck(ids[i]!, msg.checkpointId, { operators: { [UID]: state }, stats: { alignmentMs: 0, syncMs: 0, asyncMs: 0, bytes } });
    return state;
  };
  const takeAll = async (msg: TriggerMessage) => {
    for (let i = 0; i < parallelism; i++) await snapshotOf(i, msg);
    await coordinator.whenIdle();
  };
  return {
    root,
    config,
    ops,
    coordinator,
    snapshotOf,
    /** Trigger the next periodic checkpoint; returns what the sources were sent. */
    trigger(): TriggerMessage {
      const [id, next] = [...timers].sort((a, b) => a[1].ms - b[1].ms)[0]!;
      timers.delete(id);
      next.fn();
      return triggers.at(-1)!;
    },
    /** Run the next periodic checkpoint; returns its `chk-N` directory (a path). */
    async checkpoint(): Promise<string> {
      const msg = this.trigger();
      await takeAll(msg);
      return fileURLToPath(msg.targetDir);
    },
    /** Take a savepoint into `dir`; returns its directory (a path). */
    async savepoint(dir: string): Promise<string> {
      const triggerId = coordinator.triggerSavepoint({ targetDir: pathToFileURL(dir).href });
      await takeAll(triggers.at(-1)!);
      return fileURLToPath(await coordinator.completion(triggerId));
    },
    /** Records `values` into subtask `i`. */
    write(i: number, ...values: string[]): void {
      ops[i]!.processBatch({ kind: "batch", values, timestamps: null });
    },
  };
}

/** What the JobManager does before deploying from `path` (JobManager.loadRestorePoint's file checks). */
async function load(path: string, config: RuntimeConfig): Promise<CheckpointMetadata> {
  const storage = storageFor(pathToFileURL(path).href, config);
  const { meta } = await readMetadata(storage, pathToFileURL(path).href);
  await verifyStateFiles(storage, meta);
  for (const { ref } of fileRefsOf(meta)) await readVerified(storageFor(ref.url, config), ref);
  return meta;
}

/** Fresh operators at `parallelism`, each restored from its share of `meta`, as tasks do before `open`. */
async function restore(meta: CheckpointMetadata, parallelism: number, config: RuntimeConfig): Promise<WriteAheadBuffer[]> {
  return Promise.all(
    Array.from({ length: parallelism }, async (_, i) => {
      const op = new WriteAheadBuffer();
      const restored = assignRestore(meta, { uid: UID, parallelism, maxParallelism: MAX }, i) ?? undefined;
      await op.initializeState(stateInitContext(restored, keyGroupRangeFor(i, parallelism, MAX), config));
      return op;
    }),
  );
}

/** A job of `parallelism` whose subtask i sealed `counts[i]` blobs, the last checkpoint's directory. */
async function withBlobs(counts: number[]) {
  const j = job(counts.length);
  let dir = "";
  for (let round = 0; round < Math.max(...counts); round++) {
    counts.forEach((n, i) => round < n && j.write(i, `s${i}-b${round}-x`, `s${i}-b${round}-y`));
    dir = await j.checkpoint();
  }
  const all = j.ops.flatMap((op) => op.blobs);
  return { j, dir, all };
}

const rawFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".raw"));

describe("raw operator state", () => {
  it("round trips through a checkpoint: one file per blob beside _metadata, each subtask gets its own back", async () => {
    const { j, dir, all } = await withBlobs([3, 1]);
    expect(all).toEqual(["s0-b0-x,s0-b0-y", "s0-b1-x,s0-b1-y", "s0-b2-x,s0-b2-y", "s1-b0-x,s1-b0-y"]);
    expect(rawFiles(dir)).toHaveLength(4);
    const meta = await load(dir, j.config);
    expect(meta.operators[0]!.subtasks.map((s) => s.raw?.length)).toEqual([3, 1]);
    // Round robin over all four would give subtask 1 "s0-b1"; at the same parallelism each keeps its own.
    expect((await restore(meta, 2, j.config)).map((op) => op.blobs)).toEqual([j.ops[0]!.blobs, j.ops[1]!.blobs]);
  });

  it("keeps large blobs out of _metadata", async () => {
    const j = job(1);
    const big = "z".repeat(8 << 20);
    j.write(0, big);
    const dir = await j.checkpoint();
    expect(statSync(join(dir, "_metadata")).size).toBeLessThan(2_000);
    const [op] = await restore(await load(dir, j.config), 1, j.config);
    expect(op!.blobs).toEqual([big]);
  });

  it.each([
    [[2, 2], 3],
    [[3, 1], 3],
    [[1, 2, 3], 2],
    [[2, 0, 1], 2],
    [[1, 1, 1], 1],
    [[2, 1], 5],
  ])("rescales %j blobs to parallelism %i: every blob restored exactly once, round robin", async (counts, p) => {
    const { j, dir, all } = await withBlobs(counts);
    const restored = (await restore(await load(dir, j.config), p, j.config)).map((op) => op.blobs);
    expect(restored.flat().sort()).toEqual([...all].sort());
    expect(restored).toEqual(Array.from({ length: p }, (_, i) => all.filter((_, n) => n % p === i)));
  });

  it("restores nothing for an operator that wrote no raw state, and writes no raw field", async () => {
    const j = job(2);
    const dir = await j.checkpoint();
    const meta = await load(dir, j.config);
    expect(meta.operators[0]!.subtasks).toEqual([{ keyed: null, lists: [] }, { keyed: null, lists: [] }]);
    expect(readFileSync(join(dir, "_metadata"), "utf8")).not.toContain('"raw"');
    expect((await restore(meta, 3, j.config)).map((op) => op.blobs)).toEqual([[], [], []]);
  });

  it("refuses a corrupt raw file, naming it, and the operator restores none of its blobs", async () => {
    const { j, dir } = await withBlobs([2, 1]);
    const meta = await load(dir, j.config);
    const bad = meta.operators[0]!.subtasks[0]!.raw![1]!;
    const path = fileURLToPath(bad.url);
    writeFileSync(path, Buffer.from(readFileSync(path).toString().toUpperCase()));
    await expectWeirError(load(dir, j.config), "WEIR_E_CORRUPT_CHECKPOINT", bad.url, "sha256");
    const op = new WriteAheadBuffer();
    const restored = assignRestore(meta, { uid: UID, parallelism: 2, maxParallelism: MAX }, 0)!;
    await expectWeirError(op.initializeState(stateInitContext(restored, keyGroupRangeFor(0, 2, MAX), j.config)), "WEIR_E_CORRUPT_CHECKPOINT", bad.url);
    expect(op.blobs).toEqual([]);
  });

  it("refuses a missing raw file, naming operator, subtask and file", async () => {
    const { j, dir } = await withBlobs([1, 2]);
    const meta = await load(dir, j.config);
    const gone = meta.operators[0]!.subtasks[1]!.raw![0]!;
    rmSync(fileURLToPath(gone.url));
    await expectWeirError(load(dir, j.config), "WEIR_E_STATE_FILE_MISSING", `operator "${UID}" subtask 1`, gone.url);
    await expectWeirError(restore(meta, 1, j.config), "WEIR_E_STATE_FILE_MISSING", gone.url);
  });

  it("deletes the raw files of a subsumed checkpoint with its directory", async () => {
    const { j, dir } = await withBlobs([1, 1]);
    j.write(0, "more");
    const next = await j.checkpoint();
    expect(existsSync(dir)).toBe(false);
    expect(rawFiles(next)).toHaveLength(3);
  });

  it("deletes the raw files of a checkpoint that fails after some subtasks acked, and of a late ack", async () => {
    const j = job(2);
    j.write(0, "a");
    j.write(1, "b");
    const msg = j.trigger();
    const acked = await j.snapshotOf(0, msg);
    j.coordinator.receiveDecline(executionId(1), msg.checkpointId, "disk full");
    const late = await j.snapshotOf(1, msg);
    await j.coordinator.whenIdle();
    for (const ref of [...acked.raw!, ...late.raw!]) expect(existsSync(fileURLToPath(ref.url)), ref.url).toBe(false);
    expect(existsSync(fileURLToPath(msg.targetDir))).toBe(false);
  });

  it("stores raw files inside a savepoint, which restores after being moved and disposes with them", async () => {
    const { j } = await withBlobs([2, 1]);
    const sp = await j.savepoint(join(j.root, "savepoints"));
    expect(rawFiles(sp)).toHaveLength(3);
    const body = readFileSync(join(sp, "_metadata"), "utf8");
    expect(body).not.toContain(sp);
    const moved = join(base, `moved-${jobs}`);
    renameSync(sp, moved);
    const meta = await load(moved, j.config);
    expect(fileRefsOf(meta).every((r) => fileURLToPath(r.ref.url).startsWith(moved + "/"))).toBe(true);
    expect((await restore(meta, 3, j.config)).map((op) => op.blobs).flat().sort()).toEqual(j.ops.flatMap((op) => op.blobs).sort());
    await disposeSavepoint(moved, j.config);
    expect(existsSync(moved)).toBe(false);
  });
});

describe("persisting raw state", () => {
  const config = resolveConfig([], {});

  it("writes raw blobs beside an unchanged keyed file and counts their bytes", async () => {
    const targetDir = pathToFileURL(join(base, `persist-${jobs++}`)).href;
    const previous = { file: { url: `${targetDir}/old.kg`, size: 3, sha256: "0".repeat(64) }, keyGroupStart: 0, offsets: [0, 3] };
    const where = { targetDir, uid: "op/1", subtask: 2, checkpointId: 7 };
    const { state, bytes } = await persistOperatorSnapshot({ keyed: "unchanged", lists: [], raw: [Buffer.from("ab"), Buffer.alloc(0)] }, where, previous, config);
    expect(state.keyed).toBe(previous);
    expect(state.raw!.map((r) => [r.url.slice(targetDir.length + 1).replace(/[0-9a-f]{12}/, "R"), r.size])).toEqual([
      ["op_1-2-chk7-R-0.raw", 2],
      ["op_1-2-chk7-R-1.raw", 0],
    ]);
    expect(bytes).toBe(2);
    expect((await stateInitContext({ keyed: [], lists: [], raw: state.raw! }, keyGroupRangeFor(0, 1, MAX), config).rawState()).map(String)).toEqual(["ab", ""]);
  });

  it("omits the raw field when there are no blobs", async () => {
    const targetDir = pathToFileURL(join(base, `persist-${jobs++}`)).href;
    const where = { targetDir, uid: "op", subtask: 0, checkpointId: 1 };
    for (const raw of [undefined, []]) {
      const { state } = await persistOperatorSnapshot({ keyed: null, lists: [], ...(raw ? { raw } : {}) }, where, null, config);
      expect(state).toEqual({ keyed: null, lists: [] });
      expect("raw" in state).toBe(false);
    }
  });

  it("merges the phases of one operator in a task, keeping every raw file in order", () => {
    const ref = (n: string) => ({ url: `file:///x/${n}`, size: 1, sha256: "0".repeat(64) });
    const lists = { keyed: null, lists: [{ name: "l", mode: "split" as const, items: [1] }] };
    const own = { keyed: null, lists: [], raw: [ref("a"), ref("b")] };
    expect(mergeSubtaskStates(lists, own)).toEqual({ keyed: null, lists: lists.lists, raw: [ref("a"), ref("b")] });
    expect(mergeSubtaskStates(own, { keyed: null, lists: [], raw: [ref("c")] }).raw).toEqual([ref("a"), ref("b"), ref("c")]);
    expect("raw" in mergeSubtaskStates(lists, lists)).toBe(false);
  });
});
