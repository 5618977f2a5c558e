/**
 * Which snapshot a submitted job starts from: its own checkpoints (a restarted JobManager) before
 * `--from-latest-checkpoint` before `--from-savepoint`; a directory without completed checkpoints passes
 * to the next source; `--from-latest-checkpoint` with nothing to fall back to is an error naming it.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { WeirError } from "../../runtime/common/errors.js";
import { resolveConfig } from "../../runtime/config/options.js";
import { chooseRestore, restoreSources, type RestoreSource } from "../../runtime/jobmanager/restore-selection.js";
import { joinUrl, parentUrl, storageFor } from "../../runtime/state/storage/checkpoint-storage.js";
import { readMetadata, verifyStateFiles } from "../../runtime/state/storage/metadata.js";
import { tempDir } from "../support/cluster.js";
import { expectWeirError, writeCheckpoint } from "../storage/fixtures.js";

const base = tempDir("restore-selection");
afterAll(() => rmSync(base, { recursive: true, force: true }));
const config = resolveConfig([], {});
const storage = storageFor(base, config);
let n = 0;
const dir = () => joinUrl(`file://${base}`, `d${n++}`);

const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
const log = {
  info: (fields: Record<string, unknown>, msg: string) => logs.push({ level: "info", msg, fields }),
  warn: (fields: Record<string, unknown>, msg: string) => logs.push({ level: "warn", msg, fields }),
} as never;
const deps = {
  config,
  log,
  async load(path: string) {
    const point = await readMetadata(storage, path);
    await verifyStateFiles(storage, point.meta);
    return point;
  },
};

/** A savepoint: a completed snapshot outside any job directory. */
async function savepoint(id: number): Promise<string> {
  return parentUrl((await writeCheckpoint(storage, joinUrl(dir(), "sp"), id)).metadataUrl);
}

const own = (d: string): RestoreSource => ({ kind: "own-checkpoints", dir: d });
const latest = (d: string): RestoreSource => ({ kind: "latest-checkpoint", dir: d });
const fromSavepoint = (path: string): RestoreSource => ({ kind: "savepoint", path });

describe("restoreSources", () => {
  const jobId = "0123456789abcdef0123456789abcdef";
  it("lists the job's own directory, then --from-latest-checkpoint, then --from-savepoint", () => {
    expect(restoreSources({ jobId, latestCheckpointDir: "s3://b/old", savepointPath: "/sp" }, "s3://b/chk")).toEqual([
      own(`s3://b/chk/${jobId}`),
      latest("s3://b/old"),
      fromSavepoint("/sp"),
    ]);
  });
  it("has no own directory without a fixed job id or without state.checkpoints.dir", () => {
    expect(restoreSources({ savepointPath: "/sp" }, "s3://b/chk")).toEqual([fromSavepoint("/sp")]);
    expect(restoreSources({ jobId }, "")).toEqual([]);
  });
});

describe("chooseRestore", () => {
  it("starts fresh without sources", async () => {
    expect(await chooseRestore([], deps)).toEqual({ chosen: null, owned: null, lastCheckpointId: 0 });
  });

  it("prefers the job's own latest checkpoint, takes over its older ones, and continues above every chk-N there", async () => {
    const ownDir = dir();
    const otherDir = dir();
    for (const id of [4, 5]) await writeCheckpoint(storage, ownDir, id);
    await writeCheckpoint(storage, ownDir, 6, { completed: false });
    await writeCheckpoint(storage, otherDir, 40);
    const d = await chooseRestore([own(ownDir), latest(otherDir), fromSavepoint(await savepoint(90))], deps);
    expect(d.chosen?.source).toEqual(own(ownDir));
    expect(d.chosen?.point.metadataUrl).toBe(joinUrl(ownDir, "chk-5", "_metadata"));
    expect(d.owned?.map((p) => p.meta.checkpointId)).toEqual([4, 5]);
    expect(d.lastCheckpointId).toBe(6);
    expect(logs.at(-1)).toMatchObject({ level: "info", msg: expect.stringContaining("own latest checkpoint"), fields: { checkpointId: 5 } });
    expect(logs).toContainEqual(expect.objectContaining({ level: "warn", fields: expect.objectContaining({ reason: expect.stringMatching(/incomplete: chk-6/) }) }));
  });

  it("without own checkpoints takes the latest checkpoint of --from-latest-checkpoint, which it does not own", async () => {
    const ownDir = dir();
    const otherDir = dir();
    await writeCheckpoint(storage, ownDir, 2, { completed: false });
    for (const id of [11, 12]) await writeCheckpoint(storage, otherDir, id);
    const d = await chooseRestore([own(ownDir), latest(otherDir), fromSavepoint(await savepoint(90))], deps);
    expect(d.chosen?.source).toEqual(latest(otherDir));
    expect(d.chosen?.point.meta.checkpointId).toBe(12);
    expect(d.owned).toBeNull();
    expect(d.lastCheckpointId).toBe(12);
  });

  it("falls back to --from-savepoint when the --from-latest-checkpoint directory holds no completed checkpoint", async () => {
    const empty = dir();
    await writeCheckpoint(storage, empty, 3, { completed: false });
    const sp = await savepoint(90);
    const d = await chooseRestore([latest(empty), fromSavepoint(sp)], deps);
    expect(d.chosen?.source).toEqual(fromSavepoint(sp));
    expect(d.lastCheckpointId).toBe(90);
    expect(logs.at(-1)).toMatchObject({ msg: expect.stringContaining("--from-savepoint"), fields: { withoutCheckpoints: [empty] } });
  });

  it("refuses --from-latest-checkpoint with no completed checkpoint and no savepoint, naming the directory", async () => {
    const empty = dir();
    await expectWeirError(chooseRestore([latest(empty)], deps), "WEIR_E_NOT_FOUND", `no completed checkpoint in ${empty}`);
  });

  it("does not fall back past a directory whose completed checkpoints are all damaged", async () => {
    const damaged = dir();
    const { stateUrl } = await writeCheckpoint(storage, damaged, 8);
    await storage.delete(stateUrl);
    await expectWeirError(chooseRestore([latest(damaged), fromSavepoint(await savepoint(90))], deps), "WEIR_E_CORRUPT_CHECKPOINT", damaged, "chk-8:");
  });

  it("passes on errors that are not damage, e.g. state that does not fit the job", async () => {
    const d = dir();
    await writeCheckpoint(storage, d, 1);
    const mismatch = () => Promise.reject(new WeirError("WEIR_E_STATE_MISMATCH", "state of operator uid \"gone\""));
    await expectWeirError(chooseRestore([own(d)], { ...deps, load: mismatch }), "WEIR_E_STATE_MISMATCH", "gone");
  });
});
