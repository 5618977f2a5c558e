/**
 * Weir's DataStream API: what job modules import.
 *
 *   import { type StreamEnvironment, watermarks, tumbling, count, generatorSource, fileSink } from "weir";
 *
 *   export default (env: StreamEnvironment, args: string[]) => {
 *     env.fromSource(generatorSource({ count: 1000, generate: (i) => ({ user: i % 7, ts: i * 100 }) }),
 *                    watermarks.boundedOutOfOrder<{ user: number; ts: number }>(1_000).withTimestampAssigner((e) => e.ts))
 *        .keyBy((e) => e.user)
 *        .window(tumbling(10_000))
 *        .aggregate(count())
 *        .print();
 *   };
 */
export { StreamEnvironment, type EnvironmentOptions } from "./environment.js";
export { DataStream, DataStreamSink, KeyedStream, WindowedStream, ConnectedStreams, KeyedConnectedStreams } from "./datastream.js";
export { OutputTag } from "./functions.js";
export type {
  AggregateFunction,
  Collector,
  CoProcessFunction,
  FilterFunction,
  FlatMapFunction,
  KeyedCoProcessFunction,
  KeyedProcessContext,
  KeyedProcessFunction,
  KeyedRuntimeContext,
  KeySelector,
  MapFunction,
  MetricGroup,
  OnTimerContext,
  ProcessContext,
  ProcessFunction,
  ProcessWindowFunction,
  ReduceFunction,
  RichFunction,
  RuntimeContext,
  TimerService,
  TimeWindow,
  WindowContext,
} from "./functions.js";
export type {
  AggregatingState,
  ListState,
  MapState,
  OperatorStateStore,
  ReducingState,
  StateOptions,
  StateTtlConfig,
  ValueState,
  ValueStateOptions,
} from "./state.js";
export type { ReaderOutput, Source, SourceReader, SourceSplit, SplitOutput } from "./source.js";
export type { AnySink, Committer, Sink, SinkWriter, TransactionalSink, TransactionalSinkWriter, WriteAheadBatchId, WriteAheadLog, WriteAheadSink } from "./sink.js";
export { watermarks, type TimestampAssigner, type WatermarkStrategy } from "./watermarks.js";
export { tumbling, sliding, session, type WindowAssigner, type TimeDomain } from "./windows.js";
export { count, sum, min, max, avg } from "./aggregates.js";
export { generatorSource, collectionSource, splitSource, type GeneratorOptions, type CollectionOptions } from "../connectors/generator.js";
export { printSink, discardSink } from "../connectors/print.js";
export { fileSink, transactionalFileSink, type FileSinkOptions, type PartFileCommittable } from "../connectors/file-sink.js";
export { WeirError, type WeirErrorCode } from "../common/errors.js";
export {
  kafkaSource,
  codecs,
  type KafkaSourceOptions,
  type KafkaPartitionSplit,
  type StartingOffsets,
  type OffsetReset,
  type Codec,
  type ConsumedRecord,
  type RecordDeserializer,
  type KafkaClientOptions,
} from "../connectors/kafka/index.js";
export { kafkaSink, type KafkaSinkOptions, type DeliveryGuarantee, type KafkaPartitioner } from "../connectors/kafka/sink.js";
export type { KafkaRecordSerializer, KafkaBytes } from "../connectors/kafka/sink-records.js";
