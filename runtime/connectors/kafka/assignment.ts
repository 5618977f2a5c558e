/**
 * Which source subtask reads which topic partition: pure bookkeeping, no I/O.
 *
 * Partitions are only known at run time, so every subtask discovers them itself and takes partition p
 * of topic t when `partitionOwner(t, p, parallelism)` is its index (Flink's KafkaSourceEnumerator
 * function). After a restore the runtime spreads the checkpointed splits round robin, not by that
 * function, so a subtask may hold partitions it does not "own". A subtask therefore reads exactly
 *   (a) the partitions it was restored with, and
 *   (b) newly discovered partitions it owns that the job did not know at the checkpoint.
 * "Known at the checkpoint" is a union list state: each subtask writes the partitions it took (read,
 * or finished in bounded mode) plus the restored known partitions it owns (so that finished partitions
 * stay known across any number of restores), and every subtask restores the union of all of them.
 *
 *   const book = new PartitionBook(subtask, parallelism, restoredKnown);
 *   book.adopt(split);                     // each split the subtask was restored with
 *   const mine = book.claim(discovered);   // new partitions this subtask starts reading
 *   state.update(book.knownEntries());     // at each checkpoint
 */

/** A topic partition. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** The split id of a partition: `topic-partition`, as in Flink (unique: the partition is the last, numeric part). */
export function partitionId(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Java's `String.hashCode` (32-bit, over UTF-16 code units), so the assignment matches Flink's. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The subtask that owns `partition` of `topic` among `parallelism` subtasks:
 * `((hash(topic) * 31 & 0x7fffffff) % n + partition) % n`. A topic's partitions go round robin from a
 * start that depends on the topic, so several topics spread evenly.
 */
export function partitionOwner(topic: string, partition: number, parallelism: number): number {
  const start = (Math.imul(javaStringHash(topic), 31) & 0x7fffffff) % parallelism;
  return (start + partition) % parallelism;
}

/** Discovery and restore bookkeeping of one subtask. */
export class PartitionBook {
  /** Ids of partitions the job knew at the restored checkpoint (read or finished by some subtask). */
  private readonly restoredKnown = new Map<string, TopicPartition>();
  /** Ids of partitions this subtask took: restored with, or claimed after discovery. */
  private readonly mine = new Map<string, TopicPartition>();

  constructor(
    private readonly subtask: number,
    private readonly parallelism: number,
    restoredKnown: Iterable<TopicPartition>,
  ) {
    for (const tp of restoredKnown) this.restoredKnown.set(partitionId(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition });
  }

  /** A partition this subtask was restored with: it reads it, whoever owns it. */
  adopt(tp: TopicPartition): void {
    this.mine.set(partitionId(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition });
  }

  /** True when the job knew no partition at the restored checkpoint (a fresh start, or one before any discovery). */
  get freshStart(): boolean {
    return this.restoredKnown.size === 0 && this.mine.size === 0;
  }

  /** Whether this subtask reads (or has finished) the partition. */
  has(topic: string, partition: number): boolean {
    return this.mine.has(partitionId(topic, partition));
  }

  /**
   * Of the discovered partitions, those this subtask starts reading now: not yet its own, unknown to the
   * job at the restored checkpoint, and owned by this subtask. They are its own from now on.
   */
  claim(discovered: Iterable<TopicPartition>): TopicPartition[] {
    const claimed: TopicPartition[] = [];
    for (const tp of discovered) {
      const id = partitionId(tp.topic, tp.partition);
      if (this.mine.has(id) || this.restoredKnown.has(id)) continue;
      if (partitionOwner(tp.topic, tp.partition, this.parallelism) !== this.subtask) continue;
      const own = { topic: tp.topic, partition: tp.partition };
      this.mine.set(id, own);
      claimed.push(own);
    }
    return claimed;
  }

  /**
   * What this subtask writes into the union list state of known partitions: its own partitions and the
   * restored known partitions it owns (each restored one is carried by exactly one subtask).
   */
  knownEntries(): TopicPartition[] {
    const out = new Map(this.mine);
    for (const [id, tp] of this.restoredKnown) {
      if (partitionOwner(tp.topic, tp.partition, this.parallelism) === this.subtask) out.set(id, tp);
    }
    return [...out.values()];
  }
}
