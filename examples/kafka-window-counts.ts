/**
 * Kafka -> Kafka windowed aggregation: keyed events `{"key": "...", "ts": <epoch ms>}` from an input
 * topic are counted per key in tumbling event-time windows and written to an output topic, exactly
 * once: a `read_committed` consumer sees each window's count once, whatever crashes happen.
 *
 *   npm run kafka:up
 *   weir run examples/kafka-window-counts.ts -- --generate 200000 --brokers 127.0.0.1:19092   # fill "events"
 *   weir run examples/kafka-window-counts.ts --parallelism 2 -- --brokers 127.0.0.1:19092 --bounded
 *
 * Output records: key = the event key, value = `{"key", "windowEnd", "count"}` as JSON. Each partition's
 * watermark trails its newest event by `--out-of-order-ms`; a partition without events for
 * `--idle-ms` stops holding the watermark back. `--bounded` reads what the topic holds at the start
 * and finishes. `--generate N` instead writes N events (event i: key k<i mod keys>, time
 * `--first-ts` + i ms) to the input topic, creating it with 4 partitions when it is missing.
 *
 * Timestamps matter beyond windows: the sink stamps each result with its event time (as Flink's
 * KafkaSink does), and a topic's time retention (7 days by default) deletes records stamped older than
 * that within minutes. Generated events therefore start at midnight UTC of the current day, not at 0.
 */
import { parseArgs } from "node:util";
import { count, kafkaSink, kafkaSource, tumbling, watermarks, type DeliveryGuarantee, type StreamEnvironment } from "weir";

export interface KeyedEvent {
  key: string;
  ts: number;
}

export interface WindowCount {
  key: string;
  windowEnd: number;
  count: number;
}

export default (env: StreamEnvironment, args: string[]) => {
  const { values: o } = parseArgs({
    args,
    options: {
      brokers: { type: "string", default: process.env.KAFKA_BROKERS ?? "127.0.0.1:19092" },
      input: { type: "string", default: "events" },
      output: { type: "string", default: "window-counts" },
      "window-ms": { type: "string", default: "1000" },
      "out-of-order-ms": { type: "string", default: "0" },
      "idle-ms": { type: "string", default: "5000" },
      guarantee: { type: "string", default: "exactly-once" },
      group: { type: "string" },
      bounded: { type: "boolean", default: false },
      generate: { type: "string" },
      keys: { type: "string", default: "100" },
      // Every process evaluating this module must agree on it (a restarted generator replays from it).
      "first-ts": { type: "string", default: String(Math.floor(Date.now() / 86_400_000) * 86_400_000) },
    },
  });
  const int = (name: keyof typeof o, min: number): number => {
    const v = Number(o[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(o[name])}`);
    return v;
  };
  if (o.generate !== undefined) {
    const keys = int("keys", 1);
    const first = int("first-ts", 0);
    env.setJobName("kafka-event-generator");
    env
      .fromGenerator({ count: int("generate", 0), generate: (i): KeyedEvent => ({ key: `k${i % keys}`, ts: first + i }) })
      .setParallelism(1) // one writer: every partition's timestamps increase
      .uid("generated-events")
      .sinkTo(
        kafkaSink<KeyedEvent>({
          brokers: o.brokers,
          topic: o.input,
          createTopic: { partitions: 4 },
          serializer: { key: (e) => e.key, value: (e) => JSON.stringify(e) },
        }),
      )
      .setParallelism(1)
      .uid("events-sink");
    return;
  }
  env.setJobName("kafka-window-counts");
  const windowMs = int("window-ms", 1);
  env
    .fromSource(
      kafkaSource<KeyedEvent>({ brokers: o.brokers, topics: o.input, bounded: o.bounded, ...(o.group ? { groupId: o.group } : {}), deserializer: "json" }),
      watermarks
        .boundedOutOfOrder<KeyedEvent>(int("out-of-order-ms", 0))
        .withTimestampAssigner((e) => e.ts)
        .withIdleness(int("idle-ms", 1)),
    )
    .uid("kafka-events")
    .name("Events")
    .keyBy((e) => e.key)
    .window(tumbling(windowMs))
    .aggregate(count<KeyedEvent>(), {
      process(key, ctx, results, out) {
        for (const n of results) out.collect({ key, windowEnd: ctx.window.end, count: n });
      },
    })
    .uid("window-counts")
    .name("Count per key")
    .sinkTo(
      kafkaSink<WindowCount>({
        brokers: o.brokers,
        topic: o.output,
        createTopic: { partitions: 4 },
        deliveryGuarantee: o.guarantee as DeliveryGuarantee,
        serializer: { key: (c) => c.key, value: (c) => JSON.stringify(c) },
      }),
    )
    .uid("counts-sink")
    .name("Counts");
};
