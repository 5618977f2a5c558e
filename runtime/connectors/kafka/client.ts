/**
 * Kafka client plumbing shared by the source and the sink: connection options compiled once, the
 * kafkajs logger bridged to pino, retry/back-off defaults, topic checks whose errors name the topic and
 * the brokers, and offset commits for a consumer group the connector is not a member of.
 *
 *   const cfg = compileClientOptions({ brokers: "kafka:9092" }, "kafkaSource");
 *   const kafka = createKafka(cfg);
 *   const admin = kafka.admin();
 *   await admin.connect();
 *   const partitions = await topicPartitions(admin, ["clicks"], cfg);   // WeirError if "clicks" is missing
 */
import type { ConnectionOptions } from "node:tls";
import kafkajs, { type Admin, type Kafka, type LogEntry, type SASLOptions } from "kafkajs";
import { WeirError } from "../../common/errors.js";
import { createLogger, type Logger } from "../../common/logging.js";

const { Kafka: KafkaClient, logLevel } = kafkajs;

/** Retry with exponential back-off (kafkajs `retry`): each wait doubles, with 20 % jitter, up to the maximum. */
export interface KafkaRetryOptions {
  /** First wait (default 300 ms). */
  initialRetryTimeMs?: number;
  /** Longest wait (default 30 s). */
  maxRetryTimeMs?: number;
  /** Retries of one operation before it fails (default 6, about 20 s in all). */
  retries?: number;
}

/** Connection options every Kafka connector takes. */
export interface KafkaClientOptions {
  /** Bootstrap brokers, `host:port`: an array or a comma-separated string. */
  brokers: string | readonly string[];
  /** The client id brokers log and quota by (default "weir"). */
  clientId?: string;
  /** TLS: `true` for the system CAs, or Node TLS options. */
  ssl?: boolean | ConnectionOptions;
  /** SASL authentication (kafkajs options: plain, scram-sha-256/512, aws, oauthbearer). */
  sasl?: SASLOptions;
  /** Time to establish a connection (default 3000 ms). */
  connectionTimeoutMs?: number;
  /** Time a request may take (default 30 000 ms). */
  requestTimeoutMs?: number;
  /** Back-off of retried operations; broker restarts and lost connections are retried with it. */
  retry?: KafkaRetryOptions;
}

/** Compiled, validated client options. */
export interface KafkaClientConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean | ConnectionOptions | undefined;
  readonly sasl: SASLOptions | undefined;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retry: Readonly<Required<KafkaRetryOptions>>;
}

/** The retry defaults: about 20 s of retries (0.3 + 0.6 + ... + 9.6 s) before an operation fails. */
export const DEFAULT_RETRY: Readonly<Required<KafkaRetryOptions>> = Object.freeze({ initialRetryTimeMs: 300, maxRetryTimeMs: 30_000, retries: 6 });

/** `value` if it is a positive integer, else a WeirError naming `field`. */
export function positiveInt(value: number, field: string): number {
  if (!(Number.isInteger(value) && value > 0)) throw new WeirError("WEIR_E_CONFIG", `${field} must be a positive integer, got ${value}`);
  return value;
}

function brokerList(brokers: string | readonly string[], owner: string): string[] {
  const list = (typeof brokers === "string" ? brokers.split(",") : [...brokers]).map((b) => String(b).trim()).filter((b) => b !== "");
  if (list.length === 0) throw new WeirError("WEIR_E_CONFIG", `${owner}: brokers is empty; expected "host:port" addresses`);
  for (const b of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) {
      throw new WeirError("WEIR_E_CONFIG", `${owner}: broker "${b}" is not a "host:port" address`);
    }
  }
  return list;
}

/** Apply defaults to client options and validate them; WeirErrors name `owner` and the field. */
export function compileClientOptions(opts: KafkaClientOptions, owner: string): KafkaClientConfig {
  const retry = { ...DEFAULT_RETRY, ...opts.retry };
  positiveInt(retry.initialRetryTimeMs, `${owner}: retry.initialRetryTimeMs`);
  positiveInt(retry.maxRetryTimeMs, `${owner}: retry.maxRetryTimeMs`);
  if (!(Number.isInteger(retry.retries) && retry.retries >= 0)) {
    throw new WeirError("WEIR_E_CONFIG", `${owner}: retry.retries must be an integer >= 0, got ${retry.retries}`);
  }
  return Object.freeze({
    brokers: Object.freeze(brokerList(opts.brokers, owner)),
    clientId: opts.clientId ?? "weir",
    ssl: opts.ssl,
    sasl: opts.sasl,
    connectionTimeoutMs: positiveInt(opts.connectionTimeoutMs ?? 3_000, `${owner}: connectionTimeoutMs`),
    requestTimeoutMs: positiveInt(opts.requestTimeoutMs ?? 30_000, `${owner}: requestTimeoutMs`),
    retry: Object.freeze(retry),
  });
}

let sharedLogger: Logger | undefined;

/** The process's logger of Kafka clients (component "kafka"), created on first use. */
export function kafkaLogger(): Logger {
  return (sharedLogger ??= createLogger("kafka"));
}

/**
 * kafkajs logs through pino. kafkajs reports every retried failure (a refused connection while a broker
 * restarts) at ERROR although it recovers; those become warnings, and failures it gives up on surface
 * as errors of the connector. Its INFO lines (group joins, stops) become debug. `onError` sees each
 * ERROR entry (e.g. to count lost connections: namespace "Connection").
 */
export function pinoLogCreator(log: Logger, onError?: (namespace: string, message: string) => void): () => (entry: LogEntry) => void {
  return () => ({ namespace, level, log: entry }) => {
    const { message, timestamp: _t, logger: _l, ...fields } = entry as LogEntry["log"] & { logger?: string };
    const line = { kafkajs: namespace, ...fields };
    // The exactly-once sink bounds its producers' retries on purpose: a failed publish is aborted and
    // repeated with a fresh producer that checks the batch's marker first (sink-exactly-once.ts).
    if (message.startsWith("Limiting retries for the idempotent producer")) return;
    if (level === logLevel.ERROR) onError?.(namespace, message);
    if (level <= logLevel.WARN) log.warn(line, message);
    else if (level === logLevel.INFO) log.debug(line, message);
    else log.trace(line, message);
  };
}

/** The kafkajs level that lets through what `log` would print (kafkajs skips building filtered entries). */
function kafkajsLevel(log: Logger): number {
  const level = log.levelVal;
  if (level <= 10) return logLevel.DEBUG; // trace
  if (level <= 20) return logLevel.INFO; // debug
  if (level <= 40) return logLevel.WARN;
  return logLevel.NOTHING;
}

/** A kafkajs client for `cfg`, logging through `log` (default: the process's "kafka" logger); `onError` as in pinoLogCreator. */
export function createKafka(cfg: KafkaClientConfig, log: Logger = kafkaLogger(), onError?: (namespace: string, message: string) => void): Kafka {
  return new KafkaClient({
    brokers: [...cfg.brokers],
    clientId: cfg.clientId,
    ...(cfg.ssl !== undefined ? { ssl: cfg.ssl } : {}),
    ...(cfg.sasl !== undefined ? { sasl: cfg.sasl } : {}),
    connectionTimeout: cfg.connectionTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    retry: kafkajsRetry(cfg),
    logLevel: kafkajsLevel(log),
    logCreator: pinoLogCreator(log, onError),
  });
}

/** The kafkajs form of the client's retry options. */
export function kafkajsRetry(cfg: KafkaClientConfig): { initialRetryTime: number; maxRetryTime: number; retries: number } {
  return { initialRetryTime: cfg.retry.initialRetryTimeMs, maxRetryTime: cfg.retry.maxRetryTimeMs, retries: cfg.retry.retries };
}

/** Wrap a kafkajs failure into a WeirError that says what failed and on which brokers. */
export function kafkaError(err: unknown, what: string, cfg: KafkaClientConfig): WeirError {
  if (err instanceof WeirError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new WeirError("WEIR_E_KAFKA", `${what} failed on Kafka brokers ${cfg.brokers.join(",")}: ${reason}`, { cause: err });
}

/** The error of a topic that does not exist. */
export function topicNotFound(topic: string, cfg: KafkaClientConfig, owner: string): WeirError {
  return new WeirError(
    "WEIR_E_KAFKA_TOPIC_NOT_FOUND",
    `${owner}: Kafka topic "${topic}" does not exist on brokers ${cfg.brokers.join(",")}; create it first (${owner} does not create topics)`,
  );
}

/**
 * The partition ids of each of `topics`, checking first that they all exist (from the full topic list,
 * so that no broker auto-creates one on a metadata request). A missing topic is a WeirError
 * (WEIR_E_KAFKA_TOPIC_NOT_FOUND) naming it and the brokers.
 */
export async function topicPartitions(admin: Admin, topics: readonly string[], cfg: KafkaClientConfig, owner: string): Promise<Map<string, number[]>> {
  const existing = new Set(await admin.listTopics());
  for (const t of topics) if (!existing.has(t)) throw topicNotFound(t, cfg, owner);
  const out = new Map<string, number[]>();
  if (topics.length === 0) return out;
  const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] });
  for (const t of meta) out.set(t.name, t.partitions.map((p) => p.partitionId).sort((a, b) => a - b));
  return out;
}

/** The names of the existing topics matching `pattern`, sorted; Kafka's internal topics (`__*`) never match. */
export async function matchingTopics(admin: Admin, pattern: RegExp): Promise<string[]> {
  const names = await admin.listTopics();
  return names.filter((t) => !t.startsWith("__") && new RegExp(pattern.source, pattern.flags.replace("g", "")).test(t)).sort();
}

/** One committed position: the next offset to read of a partition. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Commits offsets into a consumer group without joining it (generation -1, as Java's `assign()` consumers do). */
export interface GroupOffsetCommitter {
  /** Commit; rejects when the broker refuses (e.g. the group has active members). */
  commit(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

interface InternalBroker {
  offsetCommit(req: { groupId: string; groupGenerationId: number; memberId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<unknown>;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(req: { groupId: string }): Promise<InternalBroker>;
}

/**
 * A committer on its own connections. kafkajs has no public "commit offsets for a group I am not a
 * member of": its `admin.setOffsets` joins the group with a consumer, which would make the subtasks of
 * a source rebalance each other. This uses kafkajs's internal cluster (the client's private factory,
 * kafkajs 2.2.4) to send one OffsetCommit with generation -1 and no member id, which brokers accept for
 * a group without active members.
 */
export function groupOffsetCommitter(kafka: Kafka): GroupOffsetCommitter {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  if (factory === undefined) throw new WeirError("WEIR_E_KAFKA", "this kafkajs version has no internal cluster factory; group offsets cannot be committed");
  const create = (kafka as unknown as Record<symbol, (o: object) => InternalCluster>)[factory]!;
  let cluster: Promise<InternalCluster> | null = null;
  const connected = () =>
    (cluster ??= (async () => {
      const c = create({ allowAutoTopicCreation: false, metadataMaxAge: 300_000 });
      await c.connect();
      return c;
    })().catch((err: unknown) => {
      cluster = null;
      throw err;
    }));
  return {
    async commit(groupId, offsets) {
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const o of offsets) {
        let l = byTopic.get(o.topic);
        if (!l) byTopic.set(o.topic, (l = []));
        l.push({ partition: o.partition, offset: String(o.offset) });
      }
      if (byTopic.size === 0) return;
      const coordinator = await (await connected()).findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: "", topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
    },
    async close() {
      const c = cluster;
      cluster = null;
      if (c) await (await c.catch(() => null))?.disconnect();
    },
  };
}
