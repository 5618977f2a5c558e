/**
 * CompletedCheckpointStore on the file storage: what it must never delete (restored snapshots, files
 * still referenced) and that a failed deletion never reaches the caller. Retention with shared files
 * is in the storage contract (storage-contract.ts), run against file:// and s3://.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import { joinUrl, storageFor, type CheckpointStorage } from "../../runtime/state/storage/checkpoint-storage.js";
import {
  checkpointDirUrl,
  CompletedCheckpointStore,
  newSavepointDirUrl,
  sharedDirUrl,
} from "../../runtime/state/storage/completed-store.js";
import { METADATA_FILE, writeMetadata } from "../../runtime/state/storage/metadata.js";
import { tempDir } from "../support/cluster.js";
import { snapshot, stateFile } from "./fixtures.js";

const base = tempDir("completed-store");
afterAll(() => rmSync(base, { recursive: true, force: true }));
const storage = storageFor(base, resolveConfig([], {}));
let n = 0;
const warnings: unknown[] = [];
const log = { warn: (o: unknown) => warnings.push(o) } as never;

/** A fresh job root with a helper that writes a checkpoint of one operator with the given file names. */
function job(store: (s: CheckpointStorage) => CompletedCheckpointStore, s: CheckpointStorage = storage) {
  const root = joinUrl(`file://${base}`, `t${n++}`);
  const shared = sharedDirUrl(root, "job");
  const st = store(s);
  const write = async (id: number, names: string[]) => {
    const files = await Promise.all(names.map((x) => stateFile(storage, joinUrl(shared, x), x)));
    const meta = snapshot(id, [{ uid: "op", files }]);
    const metadataUrl = joinUrl(checkpointDirUrl(root, "job", id), METADATA_FILE);
    await writeMetadata(storage, metadataUrl, meta);
    return { meta, metadataUrl };
  };
  const exists = async (x: string) => (await storage.stat(joinUrl(shared, x))) !== null;
  return { root, shared, store: st, write, exists };
}

describe("CompletedCheckpointStore", () => {
  it("never deletes the files or directory of the snapshot it was restored from, even when re-acked", async () => {
    const { root, store, write, exists } = job((s) => new CompletedCheckpointStore(s, 1, { log }));
    const restored = await write(10, ["r0", "r1"]);
    await store.addRestored(restored.meta, restored.metadataUrl);
    expect(store.latest()?.restored).toBe(true);
    // Subtask 0 did not change: checkpoint 11 re-acks the restored file r0.
    const c11 = await write(11, ["r0", "n1"]);
    await store.add(c11.meta, c11.metadataUrl);
    const c12 = await write(12, ["n0", "n1"]);
    await store.add(c12.meta, c12.metadataUrl);
    expect([await exists("r0"), await exists("r1"), await storage.stat(restored.metadataUrl)]).toEqual([true, true, { size: expect.any(Number) }]);
    expect(await storage.list(checkpointDirUrl(root, "job", 11))).toEqual([]);
    expect(store.all().map((c) => c.checkpointId)).toEqual([12]);
  });

  it("discardUnregistered deletes only files no retained or restored checkpoint references", async () => {
    const { shared, store, write, exists } = job((s) => new CompletedCheckpointStore(s, 2, { log }));
    const c1 = await write(1, ["kept"]);
    await store.add(c1.meta, c1.metadataUrl);
    const aborted = await Promise.all(["kept", "orphan"].map((x) => stateFile(storage, joinUrl(shared, x), x)));
    const res = await store.discardUnregistered(aborted.map((f) => f.url));
    expect(res).toEqual({ deleted: [joinUrl(shared, "orphan")], failed: [] });
    expect([await exists("kept"), await exists("orphan")]).toEqual([true, false]);
  });

  it("reports failed deletions instead of throwing, and keeps going", async () => {
    const flaky = Object.assign(Object.create(storage) as CheckpointStorage, {
      delete: () => Promise.reject(new Error("disk on fire")),
    });
    const { root, store, write, exists } = job((s) => new CompletedCheckpointStore(s, 1, { log }), flaky);
    warnings.length = 0;
    const c1 = await write(1, ["a"]);
    await store.add(c1.meta, c1.metadataUrl);
    const c2 = await write(2, ["b"]);
    const res = await store.add(c2.meta, c2.metadataUrl);
    expect(res.failed).toEqual([{ url: expect.stringContaining("/shared/a"), error: expect.stringContaining("disk on fire") }]);
    expect(res.deleted).toEqual([checkpointDirUrl(root, "job", 1)]);
    expect(warnings).toHaveLength(1);
    expect(await exists("a")).toBe(true);
    expect(store.latest()?.checkpointId).toBe(2);
  });

  it("keeps a file inside a subsumed chk-N directory that a retained checkpoint still references", async () => {
    const { root, store } = job((s) => new CompletedCheckpointStore(s, 1, { log }));
    const chk1 = checkpointDirUrl(root, "job", 1);
    const exclusive = await stateFile(storage, joinUrl(chk1, "op.state"), "x");
    const m1 = snapshot(1, [{ uid: "op", files: [exclusive] }]);
    await store.add(m1, joinUrl(chk1, METADATA_FILE));
    const m2 = snapshot(2, [{ uid: "op", files: [exclusive] }]);
    await store.add(m2, joinUrl(checkpointDirUrl(root, "job", 2), METADATA_FILE));
    expect(await storage.stat(exclusive.url)).toEqual({ size: 1 });
  });

  it("counts raw state files like keyed files: deleted when subsumed, never those of the snapshot restored from", async () => {
    const { root, shared, store, exists } = job((s) => new CompletedCheckpointStore(s, 1, { log }));
    // Raw files normally live in chk-N; here in shared/, so only reference counting can delete them.
    const withRaw = async (id: number, names: string[]) => {
      const meta = snapshot(id, [{ uid: "op", files: [null] }]);
      meta.operators[0]!.subtasks[0]!.raw = await Promise.all(names.map((x) => stateFile(storage, joinUrl(shared, x), x)));
      return meta;
    };
    await store.addRestored(await withRaw(5, ["restored.raw"]), joinUrl(checkpointDirUrl(root, "job", 5), METADATA_FILE));
    await store.add(await withRaw(6, ["6a.raw", "6b.raw"]), joinUrl(checkpointDirUrl(root, "job", 6), METADATA_FILE));
    expect([await exists("restored.raw"), await exists("6a.raw"), await exists("6b.raw")]).toEqual([true, true, true]);
    await store.add(await withRaw(7, ["7.raw"]), joinUrl(checkpointDirUrl(root, "job", 7), METADATA_FILE));
    expect([await exists("restored.raw"), await exists("6a.raw"), await exists("6b.raw"), await exists("7.raw")]).toEqual([true, false, false, true]);
  });

  it("refuses a retention below 1", () => {
    expect(() => new CompletedCheckpointStore(storage, 0, { log })).toThrow(RangeError);
  });
});

describe("layout helpers", () => {
  it("name checkpoint, shared and savepoint directories", () => {
    expect(checkpointDirUrl("s3://b/cp", "abcdef0123", 7)).toBe("s3://b/cp/abcdef0123/chk-7");
    expect(sharedDirUrl("/cp", "abcdef0123")).toBe("file:///cp/abcdef0123/shared");
    expect(newSavepointDirUrl("s3://b/sp/", "abcdef0123")).toMatch(/^s3:\/\/b\/sp\/savepoint-abcdef-[0-9a-f]{12}$/);
    expect(newSavepointDirUrl("/sp", "abcdef0123")).not.toBe(newSavepointDirUrl("/sp", "abcdef0123"));
  });
});
