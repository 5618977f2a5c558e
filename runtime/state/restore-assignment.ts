/**
 * Which part of a snapshot each subtask of a restored job gets: pure functions over CheckpointMetadata.
 *
 * State maps to operators by uid. Keyed state moves by key group (a subtask gets every old file that
 * holds a key group of its new range, trimmed to those blocks), so any parallelism works as long as
 * max parallelism (the number of key groups) is unchanged. Operator list state is redistributed:
 * "split" lists round robin, "union" lists in full to every subtask. Raw state files each go to one
 * subtask: at the same parallelism every subtask keeps its own, else they are dealt round robin.
 *
 * Finished subtasks (snapshots taken after some tasks finished) hold no state, so they add nothing:
 * a finished source subtask's splits are done and no new subtask reads them again. An operator all of
 * whose subtasks finished is fully finished, and a vertex of only such operators is deployed finished
 * (`finishedVertices`): it runs no operator again, whatever the new parallelism.
 *
 *   checkStateMatches(meta, job.operators, opts.allowNonRestoredState);
 *   const finished = finishedVertices(meta, job.vertices);
 *   const restored = assignRestore(meta, { uid, parallelism, maxParallelism }, subtaskIndex);
 */
import { WeirError } from "../common/errors.js";
import { keyGroupRangeFor, type KeyGroupRange } from "../common/keys.js";
import { redistributeLists } from "./operator-state.js";
import type {
  CheckpointMetadata,
  KeyedStateHandle,
  OperatorStateMeta,
  RestoredOperatorState,
  StateFileRef,
} from "./snapshot-types.js";

/**
 * Refuse a snapshot holding state for operators the job no longer has (WEIR_E_STATE_MISMATCH, naming
 * them), unless `allowNonRestoredState`; returns the uids whose state is skipped.
 */
export function checkStateMatches(
  meta: CheckpointMetadata,
  operators: readonly { uid: string; name: string }[],
  allowNonRestoredState: boolean,
): string[] {
  const uids = new Set(operators.map((o) => o.uid));
  const unmatched = meta.operators.filter((o) => !uids.has(o.uid));
  if (unmatched.length > 0 && !allowNonRestoredState) {
    const names = unmatched.map((o) => `"${o.uid}" (operator "${o.name}")`).join(", ");
    throw new WeirError(
      "WEIR_E_STATE_MISMATCH",
      `snapshot ${meta.checkpointId} of job "${meta.jobName}" has state for operator uid(s) ${names} that the job does not have; ` +
        "restore with --allow-non-restored-state to skip that state",
    );
  }
  return unmatched.map((o) => o.uid);
}

/**
 * The state subtask `subtask` of operator `op` restores, or null when the snapshot has none for its uid.
 * A changed max parallelism is refused (WEIR_E_STATE_MISMATCH): key groups would map to other keys.
 */
export function assignRestore(
  meta: CheckpointMetadata,
  op: { uid: string; parallelism: number; maxParallelism: number },
  subtask: number,
): RestoredOperatorState | null {
  const old = meta.operators.find((o) => o.uid === op.uid);
  if (!old) return null;
  if (old.maxParallelism !== op.maxParallelism) {
    throw new WeirError(
      "WEIR_E_STATE_MISMATCH",
      `operator "${old.name}" (uid "${op.uid}"): max parallelism cannot change across a restore ` +
        `(snapshot ${old.maxParallelism}, job ${op.maxParallelism})`,
    );
  }
  const range = keyGroupRangeFor(subtask, op.parallelism, op.maxParallelism);
  const raw = rawFilesFor(old.subtasks.map((s) => s.raw ?? []), op.parallelism, subtask);
  return {
    keyed: old.subtasks.flatMap((s) => (s.keyed ? trimToRange(s.keyed, range) : [])),
    lists: redistributeLists(old.subtasks.map((s) => s.lists), op.parallelism)[subtask]!,
    ...(raw.length > 0 ? { raw } : {}),
  };
}

/**
 * The raw state files new subtask `subtask` of `parallelism` restores, from those of every old subtask
 * (index = old subtask): its own when the parallelism is unchanged (as Flink's round-robin
 * repartitioner keeps the old assignment), else file i of all of them in old subtask order goes to
 * subtask i % parallelism. Either way every file goes to exactly one subtask.
 */
function rawFilesFor(perOldSubtask: readonly (readonly StateFileRef[])[], parallelism: number, subtask: number): StateFileRef[] {
  if (perOldSubtask.length === parallelism) return [...perOldSubtask[subtask]!];
  return perOldSubtask.flat().filter((_, i) => i % parallelism === subtask);
}

/** Every subtask of the operator had finished when the snapshot was taken. */
export function isFullyFinished(op: OperatorStateMeta): boolean {
  return op.subtasks.length > 0 && op.subtasks.every((s) => s.finished === true);
}

/** A vertex of the job being restored, as `finishedVertices` needs it. */
export interface RestoreVertex {
  readonly id: string;
  readonly name: string;
  readonly operators: readonly { readonly uid: string }[];
  /** Ids of the vertices feeding it. */
  readonly upstream: readonly string[];
}

/**
 * Ids of the vertices whose operators are all fully finished in the snapshot: their subtasks are
 * deployed finished. Refuses (WEIR_E_STATE_MISMATCH) what only a changed job can produce: a vertex
 * chaining fully finished operators with others (operators without state in the snapshot count as
 * running), and a finished vertex fed by one that is not (its input would never be read).
 */
export function finishedVertices(meta: CheckpointMetadata, vertices: readonly RestoreVertex[]): Set<string> {
  const fullyFinished = new Set(meta.operators.filter(isFullyFinished).map((o) => o.uid));
  const finished = new Set<string>();
  for (const v of vertices) {
    const done = v.operators.filter((o) => fullyFinished.has(o.uid)).map((o) => o.uid);
    if (done.length === 0) continue;
    if (done.length < v.operators.length) {
      throw finishedMismatch(meta, `task "${v.name}" chains operators that had finished (uids ${done.join(", ")}) with operators that had not`);
    }
    finished.add(v.id);
  }
  for (const v of vertices) {
    const running = v.upstream.find((u) => !finished.has(u));
    if (finished.has(v.id) && running !== undefined) {
      const name = vertices.find((u) => u.id === running)?.name ?? running;
      throw finishedMismatch(meta, `task "${v.name}" had finished but its input "${name}" had not`);
    }
  }
  return finished;
}

function finishedMismatch(meta: CheckpointMetadata, what: string): WeirError {
  return new WeirError(
    "WEIR_E_STATE_MISMATCH",
    `snapshot ${meta.checkpointId} of job "${meta.jobName}" cannot be restored into this job: ${what}; ` +
      "a job whose tasks finished in a snapshot must keep their chaining and inputs",
  );
}

/** The handle cut down to the key groups in `range`, or [] when it holds none of them. */
function trimToRange(h: KeyedStateHandle, range: KeyGroupRange): KeyedStateHandle[] {
  const first = Math.max(h.keyGroupStart, range.start);
  const last = Math.min(h.keyGroupStart + h.offsets.length - 2, range.end);
  if (first > last) return [];
  const from = first - h.keyGroupStart;
  return [{ file: h.file, keyGroupStart: first, offsets: h.offsets.slice(from, last - h.keyGroupStart + 2) }];
}
