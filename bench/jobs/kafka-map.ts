/**
 * Benchmark job: Kafka -> map -> Kafka. Args: `--brokers B --input T --output T --guarantee G`.
 * Reads the input topic in bounded mode (the job finishes once it has read what the topic held at the
 * start), applies `transform` to each value and writes the result with the given delivery guarantee.
 * bench/kafka.ts runs the same `transform` in its plain kafkajs loop, so both do the same work.
 */
import { parseArgs } from "node:util";
import { kafkaSink, kafkaSource, type DeliveryGuarantee, type StreamEnvironment } from "weir";

/** The map of both pipelines: parse the event, add a field, serialize it again. */
export function transform(value: string): string {
  const e = JSON.parse(value) as { key: string; ts: number; v: number };
  return JSON.stringify({ ...e, doubled: e.v * 2 });
}

export default (env: StreamEnvironment, args: string[]) => {
  const { values: o } = parseArgs({
    args,
    options: { brokers: { type: "string" }, input: { type: "string" }, output: { type: "string" }, guarantee: { type: "string", default: "at-least-once" } },
  });
  if (!o.brokers || !o.input || !o.output) throw new Error("usage: --brokers B --input T --output T [--guarantee G]");
  env.setJobName("kafka-map-bench");
  env
    .fromSource(kafkaSource<string>({ brokers: o.brokers, topics: o.input, bounded: true, deserializer: "string" }))
    .uid("in")
    .map(transform)
    .uid("map")
    .sinkTo(kafkaSink<string>({ brokers: o.brokers, topic: o.output, deliveryGuarantee: o.guarantee as DeliveryGuarantee }))
    .uid("out");
};
