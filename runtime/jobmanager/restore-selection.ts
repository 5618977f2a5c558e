/**
 * Which snapshot a submitted job starts from. The sources, in precedence order:
 *
 *   1. its own checkpoints: a job submitted under a fixed id whose `<state.checkpoints.dir>/<jobId>`
 *      holds completed checkpoints is a JobManager restarted under the same arguments (application
 *      mode after a crash), and continues from the newest usable one, as Flink recovers a job from
 *      its HA store. They win over the sources below, which only said how the job first started.
 *      The job owns these checkpoints: retention deletes them in time like its new ones.
 *   2. `latestCheckpointDir` (`--from-latest-checkpoint`): the newest usable completed checkpoint of
 *      another job's checkpoint directory, e.g. of a dead deployment during an upgrade.
 *   3. `savepointPath` (`--from-savepoint`).
 *
 * A directory without a completed checkpoint passes to the next source; 2 with nothing after it that
 * yields a snapshot is an error (WEIR_E_NOT_FOUND) naming the directory. Choosing inside a directory
 * is `latestCheckpoint` (damaged checkpoints are skipped with a warning). Snapshots of sources 2 and 3
 * belong to someone else and are never deleted.
 */
import type { Logger } from "pino";
import { describeError, WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import { joinUrl, storageFor } from "../state/storage/checkpoint-storage.js";
import { latestCheckpoint } from "../state/storage/latest-checkpoint.js";
import { readMetadata } from "../state/storage/metadata.js";
import type { RestorePoint } from "./job-master.js";
import type { SubmitJobRequest } from "./rest-types.js";

/** One place a job's initial state may come from. */
export type RestoreSource =
  | { readonly kind: "own-checkpoints"; readonly dir: string }
  | { readonly kind: "latest-checkpoint"; readonly dir: string }
  | { readonly kind: "savepoint"; readonly path: string };

/** The sources a submission names, in precedence order (`checkpointsRoot`: `state.checkpoints.dir`, may be ""). */
export function restoreSources(req: Pick<SubmitJobRequest, "jobId" | "latestCheckpointDir" | "savepointPath">, checkpointsRoot: string): RestoreSource[] {
  return [
    ...(req.jobId && checkpointsRoot ? [{ kind: "own-checkpoints" as const, dir: joinUrl(checkpointsRoot, req.jobId) }] : []),
    ...(req.latestCheckpointDir ? [{ kind: "latest-checkpoint" as const, dir: req.latestCheckpointDir }] : []),
    ...(req.savepointPath ? [{ kind: "savepoint" as const, path: req.savepointPath }] : []),
  ];
}

/** What `chooseRestore` decided. */
export interface RestoreDecision {
  /** The snapshot to start from and where it came from, or null for a fresh start. */
  readonly chosen: { readonly point: RestorePoint; readonly source: RestoreSource } | null;
  /**
   * Own checkpoints only: the completed checkpoints the job takes over, oldest first, ending with
   * `chosen.point` (retention deletes them as new ones complete). Null: the snapshot is not the job's.
   */
  readonly owned: readonly RestorePoint[] | null;
  /** The job's checkpoint ids continue above this (above every `chk-<N>` already in its own directory). */
  readonly lastCheckpointId: number;
}

export interface ChooseRestoreDeps {
  config: RuntimeConfig;
  /** Read, verify and match one snapshot (`_metadata` URL or directory) against the job; throws a WeirError. */
  load(path: string): Promise<RestorePoint>;
  log: Logger;
}

const REASONS: Record<RestoreSource["kind"], string> = {
  "own-checkpoints":
    "the job's own latest checkpoint (its id already has completed checkpoints: its JobManager restarted), which takes precedence over --from-latest-checkpoint and --from-savepoint",
  "latest-checkpoint": "the latest completed checkpoint of --from-latest-checkpoint, which takes precedence over --from-savepoint",
  savepoint: "--from-savepoint",
};

/** Try `sources` in order (see the module comment); logs the choice, and every checkpoint skipped, with the reason. */
export async function chooseRestore(sources: readonly RestoreSource[], deps: ChooseRestoreDeps): Promise<RestoreDecision> {
  let lastCheckpointId = 0;
  const empty: string[] = [];
  for (const source of sources) {
    if (source.kind === "savepoint") {
      const point = await deps.load(source.path);
      return chosen(point, source, null, Math.max(lastCheckpointId, point.meta.checkpointId), empty, deps.log);
    }
    const found = await latestCheckpoint(storageFor(source.dir, deps.config), source.dir, (url) => deps.load(url));
    for (const s of found.skipped) deps.log.warn({ dir: source.dir, checkpoint: s.metadataUrl, reason: s.reason }, "skipping a checkpoint that cannot be restored");
    if (source.kind === "own-checkpoints") lastCheckpointId = found.highestId;
    if (found.chosen) {
      const point = found.chosen.value;
      const owned = source.kind === "own-checkpoints" ? [...(await readOlder(found.older.map((o) => o.metadataUrl), deps)), point] : null;
      return chosen(point, source, owned, Math.max(lastCheckpointId, point.meta.checkpointId), empty, deps.log);
    }
    empty.push(source.dir);
    const what = source.kind === "own-checkpoints" ? "the job has no completed checkpoint of its own (yet)" : "--from-latest-checkpoint holds no completed checkpoint";
    deps.log.info({ dir: source.dir, source: source.kind }, what);
  }
  const latestDir = sources.find((s) => s.kind === "latest-checkpoint");
  if (latestDir) {
    throw new WeirError(
      "WEIR_E_NOT_FOUND",
      `no completed checkpoint in ${latestDir.dir} to restore from (--from-latest-checkpoint expects a job's checkpoint directory, ` +
        "<state.checkpoints.dir>/<job id>, holding chk-<N>/_metadata), and no savepoint to fall back to",
    );
  }
  return { chosen: null, owned: null, lastCheckpointId };
}

function chosen(point: RestorePoint, source: RestoreSource, owned: RestorePoint[] | null, lastCheckpointId: number, empty: string[], log: Logger): RestoreDecision {
  log.info(
    { path: point.metadataUrl, checkpointId: point.meta.checkpointId, kind: point.meta.kind, source: source.kind, ...(empty.length > 0 ? { withoutCheckpoints: empty } : {}) },
    `job restores from ${REASONS[source.kind]}`,
  );
  return { chosen: { point, source }, owned, lastCheckpointId };
}

/** The `_metadata` of older own checkpoints, oldest first, for retention; an unreadable one is left alone (logged). */
async function readOlder(newestFirst: string[], deps: ChooseRestoreDeps): Promise<RestorePoint[]> {
  const out: RestorePoint[] = [];
  for (const url of [...newestFirst].reverse()) {
    try {
      out.push(await readMetadata(storageFor(url, deps.config), url));
    } catch (err) {
      deps.log.warn({ checkpoint: url, err: describeError(err) }, "an older checkpoint of the job is unreadable; it is left in place, not retained");
    }
  }
  return out;
}
