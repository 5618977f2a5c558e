/**
 * The shapes every part of checkpointing agrees on: what a task reports for one operator of one
 * subtask, what `_metadata` holds, and what a restored subtask is given.
 *
 * One canonical format serves checkpoints and savepoints and every backend (heap <-> RocksDB works
 * across them): keyed state is a file of key-group blocks, block g holding the msgpack-encoded
 * `KeyedEntry[]` of key group `keyGroupStart + g`; non-keyed operator state is a few JSON-safe lists
 * stored inline in `_metadata`, plus opaque binary blobs ("raw" operator state), one file each.
 */

/**
 * One entry of keyed state. `namespace` says whose entry it is: `s:<kind>[+ttl]:<name>` for a declared
 * keyed state (its value in the backend-independent form of runtime/state/codec.ts), `t:event` / `t:processing` for
 * timers, `w` for an operator's window contents.
 */
export type KeyedEntry = [namespace: string, key: unknown, value: unknown];

/** A file written for a checkpoint. `url` is absolute while a checkpoint is in flight. */
export interface StateFileRef {
  /** Absolute URL (file:///... or s3://bucket/key) in acks; relative to `_metadata`'s directory inside `_metadata`. */
  url: string;
  size: number;
  /** Hex SHA-256 of the whole file; a mismatch on read refuses the restore. */
  sha256: string;
}

/** Keyed state of one operator subtask: a file of consecutive key-group blocks. */
export interface KeyedStateHandle {
  file: StateFileRef;
  /** First key group in the file. */
  keyGroupStart: number;
  /** Byte offsets of the blocks: block g is [offsets[g], offsets[g + 1]); length = key groups + 1. */
  offsets: number[];
}

/**
 * Non-keyed (operator) list state. On restore at another parallelism, "split" items are spread
 * round robin over the new subtasks and "union" items are given to every subtask in full.
 * Items must be JSON-safe (they are stored inline in `_metadata`).
 */
export interface OperatorListState {
  name: string;
  mode: "split" | "union";
  items: unknown[];
}

/** What one operator of one subtask snapshotted. */
export interface OperatorSubtaskState {
  keyed: KeyedStateHandle | null;
  lists: OperatorListState[];
  /**
   * Raw operator state: one file per opaque blob the operator handed over (OperatorSnapshot.raw), in
   * that order, written into the snapshot's own directory (never shared with another checkpoint).
   * Absent when there is none, so snapshots without raw state keep their `_metadata` unchanged.
   */
  raw?: StateFileRef[];
  /**
   * The subtask had finished when the snapshot was taken (all its input ended and it ended its
   * operators, Flink's FLIP-147): it holds no state (`keyed` null, no lists, no raw) and what it read is done:
   * a source subtask's splits are not read again. An operator all of whose subtasks finished is
   * "fully finished": a restore does not run it again (TaskRestore.finished).
   */
  finished?: true;
}

/** All subtasks of one operator, as stored in `_metadata`. */
export interface OperatorStateMeta {
  /** The operator's uid: state is mapped to operators by uid on restore. */
  uid: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  /** Index = subtask index. */
  subtasks: OperatorSubtaskState[];
}

export type SnapshotKind = "checkpoint" | "savepoint";

/** The content of `_metadata`. */
export interface CheckpointMetadata {
  format: "weir-snapshot";
  version: 1;
  kind: SnapshotKind;
  jobId: string;
  jobName: string;
  checkpointId: number;
  /** Trigger time, epoch ms. */
  timestamp: number;
  operators: OperatorStateMeta[];
}

/** What a subtask of a vertex receives to restore one operator (already reassigned to its key groups). */
export interface RestoredOperatorState {
  /** Files (absolute URLs) and their blocks that hold key groups in the subtask's range. */
  keyed: KeyedStateHandle[];
  /** Lists after redistribution to this subtask. */
  lists: OperatorListState[];
  /**
   * Raw state files (absolute URLs) given to this subtask, each to exactly one subtask: its own at the
   * same parallelism, else round robin over those of all old subtasks. Absent when there are none.
   */
  raw?: StateFileRef[];
}

/** Per operator uid, the state a deployed subtask restores. */
export interface TaskRestore {
  checkpointId: number;
  /** Where the state came from (for logs and errors). */
  source: string;
  operators: Record<string, RestoredOperatorState>;
  /**
   * Every operator of the task is fully finished in the snapshot: the task is deployed finished. It
   * opens no operator and reads nothing; it ends its outputs once its inputs (from tasks finished
   * likewise) ended.
   */
  finished: boolean;
}
