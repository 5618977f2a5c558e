/**
 * `npm run bench`: throughput of the engine on an embedded cluster (a JobManager and 2 TaskManagers of
 * 1 slot each, parallelism 2), in events/s and events/s per CPU core.
 *
 *   npm run bench                                     # every benchmark, once
 *   npm run bench -- --only stateless-network --runs 3
 *   npm run bench -- --events 5000000 --profile       # fewer events; CPU profiles of every process
 *   npm run bench -- --only window-count --perf        # on-CPU samples of every process (Linux perf)
 *   npm run bench -- --config network.buffers-per-channel=8 --node-options=--max-semi-space-size=32
 *
 * Per run: start a fresh cluster, read the CPU time of its processes, submit the job, poll until it
 * ends, read the CPU time again. Wall time is RUNNING -> FINISHED from the JobManager's timestamps
 * (deployment, which includes loading the job module, is part of it); CPU time is utime + stime of the
 * JobManager and TaskManagers from /proc, from just before submission to just after the end (so
 * slightly more). Cores used = CPU / wall. With several runs the median run (by events/s) is reported.
 * Results print as a markdown table and go to bench/results/<name>.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startEmbeddedCluster, type EmbeddedCluster } from "../runtime/cli/embedded-cluster.js";
import { TERMINAL_JOB_STATES, type JobDetail } from "../runtime/jobmanager/rest-types.js";
import { expectedAfterFilter, SINK_LINE } from "./jobs/events.js";
import { cpuSeconds, machineBusySeconds } from "./proc-cpu.js";

/** One benchmark: a job module and how many events make it run for about 5 s or more. */
export interface Benchmark {
  name: string;
  module: string;
  events: number;
  /** Events/s per core this benchmark should reach (the goals). */
  goalPerCore: number;
  description: string;
  /** What the sinks' totals must add up to for `events` events. */
  expectedAtSinks: (events: number) => number;
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

const PARALLELISM = 2;
const TASKMANAGERS = 2;
/** The compiled profiler preload (bench/cpu-profiler.ts); `npm run bench` builds it. */
const PROFILER_HOOK = resolve("dist", "bench", "cpu-profiler.js");

/** What one run measured; the median run is written to bench/results/<name>.json. */
export interface BenchResult {
  name: string;
  description: string;
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  cpuSecondsByProcess: Record<string, number>;
  /** Process ids, to match CPU profiles (<role>.<pid>.cpuprofile) to processes. */
  pids: Record<string, number>;
  coresUsed: number;
  /** Sum of what the sinks reported (records, or window counts); checked against the expected value. */
  atSinks: number;
  /** Cores busy with anything else on the machine meanwhile (this script included); > 0.2 means noise. */
  otherCoresBusy: number;
  eventsPerSecond: number;
  eventsPerSecondPerCore: number;
  goalPerCore: number;
  config: string[];
  parallelism: number;
  taskmanagers: number;
  node: string;
  date: string;
  jobId: string;
}

interface RunOptions {
  events: number;
  config: string[];
  logDir: string;
  profileDir: string | null;
  /** Where `perf record` writes its samples, or null. */
  perfData: string | null;
  /** Extra NODE_OPTIONS for the engine processes (V8 flags for experiments). */
  nodeOptions: string;
}

/**
 * Environment of the engine processes: extra NODE_OPTIONS, plus a V8 profiler preload (V8's
 * .cpuprofile samples wall time, so on a busy machine time a process waits for a core shows up in
 * whatever it was doing) or perf map files, so that `perf` (on-CPU samples only) can name
 * JIT-compiled JavaScript functions.
 */
function processEnv(opts: RunOptions): NodeJS.ProcessEnv {
  const nodeOptions = [process.env.NODE_OPTIONS ?? "", opts.nodeOptions];
  if (opts.profileDir) nodeOptions.push(`--import=${pathToFileURL(PROFILER_HOOK).href}`);
  if (opts.perfData) nodeOptions.push("--perf-basic-prof");
  const env: NodeJS.ProcessEnv = { NODE_OPTIONS: nodeOptions.join(" ").trim() };
  if (opts.profileDir) env.WEIR_BENCH_PROFILE_DIR = opts.profileDir;
  return env;
}

/** `perf record` of the given processes until stopped with SIGINT. */
async function startPerf(pids: number[], output: string): Promise<ChildProcess> {
  const perf = spawn("perf", ["record", "-e", "cpu-clock", "-F", "999", "-g", "-p", pids.join(","), "-o", output], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 300)); // let it attach before the job starts
  return perf;
}

/** Start a cluster, run the benchmark's job on it, check what reached the sinks, stop the cluster. */
async function runOnce(b: Benchmark, opts: RunOptions): Promise<BenchResult> {
  const sinks = sinkTotals();
  const cluster = await startEmbeddedCluster({
    taskmanagers: TASKMANAGERS,
    slots: 1,
    config: opts.config,
    logDir: opts.logDir,
    stdout: sinks.stream,
    env: processEnv(opts),
  });
  const procs = [cluster.jobmanager, ...cluster.taskmanagers];
  let perf: ChildProcess | null = null;
  let result: BenchResult;
  try {
    if (opts.perfData) perf = await startPerf(procs.map((p) => p.child.pid!), opts.perfData);
    result = await measure(b, cluster, opts);
  } finally {
    if (perf) {
      perf.kill("SIGINT");
      await new Promise((r) => perf!.once("exit", r));
    }
    await cluster.stop(); // after this, the TaskManagers' stdout (the sinks' totals) is complete
  }
  const expected = b.expectedAtSinks(opts.events);
  if (sinks.total() !== expected) throw new Error(`${b.name}: the sinks received ${sinks.total()}, expected ${expected}; logs in ${cluster.logDir}`);
  return { ...result, atSinks: sinks.total() };
}

/** Submit the job and measure wall time, CPU time of the cluster's processes and other load. */
async function measure(b: Benchmark, cluster: EmbeddedCluster, opts: RunOptions): Promise<BenchResult> {
  const procs = [cluster.jobmanager, ...cluster.taskmanagers];
  const before = procs.map((p) => cpuSeconds(p.child.pid!));
  const machineBefore = machineBusySeconds();
  const submitted = performance.now();
  const { jobId } = await cluster.client.submitJob({ module: b.module, args: ["--events", String(opts.events)], parallelism: PARALLELISM });
  const detail = await Promise.race([waitUntilEnded(cluster, jobId), cluster.unexpectedExit]);
  // Read CPU at once: the processes are still alive, and idle now.
  const after = procs.map((p) => cpuSeconds(p.child.pid!));
  const machine = machineBusySeconds() - machineBefore;
  const span = (performance.now() - submitted) / 1000;
  if (detail.state !== "FINISHED") throw new Error(`${b.name}: job ended ${detail.state}: ${detail.failure?.cause ?? "no cause"}; logs in ${cluster.logDir}`);
  const cpu = after.reduce((sum, a, i) => sum + a - before[i]!, 0);
  const wall = (detail.timestamps.FINISHED! - detail.timestamps.RUNNING!) / 1000;
  return {
    name: b.name,
    description: b.description,
    events: opts.events,
    atSinks: 0,
    wallSeconds: round(wall, 3),
    cpuSeconds: round(cpu, 2),
    cpuSecondsByProcess: Object.fromEntries(procs.map((p, i) => [p.name, round(after[i]! - before[i]!, 2)])),
    pids: Object.fromEntries(procs.map((p) => [p.name, p.child.pid!])),
    coresUsed: round(cpu / wall, 2),
    otherCoresBusy: round(Math.max(0, (machine - cpu) / span), 2),
    eventsPerSecond: Math.round(opts.events / wall),
    eventsPerSecondPerCore: Math.round(opts.events / cpu),
    goalPerCore: b.goalPerCore,
    config: opts.config,
    parallelism: PARALLELISM,
    taskmanagers: TASKMANAGERS,
    node: process.version,
    date: new Date().toISOString(),
    jobId,
  };
}

/** Poll often: the end time comes from the JobManager, polling only delays the CPU reading. */
async function waitUntilEnded(cluster: EmbeddedCluster, jobId: string): Promise<JobDetail> {
  for (;;) {
    const d = await cluster.client.jobDetail(jobId);
    if (TERMINAL_JOB_STATES.has(d.state)) return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Collects the `bench-sink <n>` lines the counting sinks print on the TaskManagers' stdout. */
function sinkTotals(): { stream: Writable; total: () => number } {
  let total = 0;
  let rest = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString("utf8")).split("\n");
      rest = lines.pop()!;
      for (const line of lines) total += Number(SINK_LINE.exec(line)?.[1] ?? 0);
      done();
    },
  });
  return { stream, total: () => total };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

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
      runs: { type: "string", default: "1" },
      config: { type: "string", multiple: true, default: [] },
      profile: { type: "boolean", default: false },
      perf: { type: "boolean", default: false },
      "node-options": { type: "string", default: "" },
    },
  });
  const only = values.only?.split(",");
  const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  const events = values.events === undefined ? undefined : Number(values.events);
  if (events !== undefined && !(Number.isSafeInteger(events) && events > 0)) throw new Error(`--events must be a positive integer, got "${values.events}"`);
  const runs = Number(values.runs);
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs must be a positive integer, got "${values.runs}"`);
  if (values.profile && !existsSync(PROFILER_HOOK)) throw new Error(`${PROFILER_HOOK} is missing: run npm run build first`);
  return { selected: BENCHMARKS.filter((b) => !only || only.includes(b.name)), events, runs, config: values.config, profile: values.profile, perf: values.perf, nodeOptions: values["node-options"] };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const resultsDir = join("bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const results: BenchResult[] = [];
  for (const b of opts.selected) {
    const events = opts.events ?? b.events;
    const runs: BenchResult[] = [];
    for (let i = 0; i < opts.runs; i++) {
      process.stderr.write(`${b.name}: ${fmt(events)} events, run ${i + 1}/${opts.runs}... `);
      const run = `${b.name}-${i + 1}`;
      const profileDir = opts.profile ? resolve(resultsDir, "profiles", stamp, run) : null;
      const perfData = opts.perf ? resolve(resultsDir, "perf", stamp, `${run}.data`) : null;
      if (perfData) mkdirSync(resolve(resultsDir, "perf", stamp), { recursive: true });
      const r = await runOnce(b, { events, config: opts.config, logDir: join(".weir", "logs", `bench-${stamp}`, run), profileDir, perfData, nodeOptions: opts.nodeOptions });
      process.stderr.write(`${fmt(r.eventsPerSecond)} events/s, ${fmt(r.eventsPerSecondPerCore)} per core\n`);
      runs.push(r);
    }
    const median = [...runs].sort((x, y) => x.eventsPerSecond - y.eventsPerSecond)[Math.floor(runs.length / 2)]!;
    writeFileSync(join(resultsDir, `${b.name}.json`), JSON.stringify({ ...median, runs: runs.length > 1 ? runs : undefined }, null, 2) + "\n");
    results.push(median);
  }
  console.log(table(results));
  if (results.some((r) => r.otherCoresBusy > 0.2)) console.log("\nWarning: other processes used CPU during some runs; their figures are noisy.");
  if (opts.profile) console.log(`\nCPU profiles: ${resolve(resultsDir, "profiles", stamp)} (summarise with: npx tsx bench/profile-summary.ts <dir>)`);
  if (opts.perf) console.log(`\nperf data: ${resolve(resultsDir, "perf", stamp)} (summarise with: npx tsx bench/perf-summary.ts <file>.data)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
