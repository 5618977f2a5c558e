/**
 * Runs a WriteAheadSink (Flink's GenericWriteAheadSink): exactly-once into systems whose transactions
 * cannot outlive the process that opened them.
 *
 * - Input is encoded by the sink's log as it arrives and kept in memory, per checkpoint.
 * - At a barrier the records since the previous barrier become a batch; every batch not yet published
 *   goes into the checkpoint as one raw state file of this subtask (one file, so that all batches of one
 *   origin stay together and in order when a rescale moves them to another subtask).
 * - When checkpoint N completes, the batches of checkpoints <= N are published in order, in the
 *   background: input keeps flowing, and is held only when more than MAX_UNPUBLISHED batches wait.
 *   A batch stays in every checkpoint until its publish succeeded.
 * - On restore the batches in the checkpoint are published again before any new input; `publish`
 *   checks the batch's marker first, so a batch published just before the failure is not repeated.
 *
 * The window Flink's two-phase commit leaves open with kafkajs (a process dying after the checkpoint
 * completed but before its commit) is closed because the records themselves, not a transaction handle,
 * are in the checkpoint.
 */
import { pack, unpack } from "msgpackr";
import type { WriteAheadBatchId, WriteAheadLog, WriteAheadSink } from "../api/sink.js";
import type { Batch } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { StreamOperator, type OperatorSnapshot, type SnapshotRequest, type StateInitContext } from "./operator.js";

/** Published batches waiting beyond this hold the input (bounded memory). */
const MAX_UNPUBLISHED = 3;
const FORMAT = "weir-write-ahead-log";

interface PendingBatch {
  id: WriteAheadBatchId;
  chunks: Buffer[];
  /** A savepoint's batch is published before the notification returns: a stop-with-savepoint ends the task right after. */
  savepoint: boolean;
  /** Handed to the publishing chain. */
  queued: boolean;
}

/**
 * The raw state file of one subtask: every batch it had not published at the barrier, and the job's
 * parallelism then. Written at every checkpoint, even without batches, so a restore always learns
 * the previous parallelism.
 */
export function encodeWriteAheadState(parallelism: number, batches: readonly PendingBatch[]): Buffer {
  return pack({ format: FORMAT, version: 1, parallelism, batches: batches.map((b) => ({ id: b.id, chunks: b.chunks })) });
}

export function decodeWriteAheadState(data: Buffer): { parallelism: number; batches: PendingBatch[] } {
  let decoded: unknown;
  try {
    decoded = unpack(data);
  } catch (err) {
    throw new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `write-ahead sink state does not decode: ${(err as Error).message}`);
  }
  const d = decoded as { format?: unknown; version?: unknown; parallelism?: unknown; batches?: unknown };
  if (d?.format !== FORMAT || d.version !== 1 || typeof d.parallelism !== "number" || !Array.isArray(d.batches)) {
    throw new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `write-ahead sink state is not a ${FORMAT} v1 file`);
  }
  const batches = (d.batches as { id: WriteAheadBatchId; chunks: Uint8Array[] }[]).map((b) => ({
    id: b.id,
    chunks: b.chunks.map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength))),
    savepoint: false,
    queued: false,
  }));
  return { parallelism: d.parallelism, batches };
}

export class WriteAheadSinkOperator extends StreamOperator {
  private log!: WriteAheadLog<unknown>;
  /** Records since the last barrier. */
  private current: Buffer[] = [];
  /** Batches sealed at a barrier and not yet published, oldest first. */
  private pending: PendingBatch[] = [];
  private restored: { parallelism: number; batches: PendingBatch[] } | null = null;
  /** The publishing chain: batches are published one after another. */
  private publishing: Promise<void> = Promise.resolve();
  private publishError: unknown = null;

  constructor(private readonly sink: WriteAheadSink<any>) {
    super();
  }

  override async initializeState(ctx: StateInitContext): Promise<void> {
    if (!ctx.isRestored) return;
    const files = (await ctx.rawState()).map((f) => decodeWriteAheadState(f));
    if (files.length === 0) return;
    // Batches of each origin in checkpoint order; origins one after another.
    this.restored = { parallelism: Math.max(...files.map((f) => f.parallelism)), batches: files.flatMap((f) => f.batches) };
  }

  override async open(): Promise<void> {
    this.log = await this.sink.createLog(this.ctx.runtime);
    const restored = this.restored;
    this.restored = null;
    if (restored === null) return;
    await this.log.recover?.({ previousParallelism: restored.parallelism, batches: restored.batches.map((b) => b.id) });
    for (const b of restored.batches) await this.log.publish(b.id, b.chunks);
  }

  processBatch(batch: Batch): void | Promise<void> {
    this.rethrowPublishError();
    if (batch.values.length === 0) return;
    this.current.push(this.log.encode(batch.values, batch.timestamps));
  }

  override processWatermark(timestamp: number): void {
    this.currentWatermark = timestamp;
  }

  override snapshotState(request: SnapshotRequest): () => Promise<OperatorSnapshot> {
    this.rethrowPublishError();
    if (this.current.length > 0) {
      const id = { lineage: this.ctx.runtime.jobId, subtask: this.ctx.runtime.subtaskIndex, checkpointId: request.checkpointId };
      this.pending.push({ id, chunks: this.current, savepoint: request.savepoint, queued: false });
      this.current = [];
    }
    const unpublished = this.pending.slice();
    return async () => ({ keyed: null, lists: [], raw: [encodeWriteAheadState(this.ctx.runtime.parallelism, unpublished)] });
  }

  override notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    this.rethrowPublishError();
    const due = this.pending.filter((b) => b.id.checkpointId <= checkpointId && !b.queued);
    if (due.length === 0) return;
    for (const b of due) this.enqueue(b);
    if (due.some((b) => b.savepoint) || this.queued() > MAX_UNPUBLISHED) return this.publishing.then(() => this.rethrowPublishError());
  }

  /** End of a bounded input: everything left is published now, with an id no later checkpoint reaches. */
  override async endInput(): Promise<void> {
    this.rethrowPublishError();
    for (const b of this.pending) if (!b.queued) this.enqueue(b);
    if (this.current.length > 0) {
      const id = { lineage: this.ctx.runtime.jobId, subtask: this.ctx.runtime.subtaskIndex, checkpointId: Number.MAX_SAFE_INTEGER };
      const last: PendingBatch = { id, chunks: this.current, savepoint: false, queued: false };
      this.current = [];
      this.pending.push(last);
      this.enqueue(last);
    }
    await this.publishing;
    this.rethrowPublishError();
  }

  /**
   * Closing the log stops its publishing; the chain is awaited too, so that nothing of this subtask
   * publishes once a canceled task is reported gone (its replacement publishes the same batches).
   */
  override async close(): Promise<void> {
    await this.log?.close?.();
    await this.publishing;
  }

  /**
   * Publish `b` after the batches queued before it. It stays in `pending`, and so in every checkpoint
   * taken meanwhile, until its publish succeeded: a restore from such a checkpoint hands it to
   * `publish` again, which finds its marker.
   */
  private enqueue(b: PendingBatch): void {
    b.queued = true;
    this.publishing = this.publishing.then(async () => {
      if (this.publishError !== null) return;
      try {
        await this.log.publish(b.id, b.chunks);
        this.pending.splice(this.pending.indexOf(b), 1);
      } catch (err) {
        this.publishError = err;
      }
    });
  }

  private queued(): number {
    let n = 0;
    for (const b of this.pending) if (b.queued) n++;
    return n;
  }

  private rethrowPublishError(): void {
    if (this.publishError !== null) throw this.publishError;
  }
}
