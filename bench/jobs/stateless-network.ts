/**
 * Benchmark (b): generator -> map -> rebalance -> filter -> counting sink. The rebalance breaks the chain, so
 * every record is handed to the network stack: round-robin over both filter subtasks, half of them to
 * the subtask in the same TaskManager (local channel) and half over TCP to the other TaskManager.
 *
 *   weir run bench/jobs/stateless-network.ts -p 2 -m 2 -- --events 10000000
 */
import type { StreamEnvironment } from "weir";
import { countingSink, enrich, event, eventCount, keep } from "./events.js";

export default (env: StreamEnvironment, args: string[]) => {
  env.setJobName("bench-stateless-network");
  env
    .fromGenerator({ count: eventCount(args), generate: event })
    .map(enrich)
    .rebalance()
    .filter(keep)
    .sinkTo(countingSink());
};
