/**
 * The sink contract. A writer receives whole batches; returning a Promise holds further input of the
 * subtask until it settles, which is how a slow external system backpressures the job.
 * A plain sink is at-least-once across failures (records between the last checkpoint and a crash are
 * written again after the restart). A `TransactionalSink` is exactly-once with checkpoints: a
 * two-phase commit where the writer prepares a transaction at each barrier and the committer makes
 * it visible when the checkpoint completes.
 */
import type { RuntimeContext } from "./functions.js";

export interface SinkWriter<T> {
  write(values: T[], timestamps: number[] | null): void | Promise<void>;
  /**
   * A checkpoint barrier passed: resolve once everything written before it is durable in the external
   * system (later writes may still be in flight). The checkpoint is acknowledged only then, which makes
   * a sink that writes asynchronously at-least-once. Not needed by sinks whose `write` already waits.
   */
  prepareSnapshot?(checkpointId: number): Promise<void>;
  /** Every input ended (bounded job): make everything written durable. */
  flush?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface Sink<T> {
  readonly name?: string;
  createWriter(ctx: RuntimeContext): SinkWriter<T> | Promise<SinkWriter<T>>;
}

/**
 * The writer of a two-phase-committing sink. Between barriers it writes into an open transaction.
 */
export interface TransactionalSinkWriter<T, C> extends SinkWriter<T> {
  /**
   * Pre-commit, called at a checkpoint barrier: close the open transaction (later writes go into a new
   * one, started before this returns) and resolve, once it is durable, with what commits it (JSON-safe
   * values, stored in the checkpoint). Resolve with [] when nothing was written.
   */
  prepareCommit(checkpointId: number): Promise<C[]>;
}

/** Makes prepared transactions visible. */
export interface Committer<C> {
  /**
   * Commit transactions. Must be idempotent: after a failure the same committables are committed again
   * from the checkpoint that holds them (recover-and-commit), possibly after they already were.
   */
  commit(committables: C[]): Promise<void> | void;
}

/**
 * An exactly-once sink: the runtime calls `prepareCommit` at each barrier, stores the committables in
 * the checkpoint, commits them when the checkpoint completes, and commits restored ones on recovery.
 * At the end of a bounded input the last transaction is prepared and committed at once.
 */
export interface TransactionalSink<T, C = unknown> extends Sink<T> {
  readonly transactional: true;
  createWriter(ctx: RuntimeContext): TransactionalSinkWriter<T, C> | Promise<TransactionalSinkWriter<T, C>>;
  createCommitter(ctx: RuntimeContext): Committer<C>;
}

export function isTransactionalSink<T>(sink: AnySink<T>): sink is TransactionalSink<T> {
  return (sink as Partial<TransactionalSink<T>>).transactional === true;
}

/**
 * Identifies one checkpoint's worth of a write-ahead sink subtask's records: `lineage` is the job id
 * that buffered them and `subtask` its subtask index, so ids never repeat across jobs (a restore from an
 * old savepoint starts a new lineage) and, within a lineage, increase with `checkpointId`.
 */
export interface WriteAheadBatchId {
  lineage: string;
  subtask: number;
  checkpointId: number;
}

/**
 * An exactly-once sink for systems that can make a batch visible atomically together with a marker,
 * but cannot finish a transaction another process opened (Kafka through kafkajs). Flink's
 * GenericWriteAheadSink: the runtime keeps the sink's input, encoded by `encode`, in the checkpoint;
 * when the checkpoint completes, `publish` writes that checkpoint's records. After a failure the
 * restored, possibly already published batches are handed to `publish` again.
 */
export interface WriteAheadSink<T> {
  readonly writeAhead: true;
  readonly name?: string;
  createLog(ctx: RuntimeContext): WriteAheadLog<T> | Promise<WriteAheadLog<T>>;
}

export interface WriteAheadLog<T> {
  /** Encode arriving records for the log (what the checkpoint stores); called once per input batch. */
  encode(values: T[], timestamps: number[] | null): Buffer;
  /**
   * Make one batch visible, atomically with a marker of `id`, unless the marker shows it already is.
   * Batches of one (lineage, subtask) arrive in checkpoint order, never concurrently. Rejecting fails the
   * task; the batch stays in the checkpoint and is published again after the restart.
   */
  publish(id: WriteAheadBatchId, chunks: readonly Buffer[]): Promise<void>;
  /**
   * Called once after a restore, before the restored batches are published: `previousParallelism` is
   * the parallelism of the job that took the checkpoint (for fencing what its subtasks may have left open).
   */
  recover?(info: { previousParallelism: number; batches: readonly WriteAheadBatchId[] }): Promise<void>;
  close?(): void | Promise<void>;
}

/** Anything `sinkTo` takes. */
export type AnySink<T> = Sink<T> | WriteAheadSink<T>;

export function isWriteAheadSink<T>(sink: AnySink<T>): sink is WriteAheadSink<T> {
  return (sink as Partial<WriteAheadSink<T>>).writeAhead === true;
}
