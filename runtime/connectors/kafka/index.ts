/**
 * Kafka connectors (kafkajs). The source reads topics (or a pattern) with one split per partition,
 * positions in checkpoints, per-partition watermarks and an optional bounded mode:
 *
 *   import { kafkaSource, watermarks } from "weir";
 *
 *   env.fromSource(
 *     kafkaSource<Click>({ brokers: "kafka:9092", topics: "clicks", groupId: "clicks-per-minute", deserializer: "json" }),
 *     watermarks.boundedOutOfOrder<Click>(5_000).withIdleness(30_000),
 *   );
 *
 * client.ts holds the connection options, logging and topic checks the source and sink share;
 * serde.ts the codecs and deserializers.
 */
export { kafkaSource, type KafkaSourceOptions, type KafkaPartitionSplit } from "./source.js";
export type { StartingOffsets, OffsetReset } from "./offsets.js";
export { codecs, type Codec, type CodecName, type ConsumedRecord, type DeserializerSpec, type HeaderValue, type RecordDeserializer } from "./serde.js";
export type { KafkaClientOptions, KafkaRetryOptions } from "./client.js";
export { partitionOwner } from "./assignment.js";
