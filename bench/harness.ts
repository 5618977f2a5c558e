/**
 * What every benchmark run shares: an embedded cluster (a JobManager and 2 TaskManagers of 1 slot
 * each, parallelism 2; `RunOptions.parallelism` changes both) with optional profilers, the `bench-*`
 * lines the benchmark jobs print on the TaskManagers' stdout, and the throughput run (submit, wait
 * for the end, wall and CPU time).
 *
 *   const run = await runThroughput(spec, { events, config, logDir, profileDir: null, perfData: null, nodeOptions: "" });
 *
 * Wall time is RUNNING -> FINISHED from the JobManager's timestamps (deployment, which includes loading
 * the job module, is part of it); CPU time is utime + stime of the JobManager and TaskManagers from
 * /proc, from just before submission to just after the end (so slightly more). Cores used = CPU / wall.
 * Peak RSS is each process's VmHWM (/proc/<pid>/status), read after the end, before the cluster stops.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { startEmbeddedCluster, type EmbeddedCluster } from "../runtime/cli/embedded-cluster.js";
import { TERMINAL_JOB_STATES, type CheckpointingOverview, type CheckpointStats, type JobDetail } from "../runtime/jobmanager/rest-types.js";
import { SINK_LINE } from "./jobs/events.js";
import { cpuSeconds, machineBusySeconds, peakRssBytes } from "./proc-cpu.js";

export const PARALLELISM = 2;
export const TASKMANAGERS = 2;
/** The compiled profiler preload (bench/cpu-profiler.ts); `npm run bench` builds it. */
export const PROFILER_HOOK = resolve("dist", "bench", "cpu-profiler.js");

/** A job to run to its end and measure. */
export interface ThroughputSpec {
  name: string;
  module: string;
  description: string;
  /** Events/s per core this benchmark should reach (the goals), if it has a goal. */
  goalPerCore: number;
  /** The job's arguments for `events` events (default `--events <events>`). */
  args?: (events: number) => string[];
  /** Runtime configuration of this benchmark, before the command line's `--config`. */
  config?: readonly string[];
  /** What the sinks' totals must add up to for `events` events; null: not known in advance, not checked. */
  expectedAtSinks: (events: number) => number | null;
}

/** How to run: events, extra configuration, where logs and profiles go. */
export interface RunOptions {
  events: number;
  config: string[];
  logDir: string;
  profileDir: string | null;
  /** Where `perf record` writes its samples, or null. */
  perfData: string | null;
  /** Extra NODE_OPTIONS for the engine processes (V8 flags for experiments). */
  nodeOptions: string;
  /** Parallelism of the job, and TaskManagers of 1 slot each; default {@link PARALLELISM}. */
  parallelism?: number;
}

/** Completed checkpoints of a run, summarised (durations in ms, sizes in bytes). */
export interface CheckpointSummary {
  completed: number;
  failed: number;
  medianDurationMs: number;
  maxDurationMs: number;
  medianStateBytes: number;
  maxAlignmentMs: number;
  /** End-to-end durations of every completed checkpoint seen (polled during the run), by id. */
  durationsMs: number[];
}

/** What one throughput run measured; the median run is written to bench/results/<name>.json. */
export interface BenchResult {
  name: string;
  description: string;
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  cpuSecondsByProcess: Record<string, number>;
  /** Peak resident set (VmHWM) of each engine process over its life, in bytes. */
  peakRssBytesByProcess: Record<string, number>;
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
  /** When the job checkpointed: what its checkpoints took (from GET /jobs/:id/checkpoints at the end). */
  checkpoints: CheckpointSummary | null;
  config: string[];
  parallelism: number;
  taskmanagers: number;
  node: string;
  date: string;
  jobId: string;
}

/**
 * Environment of the engine processes: extra NODE_OPTIONS, plus a V8 profiler preload (V8's
 * .cpuprofile samples wall time, so on a busy machine time a process waits for a core shows up in
 * whatever it was doing) or perf map files, so that `perf` (on-CPU samples only) can name
 * JIT-compiled JavaScript functions.
 */
function processEnv(opts: Pick<RunOptions, "profileDir" | "perfData" | "nodeOptions">): NodeJS.ProcessEnv {
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

/** One `bench-<kind> <subtask> <epoch ms> [value]` line of a benchmark job (see bench/jobs/keyed-state.ts). */
export interface BenchMark {
  subtask: number;
  time: number;
  value: number;
}

/**
 * The `bench-*` lines the jobs print on the TaskManagers' stdout: `bench-sink <n>` (counting sinks,
 * summed) and `bench-<kind> <subtask> <epoch ms> [value]` marks, kept by kind.
 */
export class BenchLines {
  readonly stream: Writable;
  private sinkTotal = 0;
  private readonly marks = new Map<string, BenchMark[]>();
  private rest = "";

  constructor() {
    this.stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        const lines = (this.rest + chunk.toString("utf8")).split("\n");
        this.rest = lines.pop()!;
        for (const line of lines) this.add(line);
        done();
      },
    });
  }

  private add(line: string): void {
    const sink = SINK_LINE.exec(line);
    if (sink) {
      this.sinkTotal += Number(sink[1]);
      return;
    }
    const m = /^bench-(\w+) (\d+) (\d+)(?: ([\d.]+))?$/.exec(line);
    if (!m) return;
    const list = this.marks.get(m[1]!) ?? [];
    list.push({ subtask: Number(m[2]), time: Number(m[3]), value: Number(m[4] ?? 0) });
    this.marks.set(m[1]!, list);
  }

  /** What the counting sinks reported in all. */
  total(): number {
    return this.sinkTotal;
  }

  /** Marks of one kind (`open`, `first`, `lag`), oldest first. */
  of(kind: string): BenchMark[] {
    return this.marks.get(kind) ?? [];
  }
}

/** The cluster of every benchmark, its processes profiled as the options say; `perf` to stop with it. */
export async function startBenchCluster(
  opts: Pick<RunOptions, "config" | "logDir" | "profileDir" | "perfData" | "nodeOptions" | "parallelism">,
  lines: BenchLines,
): Promise<{ cluster: EmbeddedCluster; stop: () => Promise<void> }> {
  const taskmanagers = opts.parallelism ?? TASKMANAGERS;
  const cluster = await startEmbeddedCluster({ taskmanagers, slots: 1, config: opts.config, logDir: opts.logDir, stdout: lines.stream, env: processEnv(opts) });
  let perf: ChildProcess | null = null;
  try {
    if (opts.perfData) perf = await startPerf([cluster.jobmanager, ...cluster.taskmanagers].map((p) => p.child.pid!), opts.perfData);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const stop = async () => {
    if (perf) {
      perf.kill("SIGINT");
      await new Promise((r) => perf!.once("exit", r));
    }
    await cluster.stop(); // after this, the TaskManagers' stdout (the sinks' totals) is complete
  };
  return { cluster, stop };
}

/**
 * Start a cluster, run the job to its end, check what reached the sinks, stop the cluster. Pass
 * `lines` to read the job's `bench-*` marks afterwards.
 */
export async function runThroughput(b: ThroughputSpec, opts: RunOptions, lines = new BenchLines()): Promise<BenchResult> {
  const config = [...(b.config ?? []), ...opts.config];
  const { cluster, stop } = await startBenchCluster({ ...opts, config }, lines);
  let result: BenchResult;
  try {
    result = await measure(b, cluster, { ...opts, config });
  } finally {
    await stop();
  }
  const expected = b.expectedAtSinks(opts.events);
  if (expected !== null && lines.total() !== expected) throw new Error(`${b.name}: the sinks received ${lines.total()}, expected ${expected}; logs in ${cluster.logDir}`);
  return { ...result, atSinks: lines.total() };
}

/** Submit the job and measure wall time, CPU time of the cluster's processes and other load. */
export async function measure(b: ThroughputSpec, cluster: EmbeddedCluster, opts: RunOptions): Promise<BenchResult> {
  const procs = [cluster.jobmanager, ...cluster.taskmanagers];
  const parallelism = opts.parallelism ?? PARALLELISM;
  const checkpointing = opts.config.some((c) => /^execution\.checkpointing\.interval=[1-9]/.test(c));
  const seen = new Map<number, CheckpointStats>();
  const before = procs.map((p) => cpuSeconds(p.child.pid!));
  const machineBefore = machineBusySeconds();
  const submitted = performance.now();
  const args = b.args ? b.args(opts.events) : ["--events", String(opts.events)];
  const { jobId } = await cluster.client.submitJob({ module: b.module, args, parallelism });
  const onCheckpoints = checkpointing ? (o: CheckpointingOverview) => keepCompleted(seen, o) : null;
  const detail = await Promise.race([waitUntilEnded(cluster, jobId, onCheckpoints), cluster.unexpectedExit]);
  // Read CPU at once: the processes are still alive, and idle now.
  const after = procs.map((p) => cpuSeconds(p.child.pid!));
  const machine = machineBusySeconds() - machineBefore;
  const span = (performance.now() - submitted) / 1000;
  const peakRss = procs.map((p) => peakRssBytes(p.child.pid!));
  if (detail.state !== "FINISHED") throw new Error(`${b.name}: job ended ${detail.state}: ${detail.failure?.cause ?? "no cause"}; logs in ${cluster.logDir}`);
  const checkpoints = checkpointing ? summariseCheckpoints(await cluster.client.checkpoints(jobId), seen) : null;
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
    peakRssBytesByProcess: Object.fromEntries(procs.map((p, i) => [p.name, peakRss[i]!])),
    pids: Object.fromEntries(procs.map((p) => [p.name, p.child.pid!])),
    coresUsed: round(cpu / wall, 2),
    otherCoresBusy: round(Math.max(0, (machine - cpu) / span), 2),
    eventsPerSecond: Math.round(opts.events / wall),
    eventsPerSecondPerCore: Math.round(opts.events / cpu),
    goalPerCore: b.goalPerCore,
    checkpoints,
    config: opts.config,
    parallelism,
    taskmanagers: cluster.taskmanagers.length,
    node: process.version,
    date: new Date().toISOString(),
    jobId,
  };
}

/**
 * Poll often: the end time comes from the JobManager, polling only delays the CPU reading. With
 * `onCheckpoints`, the job's checkpoint history goes to it every second (it holds the latest 20 only).
 */
async function waitUntilEnded(cluster: EmbeddedCluster, jobId: string, onCheckpoints: ((o: CheckpointingOverview) => void) | null): Promise<JobDetail> {
  let nextCheckpointPoll = 0;
  for (;;) {
    const d = await cluster.client.jobDetail(jobId);
    if (TERMINAL_JOB_STATES.has(d.state)) return d;
    if (onCheckpoints && performance.now() >= nextCheckpointPoll) {
      onCheckpoints(await cluster.client.checkpoints(jobId));
      nextCheckpointPoll = performance.now() + 1000;
    }
    await sleep(50);
  }
}

/** Add the completed checkpoints (not savepoints) of `overview`'s history to `seen`, by id. */
function keepCompleted(seen: Map<number, CheckpointStats>, overview: CheckpointingOverview): void {
  for (const c of overview.history) if (c.kind === "checkpoint" && c.status === "COMPLETED") seen.set(c.id, c);
}

/**
 * Counts of a job's checkpoints, and figures of the completed ones in its history (the latest 20),
 * together with those polled earlier (`seen`).
 */
export function summariseCheckpoints(overview: CheckpointingOverview, seen: ReadonlyMap<number, CheckpointStats> = new Map()): CheckpointSummary {
  const all = new Map(seen);
  keepCompleted(all, overview);
  const done = [...all.values()].sort((x, y) => x.id - y.id);
  return {
    completed: overview.counts.completed,
    failed: overview.counts.failed,
    medianDurationMs: median(done.map((c) => c.endToEndDuration)),
    maxDurationMs: Math.max(0, ...done.map((c) => c.endToEndDuration)),
    medianStateBytes: median(done.map((c) => c.stateSize)),
    maxAlignmentMs: Math.max(0, ...done.map((c) => c.alignmentMs)),
    durationsMs: done.map((c) => c.endToEndDuration),
  };
}

/** The median (upper median for an even count); 0 for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
