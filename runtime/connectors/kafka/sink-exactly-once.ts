/**
 * The exactly-once Kafka sink's write-ahead log (see runtime/operators/write-ahead-sink-operator.ts
 * and README "Exactly-once into Kafka").
 *
 * kafkajs cannot finish a transaction another producer opened, so a transaction never has to outlive
 * its process here: a checkpoint holds the records themselves, and once it completes they are written
 * in one transaction that also commits a marker, the offset `checkpointId` of a consumer group named
 * after the batch's origin (`<prefix>.marker.<lineage>.<subtask>`), through `sendOffsets`. Records and
 * marker become visible together or not at all. Before each publish the marker is read: a batch whose
 * marker is already at or past its checkpoint was published (by this process before a failure, or by
 * a process that died after committing) and is skipped.
 *
 * Reading the marker is sound only after fencing: the first `transaction()` of a producer sends
 * InitProducerId for its transactional id, which aborts that id's open transaction, or waits until a
 * committing one has completed (markers included). A publish that fails therefore drops its producer
 * and starts again with a new one, and re-reads the marker. Transactional ids are
 * `<prefix>-<subtask>`, stable across job submissions, so a restarted or upgraded job fences what its
 * predecessor left open, for every subtask index the previous parallelism had.
 */
import type { Admin, Kafka, Producer } from "kafkajs";
import type { RuntimeContext } from "../../api/functions.js";
import type { WriteAheadBatchId, WriteAheadLog } from "../../api/sink.js";
import { WeirError } from "../../common/errors.js";
import type { Logger } from "../../common/logging.js";
import { decodeChunk, encodeChunk, serializeBatch, type KafkaRecordSerializer } from "./sink-records.js";

export interface ExactlyOnceSettings<T> {
  kafka: Kafka;
  topic: string;
  serializer: KafkaRecordSerializer<T>;
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  /** Messages per produce request while publishing. */
  batchSize: number;
  /** Give up publishing one batch (the task fails and restarts from its checkpoint) after this long. */
  deliveryTimeoutMs: number;
  createPartitioner: NonNullable<Parameters<Kafka["producer"]>[0]>["createPartitioner"];
  /** kafkajs retry settings of the producers (each failed publish is also retried as a whole). */
  retry: { initialRetryTime: number; maxRetryTime: number; retries: number };
  log: Logger;
  onRetry: () => void;
  onPublished: (records: number) => void;
  onSkipped: () => void;
}

export function transactionalId(prefix: string, subtask: number): string {
  return `${prefix}-${subtask}`;
}

export function markerGroup(prefix: string, id: Pick<WriteAheadBatchId, "lineage" | "subtask">): string {
  return `${prefix}.marker.${id.lineage}.${id.subtask}`;
}

export class KafkaWriteAheadLog<T> implements WriteAheadLog<T> {
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  private closed = false;

  constructor(
    private readonly s: ExactlyOnceSettings<T>,
    private readonly ctx: RuntimeContext,
  ) {}

  /** Fence this subtask's transactional id at once: a predecessor's open transaction is aborted. */
  async start(): Promise<void> {
    await this.fencedProducer();
  }

  encode(values: T[], timestamps: number[] | null): Buffer {
    return encodeChunk(serializeBatch(this.s.serializer, values, timestamps));
  }

  async recover(info: { previousParallelism: number }): Promise<void> {
    // Ids of the previous parallelism that no subtask of this one uses: subtask i fences i + k * p.
    const p = this.ctx.parallelism;
    for (let j = this.ctx.subtaskIndex + p; j < info.previousParallelism; j += p) {
      await this.withRetries(`fencing transactional id ${transactionalId(this.s.transactionalIdPrefix, j)}`, () => this.fence(j));
    }
  }

  async publish(id: WriteAheadBatchId, chunks: readonly Buffer[]): Promise<void> {
    await this.withRetries(`publishing checkpoint ${id.checkpointId} of ${id.lineage}/${id.subtask}`, async () => {
      const producer = await this.fencedProducer();
      const group = markerGroup(this.s.transactionalIdPrefix, id);
      if ((await this.markerOf(group)) >= id.checkpointId) {
        this.s.log.info({ topic: this.s.topic, group, checkpointId: id.checkpointId }, "Kafka sink batch was already published; skipping it");
        this.s.onSkipped();
        return;
      }
      const tx = await producer.transaction();
      let records = 0;
      try {
        for (const chunk of chunks) {
          const messages = decodeChunk(chunk);
          for (let i = 0; i < messages.length; i += this.s.batchSize) {
            await tx.send({ topic: this.s.topic, messages: messages.slice(i, i + this.s.batchSize) });
          }
          records += messages.length;
        }
        await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: this.s.topic, partitions: [{ partition: 0, offset: String(id.checkpointId) }] }] });
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      this.s.onPublished(records);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.dropProducer();
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }

  /** The committed marker offset of `group` (-1 when there is none). */
  private async markerOf(group: string): Promise<number> {
    if (this.admin === null) {
      this.admin = this.s.kafka.admin();
      await this.admin.connect();
    }
    const [topic] = await this.admin.fetchOffsets({ groupId: group, topics: [this.s.topic] });
    const p0 = topic?.partitions.find((p) => p.partition === 0);
    return p0 === undefined ? -1 : Number(p0.offset);
  }

  /** This subtask's producer, initialized (and so fencing its predecessors); a new one after a failure. */
  private async fencedProducer(): Promise<Producer> {
    if (this.producer !== null) return this.producer;
    if (this.closed) throw new WeirError("WEIR_E_CANCELED", "Kafka sink closed");
    const producer = this.newProducer(transactionalId(this.s.transactionalIdPrefix, this.ctx.subtaskIndex));
    try {
      await producer.connect();
      // The first transaction() sends InitProducerId; nothing was added, so abort() sends nothing.
      await (await producer.transaction()).abort();
      if (this.closed) throw new WeirError("WEIR_E_CANCELED", "Kafka sink closed");
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    this.producer = producer;
    return producer;
  }

  private async fence(subtask: number): Promise<void> {
    const producer = this.newProducer(transactionalId(this.s.transactionalIdPrefix, subtask));
    await producer.connect();
    try {
      await (await producer.transaction()).abort();
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  }

  private newProducer(id: string): Producer {
    return this.s.kafka.producer({
      transactionalId: id,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.s.transactionTimeoutMs,
      createPartitioner: this.s.createPartitioner,
      // Bounded, unlike kafkajs's default for idempotent producers (forever): a failed publish is
      // aborted and repeated with a fresh producer, which checks the marker first.
      retry: { retries: 6, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  private async dropProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    await p?.disconnect().catch(() => undefined);
  }

  /**
   * Run `attempt` until it succeeds, with back-off, for up to deliveryTimeoutMs. After a failure the
   * producer is replaced: the next attempt fences the failed one's transaction and re-reads the marker.
   */
  private async withRetries(what: string, attempt: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.s.deliveryTimeoutMs;
    for (let n = 0; ; n++) {
      // A closed log (its task canceled) must not start another attempt: a new producer would fence
      // the producer of the task that replaced it and race it to publish the same batch.
      if (this.closed) throw new WeirError("WEIR_E_CANCELED", `Kafka sink closed while ${what}`);
      try {
        return await attempt();
      } catch (err) {
        await this.dropProducer();
        if (this.closed) throw new WeirError("WEIR_E_CANCELED", `Kafka sink closed while ${what}`);
        if (Date.now() >= deadline || isFatal(err)) {
          throw new WeirError("WEIR_E_COMMIT", `Kafka sink failed ${what} to topic "${this.s.topic}": ${(err as Error).message}`, { cause: err });
        }
        this.s.onRetry();
        const delay = Math.min(200 * 2 ** n, 5_000);
        this.s.log.warn({ topic: this.s.topic, attempt: n + 1, delayMs: delay, err: (err as Error).message }, `Kafka sink retrying ${what}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** Errors no retry can fix: the topic is gone, the configuration is refused, authorization. */
function isFatal(err: unknown): boolean {
  const type = (err as { type?: string }).type ?? (err as { cause?: { type?: string } }).cause?.type;
  return type === "INVALID_TRANSACTION_TIMEOUT" || type === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" || type === "TOPIC_AUTHORIZATION_FAILED" || type === "GROUP_AUTHORIZATION_FAILED";
}
