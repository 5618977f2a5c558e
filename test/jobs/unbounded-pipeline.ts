// Test job: an unbounded keyed pipeline across TaskManagers, for failure tests.
import { type StreamEnvironment, discardSink } from "weir";

export default (env: StreamEnvironment) => {
  env
    .fromGenerator({ generate: (i) => i, ratePerSecond: 20_000 })
    .keyBy((i) => i % 100)
    .reduce((a, b) => a + b)
    .sinkTo(discardSink());
};
