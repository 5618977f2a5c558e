/**
 * The behaviour every CheckpointStorage must have, run against file:// and s3:// by the *.test.ts
 * files beside this one. `env()` is read inside each test (the S3 server starts in beforeAll); every
 * test works in a fresh directory below `env().base`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CheckpointStorage } from "../../runtime/state/storage/checkpoint-storage.js";
import { joinUrl } from "../../runtime/state/storage/checkpoint-storage.js";
import { checkpointDirUrl, CompletedCheckpointStore, sharedDirUrl } from "../../runtime/state/storage/completed-store.js";
import {
  encodeMetadata,
  METADATA_FILE,
  readMetadata,
  readVerified,
  verifyStateFiles,
  writeMetadata,
} from "../../runtime/state/storage/metadata.js";
import { expectWeirError, snapshot, stateFile } from "./fixtures.js";

export interface StorageEnv {
  storage: CheckpointStorage;
  /** A directory URL this suite may fill (file:///tmp/... or s3://bucket/prefix). */
  base: string;
}

const silent = { log: { warn: () => undefined } as never };

export function describeStorageContract(label: string, env: () => StorageEnv): void {
  const fresh = () => ({ storage: env().storage, dir: joinUrl(env().base, randomUUID()) });

  describe(`${label}: files`, () => {
    it("writes, reads whole files and byte ranges, and stats them", async () => {
      const { storage, dir } = fresh();
      const url = joinUrl(dir, "a", "f.bin");
      await storage.write(url, Buffer.from("hello world"));
      expect((await storage.read(url)).toString()).toBe("hello world");
      expect((await storage.read(url, { start: 6, end: 11 })).toString()).toBe("world");
      expect((await storage.read(url, { start: 3, end: 3 })).length).toBe(0);
      expect(await storage.stat(url)).toEqual({ size: 11 });
      await storage.write(url, Buffer.from("bye"));
      expect((await storage.read(url)).toString()).toBe("bye");
    });

    it("refuses a missing file and a range past the end, naming the URL", async () => {
      const { storage, dir } = fresh();
      const missing = joinUrl(dir, "nope");
      await expectWeirError(storage.read(missing), "WEIR_E_STATE_FILE_MISSING", missing);
      expect(await storage.stat(missing)).toBeNull();
      const url = joinUrl(dir, "short");
      await storage.write(url, Buffer.from("12345"));
      await expectWeirError(storage.read(url, { start: 2, end: 9 }), "WEIR_E_CORRUPT_CHECKPOINT", url, "truncated");
      await expectWeirError(storage.read(url, { start: 7, end: 9 }), "WEIR_E_CORRUPT_CHECKPOINT", url);
    });

    it("deletes files; deleting a missing file is fine", async () => {
      const { storage, dir } = fresh();
      const url = joinUrl(dir, "f");
      await storage.write(url, Buffer.from("x"));
      await storage.delete(url);
      expect(await storage.stat(url)).toBeNull();
      await storage.delete(url);
    });

    it("lists files below a directory as sorted absolute URLs, not a sibling with a common prefix", async () => {
      const { storage, dir } = fresh();
      const names = ["d/b", "d/a", "d/sub/c"];
      for (const n of names) await storage.write(joinUrl(dir, n), Buffer.from(n));
      await storage.write(joinUrl(dir, "dx/other"), Buffer.from("x"));
      expect(await storage.list(joinUrl(dir, "d"))).toEqual(["d/a", "d/b", "d/sub/c"].map((n) => joinUrl(dir, n)));
      expect(await storage.list(joinUrl(dir, "empty"))).toEqual([]);
    });

    it("deletes a directory recursively, leaving siblings; a missing directory is fine", async () => {
      const { storage, dir } = fresh();
      for (const n of ["d/a", "d/sub/b", "dx/c"]) await storage.write(joinUrl(dir, n), Buffer.from(n));
      await storage.deleteDirectory(joinUrl(dir, "d"));
      expect(await storage.list(dir)).toEqual([joinUrl(dir, "dx/c")]);
      await storage.deleteDirectory(joinUrl(dir, "never-there"));
    });

    it("writeAtomic: concurrent readers see the old or the new content whole, and no temp file remains", async () => {
      const { storage, dir } = fresh();
      const url = joinUrl(dir, "_metadata");
      const versions = ["a", "b", "c", "d"].map((ch) => Buffer.alloc(512 * 1024, ch));
      await storage.writeAtomic(url, versions[0]!);
      for (const next of versions.slice(1)) {
        const writing = storage.writeAtomic(url, next);
        const seen = await Promise.all(Array.from({ length: 4 }, () => storage.read(url)));
        await writing;
        for (const s of seen) expect(versions.some((v) => v.equals(s)), "a read saw a partial file").toBe(true);
      }
      expect((await storage.read(url)).equals(versions[3]!)).toBe(true);
      expect(await storage.list(dir)).toEqual([url]);
    });

    it("round-trips a 5 MB object byte for byte, with a range from its middle", async () => {
      const { storage, dir } = fresh();
      const data = randomBytes(5 * 1024 * 1024);
      const ref = await stateFile(storage, joinUrl(dir, "big.state"), data);
      expect((await readVerified(storage, ref)).equals(data)).toBe(true);
      expect((await storage.read(ref.url, { start: 3_000_000, end: 3_000_100 })).equals(data.subarray(3_000_000, 3_000_100))).toBe(true);
      expect(await storage.stat(ref.url)).toEqual({ size: data.length });
    });
  });

  describe(`${label}: _metadata`, () => {
    /** A checkpoint of job root `dir`: two operators, one with shared files of two subtasks. */
    async function checkpoint(storage: CheckpointStorage, root: string, n: number) {
      const shared = sharedDirUrl(root, "job");
      const f0 = await stateFile(storage, joinUrl(shared, `a-0-${n}`), `state of a/0 at ${n}`);
      const f1 = await stateFile(storage, joinUrl(shared, `a-1-${n}`), `state of a/1 at ${n}`);
      const meta = snapshot(n, [{ uid: "a", files: [f0, f1] }, { uid: "b", files: [null], lists: [[{ name: "offsets", mode: "split", items: [1, 2] }]] }]);
      return { meta, metadataUrl: joinUrl(checkpointDirUrl(root, "job", n), METADATA_FILE) };
    }

    it("round-trips metadata with state file URLs stored relative to _metadata", async () => {
      const { storage, dir } = fresh();
      const { meta, metadataUrl } = await checkpoint(storage, dir, 3);
      const bytes = await writeMetadata(storage, metadataUrl, meta);
      const raw = await storage.read(metadataUrl);
      expect(raw.length).toBe(bytes);
      expect(raw.toString()).toContain('"url":"../shared/a-0-3"');
      expect(raw.toString()).not.toContain(dir);
      for (const ref of [metadataUrl, joinUrl(metadataUrl, "..")]) {
        const got = await readMetadata(storage, ref);
        expect(got).toEqual({ meta, metadataUrl });
      }
      await verifyStateFiles(storage, meta);
    });

    it("a savepoint directory copied elsewhere restores from its new location", async () => {
      const { storage, dir } = fresh();
      const sp = joinUrl(dir, "savepoint-012345-aaaaaaaaaaaa");
      const f = await stateFile(storage, joinUrl(sp, "a-0.state"), "keyed");
      await writeMetadata(storage, joinUrl(sp, METADATA_FILE), snapshot(9, [{ uid: "a", files: [f] }], "savepoint"));
      const moved = joinUrl(dir, "moved");
      for (const url of await storage.list(sp)) await storage.write(url.replace(sp, moved), await storage.read(url));
      await storage.deleteDirectory(sp);
      const { meta } = await readMetadata(storage, moved);
      expect(meta.operators[0]!.subtasks[0]!.keyed!.file.url).toBe(joinUrl(moved, "a-0.state"));
      await verifyStateFiles(storage, meta);
      expect((await readVerified(storage, meta.operators[0]!.subtasks[0]!.keyed!.file)).toString()).toBe("keyed");
    });

    it("refuses a missing, truncated, corrupted, foreign or newer _metadata", async () => {
      const { storage, dir } = fresh();
      const { meta, metadataUrl } = await checkpoint(storage, dir, 1);
      await expectWeirError(readMetadata(storage, metadataUrl), "WEIR_E_CORRUPT_CHECKPOINT", metadataUrl, "does not exist");
      const good = encodeMetadata(meta, metadataUrl);
      const cases: [Buffer, string][] = [
        [good.subarray(0, good.length - 10), "truncated"],
        [good.subarray(0, 30), "truncated"],
        [Buffer.alloc(0), "empty"],
        [Buffer.from(good.toString().replace('"uid":"a"', '"uid":"x"')), "checksum mismatch"],
        [Buffer.concat([good, Buffer.from(" ")]), "beyond its declared length"],
        [Buffer.from('{"format":"weir-snapshot"}'), "unknown format"],
        [Buffer.from(good.toString().replace("weir-snapshot v1 ", "weir-snapshot v2 ")), "unsupported snapshot version v2"],
      ];
      for (const [bytes, why] of cases) {
        await storage.writeAtomic(metadataUrl, bytes);
        await expectWeirError(readMetadata(storage, metadataUrl), "WEIR_E_CORRUPT_CHECKPOINT", metadataUrl, why);
      }
    });

    it("refuses a missing state file or one of the wrong size, naming operator, subtask and URL", async () => {
      const { storage, dir } = fresh();
      const { meta } = await checkpoint(storage, dir, 2);
      const [f0, f1] = meta.operators[0]!.subtasks.map((s) => s.keyed!.file);
      await storage.write(f1!.url, Buffer.from("grown by a few bytes"));
      await expectWeirError(verifyStateFiles(storage, meta), "WEIR_E_CORRUPT_CHECKPOINT", 'operator "a" subtask 1', f1!.url);
      await storage.delete(f0!.url);
      await expectWeirError(verifyStateFiles(storage, meta), "WEIR_E_STATE_FILE_MISSING", 'operator "a" subtask 0', f0!.url);
      await expectWeirError(readVerified(storage, f0!), "WEIR_E_STATE_FILE_MISSING", f0!.url);
    });

    it("readVerified refuses a file whose content no longer matches its hash", async () => {
      const { storage, dir } = fresh();
      const ref = await stateFile(storage, joinUrl(dir, "s"), "original");
      await storage.write(ref.url, Buffer.from("ORIGINAL"));
      await expectWeirError(readVerified(storage, ref), "WEIR_E_CORRUPT_CHECKPOINT", ref.url, "sha256");
    });
  });

  describe(`${label}: completed checkpoint store`, () => {
    it("keeps `retained` checkpoints and deletes a shared file only when no retained checkpoint references it", async () => {
      const { storage, dir } = fresh();
      const shared = sharedDirUrl(dir, "job");
      const file = (name: string) => stateFile(storage, joinUrl(shared, name), name);
      const store = new CompletedCheckpointStore(storage, 2, silent);
      const exists = async (name: string) => (await storage.stat(joinUrl(shared, name))) !== null;
      const complete = async (n: number, names: [string, string]) => {
        const meta = snapshot(n, [{ uid: "a", files: await Promise.all(names.map(file)) }]);
        const metadataUrl = joinUrl(checkpointDirUrl(dir, "job", n), METADATA_FILE);
        await writeMetadata(storage, metadataUrl, meta);
        return store.add(meta, metadataUrl);
      };
      // Subtask 0's state never changes after checkpoint 1: every checkpoint re-acks file "s0-1".
      await complete(1, ["s0-1", "s1-1"]);
      await complete(2, ["s0-1", "s1-2"]);
      const third = await complete(3, ["s0-1", "s1-3"]);
      expect(third.failed).toEqual([]);
      expect(await exists("s1-1")).toBe(false);
      expect(await exists("s0-1")).toBe(true);
      expect(await storage.list(checkpointDirUrl(dir, "job", 1))).toEqual([]);
      expect(store.all().map((c) => c.checkpointId)).toEqual([2, 3]);
      await complete(4, ["s0-4", "s1-3"]);
      expect([await exists("s1-2"), await exists("s0-1")]).toEqual([false, true]);
      await complete(5, ["s0-4", "s1-5"]);
      // s1-3 survives: checkpoint 4 (retained) still references it.
      expect([await exists("s0-1"), await exists("s1-3"), await exists("s0-4")]).toEqual([false, true, true]);
      expect(store.latest()?.checkpointId).toBe(5);
      const { meta } = await readMetadata(storage, store.latest()!.metadataUrl);
      await verifyStateFiles(storage, meta);
    });
  });
}
