/**
 * Finding the newest usable checkpoint in a job's checkpoint directory (`<checkpoints dir>/<jobId>`),
 * as a restarted JobManager does for its own job and an upgrade does for a dead deployment's job:
 *
 *   const found = await latestCheckpoint(storage, jobDir, (metadataUrl) => loadAndVerify(metadataUrl));
 *   if (found.chosen) restoreFrom(found.chosen.value);   // found.skipped says what was passed over, and why
 *
 * A directory `chk-<N>` without `_metadata` never completed (its JobManager died while taking it);
 * one whose `_metadata` or state files fail verification is damaged. Both are skipped, newest first,
 * until one loads. Storage failures (S3 unreachable, permissions) are thrown, never taken as "damaged":
 * falling back to an older checkpoint because of a network error would lose committed progress.
 */
import { WeirError } from "../../common/errors.js";
import type { CheckpointStorage } from "./checkpoint-storage.js";
import { baseName, joinUrl, normalizeUrl, parentUrl } from "./internal/urls.js";
import { METADATA_FILE } from "./metadata.js";

/** A `chk-<N>` directory below a job's checkpoint directory. */
export interface CheckpointDirEntry {
  readonly id: number;
  /** URL of its `_metadata` (which may not exist). */
  readonly metadataUrl: string;
  /** Whether `_metadata` exists: the checkpoint completed (it may still be damaged). */
  readonly completed: boolean;
}

/** The `chk-<N>` directories below `jobDirUrl`, newest (highest N) first; [] when there is none. */
export async function checkpointDirs(storage: CheckpointStorage, jobDirUrl: string): Promise<CheckpointDirEntry[]> {
  const byId = new Map<number, boolean>();
  const root = normalizeUrl(jobDirUrl);
  for (const url of await storage.list(root)) {
    // Only files directly inside <jobDir>/chk-N/ (not, say, <jobDir>/shared/chk-3/x).
    const dir = parentUrl(url);
    const m = /^chk-(0|[1-9]\d*)$/.exec(baseName(dir));
    if (!m || parentUrl(dir) !== root) continue;
    const id = Number(m[1]);
    byId.set(id, (byId.get(id) ?? false) || baseName(url) === METADATA_FILE);
  }
  return [...byId]
    .sort(([a], [b]) => b - a)
    .map(([id, completed]) => ({ id, metadataUrl: joinUrl(jobDirUrl, `chk-${id}`, METADATA_FILE), completed }));
}

/** The outcome of `latestCheckpoint`. */
export interface LatestCheckpoint<T> {
  /** The newest checkpoint that loaded, or null when the directory holds no completed checkpoint. */
  readonly chosen: { readonly id: number; readonly metadataUrl: string; readonly value: T } | null;
  /** Newer `chk-<N>` directories passed over, newest first, with the reason. */
  readonly skipped: readonly { readonly id: number; readonly metadataUrl: string; readonly reason: string }[];
  /** Completed checkpoints older than the chosen one, newest first (not loaded). */
  readonly older: readonly CheckpointDirEntry[];
  /** The highest N of any `chk-<N>` directory (0 when none): new checkpoints must go above it. */
  readonly highestId: number;
}

/** Errors that mean "this checkpoint is damaged": try an older one. */
const DAMAGED: ReadonlySet<string> = new Set(["WEIR_E_CORRUPT_CHECKPOINT", "WEIR_E_STATE_FILE_MISSING"]);

/**
 * The newest checkpoint in `jobDirUrl` that `load` accepts. `load` reads and verifies one `_metadata`
 * URL; when it throws WEIR_E_CORRUPT_CHECKPOINT or WEIR_E_STATE_FILE_MISSING the checkpoint is skipped,
 * any other error is thrown. Throws WEIR_E_CORRUPT_CHECKPOINT, naming the directory and every reason,
 * when completed checkpoints exist but none loads: starting from anything else could repeat or lose
 * output their sinks already committed.
 */
export async function latestCheckpoint<T>(
  storage: CheckpointStorage,
  jobDirUrl: string,
  load: (metadataUrl: string) => Promise<T>,
): Promise<LatestCheckpoint<T>> {
  const dirs = await checkpointDirs(storage, jobDirUrl);
  const highestId = dirs[0]?.id ?? 0;
  const skipped: { id: number; metadataUrl: string; reason: string }[] = [];
  for (const [i, d] of dirs.entries()) {
    if (!d.completed) {
      skipped.push({ id: d.id, metadataUrl: d.metadataUrl, reason: `incomplete: chk-${d.id} has no ${METADATA_FILE} (it never completed)` });
      continue;
    }
    try {
      const value = await load(d.metadataUrl);
      return { chosen: { id: d.id, metadataUrl: d.metadataUrl, value }, skipped, older: dirs.slice(i + 1).filter((o) => o.completed), highestId };
    } catch (err) {
      if (!(err instanceof WeirError && DAMAGED.has(err.code))) throw err;
      skipped.push({ id: d.id, metadataUrl: d.metadataUrl, reason: err.message });
    }
  }
  if (dirs.some((d) => d.completed)) {
    const reasons = skipped.map((s) => `chk-${s.id}: ${s.reason}`).join("\n  ");
    throw new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `no checkpoint in ${jobDirUrl} can be restored, every completed one is damaged:\n  ${reasons}`);
  }
  return { chosen: null, skipped, older: [], highestId };
}
