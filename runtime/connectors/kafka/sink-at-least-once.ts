/**
 * The at-least-once Kafka sink writer (and "none", the same without waiting at barriers). Records are
 * gathered into produce requests of `batchSize` messages (or whatever arrived within `lingerMs`), up to
 * `maxInFlight` requests are outstanding at once (more holds the task's input: backpressure), and at a
 * checkpoint barrier everything sent before it must be acknowledged (acks=all) before the checkpoint is.
 * After a failure the records since the last checkpoint are sent again: duplicates, never loss.
 */
import type { Message, Producer } from "kafkajs";
import type { SinkWriter } from "../../api/sink.js";
import { WeirError } from "../../common/errors.js";
import { appendMessages, type KafkaRecordSerializer } from "./sink-records.js";

export interface AtLeastOnceSettings<T> {
  producer: Producer;
  topic: string;
  serializer: KafkaRecordSerializer<T>;
  batchSize: number;
  lingerMs: number;
  maxInFlight: number;
  /** false for "none": barriers do not wait for acknowledgements. */
  waitAtBarrier: boolean;
  onSent: (records: number) => void;
}

export class AtLeastOnceWriter<T> implements SinkWriter<T> {
  private buffer: Message[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private lingerTimer: NodeJS.Timeout | null = null;
  private failure: unknown = null;

  constructor(private readonly s: AtLeastOnceSettings<T>) {}

  write(values: T[], timestamps: number[] | null): void | Promise<void> {
    this.rethrow();
    appendMessages(this.s.serializer, values, timestamps, this.buffer);
    while (this.buffer.length >= this.s.batchSize) this.dispatch(this.buffer.splice(0, this.s.batchSize));
    if (this.buffer.length > 0 && this.lingerTimer === null) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        this.dispatchBuffer();
      }, this.s.lingerMs);
    }
    if (this.inFlight.size > this.s.maxInFlight) return this.settleOne();
  }

  prepareSnapshot(): Promise<void> {
    this.rethrow();
    this.dispatchBuffer();
    if (!this.s.waitAtBarrier) return Promise.resolve();
    return this.settleAll([...this.inFlight]);
  }

  async flush(): Promise<void> {
    this.dispatchBuffer();
    await this.settleAll([...this.inFlight]);
  }

  async close(): Promise<void> {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    await this.s.producer.disconnect().catch(() => undefined);
  }

  private dispatchBuffer(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (this.buffer.length === 0) return;
    const messages = this.buffer;
    this.buffer = [];
    this.dispatch(messages);
  }

  private dispatch(messages: Message[]): void {
    const sent: Promise<void> = this.s.producer.send({ topic: this.s.topic, messages, acks: -1 }).then(
      () => {
        this.inFlight.delete(sent);
        this.s.onSent(messages.length);
      },
      (err: unknown) => {
        this.inFlight.delete(sent);
        this.failure ??= new WeirError("WEIR_E_COMMIT", `Kafka sink could not write to topic "${this.s.topic}": ${(err as Error).message}`, { cause: err });
      },
    );
    this.inFlight.add(sent);
  }

  /** Resolves once the oldest request settled (or fails with the sink's failure). */
  private async settleOne(): Promise<void> {
    const [oldest] = this.inFlight;
    await oldest;
    this.rethrow();
  }

  private async settleAll(requests: Promise<void>[]): Promise<void> {
    await Promise.all(requests);
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure !== null) throw this.failure;
  }
}
