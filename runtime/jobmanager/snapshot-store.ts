/**
 * The coordinator's SnapshotStore over checkpoint storage: `chk-N` directories under
 * `state.checkpoints.dir/<jobId>`, `_metadata` writing, and retention through the reference-counting
 * CompletedCheckpointStore. Retention failures are logged, never thrown into the job.
 */
import type { Logger } from "pino";
import type { RuntimeConfig } from "../config/options.js";
import { parentUrl, storageFor } from "../state/storage/checkpoint-storage.js";
import { checkpointDirUrl, CompletedCheckpointStore, newSavepointDirUrl, type DiscardResult } from "../state/storage/completed-store.js";
import { writeMetadata } from "../state/storage/metadata.js";
import { WeirError } from "../common/errors.js";
import type { SnapshotStore } from "./checkpoint-coordinator.js";
import type { RestorePoint } from "./job-master.js";

export interface JobSnapshotStore extends SnapshotStore {
  /** The snapshot the job starts from belongs to someone else (NO_CLAIM): restorable, never deleted. */
  addRestored(p: RestorePoint): void;
  /**
   * The job's own checkpoints, found again after its JobManager restarted (oldest first, the last is
   * the one restored): retained and deleted like checkpoints it took itself.
   */
  addRecovered(points: readonly RestorePoint[]): void;
  /** Delete the job's checkpoint directory (`<state.checkpoints.dir>/<jobId>`) and everything in it. */
  discardAll(): Promise<void>;
}

export function snapshotStoreFor(jobId: string, config: RuntimeConfig, log: Logger): JobSnapshotStore {
  const root = config["state.checkpoints.dir"];
  const completed = root ? new CompletedCheckpointStore(storageFor(root, config), config["execution.checkpointing.num-retained"], { log }) : null;
  // A job restored without a checkpoint directory still fails over to the snapshot it started from.
  let restored: RestorePoint | null = null;
  const report = (what: string) => (r: DiscardResult) => {
    if (r.failed.length > 0) log.warn({ jobId, failed: r.failed }, `${what}: some files could not be deleted`);
  };
  const needRoot = (): string => {
    if (!root) throw new WeirError("WEIR_E_CONFIG", "checkpoints need state.checkpoints.dir (a file:// or s3:// directory)");
    return root;
  };
  return {
    checkpointDir: (n) => checkpointDirUrl(needRoot(), jobId, n),
    newSavepointDir: (targetDir) => newSavepointDirUrl(targetDir, jobId),
    writeMetadata: (url, meta) => writeMetadata(storageFor(url, config), url, meta),
    async addCompleted(meta, url) {
      if (!completed) throw new WeirError("WEIR_E_CONFIG", "no state.checkpoints.dir to retain checkpoints in");
      report("checkpoint retention")(await completed.add(meta, url));
    },
    latest() {
      const cp = completed?.latest();
      return cp ? { meta: cp.meta, metadataUrl: cp.metadataUrl } : restored;
    },
    async discardUnregistered(urls) {
      if (completed) report("discarding files of a failed checkpoint")(await completed.discardUnregistered(urls));
    },
    discardDirectory: (dir) => storageFor(dir, config).deleteDirectory(dir),
    async discardAll() {
      if (!root) return;
      const dir = parentUrl(checkpointDirUrl(root, jobId, 0));
      await storageFor(dir, config).deleteDirectory(dir);
    },
    addRestored(p) {
      restored = p;
      if (completed) void completed.addRestored(p.meta, p.metadataUrl).then(report("retention"));
    },
    addRecovered(points) {
      restored = points.at(-1) ?? null;
      // Registered in order, synchronously (latest() is the last at once); subsumed ones are deleted meanwhile.
      for (const p of points) if (completed) void completed.add(p.meta, p.metadataUrl).then(report("retention"));
    },
  };
}
