/**
 * Test job: keyed state that stops changing. 10,000 records over 1000 keys into a rolling count,
 * then the source stays open and idle; checkpoints after that have nothing new to write.
 */
import { type StreamEnvironment, collectionSource, discardSink } from "weir";

export default (env: StreamEnvironment) => {
  const records = Array.from({ length: 10_000 }, (_, i) => ({ key: i % 1000, n: 1 }));
  env
    .fromSource(collectionSource(records, 2, { keepOpen: true }))
    .uid("records")
    .keyBy((r) => r.key)
    .reduce((a, b) => ({ key: a.key, n: a.n + b.n }))
    .uid("counts")
    .sinkTo(discardSink())
    .uid("sink");
};
