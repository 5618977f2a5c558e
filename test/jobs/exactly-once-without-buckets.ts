/**
 * test/jobs/exactly-once.ts without its "bucket-counter" operator: restoring that job's savepoint
 * here leaves state without an operator (refused unless non-restored state is allowed).
 */
import type { StreamEnvironment } from "weir";
import { rollingCounts } from "./exactly-once.js";

export default (env: StreamEnvironment, args: string[]) => {
  const { rolling, sink } = rollingCounts(env, args);
  rolling.sinkTo(sink).uid("sink");
};
