/**
 * The newest usable checkpoint of a job's checkpoint directory: checkpoints that never completed (no
 * `_metadata`) and damaged ones (corrupt `_metadata`, missing state file) are skipped newest first with
 * their reason; storage failures are not taken for damage; a directory whose completed checkpoints are
 * all damaged is refused.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { WeirError } from "../../runtime/common/errors.js";
import { resolveConfig } from "../../runtime/config/options.js";
import { joinUrl, storageFor } from "../../runtime/state/storage/checkpoint-storage.js";
import { checkpointDirs, latestCheckpoint } from "../../runtime/state/storage/latest-checkpoint.js";
import { readMetadata, verifyStateFiles } from "../../runtime/state/storage/metadata.js";
import { tempDir } from "../support/cluster.js";
import { expectWeirError, writeCheckpoint } from "./fixtures.js";

const base = tempDir("latest-checkpoint");
afterAll(() => rmSync(base, { recursive: true, force: true }));
const storage = storageFor(base, resolveConfig([], {}));
let n = 0;
const jobDir = () => joinUrl(`file://${base}`, `job${n++}`);

/** What a JobManager checks before restoring: `_metadata` and every state file's presence and size. */
async function verify(metadataUrl: string): Promise<number> {
  const { meta } = await readMetadata(storage, metadataUrl);
  await verifyStateFiles(storage, meta);
  return meta.checkpointId;
}

/** Flip a byte in the middle of a file. */
async function corrupt(url: string): Promise<void> {
  const b = await storage.read(url);
  b[Math.floor(b.length / 2)]! ^= 0x55;
  await storage.write(url, b);
}

describe("latestCheckpoint", () => {
  it("chooses the newest completed checkpoint and lists the older ones", async () => {
    const dir = jobDir();
    for (const id of [1, 2, 3]) await writeCheckpoint(storage, dir, id);
    const found = await latestCheckpoint(storage, dir, verify);
    expect(found.chosen).toMatchObject({ id: 3, value: 3, metadataUrl: joinUrl(dir, "chk-3", "_metadata") });
    expect(found.older.map((o) => o.id)).toEqual([2, 1]);
    expect(found.skipped).toEqual([]);
    expect(found.highestId).toBe(3);
  });

  it("skips a newer checkpoint that never completed, and one with a corrupt _metadata or a missing state file", async () => {
    const dir = jobDir();
    for (const id of [1, 2]) await writeCheckpoint(storage, dir, id);
    const missing = await writeCheckpoint(storage, dir, 3);
    await storage.delete(missing.stateUrl);
    await corrupt((await writeCheckpoint(storage, dir, 4)).metadataUrl);
    await writeCheckpoint(storage, dir, 5, { completed: false });
    const found = await latestCheckpoint(storage, dir, verify);
    expect(found.chosen?.id).toBe(2);
    expect(found.highestId).toBe(5);
    expect(found.older.map((o) => o.id)).toEqual([1]);
    expect(found.skipped.map((s) => s.id)).toEqual([5, 4, 3]);
    const [incomplete, badMetadata, badState] = found.skipped.map((s) => s.reason);
    expect(incomplete).toMatch(/incomplete: chk-5 has no _metadata/);
    expect(badMetadata).toMatch(/checksum mismatch/);
    expect(badState).toContain(`${missing.stateUrl} does not exist`);
  });

  it("finds nothing in a directory without completed checkpoints, but still reports the highest id", async () => {
    const none = await latestCheckpoint(storage, jobDir(), verify);
    expect(none).toEqual({ chosen: null, skipped: [], older: [], highestId: 0 });
    const dir = jobDir();
    await writeCheckpoint(storage, dir, 7, { completed: false });
    const incomplete = await latestCheckpoint(storage, dir, verify);
    expect(incomplete.chosen).toBeNull();
    expect(incomplete.highestId).toBe(7);
  });

  it("refuses a directory whose completed checkpoints are all damaged, naming it and each reason", async () => {
    const dir = jobDir();
    await corrupt((await writeCheckpoint(storage, dir, 1)).metadataUrl);
    await writeCheckpoint(storage, dir, 2, { completed: false });
    const err = await expectWeirError(latestCheckpoint(storage, dir, verify), "WEIR_E_CORRUPT_CHECKPOINT", dir, "chk-1:", "chk-2: incomplete");
    expect(err.message).toMatch(/checksum mismatch/);
  });

  it("does not take a storage failure for damage: it is thrown, not skipped", async () => {
    const dir = jobDir();
    for (const id of [1, 2]) await writeCheckpoint(storage, dir, id);
    const unreachable = () => Promise.reject(new WeirError("WEIR_E_STORAGE", "read failed: connection refused"));
    await expectWeirError(latestCheckpoint(storage, dir, unreachable), "WEIR_E_STORAGE", "connection refused");
  });

  it("looks only at chk-<N> directories directly below the job directory", async () => {
    const dir = jobDir();
    await writeCheckpoint(storage, dir, 2);
    await writeCheckpoint(storage, joinUrl(dir, "shared"), 9);
    await storage.write(joinUrl(dir, "chk-07", "_metadata"), Buffer.from("x"));
    await storage.write(joinUrl(dir, "chk-x", "_metadata"), Buffer.from("x"));
    await storage.write(joinUrl(dir, "chk-3", "_metadata.tmp-0a1b2c"), Buffer.from("x"));
    expect(await checkpointDirs(storage, dir)).toEqual([
      { id: 3, metadataUrl: joinUrl(dir, "chk-3", "_metadata"), completed: false },
      { id: 2, metadataUrl: joinUrl(dir, "chk-2", "_metadata"), completed: true },
    ]);
  });
});
