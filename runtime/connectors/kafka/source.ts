/**
 * `kafkaSource`: its options, compiled once into a frozen config, and the Source object the runtime
 * drives. The reading itself is in source-reader.ts.
 */
import type { Source, SourceSplit } from "../../api/source.js";
import { WeirError } from "../../common/errors.js";
import { compileClientOptions, positiveInt, type KafkaClientConfig, type KafkaClientOptions } from "./client.js";
import { compileStart, type CompiledStart, type StartingOffsets, type StartSpec } from "./offsets.js";
import { compileDeserializer, type CompiledDeserializer, type DeserializerSpec } from "./serde.js";
import { KafkaSourceReader } from "./source-reader.js";

/** Options of {@link kafkaSource}; see the README section "Kafka source" for the table. */
export interface KafkaSourceOptions<T> extends KafkaClientOptions {
  /** Topic(s) to read; or give `topicPattern`. */
  topics?: string | readonly string[];
  /** Read every topic whose name matches (checked at each partition discovery); or give `topics`. */
  topicPattern?: RegExp;
  /**
   * A consumer group: the source of `startingOffsets: "committed"`, and where the read positions are
   * committed when a checkpoint completes (for monitoring: recovery uses checkpoints, never these).
   */
  groupId?: string;
  /** Where a fresh job starts (default "earliest"); see {@link StartingOffsets}. */
  startingOffsets?: StartingOffsets;
  /** Stop at the partitions' end offsets as of when the job first sees them: the job then finishes (default false). */
  bounded?: boolean;
  /** Record -> element: "json" (default), "string", "bytes", a codec of the value, or a record deserializer. */
  deserializer?: DeserializerSpec<T>;
  /** How often to look for new partitions and (with `topicPattern`) topics; 0 = only at start (default 30 000 ms). Unbounded only. */
  partitionDiscoveryIntervalMs?: number;
  /** Read records of open and aborted transactions too (default false: read_committed). */
  readUncommitted?: boolean;
  /** Commit positions into `groupId` when a checkpoint completes (default true when `groupId` is set). */
  commitOffsetsOnCheckpoint?: boolean;
  /** Records fetched ahead and held per subtask before fetching waits (default 20 000). */
  bufferRecords?: number;
  /** Fetch size per partition (default 1 MiB) and per request (default 16 MiB). */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** The longest a fetch waits at the broker for data (default 500 ms). */
  maxWaitTimeMs?: number;
  /** The vertex name (default "Kafka Source"). */
  name?: string;
}

/** The split of a Kafka source: one topic partition with its position (JSON-safe, kept in checkpoints). */
export interface KafkaPartitionSplit extends SourceSplit {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to emit, once known. */
  readonly offset?: number;
  /** Where to start, while `offset` is not resolved yet. */
  readonly start?: StartSpec;
  /** Bounded: the offset (exclusive) where the partition ends. */
  readonly stop?: number;
}

/** A compiled kafkaSource configuration. */
export interface KafkaSourceConfig<T> {
  readonly client: KafkaClientConfig;
  readonly topics: readonly string[] | null;
  readonly topicPattern: RegExp | null;
  readonly groupId: string | null;
  readonly start: CompiledStart;
  readonly bounded: boolean;
  readonly deserializer: CompiledDeserializer<T>;
  readonly discoveryIntervalMs: number;
  readonly readUncommitted: boolean;
  readonly commitOffsets: boolean;
  readonly bufferRecords: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly maxWaitTimeMs: number;
  readonly name: string;
}

const OWNER = "kafkaSource";

function compileTopics(opts: KafkaSourceOptions<unknown>): { topics: readonly string[] | null; topicPattern: RegExp | null } {
  if ((opts.topics === undefined) === (opts.topicPattern === undefined)) {
    throw new WeirError("WEIR_E_CONFIG", `${OWNER}: give exactly one of topics and topicPattern`);
  }
  if (opts.topicPattern !== undefined) {
    if (!(opts.topicPattern instanceof RegExp)) throw new WeirError("WEIR_E_CONFIG", `${OWNER}: topicPattern must be a RegExp`);
    return { topics: null, topicPattern: opts.topicPattern };
  }
  const topics = typeof opts.topics === "string" ? [opts.topics] : [...opts.topics!];
  if (topics.length === 0) throw new WeirError("WEIR_E_CONFIG", `${OWNER}: topics is empty`);
  for (const t of topics) {
    if (typeof t !== "string" || !/^[a-zA-Z0-9._-]{1,249}$/.test(t)) throw new WeirError("WEIR_E_CONFIG", `${OWNER}: ${JSON.stringify(t)} is not a Kafka topic name`);
  }
  return { topics: Object.freeze([...new Set(topics)]), topicPattern: null };
}

/** Apply defaults to kafkaSource options and validate them (WeirErrors name the field). */
export function compileSourceOptions<T>(opts: KafkaSourceOptions<T>): KafkaSourceConfig<T> {
  const groupId = opts.groupId ?? null;
  if (groupId !== null && (typeof groupId !== "string" || groupId === "")) throw new WeirError("WEIR_E_CONFIG", `${OWNER}: groupId must be a non-empty string`);
  const interval = opts.partitionDiscoveryIntervalMs ?? 30_000;
  if (!(Number.isInteger(interval) && interval >= 0)) throw new WeirError("WEIR_E_CONFIG", `${OWNER}: partitionDiscoveryIntervalMs must be an integer >= 0, got ${interval}`);
  return Object.freeze({
    client: compileClientOptions(opts, OWNER),
    ...compileTopics(opts),
    groupId,
    start: compileStart(opts.startingOffsets, groupId ?? undefined, `${OWNER}: startingOffsets`),
    bounded: opts.bounded ?? false,
    deserializer: compileDeserializer<T>(opts.deserializer ?? ("json" as DeserializerSpec<T>), `${OWNER}: deserializer`),
    discoveryIntervalMs: interval,
    readUncommitted: opts.readUncommitted ?? false,
    commitOffsets: groupId !== null && (opts.commitOffsetsOnCheckpoint ?? true),
    bufferRecords: positiveInt(opts.bufferRecords ?? 20_000, `${OWNER}: bufferRecords`),
    maxBytesPerPartition: positiveInt(opts.maxBytesPerPartition ?? 1 << 20, `${OWNER}: maxBytesPerPartition`),
    maxBytes: positiveInt(opts.maxBytes ?? 16 << 20, `${OWNER}: maxBytes`),
    maxWaitTimeMs: positiveInt(opts.maxWaitTimeMs ?? 500, `${OWNER}: maxWaitTimeMs`),
    name: opts.name ?? "Kafka Source",
  });
}

/**
 * A source reading Kafka topics with kafkajs: one split per topic partition, discovered at run time,
 * positions in checkpoints (exactly-once reading), per-partition watermarks, optional bounded mode.
 *
 *   env.fromSource(kafkaSource<Click>({ brokers: "kafka:9092", topics: "clicks", groupId: "clicks-job" }),
 *                  watermarks.boundedOutOfOrder<Click>(5_000).withIdleness(30_000))
 *
 * Errors: invalid options throw a WeirError (WEIR_E_CONFIG) here; a missing topic fails the job's
 * source tasks with WEIR_E_KAFKA_TOPIC_NOT_FOUND naming the topic and the brokers; a record the
 * deserializer rejects fails them with WEIR_E_DESERIALIZE naming topic, partition and offset.
 */
export function kafkaSource<T = unknown>(opts: KafkaSourceOptions<T>): Source<T, KafkaPartitionSplit> {
  const cfg = compileSourceOptions(opts);
  return {
    bounded: cfg.bounded,
    name: cfg.name,
    // Partitions are known only at run time: each reader discovers them itself (see assignment.ts).
    splits: () => [],
    createReader: (ctx) => new KafkaSourceReader(cfg, ctx),
  };
}
