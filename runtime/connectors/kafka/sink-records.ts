/**
 * Turning sink input into Kafka records: the serializer (key, value, headers, timestamp), and the
 * compact form the exactly-once sink keeps in checkpoints until it publishes them.
 */
import { pack, unpack } from "msgpackr";
import type { IHeaders, Message } from "kafkajs";
import { WeirError } from "../../common/errors.js";
import { formatRecord } from "../print.js";

/** Bytes or text (UTF-8) for a key, value or header. */
export type KafkaBytes = Buffer | string;

/**
 * How a record becomes a Kafka record. `value` is required; without `key` records have no key (and
 * are spread over partitions); `timestamp` defaults to the record's event time, else the send time.
 */
export interface KafkaRecordSerializer<T> {
  key?: (value: T) => KafkaBytes | null;
  value: (value: T) => KafkaBytes | null;
  headers?: (value: T) => Record<string, KafkaBytes> | null;
  timestamp?: (value: T, eventTime: number | undefined) => number;
}

/** Values as they are when they are strings or bytes, other values as JSON. */
export function defaultRecordSerializer<T>(): KafkaRecordSerializer<T> {
  return { value: (v) => (Buffer.isBuffer(v) ? v : formatRecord(v)) };
}

/**
 * The sink's records of one input batch, in the compact form kept in checkpoints: one msgpack array of
 * [key, value, headers, timestamp] tuples.
 */
type Tuple = [key: KafkaBytes | null, value: KafkaBytes | null, headers: Record<string, KafkaBytes> | null, timestamp: number | null];

/** A batch as the tuples the exactly-once sink keeps in checkpoints. */
export function serializeBatch<T>(serializer: KafkaRecordSerializer<T>, values: readonly T[], timestamps: readonly number[] | null): Tuple[] {
  const out = new Array<Tuple>(values.length);
  const { key, value, headers, timestamp } = serializer;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const eventTime = timestamps === null ? undefined : timestamps[i];
    out[i] = [key ? key(v) : null, value(v), headers ? headers(v) : null, timestamp ? timestamp(v, eventTime) : (eventTime ?? null)];
  }
  return out;
}

/**
 * A batch straight into kafkajs messages, appended to `out`: the at-least-once sink's path, without
 * the tuple in between (its own loop: a shared loop with a callback measured slower than both).
 */
export function appendMessages<T>(serializer: KafkaRecordSerializer<T>, values: readonly T[], timestamps: readonly number[] | null, out: Message[]): void {
  const { key, value, headers, timestamp } = serializer;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const eventTime = timestamps === null ? undefined : timestamps[i];
    out.push(message(key ? key(v) : null, value(v), headers ? headers(v) : null, timestamp ? timestamp(v, eventTime) : (eventTime ?? null)));
  }
}

export function encodeChunk(tuples: readonly Tuple[]): Buffer {
  return pack(tuples);
}

/** The kafkajs messages of one chunk written by `encodeChunk`. */
export function decodeChunk(chunk: Buffer): Message[] {
  let tuples: Tuple[];
  try {
    tuples = unpack(chunk) as Tuple[];
  } catch (err) {
    throw new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `a Kafka sink batch in the checkpoint does not decode: ${(err as Error).message}`);
  }
  return tuples.map(toMessage);
}

/** A kafkajs message (timestamps as strings, as kafkajs wants them). */
function toMessage([key, value, headers, timestamp]: Tuple): Message {
  return message(key, value, headers, timestamp);
}

function message(key: KafkaBytes | null, value: KafkaBytes | null, headers: Record<string, KafkaBytes> | null, timestamp: number | null): Message {
  const m: Message = { key, value };
  if (headers !== null) m.headers = headers as IHeaders;
  if (timestamp !== null && Number.isFinite(timestamp)) m.timestamp = String(Math.trunc(timestamp));
  return m;
}
