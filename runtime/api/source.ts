/**
 * The source contract (in the spirit of Flink's FLIP-27): a source is cut into splits, a reader per
 * subtask reads the splits assigned to it, and each split keeps its own watermark.
 *
 * Contract:
 * - `splits()` must return the same splits, in the same order, in every process that builds the job:
 *   split `i` is read by subtask `i % parallelism`.
 * - `poll()` must not block: it emits what it has (about `maxRecords`) and returns "more" when it could
 *   emit again at once, a Promise when it must wait for data, or "end" when every assigned split is done
 *   (bounded sources only; an unbounded reader never returns "end").
 */
import type { RuntimeContext } from "./functions.js";

/** One independently readable part of a source (a file, a partition, a range of generated ids). */
export interface SourceSplit {
  readonly id: string;
}

/** Records of one split go through its SplitOutput, which tracks that split's watermark. */
export interface SplitOutput<T> {
  /** Emit a record, with the timestamp the source itself knows (e.g. a Kafka record's time), if any. */
  collect(value: T, sourceTimestamp?: number): void;
}

export interface ReaderOutput<T> {
  /** The output of one split; cheap to call, but readers should keep the result per split. */
  forSplit(splitId: string): SplitOutput<T>;
  /** The split is done: it stops holding back the subtask's watermark. */
  releaseSplit(splitId: string): void;
}

export interface SourceReader<T, S extends SourceSplit = SourceSplit> {
  /** Splits to read: fresh ones from `Source.splits`, or, after a restore, those `snapshotState` returned. */
  addSplits(splits: S[]): void;
  poll(output: ReaderOutput<T>, maxRecords: number): "more" | "end" | Promise<void>;
  /**
   * The splits this reader has not finished, each carrying its current position (JSON-safe), taken at
   * the barrier of checkpoint `checkpointId` (between polls; the id pairs a snapshot with its
   * `notifyCheckpointComplete`). Readers without it cannot take part in checkpoints: a checkpoint of
   * a job with such a source is declined, naming it.
   */
  snapshotState?(checkpointId: number): S[];
  /**
   * Checkpoint `checkpointId` completed (its positions are durable). For side effects that must follow
   * a checkpoint, such as committing consumer-group offsets for monitoring; never needed for correctness.
   */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /**
   * Watermark alignment: stop reading the splits in `pause` (their watermark ran ahead of the group by
   * more than the allowed drift) and read again those in `resume`. Ids are split ids this reader holds.
   * Readers without it are paused as a whole (correct only when each subtask reads one split).
   */
  pauseOrResumeSplits?(pause: readonly string[], resume: readonly string[]): void;
  /** The task ends (finished, canceled or failed): release connections and timers. */
  close?(): void | Promise<void>;
}

export interface Source<T, S extends SourceSplit = SourceSplit> {
  /** A bounded source ends; a job whose sources are all bounded finishes. */
  readonly bounded: boolean;
  /** A readable name for the source vertex. */
  readonly name?: string;
  splits(ctx: { parallelism: number }): S[];
  createReader(ctx: RuntimeContext): SourceReader<T, S>;
}
