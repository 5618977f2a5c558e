/**
 * Test job for the Kafka sink. Args: `<brokers> <topic> <guarantee> <events> [ratePerSecond]`.
 * A seeded generator of `events` records `{ i, key }` written to `topic` with the given delivery
 * guarantee, keyed by `key`, with a header naming the subtask's record parity (to check headers).
 */
import { kafkaSink, type StreamEnvironment, type DeliveryGuarantee } from "weir";

export default (env: StreamEnvironment, args: string[]) => {
  const [brokers, topic, guarantee, events, rate] = args;
  if (!brokers || !topic || !guarantee || !events) throw new Error("usage: <brokers> <topic> <guarantee> <events> [ratePerSecond]");
  env.setJobName("kafka-sink-test");
  env
    .fromGenerator({ count: Number(events), generate: (i) => ({ i, key: `k${i % 13}` }), ...(rate ? { ratePerSecond: Number(rate) } : {}) })
    .uid("events")
    .sinkTo(
      kafkaSink<{ i: number; key: string }>({
        brokers,
        topic,
        deliveryGuarantee: guarantee as DeliveryGuarantee,
        serializer: { key: (r) => r.key, value: (r) => String(r.i), headers: (r) => ({ parity: r.i % 2 === 0 ? "even" : "odd" }) },
      }),
    )
    .uid("kafka-sink");
};
