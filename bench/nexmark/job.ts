/**
 * The Nexmark job: the generated event stream, one query, and a sink.
 *
 *   weir run bench/nexmark/job.ts -p 2 -- --query q4 --events 10000000 --tps 100000
 *   weir run bench/nexmark/job.ts -p 2 -- --query q4 --events 100000 --collect /tmp/q4   # rows as JSON lines
 *
 * The source (uid "nexmark-source") emits events 0 .. events-1 striped over its subtasks, with event
 * time and watermarks 4 s behind; `query.build` turns them into rows. By default the rows go to the
 * blackhole sink (counted and hashed, `bench-sink` / `bench-hash` lines on the TaskManager's stdout);
 * with `--collect DIR` each subtask writes its rows, one `JSON.stringify(row)` per line, into
 * `DIR/part-<subtask>` (appending), closed at the end of input.
 */
import { parseArgs } from "node:util";
import { fileSink, type DataStream, type StreamEnvironment } from "weir";
import { blackholeSink } from "./blackhole.js";
import { nexmarkConfig, type NexmarkConfig } from "./generator.js";
import type { NexmarkQuery, Row } from "./query.js";
import { QUERIES, queryByName } from "./queries/index.js";
import { nexmarkSource, nexmarkWatermarks } from "./source.js";

export const JOB_USAGE = `Usage: bench/nexmark/job.ts --query <${QUERIES.map((q) => q.name).join("|")}> [--events N] [--seed S] [--tps T] [--collect DIR]
  --query qN     the query to run (required)
  --events N     events to generate over all source subtasks (default 10000000)
  --seed S       generator seed (default 1)
  --tps T        event-time rate of the generator, events per second (default: the generator's)
  --collect DIR  write the rows as JSON lines into DIR/part-<subtask> instead of the blackhole sink`;

/** What the job's arguments say. */
export interface NexmarkJobArgs {
  readonly query: NexmarkQuery;
  readonly config: NexmarkConfig;
  readonly collect: string | null;
}

const usage = (problem: string): Error => new Error(`${problem}\n${JOB_USAGE}`);

/** `f()`, with any Error it throws turned into a usage error. */
function orUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw usage((err as Error).message);
  }
}

function numberArg(name: string, text: string | undefined, valid: (n: number) => boolean, want: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !valid(n)) throw usage(`--${name} must be ${want}, got "${text}"`);
  return n;
}

/** Parse the job's arguments; an Error with the usage for anything wrong. */
export function parseJobArgs(args: readonly string[]): NexmarkJobArgs {
  const { values } = orUsage(() =>
    parseArgs({
      args: [...args],
      options: { query: { type: "string" }, events: { type: "string" }, seed: { type: "string" }, tps: { type: "string" }, collect: { type: "string" } },
    }),
  );
  if (values.query === undefined) throw usage("--query is required");
  const query = orUsage(() => queryByName(values.query!));
  const events = numberArg("events", values.events, (n) => Number.isSafeInteger(n) && n >= 0, "a non-negative integer") ?? 10_000_000;
  const seed = numberArg("seed", values.seed, Number.isSafeInteger, "an integer") ?? 1;
  const tps = numberArg("tps", values.tps, (n) => n > 0 && Number.isFinite(n), "a positive number");
  const config = orUsage(() => nexmarkConfig({ events, seed, ...(tps === undefined ? {} : { tps }) }));
  if (values.collect === "") throw usage("--collect needs a directory");
  return { query, config, collect: values.collect ?? null };
}

export default (env: StreamEnvironment, args: string[]) => {
  const { query, config, collect } = parseJobArgs(args);
  env.setJobName(`nexmark-${query.name}`);
  const events = env.fromSource(nexmarkSource(config), nexmarkWatermarks(), "Nexmark Source").uid("nexmark-source");
  const rows: DataStream<Row> = query.build(events, env);
  const sink = collect === null ? rows.sinkTo(blackholeSink(query.upsertKey)).name("Nexmark Blackhole Sink") : rows.sinkTo(fileSink<Row>(collect)).name("Nexmark Collect Sink");
  sink.uid("nexmark-sink");
};
