/**
 * `npm run bench`: throughput of the engine on an embedded cluster (a JobManager and 2 TaskManagers of
 * 1 slot each, parallelism 2), in events/s and events/s per CPU core.
 *
 *   npm run bench                                    # every benchmark
 *   npm run bench -- --only stateless-network        # one (comma-separate several)
 *   npm run bench -- --events 5000000 --profile      # fewer events; CPU profiles of every process
 *
 * Per benchmark: start a fresh cluster, read the CPU time of its processes, submit the job, poll until
 * it ends, read the CPU time again. Wall time is RUNNING -> FINISHED from the JobManager's timestamps
 * (deployment, which includes loading the job module, is part of it); CPU time is utime + stime of the
 * JobManager and TaskManagers from /proc over the same span (from just before submission, so slightly
 * more). Cores used = CPU / wall. Results print as a markdown table and go to bench/results/<name>.json.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Writable } from "node:stream";
import { startEmbeddedCluster, type EmbeddedCluster } from "../runtime/cli/embedded-cluster.js";
import { TERMINAL_JOB_STATES, type JobDetail } from "../runtime/jobmanager/rest-types.js";
import { cpuSeconds } from "./proc-cpu.js";

/** One benchmark: a job module and how many events make it run for about 5 s or more. */
export interface Benchmark {
  name: string;
  module: string;
  events: number;
  /** Events/s per core this benchmark should reach (the goals). */
  goalPerCore: number;
  description: string;
}

export const BENCHMARKS: readonly Benchmark[] = [
  { name: "stateless-local", module: "bench/jobs/stateless-local.ts", events: 150_000_000, goalPerCore: 1_000_000, description: "generator -> map -> filter -> discard, chained (no exchange)" },
  { name: "stateless-network", module: "bench/jobs/stateless-network.ts", events: 40_000_000, goalPerCore: 300_000, description: "generator -> map -> rebalance -> filter -> discard (half the records over TCP)" },
  { name: "window-count", module: "bench/jobs/window-count.ts", events: 40_000_000, goalPerCore: 300_000, description: "event-time generator -> keyBy (1000 keys) -> tumbling 1 s -> count -> discard" },
];

/** The compiled profiler preload (bench/cpu-profiler.ts); `npm run bench` builds it. */
const PROFILER_HOOK = pathToFileURL(resolve("dist", "bench", "cpu-profiler.js")).href;

const PARALLELISM = 2;
const TASKMANAGERS = 2;

/** What one run measured; written to bench/results/<name>.json. */
export interface BenchResult {
  name: string;
  description: string;
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  cpuSecondsByProcess: Record<string, number>;
  /** Process ids, to match CPU profiles (named CPU.<date>.<pid>...) to processes. */
  pids: Record<string, number>;
  coresUsed: number;
  eventsPerSecond: number;
  eventsPerSecondPerCore: number;
  goalPerCore: number;
  parallelism: number;
  taskmanagers: number;
  node: string;
  date: string;
  jobId: string;
}

async function runOne(b: Benchmark, events: number, logRoot: string, profileDir: string | null): Promise<BenchResult> {
  // The environment reaches every child, so each process writes its own .cpuprofile when it exits.
  const env = profileDir ? { NODE_OPTIONS: `--import=${PROFILER_HOOK}`, WEIR_BENCH_PROFILE_DIR: join(profileDir, b.name) } : undefined;
  const cluster = await startEmbeddedCluster({ taskmanagers: TASKMANAGERS, slots: 1, logDir: join(logRoot, b.name), stdout: discard(), env });
  try {
    const procs = [cluster.jobmanager, ...cluster.taskmanagers];
    const before = procs.map((p) => cpuSeconds(p.child.pid!));
    const { jobId } = await cluster.client.submitJob({ module: b.module, args: ["--events", String(events)], parallelism: PARALLELISM });
    const detail = await Promise.race([waitUntilEnded(cluster, jobId), cluster.unexpectedExit]);
    // Read CPU before anything else happens in these processes (they are still alive and idle).
    const after = procs.map((p) => cpuSeconds(p.child.pid!));
    if (detail.state !== "FINISHED") throw new Error(`${b.name}: job ended ${detail.state}: ${detail.failure?.cause ?? "no cause"}; logs in ${cluster.logDir}`);
    const byProcess = Object.fromEntries(procs.map((p, i) => [p.name, round(after[i]! - before[i]!, 2)]));
    const cpu = after.reduce((s, a, i) => s + a - before[i]!, 0);
    const wall = (detail.timestamps.FINISHED! - detail.timestamps.RUNNING!) / 1000;
    return {
      name: b.name,
      description: b.description,
      events,
      wallSeconds: round(wall, 3),
      cpuSeconds: round(cpu, 2),
      cpuSecondsByProcess: byProcess,
      pids: Object.fromEntries(procs.map((p) => [p.name, p.child.pid!])),
      coresUsed: round(cpu / wall, 2),
      eventsPerSecond: Math.round(events / wall),
      eventsPerSecondPerCore: Math.round(events / cpu),
      goalPerCore: b.goalPerCore,
      parallelism: PARALLELISM,
      taskmanagers: TASKMANAGERS,
      node: process.version,
      date: new Date().toISOString(),
      jobId,
    };
  } finally {
    await cluster.stop();
  }
}

/** Poll often (the end time comes from the JobManager, so polling only delays the CPU reading). */
async function waitUntilEnded(cluster: EmbeddedCluster, jobId: string): Promise<JobDetail> {
  for (;;) {
    const d = await cluster.client.jobDetail(jobId);
    if (TERMINAL_JOB_STATES.has(d.state)) return d;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

/** The markdown table of results. */
export function table(results: readonly BenchResult[]): string {
  const rows = results.map((r) =>
    `| ${r.name} | ${fmt(r.events)} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.coresUsed.toFixed(2)} | ` +
    `${fmt(r.eventsPerSecond)} | ${fmt(r.eventsPerSecondPerCore)} | ${fmt(r.goalPerCore)} ${r.eventsPerSecondPerCore >= r.goalPerCore ? "✓" : "✗"} |`,
  );
  return [
    "| benchmark | events | wall s | CPU s | cores used | events/s | events/s per core | goal per core |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: "string" }, events: { type: "string" }, profile: { type: "boolean", default: false } },
  });
  const only = values.only?.split(",");
  const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  const selected = BENCHMARKS.filter((b) => !only || only.includes(b.name));
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const resultsDir = join("bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const profileDir = values.profile ? resolve(resultsDir, "profiles", stamp) : null;
  if (profileDir && !existsSync(fileURLToPath(PROFILER_HOOK))) throw new Error(`${fileURLToPath(PROFILER_HOOK)} is missing: run npm run build first`);
  const results: BenchResult[] = [];
  for (const b of selected) {
    const events = values.events === undefined ? b.events : Number(values.events);
    process.stderr.write(`${b.name}: ${fmt(events)} events...\n`);
    const r = await runOne(b, events, join(".weir", "logs", `bench-${stamp}`), profileDir);
    writeFileSync(join(resultsDir, `${b.name}.json`), JSON.stringify(r, null, 2) + "\n");
    results.push(r);
  }
  console.log(table(results));
  if (profileDir) console.log(`\nCPU profiles: ${profileDir}/<benchmark>/ (summarise with: npx tsx bench/profile-summary.ts <dir>)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
