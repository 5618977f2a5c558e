/**
 * `npm run bench`: throughput of the engine on an embedded cluster (a JobManager and 2 TaskManagers of
 * 1 slot each, parallelism 2), in events/s and events/s per CPU core; then checkpoints and recovery
 * (bench/checkpointing.ts: checkpoint-size, checkpoint-overhead, rocksdb-state, recovery); then Kafka ->
 * map -> Kafka against a real broker (bench/kafka.ts: kafka-pipeline).
 *
 *   npm run bench                                     # every benchmark, once
 *   npm run bench -- --only stateless-network --runs 3
 *   npm run bench -- --only checkpoint-overhead,recovery --runs 3
 *   npm run bench -- --only kafka-pipeline --events 2000000
 *   npm run bench -- --events 5000000 --profile       # fewer events; CPU profiles of every process
 *   npm run bench -- --only window-count --perf        # on-CPU samples of every process (Linux perf)
 *   npm run bench -- --config network.buffers-per-channel=8 --node-options=--max-semi-space-size=32
 *
 * Per run: start a fresh cluster, read the CPU time of its processes, submit the job, poll until it
 * ends, read the CPU time again. Wall time is RUNNING -> FINISHED from the JobManager's timestamps
 * (deployment, which includes loading the job module, is part of it); CPU time is utime + stime of the
 * JobManager and TaskManagers from /proc, from just before submission to just after the end (so
 * slightly more). Cores used = CPU / wall. With several runs the median run (by events/s) is reported.
 * Results print as markdown tables and go to bench/results/<name>.json. `--events` applies to the
 * throughput benchmarks, `--keys` (default 1 M) to checkpoint-size, rocksdb-state and recovery.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CHECKPOINT_BENCHMARKS, type SuiteOptions } from "./checkpointing.js";
import { KAFKA_BENCHMARKS } from "./kafka.js";
import { fmt, PROFILER_HOOK, runThroughput, type BenchResult, type ThroughputSpec } from "./harness.js";
import { expectedAfterFilter } from "./jobs/events.js";

/** One benchmark: a job module and how many events make it run for about 5 s or more. */
export interface Benchmark extends ThroughputSpec {
  events: number;
}

/** The benchmarks, in the order they run. Event counts give 5-10 s runs on a 2-core machine. */
export const BENCHMARKS: readonly Benchmark[] = [
  {
    name: "stateless-local",
    module: "bench/jobs/stateless-local.ts",
    events: 300_000_000,
    goalPerCore: 1_000_000,
    description: "generator -> map -> filter -> sink, chained (no exchange)",
    expectedAtSinks: expectedAfterFilter,
  },
  {
    name: "stateless-network",
    module: "bench/jobs/stateless-network.ts",
    events: 50_000_000,
    goalPerCore: 300_000,
    description: "generator -> map -> rebalance -> filter -> sink (half the records over TCP)",
    expectedAtSinks: expectedAfterFilter,
  },
  {
    name: "window-count",
    module: "bench/jobs/window-count.ts",
    events: 40_000_000,
    goalPerCore: 300_000,
    description: "event-time generator -> keyBy (1000 keys, hash exchange) -> tumbling 1 s -> count -> sink",
    expectedAtSinks: (events) => events, // the window counts add up to the events
  },
];

/** The markdown table of results. */
export function table(results: readonly BenchResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.events)} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.coresUsed.toFixed(2)} | ` +
      `${fmt(r.eventsPerSecond)} | ${fmt(r.eventsPerSecondPerCore)} | ${fmt(r.goalPerCore)} ${r.eventsPerSecondPerCore >= r.goalPerCore ? "met" : "MISSED"} | ${r.otherCoresBusy.toFixed(2)} |`,
  );
  return [
    "| benchmark | events | wall s | CPU s | cores used | events/s | events/s per core | goal per core | other load (cores) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      events: { type: "string" },
      keys: { type: "string" },
      runs: { type: "string", default: "1" },
      config: { type: "string", multiple: true, default: [] },
      profile: { type: "boolean", default: false },
      perf: { type: "boolean", default: false },
      "node-options": { type: "string", default: "" },
    },
  });
  const only = values.only?.split(",");
  const known = [...BENCHMARKS, ...CHECKPOINT_BENCHMARKS, ...KAFKA_BENCHMARKS].map((b) => b.name);
  const unknown = only?.filter((n) => !known.includes(n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${known.join(", ")}`);
  const positive = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(Number.isSafeInteger(n) && n > 0)) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const runs = positive("runs", values.runs)!;
  if (values.profile && !existsSync(PROFILER_HOOK)) throw new Error(`${PROFILER_HOOK} is missing: run npm run build first`);
  const selected = <T extends { name: string }>(list: readonly T[]) => list.filter((b) => !only || only.includes(b.name));
  return {
    throughput: selected(BENCHMARKS),
    checkpointing: selected([...CHECKPOINT_BENCHMARKS, ...KAFKA_BENCHMARKS]),
    events: positive("events", values.events),
    keys: positive("keys", values.keys),
    runs,
    config: values.config,
    profile: values.profile,
    perf: values.perf,
    nodeOptions: values["node-options"],
  };
}

type Options = ReturnType<typeof parseOptions>;

/** Run one benchmark `opts.runs` times; the median run (by events/s) is written to bench/results/<name>.json. */
async function runThroughputBenchmark(b: Benchmark, opts: Options, stamp: string, resultsDir: string): Promise<BenchResult> {
  const events = opts.events ?? b.events;
  const runs: BenchResult[] = [];
  for (let i = 0; i < opts.runs; i++) {
    process.stderr.write(`${b.name}: ${fmt(events)} events, run ${i + 1}/${opts.runs}... `);
    const run = `${b.name}-${i + 1}`;
    const profileDir = opts.profile ? resolve(resultsDir, "profiles", stamp, run) : null;
    const perfData = opts.perf ? resolve(resultsDir, "perf", stamp, `${run}.data`) : null;
    if (perfData) mkdirSync(resolve(resultsDir, "perf", stamp), { recursive: true });
    const r = await runThroughput(b, { events, config: opts.config, logDir: join(".weir", "logs", `bench-${stamp}`, run), profileDir, perfData, nodeOptions: opts.nodeOptions });
    process.stderr.write(`${fmt(r.eventsPerSecond)} events/s, ${fmt(r.eventsPerSecondPerCore)} per core\n`);
    runs.push(r);
  }
  const median = [...runs].sort((x, y) => x.eventsPerSecond - y.eventsPerSecond)[Math.floor(runs.length / 2)]!;
  writeFileSync(join(resultsDir, `${b.name}.json`), JSON.stringify({ ...median, runs: runs.length > 1 ? runs : undefined }, null, 2) + "\n");
  return median;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const resultsDir = join("bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const results: BenchResult[] = [];
  for (const b of opts.throughput) results.push(await runThroughputBenchmark(b, opts, stamp, resultsDir));
  if (results.length > 0) console.log(table(results));
  if (results.some((r) => r.otherCoresBusy > 0.2)) console.log("\nWarning: other processes used CPU during some runs; their figures are noisy.");
  const suite: SuiteOptions = { ...opts, stamp, resultsDir };
  for (const b of opts.checkpointing) console.log(`\n### ${b.name}\n\n${await b.run(suite)}`);
  if (opts.profile) console.log(`\nCPU profiles: ${resolve(resultsDir, "profiles", stamp)} (summarise with: npx tsx bench/profile-summary.ts <dir>)`);
  if (opts.perf) console.log(`\nperf data: ${resolve(resultsDir, "perf", stamp)} (summarise with: npx tsx bench/perf-summary.ts <file>.data)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
