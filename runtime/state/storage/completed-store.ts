/**
 * The completed checkpoints a job retains, and the reference counts that decide when a state file
 * can be deleted.
 *
 * Layout (URLs under `state.checkpoints.dir` / `state.savepoints.dir`, file:// or s3://):
 *
 *   <checkpoints dir>/<jobId>/chk-<N>/_metadata     one directory per completed checkpoint
 *   <checkpoints dir>/<jobId>/shared/<name>         task state files, possibly referenced by several
 *                                                   checkpoints (a subtask whose state did not change
 *                                                   re-acks the file of the previous checkpoint)
 *   <savepoints dir>/savepoint-<jobId[0:6]>-<12 hex>/_metadata + its state files
 *                                                   self-contained and relocatable (all refs relative);
 *                                                   owned by the user, never deleted by Weir
 *
 * A file is deleted when the last retained checkpoint referencing it is subsumed; files of the
 * checkpoint or savepoint a job was restored from are never deleted (NO_CLAIM: the user owns them).
 * Deletion failures are logged and returned, never thrown: a full bucket or a flaky network must
 * not fail a running job (the files are left behind, as in Flink).
 */
import { randomBytes } from "node:crypto";
import { createLogger, type Logger } from "../../common/logging.js";
import type { CheckpointMetadata } from "../snapshot-types.js";
import type { CheckpointStorage } from "./checkpoint-storage.js";
import { mapLimit, STORAGE_CONCURRENCY } from "./internal/map-limit.js";
import { isBelow, joinUrl, normalizeUrl, parentUrl } from "./internal/urls.js";
import { fileRefsOf } from "./metadata.js";

/** `<root>/<jobId>/chk-<n>`: the directory of checkpoint `n` (its `_metadata` lives inside). */
export function checkpointDirUrl(root: string, jobId: string, n: number): string {
  return joinUrl(root, jobId, `chk-${n}`);
}

/** `<root>/<jobId>/shared`: where tasks write state files of checkpoints. */
export function sharedDirUrl(root: string, jobId: string): string {
  return joinUrl(root, jobId, "shared");
}

/** A fresh savepoint directory under `dir`: `savepoint-<first 6 of jobId>-<12 random hex>`. */
export function newSavepointDirUrl(dir: string, jobId: string): string {
  return joinUrl(dir, `savepoint-${jobId.slice(0, 6)}-${randomBytes(6).toString("hex")}`);
}

/** A checkpoint in the store. */
export interface CompletedCheckpoint {
  readonly checkpointId: number;
  readonly metadataUrl: string;
  readonly meta: CheckpointMetadata;
  /** The snapshot the job was restored from: neither its files nor its directory are ever deleted here. */
  readonly restored: boolean;
}

/** What a discard did: deleted URLs, and those whose deletion failed (left behind). */
export interface DiscardResult {
  deleted: string[];
  failed: { url: string; error: string }[];
}

/** Distinct (normalized) state file URLs of a snapshot. */
const fileUrls = (meta: CheckpointMetadata) => [...new Set(fileRefsOf(meta).map((r) => normalizeUrl(r.ref.url)))];

/**
 * Retains the latest `retained` completed checkpoints (oldest subsumed first). Not persistent: after a
 * JobManager restart the job restores from the latest checkpoint via `addRestored`.
 */
export class CompletedCheckpointStore {
  private readonly checkpoints: CompletedCheckpoint[] = [];
  /** URL -> number of retained (non-restored) checkpoints referencing it. */
  private readonly refCounts = new Map<string, number>();
  /** Files of restored snapshots: never deleted, whoever else references them. */
  private readonly pinned = new Set<string>();
  private readonly log: Logger;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly retained: number,
    opts: { log?: Logger } = {},
  ) {
    if (!Number.isInteger(retained) || retained < 1) throw new RangeError(`retained must be an integer >= 1, got ${retained}`);
    this.log = opts.log ?? createLogger("checkpoint-store");
  }

  /** Register a newly completed checkpoint, then subsume (and delete) what falls out of retention. */
  add(meta: CheckpointMetadata, metadataUrl: string): Promise<DiscardResult> {
    for (const url of fileUrls(meta)) this.refCounts.set(url, (this.refCounts.get(url) ?? 0) + 1);
    return this.push({ checkpointId: meta.checkpointId, metadataUrl: normalizeUrl(metadataUrl), meta, restored: false });
  }

  /** Register the checkpoint/savepoint the job was restored from (NO_CLAIM): usable for failover, never deleted. */
  addRestored(meta: CheckpointMetadata, metadataUrl: string): Promise<DiscardResult> {
    for (const url of fileUrls(meta)) this.pinned.add(url);
    return this.push({ checkpointId: meta.checkpointId, metadataUrl: normalizeUrl(metadataUrl), meta, restored: true });
  }

  /** The most recently added checkpoint, or null. */
  latest(): CompletedCheckpoint | null {
    return this.checkpoints.at(-1) ?? null;
  }

  /** The retained checkpoints, oldest first. */
  all(): readonly CompletedCheckpoint[] {
    return [...this.checkpoints];
  }

  /** Delete files of an aborted checkpoint, except those a retained or restored checkpoint references. */
  discardUnregistered(urls: readonly string[]): Promise<DiscardResult> {
    const orphans = [...new Set(urls.map(normalizeUrl))].filter((u) => !this.refCounts.has(u) && !this.pinned.has(u));
    return this.deleteAll(orphans, (url) => this.storage.delete(url));
  }

  private async push(cp: CompletedCheckpoint): Promise<DiscardResult> {
    this.checkpoints.push(cp);
    const subsumed = this.checkpoints.splice(0, Math.max(0, this.checkpoints.length - this.retained));
    const results = await Promise.all(subsumed.map((old) => this.release(old)));
    return { deleted: results.flatMap((r) => r.deleted), failed: results.flatMap((r) => r.failed) };
  }

  /** Drop a subsumed checkpoint's references; delete files nobody references any more, then its directory. */
  private async release(cp: CompletedCheckpoint): Promise<DiscardResult> {
    if (cp.restored) return { deleted: [], failed: [] };
    const unreferenced: string[] = [];
    for (const url of fileUrls(cp.meta)) {
      const n = (this.refCounts.get(url) ?? 1) - 1;
      if (n > 0) this.refCounts.set(url, n);
      else {
        this.refCounts.delete(url);
        if (!this.pinned.has(url)) unreferenced.push(url);
      }
    }
    const files = await this.deleteAll(unreferenced, (url) => this.storage.delete(url));
    const dir = await this.deleteCheckpointDir(cp);
    return { deleted: [...files.deleted, ...dir.deleted], failed: [...files.failed, ...dir.failed] };
  }

  /** `chk-N/` normally holds only `_metadata`; if a live file lies inside it, only `_metadata` goes. */
  private deleteCheckpointDir(cp: CompletedCheckpoint): Promise<DiscardResult> {
    const dir = parentUrl(cp.metadataUrl);
    const live = [...this.refCounts.keys(), ...this.pinned].some((u) => isBelow(dir, u));
    return live
      ? this.deleteAll([cp.metadataUrl], (url) => this.storage.delete(url))
      : this.deleteAll([dir], (url) => this.storage.deleteDirectory(url));
  }

  private async deleteAll(urls: string[], del: (url: string) => Promise<void>): Promise<DiscardResult> {
    const result: DiscardResult = { deleted: [], failed: [] };
    await mapLimit(urls, STORAGE_CONCURRENCY, async (url) => {
      try {
        await del(url);
        result.deleted.push(url);
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        this.log.warn({ url, err: error }, "could not delete checkpoint data; it is left behind");
        result.failed.push({ url, error });
      }
    });
    return result;
  }
}
