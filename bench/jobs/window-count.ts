/**
 * Benchmark (c): event-time generator (monotonic watermarks) -> keyBy(key, 1000 keys) -> tumbling 1 s
 * window -> count -> counting sink. The keyBy is a hash exchange, so about half of the records cross TCP.
 * Event time advances 1 ms per 100 events: a window holds 100,000 events, 100 per key.
 *
 *   weir run bench/jobs/window-count.ts -p 2 -m 2 -- --events 10000000
 */
import { type StreamEnvironment, count, tumbling, watermarks } from "weir";
import { type BenchEvent, countingSink, event, eventCount } from "./events.js";

export default (env: StreamEnvironment, args: string[]) => {
  env.setJobName("bench-window-count");
  env
    .fromGenerator({ count: eventCount(args), generate: event }, watermarks.monotonic<BenchEvent>().withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.key)
    .window(tumbling(1_000))
    .aggregate(count())
    .sinkTo(countingSink((n: number) => n)); // the counts add up to the events
};
