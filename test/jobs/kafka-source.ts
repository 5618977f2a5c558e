/**
 * Test job for the Kafka source (test/kafka/source.test.ts). One argument: a JSON KafkaJobConfig.
 *
 * Plain mode: every record becomes the line `[topic, partition, offset, value]` in a transactional
 * file sink, so the committed output shows each record read exactly once (or not). `spinMicros` burns
 * CPU per record to keep the job running long enough for crashes and savepoints.
 * Window mode: per-partition event time (the record value is its timestamp) counted in tumbling
 * windows over all partitions: lines `["w", start, count]`.
 */
import { count, kafkaSource, transactionalFileSink, tumbling, watermarks, type StartingOffsets, type StreamEnvironment } from "weir";

export interface KafkaJobConfig {
  brokers: string;
  topics?: string[];
  topicPattern?: string;
  out: string;
  bounded?: boolean;
  startingOffsets?: StartingOffsets;
  groupId?: string;
  discoveryMs?: number;
  spinMicros?: number;
  windows?: { sizeMs: number; idleMs: number };
}

interface Rec {
  topic: string;
  partition: number;
  offset: number;
  value: string;
}

function spin(micros: number): void {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until);
}

export default (env: StreamEnvironment, args: string[]) => {
  const cfg = JSON.parse(args[0] ?? "") as KafkaJobConfig;
  const source = kafkaSource<Rec>({
    brokers: cfg.brokers,
    ...(cfg.topicPattern ? { topicPattern: new RegExp(cfg.topicPattern) } : { topics: cfg.topics! }),
    bounded: cfg.bounded ?? false,
    ...(cfg.startingOffsets ? { startingOffsets: cfg.startingOffsets } : {}),
    ...(cfg.groupId ? { groupId: cfg.groupId } : {}),
    ...(cfg.discoveryMs !== undefined ? { partitionDiscoveryIntervalMs: cfg.discoveryMs } : {}),
    deserializer: { deserialize: (r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, value: r.value?.toString("utf8") ?? "" }) },
  });
  const sink = transactionalFileSink<unknown[]>(cfg.out);
  if (cfg.windows) {
    const { sizeMs, idleMs } = cfg.windows;
    env
      .fromSource(source, watermarks.boundedOutOfOrder<Rec>(0).withTimestampAssigner((r) => Number(r.value)).withIdleness(idleMs))
      .uid("kafka")
      .keyBy(() => "all")
      .window(tumbling(sizeMs))
      .aggregate(count<Rec>(), {
        process(_key, ctx, counts, out) {
          for (const n of counts) out.collect(["w", ctx.window.start, n]);
        },
      })
      .uid("windows")
      .sinkTo(sink)
      .uid("sink");
    return;
  }
  const spinMicros = cfg.spinMicros ?? 0;
  env
    .fromSource(source)
    .uid("kafka")
    .map((r): unknown[] => {
      if (spinMicros > 0) spin(spinMicros);
      return [r.topic, r.partition, r.offset, r.value];
    })
    .uid("lines")
    .sinkTo(sink)
    .uid("sink");
};
