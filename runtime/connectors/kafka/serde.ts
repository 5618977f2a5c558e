/**
 * Serializers and deserializers of the Kafka connectors.
 *
 * Two levels:
 * - a {@link Codec} turns one field (a key or a value) into bytes and back: `codecs.string()`,
 *   `codecs.json()`, `codecs.bytes()`, or your own (both directions, for sources and sinks);
 * - a {@link RecordDeserializer} builds a stream element from a whole consumed record (key, value,
 *   headers, timestamp, topic, partition, offset).
 *
 *   kafkaSource({ ..., deserializer: "json" })                                     // value only
 *   kafkaSource({ ..., deserializer: { deserialize: (r) => ({ key: r.key?.toString(), ts: r.timestamp }) } })
 *
 * Tombstones (a null value) reach a codec as `null`; the built-in codecs return `null` for them.
 */
import { WeirError } from "../../common/errors.js";

/** Converts one field of a Kafka record (key or value) between a value and bytes. */
export interface Codec<T> {
  /** A readable name, used in error messages ("json", "string", ...). */
  readonly name: string;
  encode(value: T): Buffer | null;
  decode(bytes: Buffer | null): T;
}

/** The codecs that need no configuration, by name. */
export type CodecName = "string" | "json" | "bytes";

const stringCodec: Codec<string> = {
  name: "string",
  encode: (v) => (v === null || v === undefined ? null : Buffer.from(v, "utf8")),
  decode: (b) => (b === null ? (null as unknown as string) : b.toString("utf8")),
};

const bytesCodec: Codec<Buffer> = {
  name: "bytes",
  encode: (v) => v,
  decode: (b) => b as Buffer,
};

const jsonCodec: Codec<unknown> = {
  name: "json",
  encode: (v) => (v === null || v === undefined ? null : Buffer.from(JSON.stringify(v), "utf8")),
  // JSON.parse of a Buffer parses its UTF-8 text (no intermediate copy is made by us).
  decode: (b) => (b === null ? null : JSON.parse(b as unknown as string)),
};

/** The built-in codecs. */
export const codecs = {
  /** UTF-8 text. */
  string: (): Codec<string> => stringCodec,
  /** UTF-8 JSON text; `decode` throws a SyntaxError on malformed input. */
  json: <T = unknown>(): Codec<T> => jsonCodec as Codec<T>,
  /** The raw bytes (a Buffer, sharing memory with the fetched batch: copy it to keep it long). */
  bytes: (): Codec<Buffer> => bytesCodec,
};

/** The codec named `name`, or `codec` itself; a WeirError naming `field` for an unknown name. */
export function resolveCodec<T>(codec: CodecName | Codec<T>, field: string): Codec<T> {
  if (typeof codec === "object" && codec !== null && typeof codec.decode === "function") return codec;
  switch (codec) {
    case "string":
      return stringCodec as unknown as Codec<T>;
    case "json":
      return jsonCodec as Codec<T>;
    case "bytes":
      return bytesCodec as unknown as Codec<T>;
    default:
      throw new WeirError("WEIR_E_CONFIG", `${field} is ${JSON.stringify(codec)}; expected "string", "json", "bytes" or a codec object`);
  }
}

/** A Kafka header value as kafkajs delivers it. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/**
 * A consumed record as a deserializer sees it. The reader reuses one instance for every record (no
 * allocation per record): read what you need inside `deserialize` and do not keep the object itself.
 */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp (create or log-append time), epoch ms. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, HeaderValue>;
}

/** Builds a stream element from a consumed record. */
export interface RecordDeserializer<T> {
  deserialize(record: ConsumedRecord): T;
}

/** How a source turns records into elements: a codec (name or object) of the value, or a record deserializer. */
export type DeserializerSpec<T> = CodecName | Codec<T> | RecordDeserializer<T>;

/**
 * A compiled deserializer: `value` set when only the value is decoded (the fast path, no record object
 * is filled), else `record`.
 */
export type CompiledDeserializer<T> =
  | { readonly kind: "value"; readonly name: string; readonly value: Codec<T> }
  | { readonly kind: "record"; readonly name: string; readonly record: RecordDeserializer<T> };

/** Compile a deserializer option; a WeirError naming `field` when it is neither a codec nor a deserializer. */
export function compileDeserializer<T>(spec: DeserializerSpec<T>, field: string): CompiledDeserializer<T> {
  if (typeof spec === "object" && spec !== null && typeof (spec as RecordDeserializer<T>).deserialize === "function") {
    return { kind: "record", name: "custom", record: spec as RecordDeserializer<T> };
  }
  const codec = resolveCodec(spec as CodecName | Codec<T>, field);
  return { kind: "value", name: codec.name, value: codec };
}
