/**
 * `npm run bench:nexmark`: the Nexmark queries (bench/nexmark/queries) on an embedded cluster, each
 * through the harness's throughput run (bench/harness.ts), in events/s and events/s per CPU core.
 *
 *   npm run bench:nexmark -- --query q5 --events 10000000 --parallelism 2 --state rocksdb --checkpoint 10s
 *   npm run bench:nexmark -- --all --state heap --runs 3     # + bench/results/nexmark/nexmark-heap.{md,json,svg}
 *
 * Per query and run: a fresh cluster (a JobManager and `--parallelism` TaskManagers of 1 slot each)
 * with its own temporary checkpoint and RocksDB directories, the job bench/nexmark/job.ts submitted
 * and run to its end. Wall time is RUNNING -> FINISHED (JobManager timestamps); CPU time is utime +
 * stime of all engine processes (/proc) from just before submission to just after the end; cores used
 * = CPU / wall; events/s per core = events / CPU. Peak RSS is each process's VmHWM read after the
 * end. Checkpoint durations are end-to-end, from GET /jobs/:id/checkpoints polled every second. Rows
 * at sink and the result hash come from the blackhole sinks' `bench-sink` and `bench-hash` lines.
 * Usage: bench/nexmark/run-options.ts; report formats: bench/nexmark/run-report.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { withScratch } from "../checkpointing.js";
import { BenchLines, fmt, runThroughput, type BenchResult, type ThroughputSpec } from "../harness.js";
import { parseJobArgs } from "./job.js";
import { QUERIES, queryByName } from "./queries/index.js";
import type { NexmarkQuery } from "./query.js";
import { commandLine, engineConfig, JOB_MODULE, jobArgs, parseCommandLine, type NexmarkOptions } from "./run-options.js";
import { combineHashes, jsonReport, markdownTable, queryBlock, summariseQuery, svgChart, type NexmarkReport, type QueryOutcome, type Setup } from "./run-report.js";

/** One run of `query`: its measurement and result hash. */
async function runOnce(query: NexmarkQuery, opts: NexmarkOptions, logDir: string, profileDir: string | null): Promise<{ result: BenchResult; hash: string | null }> {
  const spec: ThroughputSpec = {
    name: query.name,
    module: JOB_MODULE,
    description: query.description,
    goalPerCore: query.goalPerCore ?? 0,
    args: () => jobArgs(query.name, opts),
    expectedAtSinks: () => null, // rows per query are not known in advance
  };
  const lines = new BenchLines();
  const result = await withScratch((dirs) =>
    runThroughput(spec, { events: opts.events, config: [...dirs, ...engineConfig(opts)], logDir, profileDir, perfData: null, nodeOptions: "", parallelism: opts.parallelism }, lines),
  );
  return { result, hash: combineHashes(lines.of("hash")) };
}

/** Every run of `query`, summarised; a failure is an outcome too, so the suite goes on. */
async function runQuery(query: NexmarkQuery, opts: NexmarkOptions, stamp: string): Promise<QueryOutcome> {
  const info = { name: query.name, description: query.description, goalPerCore: query.goalPerCore };
  const runs: BenchResult[] = [];
  const hashes: (string | null)[] = [];
  try {
    for (let i = 1; i <= opts.runs; i++) {
      process.stderr.write(`${query.name}: ${fmt(opts.events)} events, run ${i}/${opts.runs}... `);
      const run = `${query.name}-${i}`;
      const profileDir = opts.profile ? resolve(opts.out, "profiles", stamp, run) : null;
      const { result, hash } = await runOnce(query, opts, join(".weir", "logs", `bench-nexmark-${stamp}`, run), profileDir);
      process.stderr.write(`${fmt(result.eventsPerSecond)} events/s, ${fmt(result.eventsPerSecondPerCore)} per core\n`);
      runs.push(result);
      hashes.push(hash);
    }
  } catch (err) {
    process.stderr.write("failed\n");
    return { kind: "failed", query: info, error: err instanceof Error ? err.message : String(err) };
  }
  return summariseQuery(info, runs, hashes);
}

/** The setup of this run; the seed and rate are the job's own reading of its arguments (its defaults). */
function setupOf(opts: NexmarkOptions, argv: readonly string[]): Setup {
  const cores = cpus();
  const { config } = parseJobArgs(jobArgs(opts.queries[0]!, opts));
  return {
    command: commandLine(argv),
    events: opts.events,
    parallelism: opts.parallelism,
    state: opts.state,
    checkpointMs: opts.checkpointMs,
    seed: config.seed,
    tps: config.tps,
    runs: opts.runs,
    node: process.version,
    machine: `${cores.length} × ${cores[0]?.model.trim() ?? "unknown CPU"}`,
    date: new Date().toISOString(),
  };
}

/** `<out>/nexmark-<state>.md`, `.json` and `.svg`; returns their paths. */
function writeReport(report: NexmarkReport, out: string): string[] {
  mkdirSync(out, { recursive: true });
  const base = join(out, `nexmark-${report.setup.state}`);
  const files: [string, string][] = [
    [`${base}.md`, markdownTable(report)],
    [`${base}.json`, jsonReport(report)],
    [`${base}.svg`, svgChart(report)],
  ];
  for (const [path, content] of files) writeFileSync(path, content);
  return files.map(([path]) => path);
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(argv, QUERIES.map((q) => q.name));
  if (parsed.kind === "usage") {
    (parsed.exitCode === 0 ? process.stdout : process.stderr).write(parsed.message);
    return parsed.exitCode;
  }
  const opts = parsed.options;
  const setup = setupOf(opts, argv);
  const stamp = setup.date.replace(/[:.]/g, "-");
  const outcomes: QueryOutcome[] = [];
  for (const name of opts.queries) {
    const outcome = await runQuery(queryByName(name), opts, stamp);
    console.log(queryBlock(outcome, opts.state) + "\n");
    outcomes.push(outcome);
  }
  const report: NexmarkReport = { setup, outcomes };
  console.log(markdownTable(report));
  if (opts.all) console.log(`Written: ${writeReport(report, opts.out).join(", ")}`);
  if (opts.profile) console.log(`CPU profiles: ${resolve(opts.out, "profiles", stamp)} (summarise with: npx tsx bench/profile-summary.ts <dir>)`);
  return outcomes.some((o) => o.kind === "failed") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
