/**
 * Runs a TransactionalSink: two-phase commit driven by checkpoints.
 *
 * - At a barrier the writer pre-commits (closes its open transaction, durably); the committables
 *   of every checkpoint not yet known complete go into this operator's list state.
 * - When checkpoint N completes, everything prepared for checkpoints <= N is committed.
 * - On restore, the committables in the checkpoint are committed again (they may or may not have
 *   been before the failure: committers are idempotent), so a crash between checkpoint completion
 *   and commit loses nothing.
 */
import type { Committer, TransactionalSink, TransactionalSinkWriter } from "../api/sink.js";
import type { Batch } from "../common/elements.js";
import { RESERVED_PREFIX } from "../state/operator-state.js";
import { StreamOperator, type OperatorSnapshot, type SnapshotRequest, type StateInitContext } from "./operator.js";

const COMMITTABLES = `${RESERVED_PREFIX}committables`;

interface Pending {
  checkpointId: number;
  committables: unknown[];
}

export class TransactionalSinkOperator extends StreamOperator {
  private writer!: TransactionalSinkWriter<unknown, unknown>;
  private committer!: Committer<unknown>;
  /** Prepared transactions by checkpoint, oldest first, awaiting that checkpoint's completion. */
  private pending: Pending[] = [];
  /** Pre-commits whose asynchronous part is still running, by checkpoint. */
  private preparing = new Map<number, Promise<unknown[]>>();
  private restored: unknown[] = [];

  constructor(private readonly sink: TransactionalSink<any>) {
    super();
  }

  override initializeState(ctx: StateInitContext): void {
    this.restored = ctx.lists.find((l) => l.name === COMMITTABLES)?.items ?? [];
  }

  override async open(): Promise<void> {
    this.committer = this.sink.createCommitter(this.ctx.runtime);
    // Recover-and-commit before writing anything new.
    if (this.restored.length > 0) await this.committer.commit(this.restored);
    this.restored = [];
    this.writer = await this.sink.createWriter(this.ctx.runtime);
  }

  processBatch(batch: Batch): void | Promise<void> {
    return this.writer.write(batch.values, batch.timestamps);
  }

  override processWatermark(timestamp: number): void {
    this.currentWatermark = timestamp;
  }

  override snapshotState(request: SnapshotRequest): () => Promise<OperatorSnapshot> {
    const prepared = this.writer.prepareCommit(request.checkpointId);
    this.preparing.set(request.checkpointId, prepared);
    const earlier = this.pending.slice();
    return async () => {
      const committables = await prepared;
      this.preparing.delete(request.checkpointId);
      if (committables.length > 0) this.pending.push({ checkpointId: request.checkpointId, committables });
      const items = [...earlier.flatMap((p) => p.committables), ...committables];
      return { keyed: null, lists: items.length > 0 ? [{ name: COMMITTABLES, mode: "split", items }] : [] };
    };
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    // A pre-commit of this checkpoint may still be finishing if the notification overtook it.
    await this.preparing.get(checkpointId);
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId);
    if (due.length === 0) return;
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
    await this.committer.commit(due.flatMap((p) => p.committables));
  }

  /** End of a bounded input: the last transaction has no checkpoint to wait for. */
  override async endInput(): Promise<void> {
    const last = await this.writer.prepareCommit(Number.MAX_SAFE_INTEGER);
    const all = [...this.pending.flatMap((p) => p.committables), ...last];
    this.pending = [];
    if (all.length > 0) await this.committer.commit(all);
    await this.writer.flush?.();
  }

  override async close(): Promise<void> {
    await this.writer?.close?.();
  }
}
