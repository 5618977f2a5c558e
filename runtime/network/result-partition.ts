/**
 * The output of one producer subtask on one edge: one Subpartition per consumer subtask. Its `id` is
 * chosen by the JobManager and is how consumers (local or remote) ask for it.
 */
import { WeirError } from "../common/errors.js";
import { DEFAULT_SUBPARTITION_CAPACITY, Subpartition, type SubpartitionOwner } from "./subpartition.js";

/** How to build a ResultPartition. */
export interface ResultPartitionOptions {
  /** Unique id, chosen by the JobManager (e.g. `${executionId}/${edge}/${subtask}`). */
  readonly id: string;
  /** Number of consumer subtasks (1 for forward edges). */
  readonly numberOfSubpartitions: number;
  /** Batches each subpartition queues before it reports full. Default 4. */
  readonly capacity?: number;
}

/** N subpartitions, their consumption state, and failure/release. */
export class ResultPartition implements SubpartitionOwner {
  readonly id: string;
  readonly subpartitions: readonly Subpartition[];
  private consumedCount = 0;
  private released = false;
  private readonly consumedListeners: Array<() => void> = [];
  private readonly consumerErrorListeners: Array<(error: WeirError) => void> = [];
  private readonly releaseListeners: Array<() => void> = [];

  constructor(options: ResultPartitionOptions) {
    const capacity = options.capacity ?? DEFAULT_SUBPARTITION_CAPACITY;
    checkPositiveInt("numberOfSubpartitions", options.numberOfSubpartitions, options.id);
    checkPositiveInt("capacity", capacity, options.id);
    this.id = options.id;
    const subs: Subpartition[] = [];
    for (let i = 0; i < options.numberOfSubpartitions; i++) subs.push(new Subpartition(options.id, i, capacity, this));
    this.subpartitions = subs;
  }

  /** Number of subpartitions. */
  get numberOfSubpartitions(): number {
    return this.subpartitions.length;
  }

  /** True once every consumer has read its end-of-partition event. */
  isFullyConsumed(): boolean {
    return this.consumedCount === this.subpartitions.length;
  }

  /** True after release(). */
  get isReleased(): boolean {
    return this.released;
  }

  /** Call `listener` once every subpartition is consumed (at once if already so). */
  onFullyConsumed(listener: () => void): void {
    if (this.isFullyConsumed()) listener();
    else this.consumedListeners.push(listener);
  }

  /**
   * Call `listener` when a consumer goes away before reading its end (its connection was lost). The
   * producer cannot make progress on that subpartition any more; the task should fail.
   */
  onConsumerError(listener: (error: WeirError) => void): void {
    this.consumerErrorListeners.push(listener);
  }

  /** Call `listener` on release (the PartitionManager unregisters the partition then). */
  onRelease(listener: () => void): void {
    this.releaseListeners.push(listener);
  }

  /** The producer failed: consumers that have not finished get `error`. Queued data is dropped. */
  fail(error: WeirError): void {
    for (const sub of this.subpartitions) sub.fail(error);
  }

  /** Free the partition. Consumers that have not read their end get a WEIR_E_PARTITION_FAILED error. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.fail(new WeirError("WEIR_E_PARTITION_FAILED", `partition ${this.id} was released before it was fully consumed`));
    for (const listener of this.releaseListeners.splice(0)) listener();
  }

  /** @internal SubpartitionOwner */
  subpartitionConsumed(_index: number): void {
    if (++this.consumedCount === this.subpartitions.length) {
      for (const listener of this.consumedListeners.splice(0)) listener();
    }
  }

  /** @internal SubpartitionOwner */
  consumerLost(_index: number, error: WeirError): void {
    for (const listener of this.consumerErrorListeners) listener(error);
  }
}

function checkPositiveInt(name: string, value: number, id: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new WeirError("WEIR_E_CONFIG", `partition ${id}: ${name} must be a positive integer, got ${value}`);
  }
}
