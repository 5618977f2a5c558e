/** Snapshot fixtures for the storage tests: state files with real hashes and metadata around them. */
import { expect } from "vitest";
import { WeirError, type WeirErrorCode } from "../../runtime/common/errors.js";
import { joinUrl, type CheckpointStorage } from "../../runtime/state/storage/checkpoint-storage.js";
import { METADATA_FILE, sha256Hex, writeMetadata } from "../../runtime/state/storage/metadata.js";
import type { CheckpointMetadata, OperatorListState, StateFileRef } from "../../runtime/state/snapshot-types.js";

/** Write `data` to `url` and return its ref. */
export async function stateFile(storage: CheckpointStorage, url: string, data: string | Uint8Array): Promise<StateFileRef> {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  await storage.write(url, bytes);
  return { url, size: bytes.length, sha256: sha256Hex(bytes) };
}

/** One operator per entry; subtask i has keyed state in `files[i]` (null: none) over 4 key groups each. */
export function snapshot(
  checkpointId: number,
  ops: { uid: string; files: (StateFileRef | null)[]; lists?: OperatorListState[][] }[],
  kind: "checkpoint" | "savepoint" = "checkpoint",
): CheckpointMetadata {
  return {
    format: "weir-snapshot",
    version: 1,
    kind,
    jobId: "0123456789abcdef",
    jobName: "storage-test",
    checkpointId,
    timestamp: 1_700_000_000_000 + checkpointId,
    operators: ops.map((op) => ({
      uid: op.uid,
      name: `op ${op.uid}`,
      parallelism: op.files.length,
      maxParallelism: 4 * op.files.length,
      subtasks: op.files.map((file, i) => ({
        keyed: file ? { file, keyGroupStart: 4 * i, offsets: [0, 0, 0, 0, file.size] } : null,
        lists: op.lists?.[i] ?? [],
      })),
    })),
  };
}

function checkWeirError(err: unknown, code: WeirErrorCode, fragments: string[]): WeirError {
  expect(err, `expected ${code}`).toBeInstanceOf(WeirError);
  const we = err as WeirError;
  expect(we.code, we.message).toBe(code);
  for (const f of fragments) expect(we.message).toContain(f);
  return we;
}

/** Await `p` and expect a WeirError with `code` whose message contains every fragment. */
export async function expectWeirError(p: Promise<unknown>, code: WeirErrorCode, ...fragments: string[]): Promise<WeirError> {
  return checkWeirError(await p.then(() => null, (e: unknown) => e), code, fragments);
}

/** Call `f` and expect it to throw a WeirError with `code` whose message contains every fragment. */
export function thrownWeirError(f: () => unknown, code: WeirErrorCode, ...fragments: string[]): WeirError {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  return checkWeirError(err, code, fragments);
}

/**
 * Write checkpoint `id` of one operator into `<jobDir>/chk-<id>/` as a JobManager does: a state file,
 * then `_metadata` (omitted with `completed: false`, as when the JobManager died while taking it).
 */
export async function writeCheckpoint(
  storage: CheckpointStorage,
  jobDir: string,
  id: number,
  opts: { completed?: boolean } = {},
): Promise<{ metadataUrl: string; stateUrl: string }> {
  const dir = joinUrl(jobDir, `chk-${id}`);
  const file = await stateFile(storage, joinUrl(dir, `op-0-chk${id}.kg`), `state of checkpoint ${id}`);
  const metadataUrl = joinUrl(dir, METADATA_FILE);
  if (opts.completed !== false) await writeMetadata(storage, metadataUrl, snapshot(id, [{ uid: "op", files: [file] }]));
  return { metadataUrl, stateUrl: file.url };
}
