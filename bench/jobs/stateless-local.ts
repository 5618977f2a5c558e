/**
 * Benchmark (a): generator -> map -> filter -> counting sink, all chained into one task per subtask, so no
 * record leaves its TaskManager (at parallelism 2 on 2 TaskManagers each runs one chain).
 *
 *   weir run bench/jobs/stateless-local.ts -p 2 -m 2 -- --events 10000000
 */
import type { StreamEnvironment } from "weir";
import { countingSink, enrich, event, eventCount, keep } from "./events.js";

export default (env: StreamEnvironment, args: string[]) => {
  env.setJobName("bench-stateless-local");
  env
    .fromGenerator({ count: eventCount(args), generate: event })
    .map(enrich)
    .filter(keep)
    .sinkTo(countingSink());
};
