/**
 * The reader of one kafkaSource subtask. Asynchronous machinery (kafkajs admin and consumer) fills a
 * bounded FetchBuffer; the task's non-blocking `poll()` emits from it in order, per partition.
 *
 * Lifecycle of a partition: claimed at discovery (or restored) -> "resolving" (its start offset, and
 * in bounded mode its stop offset, are looked up) -> "reading" (assigned to the consumer) ->
 * "finished" (bounded: its position reached the stop offset; its split is released).
 *
 * Positions: `position` is the next offset to emit (what checkpoints store), `fetched` the next offset
 * to fetch (what the consumer seeks to when it (re)joins); records in between are in the buffer.
 *
 * Watermarks: every partition the subtask holds is a split of the runtime's per-split watermarks.
 * Until its first discovery ends, the reader holds a placeholder split, so a subtask that has not yet
 * found its partitions holds the watermark back instead of counting as idle (its records would
 * otherwise be late once found). A subtask without partitions releases it and goes idle.
 */
import type { Admin, Kafka } from "kafkajs";
import type { RuntimeContext } from "../../api/functions.js";
import type { ReaderOutput, SourceReader, SplitOutput } from "../../api/source.js";
import type { ListState } from "../../api/state.js";
import { WeirError } from "../../common/errors.js";
import type { Logger } from "../../common/logging.js";
import { PartitionBook, partitionId, type TopicPartition } from "./assignment.js";
import {
  createKafka, groupOffsetCommitter, kafkaError, kafkajsRetry, kafkaLogger, matchingTopics, topicPartitions,
  type GroupOffsetCommitter, type PartitionOffset,
} from "./client.js";
import { SubtaskConsumer } from "./consumer.js";
import { FetchBuffer, type FetchedMessage } from "./fetch-buffer.js";
import { EARLIEST, startOffset, startSpecFor, type PartitionBounds, type StartSpec } from "./offsets.js";
import type { ConsumedRecord, HeaderValue } from "./serde.js";
import type { KafkaPartitionSplit, KafkaSourceConfig } from "./source.js";

/** Union list state: the partitions the job knows (see assignment.ts). */
const KNOWN_STATE = "kafka-source.known-partitions";
/** The placeholder split held until the first discovery ended. */
const DISCOVERING_SPLIT = "kafka-source.discovering";
const OWNER = "kafkaSource";
/** How often a fetch blocked on a full buffer heartbeats its group. */
const HEARTBEAT_MS = 3_000;
/** Pending offset commits kept for checkpoints not yet complete. */
const MAX_PENDING_COMMITS = 32;
const NO_HEADERS: Record<string, HeaderValue> = Object.freeze({}) as Record<string, HeaderValue>;

type Status = "resolving" | "reading" | "finished";

/** The read state of one partition. */
class PartitionState implements TopicPartition {
  readonly id: string;
  status: Status = "resolving";
  /** The next offset to emit; -1 until resolved. */
  position = -1;
  /** The next offset to fetch (>= position). */
  fetched = -1;
  /** Exclusive stop offset: +Infinity when unbounded, null while a bounded one is not looked up yet. */
  stop: number | null = Number.POSITIVE_INFINITY;
  /** Where to start while `position` is unresolved. */
  spec: StartSpec = EARLIEST;
  /** The partition's end as last reported by a fetch or a lookup (-1: unknown); for the lag metric. */
  highWatermark = -1;
  out: SplitOutput<unknown> | null = null;
  released = false;
  alignmentPaused = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.id = partitionId(topic, partition);
  }

  /** Records behind the partition's end, while it is read. */
  lag(): number | null {
    if (this.status !== "reading" || this.highWatermark < 0 || this.position < 0) return null;
    return Math.max(0, this.highWatermark - this.position);
  }
}

export class KafkaSourceReader<T> implements SourceReader<T, KafkaPartitionSplit> {
  private readonly parts = new Map<string, PartitionState>();
  /** Partition states by topic, indexed by partition: the lookup of every fetched batch. */
  private readonly byTopic = new Map<string, PartitionState[]>();
  private readonly book: PartitionBook;
  private readonly knownState: ListState<TopicPartition>;
  private readonly buffer: FetchBuffer<PartitionState>;
  private readonly log: Logger;
  /** The one record object a record deserializer is given (refilled per record). */
  private readonly record: ConsumedRecord = { topic: "", partition: 0, offset: 0, timestamp: 0, key: null, value: null, headers: NO_HEADERS };
  private kafka: Kafka | null = null;
  private admin: Admin | null = null;
  private consumer: SubtaskConsumer | null = null;
  private committer: GroupOffsetCommitter | null = null;
  private started = false;
  /** The first discovery ended (partitions claimed and resolved). */
  private discovered = false;
  private discoveringHeld = false;
  /** Partitions were added, resolved or finished: the next poll (un)registers their splits. */
  private splitsChanged = false;
  private failure: unknown = null;
  private closed = false;
  private discoveryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly snapshots = new Map<number, PartitionOffset[]>();
  private toCommit: PartitionOffset[] | null = null;
  private committing = false;
  private readonly retries = new Map<string, number>();
  private readonly lastRetryLog = new Map<string, number>();
  private readonly unregister: (() => void)[] = [];

  constructor(
    private readonly cfg: KafkaSourceConfig<T>,
    private readonly ctx: RuntimeContext,
  ) {
    this.knownState = ctx.operatorState.unionListState<TopicPartition>(KNOWN_STATE);
    this.book = new PartitionBook(ctx.subtaskIndex, ctx.parallelism, this.knownState.get());
    this.buffer = new FetchBuffer(cfg.bufferRecords);
    this.log = kafkaLogger().child({ source: cfg.name, job: ctx.jobId, subtask: ctx.subtaskIndex });
  }

  addSplits(splits: KafkaPartitionSplit[]): void {
    for (const s of splits) {
      this.book.adopt(s);
      const p = this.track(s.topic, s.partition);
      if (s.offset !== undefined) p.position = s.offset;
      else p.spec = s.start ?? EARLIEST;
      p.stop = this.cfg.bounded ? (s.stop ?? null) : Number.POSITIVE_INFINITY;
    }
  }

  poll(output: ReaderOutput<T>, maxRecords: number): "more" | "end" | Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (!this.started) this.start();
    if (!this.discovered && !this.discoveringHeld) {
      output.forSplit(DISCOVERING_SPLIT);
      this.discoveringHeld = true;
    }
    if (this.splitsChanged) this.updateSplits(output);
    if (!this.buffer.isEmpty) this.drain(output, maxRecords);
    if (this.splitsChanged) this.updateSplits(output);
    if (!this.buffer.isEmpty) return "more";
    if (this.cfg.bounded && this.discovered && this.allFinished()) return "end";
    return this.buffer.whenData();
  }

  snapshotState(checkpointId: number): KafkaPartitionSplit[] {
    const splits: KafkaPartitionSplit[] = [];
    const offsets: PartitionOffset[] = [];
    for (const p of this.parts.values()) {
      if (p.position >= 0) offsets.push({ topic: p.topic, partition: p.partition, offset: p.position });
      if (p.status === "finished") continue;
      const base = { id: p.id, topic: p.topic, partition: p.partition, ...(p.stop !== null && Number.isFinite(p.stop) ? { stop: p.stop } : {}) };
      splits.push(p.position >= 0 ? { ...base, offset: p.position } : { ...base, start: p.spec });
    }
    this.knownState.update(this.book.knownEntries());
    if (this.cfg.commitOffsets) {
      this.snapshots.set(checkpointId, offsets);
      if (this.snapshots.size > MAX_PENDING_COMMITS) this.snapshots.delete(this.snapshots.keys().next().value!);
    }
    return splits;
  }

  /** Commit the positions of checkpoint `checkpointId` into the group (monitoring only; in the background). */
  notifyCheckpointComplete(checkpointId: number): void {
    const offsets = this.snapshots.get(checkpointId);
    for (const id of this.snapshots.keys()) if (id <= checkpointId) this.snapshots.delete(id);
    if (offsets === undefined || offsets.length === 0 || this.closed) return;
    this.toCommit = offsets;
    if (!this.committing) void this.commitLoop();
  }

  pauseOrResumeSplits(pause: readonly string[], resume: readonly string[]): void {
    const set = (ids: readonly string[], paused: boolean) => {
      const changed: PartitionState[] = [];
      for (const id of ids) {
        const p = this.parts.get(id);
        if (p === undefined || p.alignmentPaused === paused) continue;
        p.alignmentPaused = paused;
        if (p.status === "reading" && p.fetched < p.stop!) changed.push(p);
      }
      return changed;
    };
    this.consumer?.pause(set(pause, true));
    this.consumer?.resume(set(resume, false));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.discoveryTimer !== null) clearTimeout(this.discoveryTimer);
    for (const u of this.unregister.splice(0)) u();
    this.buffer.releaseAll();
    this.buffer.wake();
    await this.teardown();
  }

  // ---- partitions and splits ---------------------------------------------------------------------

  private track(topic: string, partition: number): PartitionState {
    const p = new PartitionState(topic, partition);
    this.parts.set(p.id, p);
    let l = this.byTopic.get(topic);
    if (!l) this.byTopic.set(topic, (l = []));
    l[partition] = p;
    this.splitsChanged = true;
    this.unregister.push(
      this.ctx.metrics?.gauge("weir_source_kafka_lag", "Records between a partition's end and the source's position", { topic, partition: String(partition) }, () => p.lag()) ??
        (() => {}),
    );
    return p;
  }

  /** Register the splits of new partitions, release finished ones and, after the first discovery, the placeholder. */
  private updateSplits(output: ReaderOutput<T>): void {
    this.splitsChanged = false;
    for (const p of this.parts.values()) {
      if (p.status === "finished") {
        if (!p.released) {
          p.released = true;
          p.out = null;
          output.releaseSplit(p.id);
        }
      } else if (p.out === null) {
        p.out = output.forSplit(p.id) as SplitOutput<unknown>;
      }
    }
    if (this.discovered && this.discoveringHeld) {
      this.discoveringHeld = false;
      output.releaseSplit(DISCOVERING_SPLIT);
    }
  }

  private allFinished(): boolean {
    for (const p of this.parts.values()) if (p.status !== "finished") return false;
    return true;
  }

  private finish(p: PartitionState): void {
    p.status = "finished";
    this.splitsChanged = true;
    this.buffer.remove((q) => q === p);
    this.consumer?.pause([p]);
    this.log.debug({ partition: p.id, offset: p.position }, "partition finished (bounded)");
  }

  // ---- the record path ---------------------------------------------------------------------------

  /** Emit up to `maxRecords` buffered records, in fetch order. */
  private drain(output: ReaderOutput<T>, maxRecords: number): void {
    const buf = this.buffer;
    let budget = maxRecords;
    while (budget > 0) {
      const c = buf.peek();
      if (c === undefined) break;
      const p = c.p;
      if (p.status !== "reading") {
        buf.shift();
        continue;
      }
      if (c.i < c.n) {
        const to = Math.min(c.n, c.i + budget);
        this.emit((p.out ??= output.forSplit(p.id) as SplitOutput<unknown>), p, c.msgs, c.i, to);
        budget -= to - c.i;
        buf.consumed(to - c.i);
        c.i = to;
        p.position = Number(c.msgs[to - 1]!.offset) + 1;
      }
      if (c.i >= c.n) {
        buf.shift();
        if (c.end > p.position) p.position = c.end;
      }
      if (p.position >= p.stop!) this.finish(p);
    }
    buf.releaseSpace();
  }

  private emit(out: SplitOutput<unknown>, p: PartitionState, msgs: readonly FetchedMessage[], from: number, to: number): void {
    const des = this.cfg.deserializer;
    let k = from;
    try {
      if (des.kind === "value") {
        const codec = des.value;
        for (; k < to; k++) {
          const m = msgs[k]!;
          out.collect(codec.decode(m.value), +m.timestamp);
        }
      } else {
        const r = this.record;
        const d = des.record;
        r.topic = p.topic;
        r.partition = p.partition;
        for (; k < to; k++) {
          const m = msgs[k]!;
          r.offset = +m.offset;
          r.timestamp = +m.timestamp;
          r.key = m.key ?? null;
          r.value = m.value ?? null;
          r.headers = m.headers ?? NO_HEADERS;
          out.collect(d.deserialize(r), r.timestamp);
        }
      }
    } catch (err) {
      if (err instanceof WeirError) throw err;
      throw new WeirError(
        "WEIR_E_DESERIALIZE",
        `${OWNER}: the ${des.name} deserializer failed on the record at offset ${msgs[k]?.offset} of topic "${p.topic}" partition ${p.partition}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  /** A fetched batch of one partition (kafkajs, in fetch order): queue what this reader has not seen. */
  private onBatch(topic: string, partition: number, msgs: readonly FetchedMessage[], next: number, highWatermark: number): void {
    const p = this.byTopic.get(topic)?.[partition];
    if (p === undefined || p.status !== "reading") return;
    if (highWatermark >= 0) p.highWatermark = highWatermark;
    const stop = p.stop!;
    const end = Math.min(next, stop);
    if (end <= p.fetched) return; // re-delivered after a seek
    let from = 0;
    let n = msgs.length;
    if (n > 0 && Number(msgs[0]!.offset) < p.fetched) from = firstAtOrAfter(msgs, p.fetched, 0);
    if (n > 0 && Number(msgs[n - 1]!.offset) >= stop) n = Math.max(from, firstAtOrAfter(msgs, stop, from));
    this.buffer.push(p, msgs, from, n, end);
    p.fetched = end;
    if (end >= stop) this.consumer?.pause([p]);
  }

  /** Hold kafkajs's next fetch while the buffer is full (heartbeating the group meanwhile). */
  private async whileFull(heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void> {
    while (this.buffer.isFull && isRunning() && !this.closed && this.failure === null) {
      await this.buffer.whenSpace(HEARTBEAT_MS);
      if (this.buffer.isFull && isRunning() && !this.closed) await heartbeat();
    }
  }

  // ---- discovery, offsets, consumer --------------------------------------------------------------

  private start(): void {
    this.started = true;
    this.init().catch((err: unknown) => this.fail(kafkaError(err, `${OWNER} (topics ${this.topicsText()})`, this.cfg.client)));
  }

  private async init(): Promise<void> {
    // kafkajs retries lost connections (a broker restart) itself, reporting each failed attempt as an ERROR log.
    this.kafka = createKafka(this.cfg.client, this.log, (namespace, message) => {
      if (namespace === "Connection" && /^Connection (error|timeout)/.test(message)) this.retried("connection");
    });
    const admin = (this.admin = this.kafka.admin());
    await admin.connect();
    if (this.closed) return this.teardown();
    this.consumer = new SubtaskConsumer(
      this.kafka,
      {
        groupId: `weir-${this.ctx.jobId}-${this.ctx.operatorUid}-${this.ctx.subtaskIndex}-${Math.random().toString(36).slice(2, 10)}`,
        readUncommitted: this.cfg.readUncommitted,
        maxBytesPerPartition: this.cfg.maxBytesPerPartition,
        maxBytes: this.cfg.maxBytes,
        maxWaitTimeMs: this.cfg.maxWaitTimeMs,
        sessionTimeoutMs: 30_000,
        heartbeatIntervalMs: HEARTBEAT_MS,
        retry: kafkajsRetry(this.cfg.client),
      },
      {
        onBatch: (t, p, msgs, next, hw) => this.onBatch(t, p, msgs, next, hw),
        whileFull: (heartbeat, isRunning) => this.whileFull(heartbeat, isRunning),
        releaseBlocked: () => this.buffer.releaseAll(),
        fetchPositions: () => [...this.parts.values()].filter((p) => p.status === "reading").map((p) => ({ topic: p.topic, partition: p.partition, offset: p.fetched })),
        pausedPartitions: () => [...this.parts.values()].filter((p) => p.status !== "resolving" && (p.alignmentPaused || p.fetched >= p.stop!)),
        onGiveUp: (err) => this.fail(kafkaError(err, `${OWNER}: consuming ${this.topicsText()}`, this.cfg.client)),
        onRetry: (reason, err) => this.retried(reason, err),
      },
    );
    await this.discover(true);
    this.scheduleDiscovery();
  }

  /** Find partitions, claim the new ones this subtask owns, resolve offsets, and (re)assign the consumer. */
  private async discover(initial: boolean): Promise<void> {
    const admin = this.admin!;
    const fresh = initial && this.book.freshStart;
    const configured = this.cfg.topics ?? (await matchingTopics(admin, this.cfg.topicPattern!));
    // Restored partitions are read even if their topic is no longer configured (or matched).
    const topics = [...new Set([...configured, ...this.byTopic.keys()])];
    const meta = await topicPartitions(admin, topics, this.cfg.client, OWNER);
    if (this.closed) return;
    const found: TopicPartition[] = [];
    for (const t of configured) for (const partition of meta.get(t) ?? []) found.push({ topic: t, partition });
    const claimed = this.book.claim(found);
    for (const tp of claimed) {
      const p = this.track(tp.topic, tp.partition);
      // Partitions found after the job's first discovery are new: read them whole.
      p.spec = fresh ? startSpecFor(this.cfg.start, tp.topic, tp.partition) : EARLIEST;
      p.stop = this.cfg.bounded ? null : Number.POSITIVE_INFINITY;
    }
    if (initial || claimed.length > 0) {
      const partitions = [...this.parts.keys()];
      this.log.info({ partitions, claimed: claimed.length, fresh }, initial ? "reading partitions" : "discovered new partitions");
    }
    const resolving = [...this.parts.values()].filter((p) => p.status === "resolving");
    if (resolving.length > 0) await this.resolve(resolving);
    if (this.closed) return;
    if (initial) this.discovered = true;
    this.buffer.wake();
    await this.consumer!.assign([...this.parts.values()].filter((p) => p.status === "reading"));
  }

  /** Look up start (and bounded stop) offsets; partitions become "reading", or "finished" if there is nothing to read. */
  private async resolve(parts: readonly PartitionState[]): Promise<void> {
    const committed = await this.committedOffsets(parts);
    const byTopic = new Map<string, PartitionState[]>();
    for (const p of parts) {
      let l = byTopic.get(p.topic);
      if (!l) byTopic.set(p.topic, (l = []));
      l.push(p);
    }
    for (const [topic, ps] of byTopic) {
      const bounds = await this.bounds(topic);
      const byTimestamp = new Map<number, Map<number, number>>();
      for (const p of ps) {
        const b = bounds.get(p.partition);
        if (b === undefined) throw new WeirError("WEIR_E_KAFKA", `${OWNER}: partition ${p.partition} of topic "${topic}" has no offsets on brokers ${this.cfg.client.brokers.join(",")}`);
        if (p.position < 0) {
          const ts = p.spec.kind === "timestamp" ? await this.offsetsAt(topic, p.spec.timestamp, byTimestamp) : undefined;
          p.position = startOffset(p.spec, b, { committed: committed.get(p.id), byTimestamp: ts?.get(p.partition) });
        } else if (p.position < b.low) {
          this.log.warn({ partition: p.id, position: p.position, logStart: b.low }, "records before the log start were deleted (retention); reading on from the log start");
          p.position = b.low;
        }
        if (p.stop === null) p.stop = b.high;
        p.fetched = p.position;
        p.highWatermark = b.high;
        p.status = p.position >= p.stop ? "finished" : "reading";
        this.splitsChanged = true;
      }
    }
  }

  private async bounds(topic: string): Promise<Map<number, PartitionBounds>> {
    const out = new Map<number, PartitionBounds>();
    for (const o of await this.admin!.fetchTopicOffsets(topic)) out.set(o.partition, { low: Number(o.low), high: Number(o.high) });
    return out;
  }

  private async offsetsAt(topic: string, timestamp: number, cache: Map<number, Map<number, number>>): Promise<Map<number, number>> {
    let m = cache.get(timestamp);
    if (m === undefined) {
      m = new Map();
      for (const o of await this.admin!.fetchTopicOffsetsByTimestamp(topic, timestamp)) m.set(o.partition, Number(o.offset));
      cache.set(timestamp, m);
    }
    return m;
  }

  /** The group's committed offsets of the partitions that start from them, by partition id. */
  private async committedOffsets(parts: readonly PartitionState[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const topics = [...new Set(parts.filter((p) => p.position < 0 && p.spec.kind === "committed").map((p) => p.topic))];
    if (topics.length === 0 || this.cfg.groupId === null) return out;
    for (const t of await this.admin!.fetchOffsets({ groupId: this.cfg.groupId, topics })) {
      for (const o of t.partitions) out.set(partitionId(t.topic, o.partition), Number(o.offset));
    }
    return out;
  }

  private scheduleDiscovery(): void {
    if (this.cfg.bounded || this.cfg.discoveryIntervalMs === 0 || this.closed || this.failure !== null) return;
    this.discoveryTimer = setTimeout(() => {
      this.discoveryTimer = null;
      this.discover(false).then(
        () => this.scheduleDiscovery(),
        (err: unknown) => {
          if (err instanceof WeirError && err.code === "WEIR_E_KAFKA_TOPIC_NOT_FOUND") return this.fail(err);
          this.retried("discovery", err instanceof Error ? err : undefined);
          this.scheduleDiscovery();
        },
      );
    }, this.cfg.discoveryIntervalMs);
  }

  // ---- failures, retries, commits, teardown ------------------------------------------------------

  private fail(err: unknown): void {
    if (this.failure !== null || this.closed) return;
    this.failure = err;
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, "Kafka source failed");
    this.buffer.fail(err);
  }

  /**
   * A failure kafkajs or the reader retries: counted per reason (weir_source_kafka_retries_total) and
   * logged with the partitions it holds up (at most every 10 s per reason: a broker restart is many).
   */
  private retried(reason: string, err?: Error): void {
    const n = (this.retries.get(reason) ?? 0) + 1;
    this.retries.set(reason, n);
    if (n === 1 && this.ctx.metrics && !this.closed) {
      this.unregister.push(
        this.ctx.metrics.counter("weir_source_kafka_retries_total", "Failures the Kafka source retried (lost connections, broker restarts, rebalances)", { reason }, () => this.retries.get(reason) ?? 0),
      );
    }
    const now = Date.now();
    if (now - (this.lastRetryLog.get(reason) ?? 0) < 10_000) return;
    this.lastRetryLog.set(reason, now);
    const reading = [...this.parts.values()].filter((p) => p.status === "reading").map((p) => p.id);
    this.log.warn({ reason, retries: n, partitions: reading, err: err?.message }, "Kafka source retrying after a failure");
  }

  private async commitLoop(): Promise<void> {
    this.committing = true;
    try {
      while (this.toCommit !== null && !this.closed && this.kafka !== null) {
        const offsets = this.toCommit;
        this.toCommit = null;
        try {
          await (this.committer ??= groupOffsetCommitter(this.kafka)).commit(this.cfg.groupId!, offsets);
        } catch (err) {
          this.retried("commit", err instanceof Error ? err : undefined);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /** Disconnect whatever exists (idempotent: init calls it again when it finds the reader closed). */
  private async teardown(): Promise<void> {
    const { consumer, admin, committer } = this;
    this.consumer = null;
    this.admin = null;
    this.committer = null;
    const quietly = async (what: string, fn: (() => Promise<void>) | undefined) => {
      try {
        await fn?.();
      } catch (err) {
        this.log.debug({ err: err instanceof Error ? err.message : String(err) }, `closing the ${what} failed`);
      }
    };
    await quietly("consumer", consumer ? () => consumer.close() : undefined);
    await quietly("admin client", admin ? () => admin.disconnect() : undefined);
    await quietly("offset committer", committer ? () => committer.close() : undefined);
  }

  private topicsText(): string {
    return this.cfg.topics ? this.cfg.topics.join(",") : String(this.cfg.topicPattern);
  }
}

/** The index of the first message with offset >= `offset` (msgs are in offset order), searching from `lo`. */
function firstAtOrAfter(msgs: readonly FetchedMessage[], offset: number, lo: number): number {
  let hi = msgs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(msgs[mid]!.offset) < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
