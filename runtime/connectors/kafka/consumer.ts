/**
 * One kafkajs consumer reading exactly the partitions a source subtask was given.
 *
 * kafkajs has no manual assignment (Java's `assign()`): it only consumes through a consumer group.
 * So each source subtask gets a consumer group of its own, `weir-<job>-<uid>-<subtask>-<random>`,
 * in which it is the only member, with a partition assigner that hands it exactly its partitions:
 * - a group per subtask (not one per source): a rebalance or a dead member never stalls other subtasks;
 * - a random suffix: a replacement after a crash does not wait for the dead member's session to expire;
 * - nothing is ever committed in that group: positions live in checkpoints. At every (re)join (start,
 *   reassignment after discovery, kafkajs's own recovery from a lost broker or a rebalance) the
 *   consumer seeks every partition to the reader's fetch position, synchronously in the GROUP_JOIN
 *   event, i.e. before the first fetch of that generation;
 * - a reassignment (a partition discovered) restarts the consumer with the new set (stop, run).
 * The group holds no offsets, so the broker forgets it once its session times out after the
 * subtask ends.
 */
import kafkajs, { type Consumer, type Kafka, type PartitionAssigner } from "kafkajs";
import type { TopicPartition } from "./assignment.js";
import type { PartitionOffset } from "./client.js";
import type { FetchedMessage } from "./fetch-buffer.js";

const { AssignerProtocol } = kafkajs;

/** Fetch and group settings of the consumer. */
export interface ConsumerSettings {
  readonly groupId: string;
  readonly readUncommitted: boolean;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly maxWaitTimeMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly retry: { initialRetryTime: number; maxRetryTime: number; retries: number };
}

/** What the consumer needs from its reader. */
export interface ConsumerHooks {
  /**
   * Messages of a fetched batch of one partition (none when the batch held only control records or
   * aborted records); `next` is the offset after the batch. Called in fetch order.
   */
  onBatch(topic: string, partition: number, msgs: readonly FetchedMessage[], next: number, highWatermark: number): void;
  /** Wait (heartbeating) while the reader's buffer is full and `isRunning()`; `eachBatch` returns after it. */
  whileFull(heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void>;
  /** The consumer is stopping: a `whileFull` must re-check `isRunning` now. */
  releaseBlocked(): void;
  /** The offset to fetch next of each assigned partition, for the seek at each (re)join. */
  fetchPositions(): readonly PartitionOffset[];
  /** Assigned partitions that must not be fetched (watermark alignment, finished bounded partitions). */
  pausedPartitions(): readonly TopicPartition[];
  /** kafkajs gave up (a failure it does not retry): the reader fails. */
  onGiveUp(err: Error): void;
  /** kafkajs retries after a failure (counted and logged by the reader). */
  onRetry(reason: "crash" | "request_timeout" | "rebalance", err?: Error): void;
}

const ASSIGNER = "WeirSubtaskAssigner";

/** A consumer of exactly the assigned partitions (see the module comment). */
export class SubtaskConsumer {
  private readonly consumer: Consumer;
  private assignment = new Map<string, number[]>();
  private running = false;
  private closed = false;
  /** Assignments and close run one at a time, in call order. */
  private op: Promise<void> = Promise.resolve();

  constructor(
    kafka: Kafka,
    private readonly settings: ConsumerSettings,
    private readonly hooks: ConsumerHooks,
  ) {
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      partitionAssigners: [this.assigner],
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxBytesPerPartition: settings.maxBytesPerPartition,
      maxBytes: settings.maxBytes,
      minBytes: 1,
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      readUncommitted: settings.readUncommitted,
      allowAutoTopicCreation: false,
      retry: settings.retry,
    });
    this.listen();
  }

  /** The partitions assigned now. */
  get assigned(): TopicPartition[] {
    return [...this.assignment].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
  }

  /** Consume exactly `partitions` from now on (restarting the consumer if the set changed); none stops it. */
  assign(partitions: readonly TopicPartition[]): Promise<void> {
    const next = new Map<string, number[]>();
    for (const tp of partitions) {
      let l = next.get(tp.topic);
      if (!l) next.set(tp.topic, (l = []));
      l.push(tp.partition);
    }
    for (const l of next.values()) l.sort((a, b) => a - b);
    return this.serialized(async () => {
      if (this.closed || sameAssignment(this.assignment, next)) return;
      await this.stopConsuming();
      this.assignment = next; // the assigner reads it during the join
      if (next.size === 0 || this.closed) return;
      try {
        await this.consumer.subscribe({ topics: [...next.keys()], fromBeginning: true });
        this.running = true;
        await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: true, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.eachBatch(p) });
      } catch (err) {
        // Not consuming: the next assign() must start it, even with the same partitions.
        await this.stopConsuming().catch(() => {});
        this.assignment = new Map();
        throw err;
      }
    });
  }

  /** Stop fetching `partitions` (ignored while the consumer is not running: the next join applies them). */
  pause(partitions: readonly TopicPartition[]): void {
    if (this.running && partitions.length > 0) this.consumer.pause(byTopic(partitions));
  }

  /** Fetch `partitions` again. */
  resume(partitions: readonly TopicPartition[]): void {
    if (this.running && partitions.length > 0) this.consumer.resume(byTopic(partitions));
  }

  /** Stop consuming, leave the group and disconnect. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    return this.serialized(async () => {
      await this.stopConsuming();
      await this.consumer.disconnect();
    });
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.op.then(fn);
    this.op = run.catch(() => {});
    return run;
  }

  private async stopConsuming(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.hooks.releaseBlocked();
    await this.consumer.stop();
  }

  private async eachBatch(p: { batch: kafkajs.Batch; heartbeat(): Promise<void>; isRunning(): boolean; isStale(): boolean }): Promise<void> {
    const { batch } = p;
    // A batch fetched before a seek of its partition (a rejoin) is from the old position.
    if (!p.isRunning() || p.isStale()) return;
    this.hooks.onBatch(batch.topic, batch.partition, batch.messages as readonly FetchedMessage[], Number(batch.lastOffset()) + 1, Number(batch.highWatermark));
    await this.hooks.whileFull(p.heartbeat, () => this.running && p.isRunning());
  }

  /** The assigner: the group's only member gets exactly the assignment. */
  private readonly assigner: PartitionAssigner = () => ({
    name: ASSIGNER,
    version: 0,
    assign: async ({ members }) => {
      const assignment = Object.fromEntries(this.assignment);
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: i === 0 ? assignment : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol: ({ topics }) => ({ name: ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }),
  });

  private listen(): void {
    const c = this.consumer;
    const { GROUP_JOIN, END_BATCH_PROCESS, CRASH, REQUEST_TIMEOUT, REBALANCING } = c.events;
    // Synchronous in kafkajs's join, before the generation's first fetch.
    c.on(GROUP_JOIN, () => {
      for (const o of this.hooks.fetchPositions()) c.seek({ topic: o.topic, partition: o.partition, offset: String(o.offset) });
      const paused = this.hooks.pausedPartitions();
      if (paused.length > 0) c.pause(byTopic(paused));
    });
    // Batches that held only control records or aborted records never reach eachBatch, but they
    // move the partition's position (a bounded read ends on them).
    c.on(END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.firstOffset !== null) {
        this.hooks.onBatch(payload.topic, payload.partition, [], Number(payload.lastOffset) + 1, Number(payload.highWatermark));
      }
    });
    c.on(CRASH, ({ payload }) => {
      if (this.closed) return;
      if (payload.restart) this.hooks.onRetry("crash", payload.error);
      else this.hooks.onGiveUp(payload.error);
    });
    c.on(REQUEST_TIMEOUT, () => this.hooks.onRetry("request_timeout"));
    c.on(REBALANCING, () => this.hooks.onRetry("rebalance"));
  }
}

function sameAssignment(a: ReadonlyMap<string, number[]>, b: ReadonlyMap<string, number[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const qs = b.get(t);
    if (!qs || qs.length !== ps.length || qs.some((q, i) => q !== ps[i])) return false;
  }
  return true;
}

function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of partitions) {
    let l = m.get(tp.topic);
    if (!l) m.set(tp.topic, (l = []));
    l.push(tp.partition);
  }
  return [...m].map(([topic, ps]) => ({ topic, partitions: ps }));
}
