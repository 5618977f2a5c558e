/**
 * The Kafka sink.
 *
 *   stream.sinkTo(kafkaSink({ brokers: "127.0.0.1:9092", topic: "counts", deliveryGuarantee: "exactly-once",
 *                             serializer: { key: (c) => c.key, value: (c) => JSON.stringify(c) } }));
 *
 * Delivery guarantees (as in Flink's KafkaSink):
 * - "exactly-once": records are kept in the checkpoint and written in one transaction per completed
 *   checkpoint, with a marker that makes the write idempotent (sink-exactly-once.ts). Visible to
 *   `read_committed` consumers one checkpoint interval later. Needs checkpointing.
 * - "at-least-once" (default): written as they come; a barrier waits until all earlier records are
 *   acknowledged by the broker, so a checkpoint never covers unwritten records.
 * - "none": written as they come, nothing waits; records in flight at a failure may be lost.
 */
import { Partitioners, type Admin, type ITopicConfig, type Kafka, type PartitionerArgs } from "kafkajs";
import type { RuntimeContext } from "../../api/functions.js";
import type { AnySink } from "../../api/sink.js";
import { WeirError } from "../../common/errors.js";
import { createLogger, type Logger } from "../../common/logging.js";
import { AtLeastOnceWriter } from "./sink-at-least-once.js";
import { KafkaWriteAheadLog } from "./sink-exactly-once.js";
import { defaultRecordSerializer, type KafkaBytes, type KafkaRecordSerializer } from "./sink-records.js";
import { compileClientOptions, createKafka, kafkaError, kafkajsRetry, type KafkaClientConfig, type KafkaClientOptions } from "./client.js";

export type DeliveryGuarantee = "exactly-once" | "at-least-once" | "none";

/** Chooses a record's partition from its serialized key and value and the topic's partition count. */
export type KafkaPartitioner = (record: { key: KafkaBytes | null; value: KafkaBytes | null }, partitionCount: number) => number;

export interface KafkaSinkOptions<T> extends KafkaClientOptions {
  topic: string;
  deliveryGuarantee?: DeliveryGuarantee;
  /** Default: strings and bytes as they are, other values as JSON; no key. */
  serializer?: KafkaRecordSerializer<T>;
  /**
   * "default": by key hash (murmur2, the same partition the Java client picks), keyless records spread;
   * or a function. Default "default".
   */
  partitioner?: "default" | KafkaPartitioner;
  /**
   * Exactly-once: prefix of the transactional ids (`<prefix>-<subtask>`) and of the marker groups. Must
   * be unique per sink per Kafka cluster and stay the same across upgrades. Default
   * `weir-<job name>-<operator uid>`.
   */
  transactionalIdPrefix?: string;
  /** Exactly-once: the producer's transaction timeout; at most the broker's transaction.max.timeout.ms. Default 60 s. */
  transactionTimeoutMs?: number;
  /** Create the topic when it does not exist (default: a missing topic is an error). */
  createTopic?: { partitions: number; replicationFactor?: number; configs?: Record<string, string> };
  /** Messages per produce request. Default 5000. */
  batchSize?: number;
  /** At-least-once / none: how long a partial request waits for more records. Default 5 ms. */
  lingerMs?: number;
  /** At-least-once / none: produce requests outstanding at once. Default 8. */
  maxInFlight?: number;
  /** How long one write (exactly-once: one checkpoint's batch) is retried before the task fails. Default 120 s. */
  deliveryTimeoutMs?: number;
}

export function kafkaSink<T>(options: KafkaSinkOptions<T>): AnySink<T> {
  const o = validate(options);
  const cfg = compileClientOptions(o, "kafkaSink");
  const name = `Kafka Sink: ${o.topic}`;
  if (o.deliveryGuarantee === "exactly-once") {
    return {
      writeAhead: true,
      name,
      async createLog(ctx) {
        const { kafka, log, metrics } = connect(o, cfg, ctx);
        await withAdmin(kafka, cfg, async (admin) => {
          await ensureTopic(admin, o, cfg);
          await checkTransactionTimeout(admin, o.transactionTimeoutMs);
        });
        const wal = new KafkaWriteAheadLog<T>(
          {
            kafka,
            topic: o.topic,
            serializer: o.serializer,
            transactionalIdPrefix: o.transactionalIdPrefix ?? `weir-${ctx.jobName}-${ctx.operatorUid}`,
            transactionTimeoutMs: o.transactionTimeoutMs,
            batchSize: o.batchSize,
            deliveryTimeoutMs: o.deliveryTimeoutMs,
            createPartitioner: partitionerFor(o.partitioner),
            retry: kafkajsRetry(cfg),
            log,
            onRetry: () => metrics.retries++,
            onPublished: (records) => {
              metrics.records += records;
              metrics.transactions++;
            },
            onSkipped: () => metrics.skipped++,
          },
          ctx,
        );
        await wal.start();
        return wal;
      },
    };
  }
  return {
    name,
    async createWriter(ctx) {
      const { kafka, metrics } = connect(o, cfg, ctx);
      await withAdmin(kafka, cfg, (admin) => ensureTopic(admin, o, cfg));
      const producer = kafka.producer({ createPartitioner: partitionerFor(o.partitioner), retry: kafkajsRetry(cfg) });
      await producer.connect().catch((err: unknown) => Promise.reject(kafkaError(err, `kafkaSink: connecting a producer for topic "${o.topic}"`, cfg)));
      return new AtLeastOnceWriter<T>({
        producer,
        topic: o.topic,
        serializer: o.serializer,
        batchSize: o.batchSize,
        lingerMs: o.lingerMs,
        maxInFlight: o.maxInFlight,
        waitAtBarrier: o.deliveryGuarantee === "at-least-once",
        onSent: (records) => void (metrics.records += records),
      });
    },
  };
}

/** What a sink subtask counts, exported as weir_sink_kafka_* metrics. */
interface SinkCounters {
  records: number;
  retries: number;
  transactions: number;
  skipped: number;
}

/**
 * A kafkajs client for one sink subtask, logging through pino, with its counters registered: records
 * written, failures retried (kafkajs reports each retried failure at ERROR: lost connections, a
 * restarting broker, a moved leader; plus the exactly-once sink's own publish retries), and for
 * exactly-once the transactions committed and batches found already published.
 */
function connect<T>(o: Validated<T>, cfg: KafkaClientConfig, ctx: RuntimeContext): { kafka: Kafka; log: Logger; metrics: SinkCounters } {
  const log = createLogger("kafka-sink", { bindings: { jobId: ctx.jobId, task: ctx.taskName, topic: o.topic } });
  const metrics: SinkCounters = { records: 0, retries: 0, transactions: 0, skipped: 0 };
  const labels = { topic: o.topic };
  const m = ctx.metrics;
  m?.counter("weir_sink_kafka_records_total", "Records the Kafka sink wrote (exactly-once: in committed transactions)", labels, () => metrics.records);
  m?.counter("weir_sink_kafka_retries_total", "Failures the Kafka sink retried (lost connections, broker restarts, leader changes, failed publishes)", labels, () => metrics.retries);
  if (o.deliveryGuarantee === "exactly-once") {
    m?.counter("weir_sink_kafka_transactions_total", "Checkpoint batches the exactly-once Kafka sink committed", labels, () => metrics.transactions);
    m?.counter("weir_sink_kafka_skipped_batches_total", "Restored batches the exactly-once Kafka sink found already published (their marker was there)", labels, () => metrics.skipped);
  }
  const kafka = createKafka({ ...cfg, clientId: cfg.clientId === "weir" ? `weir-sink-${ctx.subtaskIndex}` : cfg.clientId }, log, () => void metrics.retries++);
  return { kafka, log, metrics };
}

type Validated<T> = KafkaSinkOptions<T> &
  Required<Pick<KafkaSinkOptions<T>, "deliveryGuarantee" | "serializer" | "partitioner" | "transactionTimeoutMs" | "batchSize" | "lingerMs" | "maxInFlight" | "deliveryTimeoutMs">>;

function validate<T>(options: KafkaSinkOptions<T>): Validated<T> {
  const o: Validated<T> = {
    deliveryGuarantee: "at-least-once",
    serializer: defaultRecordSerializer<T>(),
    partitioner: "default",
    transactionTimeoutMs: 60_000,
    batchSize: 5_000,
    lingerMs: 5,
    maxInFlight: 8,
    deliveryTimeoutMs: 120_000,
    ...options,
  };
  const bad = (field: string, expected: string, got: unknown) => {
    throw new WeirError("WEIR_E_CONFIG", `kafkaSink: ${field} must be ${expected}, got ${JSON.stringify(got)}`);
  };
  if (typeof o.topic !== "string" || o.topic === "") bad("topic", "a topic name", o.topic);
  if (!["exactly-once", "at-least-once", "none"].includes(o.deliveryGuarantee)) bad("deliveryGuarantee", `"exactly-once", "at-least-once" or "none"`, o.deliveryGuarantee);
  if (typeof o.serializer?.value !== "function") bad("serializer.value", "a function", o.serializer?.value);
  if (o.partitioner !== "default" && typeof o.partitioner !== "function") bad("partitioner", `"default" or a function`, o.partitioner);
  for (const f of ["transactionTimeoutMs", "batchSize", "maxInFlight", "deliveryTimeoutMs"] as const) {
    if (!Number.isInteger(o[f]) || o[f] <= 0) bad(f, "a positive integer", o[f]);
  }
  if (!(o.lingerMs >= 0)) bad("lingerMs", ">= 0", o.lingerMs);
  if (o.transactionalIdPrefix !== undefined && (typeof o.transactionalIdPrefix !== "string" || o.transactionalIdPrefix === "")) {
    bad("transactionalIdPrefix", "a non-empty string", o.transactionalIdPrefix);
  }
  if (o.createTopic !== undefined && !(Number.isInteger(o.createTopic.partitions) && o.createTopic.partitions > 0)) {
    bad("createTopic.partitions", "a positive integer", o.createTopic.partitions);
  }
  return o;
}

async function withAdmin<R>(kafka: Kafka, cfg: KafkaClientConfig, f: (admin: Admin) => Promise<R>): Promise<R> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await f(admin);
  } catch (err) {
    throw kafkaError(err, "kafkaSink: checking the topic", cfg);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A missing topic is an error naming it, or is created when `createTopic` says so. */
async function ensureTopic<T>(admin: Admin, o: Validated<T>, cfg: KafkaClientConfig): Promise<void> {
  const topics = await admin.listTopics();
  if (topics.includes(o.topic)) return;
  if (o.createTopic === undefined) {
    throw new WeirError(
      "WEIR_E_KAFKA_TOPIC_NOT_FOUND",
      `kafkaSink: topic "${o.topic}" does not exist on brokers ${cfg.brokers.join(",")}; create it, or give the sink createTopic`,
    );
  }
  const spec: ITopicConfig = {
    topic: o.topic,
    numPartitions: o.createTopic.partitions,
    replicationFactor: o.createTopic.replicationFactor ?? 1,
    configEntries: Object.entries(o.createTopic.configs ?? {}).map(([name, value]) => ({ name, value })),
  };
  // Several subtasks may race to create it; losing the race is fine.
  await admin.createTopics({ topics: [spec], waitForLeaders: true }).catch((err: { type?: string }) => {
    if (err.type !== "TOPIC_ALREADY_EXISTS") throw err;
  });
  // Whoever created it, write only once every partition has a leader: a kafkajs producer whose first
  // metadata lacks a partition drops the records it sends there.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { topics: [meta] } = await admin.fetchTopicMetadata({ topics: [o.topic] });
    const ready = meta !== undefined && meta.partitions.length >= o.createTopic.partitions && meta.partitions.every((p) => p.leader >= 0);
    if (ready) return;
    if (Date.now() > deadline) throw new WeirError("WEIR_E_KAFKA", `kafkaSink: topic "${o.topic}" was created but its partitions have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The producer's transaction timeout must not exceed the broker's transaction.max.timeout.ms (the
 * broker refuses InitProducerId). Unlike Flink's two-phase commit, a transaction here lasts only while
 * one completed checkpoint's records are written, so it is not bound to the checkpoint interval or
 * timeout (see README).
 */
async function checkTransactionTimeout(admin: Admin, timeoutMs: number): Promise<void> {
  const { brokers } = await admin.describeCluster();
  const resources = await admin.describeConfigs({
    resources: brokers.slice(0, 1).map((b) => ({ type: 4 /* BROKER */, name: String(b.nodeId), configNames: ["transaction.max.timeout.ms"] })),
    includeSynonyms: false,
  });
  const entry = resources.resources[0]?.configEntries.find((e) => e.configName === "transaction.max.timeout.ms");
  const max = entry === undefined ? NaN : Number(entry.configValue);
  if (Number.isFinite(max) && timeoutMs > max) {
    throw new WeirError(
      "WEIR_E_CONFIG",
      `kafkaSink: transactionTimeoutMs ${timeoutMs} exceeds the broker's transaction.max.timeout.ms ${max}; lower it or raise the broker's maximum`,
    );
  }
}

function partitionerFor(p: "default" | KafkaPartitioner): () => (args: PartitionerArgs) => number {
  if (p === "default") return Partitioners.DefaultPartitioner;
  return () =>
    ({ partitionMetadata, message }) => {
      const n = partitionMetadata.length;
      const chosen = p({ key: message.key ?? null, value: message.value ?? null }, n);
      if (!Number.isInteger(chosen) || chosen < 0 || chosen >= n) {
        throw new WeirError("WEIR_E_USER_FUNCTION", `Kafka sink partitioner returned ${chosen} for a topic with ${n} partitions`);
      }
      return chosen;
    };
}
