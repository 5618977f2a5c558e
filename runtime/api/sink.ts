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

export function isTransactionalSink<T>(sink: Sink<T>): sink is TransactionalSink<T> {
  return (sink as Partial<TransactionalSink<T>>).transactional === true;
}
