/**
 * Checkpoint and recovery benchmarks of `npm run bench` (bench/README.md, "Checkpoints and recovery"),
 * on the same embedded cluster as the throughput benchmarks, with checkpoints in a temporary file://
 * directory:
 *
 *   npm run bench -- --only checkpoint-size        # 1 M keys: checkpoint duration, size, pause; heap and RocksDB
 *   npm run bench -- --only checkpoint-overhead    # keyed count with checkpoints every second vs none
 *   npm run bench -- --only rocksdb-state          # ValueState read + update per record, 1 M keys: RocksDB vs heap
 *   npm run bench -- --only recovery --keys 200000 # SIGKILL a TaskManager: time until records flow again
 *
 * The keyed jobs are bench/jobs/keyed-state.ts. Each benchmark returns its markdown table and writes
 * its figures to bench/results/<name>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { EmbeddedCluster } from "../runtime/cli/embedded-cluster.js";
import type { CheckpointStats, JobDetail } from "../runtime/jobmanager/rest-types.js";
import { BenchLines, type BenchMark, fmt, median, PARALLELISM, round, runThroughput, sleep, startBenchCluster, type BenchResult, type RunOptions, type ThroughputSpec } from "./harness.js";

/** What run.ts passes on from its command line. */
export interface SuiteOptions {
  runs: number;
  /** `--events`, for suites that take it (kafka-pipeline). */
  events?: number | undefined;
  config: string[];
  /** `--keys`: keys of the 1 M-key benchmarks (checkpoint-size, rocksdb-state, recovery). */
  keys: number | undefined;
  profile: boolean;
  perf: boolean;
  nodeOptions: string;
  stamp: string;
  resultsDir: string;
}

export interface CheckpointBenchmark {
  name: string;
  description: string;
  /** Run it; resolves to its markdown table. */
  run(opts: SuiteOptions): Promise<string>;
}

type Backend = "heap" | "rocksdb";
const BACKENDS: readonly Backend[] = ["heap", "rocksdb"];
const KEYED_JOB = "bench/jobs/keyed-state.ts";
const DEFAULT_KEYS = 1_000_000;

// ---- shared ------------------------------------------------------------------------------------

/** A temporary directory for checkpoints and RocksDB instances, with the configuration pointing there. */
function scratch(): { config: string[]; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "weir-bench-"));
  return {
    config: [`state.checkpoints.dir=file://${join(dir, "checkpoints")}`, `state.backend.rocksdb.localdir=${join(dir, "rocksdb")}`],
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run `fn` with the configuration of a fresh scratch directory, deleted afterwards whatever happens. */
export async function withScratch<T>(fn: (config: string[]) => Promise<T>): Promise<T> {
  const dir = scratch();
  try {
    return await fn(dir.config);
  } finally {
    dir.dispose();
  }
}

/** Log, profile and perf locations of one run, as run.ts names them. */
export function runPaths(opts: SuiteOptions, run: string): Pick<RunOptions, "logDir" | "profileDir" | "perfData" | "nodeOptions"> {
  const perfData = opts.perf ? resolve(opts.resultsDir, "perf", opts.stamp, `${run}.data`) : null;
  if (perfData) mkdirSync(resolve(opts.resultsDir, "perf", opts.stamp), { recursive: true });
  return {
    logDir: join(".weir", "logs", `bench-${opts.stamp}`, run),
    profileDir: opts.profile ? resolve(opts.resultsDir, "profiles", opts.stamp, run) : null,
    perfData,
    nodeOptions: opts.nodeOptions,
  };
}

export function writeResults(opts: SuiteOptions, name: string, data: unknown): void {
  writeFileSync(join(opts.resultsDir, `${name}.json`), JSON.stringify({ node: process.version, date: new Date().toISOString(), results: data }, null, 2) + "\n");
}

const keyedSpec = (name: string, keys: number): ThroughputSpec => ({
  name,
  module: KEYED_JOB,
  description: `generator -> keyBy (${fmt(keys)} keys, hash exchange) -> ValueState read + update per record -> sink`,
  goalPerCore: 0,
  args: (events) => ["--events", String(events), "--keys", String(keys)],
  expectedAtSinks: (events) => events, // one output per event
});

/** One run of a throughput spec under `config`, with its own checkpoint directory. */
async function runOne(spec: ThroughputSpec, events: number, config: string[], opts: SuiteOptions, run: string): Promise<BenchResult> {
  process.stderr.write(`${run}: ${fmt(events)} events... `);
  const r = await withScratch((dirs) => runThroughput(spec, { events, config: [...dirs, ...config, ...opts.config], ...runPaths(opts, run) }));
  process.stderr.write(`${fmt(r.eventsPerSecond)} events/s, ${fmt(r.eventsPerSecondPerCore)} per core${r.checkpoints ? `, ${r.checkpoints.completed} checkpoints` : ""}\n`);
  return r;
}

/** The run of median events/s per core. */
const medianRun = (runs: readonly BenchResult[]) => [...runs].sort((x, y) => x.eventsPerSecondPerCore - y.eventsPerSecondPerCore)[Math.floor(runs.length / 2)]!;

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const pct = (x: number) => `${x >= 0 ? "" : "-"}${Math.abs(x * 100).toFixed(1)}%`;

// ---- checkpoint-overhead -----------------------------------------------------------------------

interface OverheadCase {
  label: string;
  spec: ThroughputSpec;
  events: number;
  backend: Backend;
}

const OVERHEAD_KEYS = 100_000;
const OVERHEAD_CASES: readonly OverheadCase[] = [
  { label: "keyed count, 100k keys", spec: keyedSpec("keyed-count", OVERHEAD_KEYS), events: 20_000_000, backend: "heap" },
  { label: "keyed count, 100k keys", spec: keyedSpec("keyed-count", OVERHEAD_KEYS), events: 3_000_000, backend: "rocksdb" },
  {
    label: "window-count (1000 keys, 1 s windows)",
    spec: {
      name: "window-count",
      module: "bench/jobs/window-count.ts",
      description: "event-time generator -> keyBy (1000 keys) -> tumbling 1 s -> count -> sink",
      goalPerCore: 0,
      expectedAtSinks: (events) => events,
    },
    events: 40_000_000,
    backend: "heap",
  },
];

/** One case, without and with checkpoints: medians, and the overhead of each pair of consecutive runs. */
interface OverheadRow {
  c: OverheadCase;
  base: BenchResult;
  chk: BenchResult;
  /** 1 - (events/s per core with checkpoints) / (without), per pair of runs, sorted. */
  overheads: number[];
}

/**
 * Runs alternate without and with checkpoints, and the overhead is the median over these pairs: this
 * machine's speed drifts by more than the effect between runs minutes apart.
 */
async function overheadCase(c: OverheadCase, opts: SuiteOptions): Promise<OverheadRow> {
  const backend = [`state.backend=${c.backend}`];
  const tag = `${c.spec.name}-${c.backend}`;
  const base: BenchResult[] = [];
  const chk: BenchResult[] = [];
  for (let i = 1; i <= opts.runs; i++) {
    base.push(await runOne(c.spec, c.events, backend, opts, `${tag}-no-checkpoints-${i}`));
    chk.push(await runOne(c.spec, c.events, [...backend, "execution.checkpointing.interval=1000"], opts, `${tag}-checkpoints-1s-${i}`));
  }
  const overheads = base.map((b, i) => 1 - chk[i]!.eventsPerSecondPerCore / b.eventsPerSecondPerCore).sort((x, y) => x - y);
  return { c, base: medianRun(base), chk: medianRun(chk), overheads };
}

async function checkpointOverhead(opts: SuiteOptions): Promise<string> {
  const rows: OverheadRow[] = [];
  for (const c of OVERHEAD_CASES) rows.push(await overheadCase(c, opts));
  writeResults(
    opts,
    "checkpoint-overhead",
    rows.map((r) => ({ job: r.c.label, backend: r.c.backend, overheadsPerCore: r.overheads.map((o) => round(o, 4)), noCheckpoints: r.base, checkpointsEverySecond: r.chk })),
  );
  return [
    "| job | state | events | events/s per core, no checkpoints | with checkpoints every 1 s | overhead per core: median (range) of pairs | events/s (wall), none / 1 s | checkpoints completed (failed) | median duration ms | median size MB | other load (cores) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(({ c, base, chk, overheads }) => {
      const k = chk.checkpoints!;
      const o = median(overheads);
      const range = overheads.length > 1 ? ` (${pct(overheads[0]!)} .. ${pct(overheads.at(-1)!)})` : "";
      return (
        `| ${c.label} | ${c.backend} | ${fmt(c.events)} | ${fmt(base.eventsPerSecondPerCore)} | ${fmt(chk.eventsPerSecondPerCore)} | ${pct(o)}${range} ${o < 0.1 ? "met" : "MISSED"} | ` +
        `${fmt(base.eventsPerSecond)} / ${fmt(chk.eventsPerSecond)} | ${k.completed} (${k.failed}) | ${fmt(k.medianDurationMs)} | ${mb(k.medianStateBytes)} | ${Math.max(base.otherCoresBusy, chk.otherCoresBusy).toFixed(2)} |`
      );
    }),
  ].join("\n");
}

// ---- rocksdb-state -----------------------------------------------------------------------------

/** Events per key: RocksDB creates every key in the first pass and updates it in the second. */
const ROCKSDB_PASSES: Record<Backend, number> = { heap: 20, rocksdb: 2 };

async function rocksdbState(opts: SuiteOptions): Promise<string> {
  const keys = opts.keys ?? DEFAULT_KEYS;
  const rows: { backend: Backend; events: number; r: BenchResult }[] = [];
  for (const backend of ["rocksdb", "heap"] as const) {
    const events = keys * ROCKSDB_PASSES[backend];
    const runs: BenchResult[] = [];
    for (let i = 1; i <= opts.runs; i++) runs.push(await runOne(keyedSpec("keyed-state", keys), events, [`state.backend=${backend}`], opts, `rocksdb-state-${backend}-${i}`));
    rows.push({ backend, events, r: medianRun(runs) });
  }
  writeResults(opts, "rocksdb-state", rows.map(({ backend, r }) => ({ backend, keys, ...r })));
  const heap = rows.find((r) => r.backend === "heap")!.r;
  return [
    "| state | keys | events (passes over the keys) | wall s | CPU s | events/s = state reads + writes/s | events/s per core | per core vs heap | other load (cores) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      ({ backend, events, r }) =>
        `| ${backend} | ${fmt(keys)} | ${fmt(events)} (${events / keys}) | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${fmt(r.eventsPerSecond)} | ${fmt(r.eventsPerSecondPerCore)} | ` +
        `${(r.eventsPerSecondPerCore / heap.eventsPerSecondPerCore).toFixed(3)} | ${r.otherCoresBusy.toFixed(2)} |`,
    ),
  ].join("\n");
}

// ---- long-running keyed job (checkpoint-size, recovery) ----------------------------------------

interface LiveJob {
  cluster: EmbeddedCluster;
  lines: BenchLines;
  jobId: string;
  /** Epoch ms when the keyed operator had seen `keys` records (every key has state). */
  builtAt: number;
  stop: () => Promise<void>;
}

/** Start a cluster and the unbounded keyed job; resolves once every key has state. */
async function startLiveJob(opts: SuiteOptions, run: string, config: string[], args: string[], keys: number): Promise<LiveJob> {
  const lines = new BenchLines();
  const { cluster, stop } = await startBenchCluster({ config: [...config, ...opts.config], ...runPaths(opts, run) }, lines);
  try {
    const { jobId } = await cluster.client.submitJob({ module: KEYED_JOB, args: ["--keys", String(keys), ...args], parallelism: PARALLELISM });
    await until(async () => keyedRecordsIn(await running(cluster, jobId)) >= keys, 120_000, `the job to build state for ${fmt(keys)} keys`, 200);
    return { cluster, lines, jobId, builtAt: Date.now(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Poll `cond` until it holds; its errors propagate (unlike the cluster's `waitFor`, which retries them). */
async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string, pollMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** The job's detail; throws if it ended (so waits fail fast, with the cause). */
async function running(cluster: EmbeddedCluster, jobId: string): Promise<JobDetail> {
  const d = await cluster.client.jobDetail(jobId);
  if (d.state === "FAILED" || d.state === "CANCELED" || d.state === "FINISHED") throw new Error(`job ended ${d.state}: ${d.failure?.cause ?? ""}; logs in ${cluster.logDir}`);
  return d;
}

function keyedRecordsIn(d: JobDetail): number {
  return d.vertices.find((v) => v.operators.some((o) => o.uid === "rolling-count"))?.metrics?.recordsIn ?? 0;
}

/** Completed checkpoints triggered after `since`, oldest first, once there are `n` of them. */
async function checkpointsAfter(job: LiveJob, since: number, n: number, timeoutMs: number): Promise<CheckpointStats[]> {
  let done: CheckpointStats[] = [];
  await until(
    async () => {
      await running(job.cluster, job.jobId);
      const h = (await job.cluster.client.checkpoints(job.jobId)).history;
      done = h.filter((c) => c.kind === "checkpoint" && c.status === "COMPLETED" && c.triggerTimestamp > since).reverse();
      return done.length >= n;
    },
    timeoutMs,
    `${n} completed checkpoints`,
    200,
  );
  return done.slice(0, n);
}

// ---- checkpoint-size ---------------------------------------------------------------------------

const SIZE_INTERVAL_MS = 2_000;
/** Quiet time after each checkpoint, in which the event-loop stall without a checkpoint is measured. */
const SIZE_MIN_PAUSE_MS = 3_000;
const SIZE_CHECKPOINTS = 3;
/** Events/s of the job once its state is built: quiet, so checkpoints are measured alone. */
const SIZE_RATE = 1_000;

interface SizeResult {
  backend: Backend;
  keys: number;
  checkpoints: CheckpointStats[];
  /** Longest event-loop delay of a TaskManager during any of the checkpoints, and outside them. */
  maxStallDuringMs: number;
  maxStallOutsideMs: number | null;
  /** Longest GC pause of a TaskManager during any of the checkpoints. */
  maxGcDuringMs: number;
}

async function checkpointSizeOnce(opts: SuiteOptions, backend: Backend, keys: number, dirs: string[]): Promise<SizeResult> {
  const config = [...dirs, `state.backend=${backend}`, `execution.checkpointing.interval=${SIZE_INTERVAL_MS}`, `execution.checkpointing.min-pause=${SIZE_MIN_PAUSE_MS}`];
  process.stderr.write(`checkpoint-size-${backend}: building state for ${fmt(keys)} keys... `);
  const job = await startLiveJob(opts, `checkpoint-size-${backend}`, config, ["--rate", String(SIZE_RATE), "--lag"], keys);
  try {
    const checkpoints = await checkpointsAfter(job, job.builtAt, SIZE_CHECKPOINTS, 120_000);
    await sleep(1_100); // the lag report covering the last checkpoint's end
    const windows = checkpoints.map((c) => [c.triggerTimestamp, c.triggerTimestamp + c.endToEndDuration + 1_000] as const);
    const inside = (m: BenchMark) => windows.some(([a, b]) => m.time >= a && m.time <= b);
    const lag = job.lines.of("lag").filter((m) => m.time > job.builtAt + 1_000);
    const during = lag.filter(inside);
    const outside = lag.filter((m) => m.time > windows[0]![0] && !inside(m));
    const r: SizeResult = {
      backend,
      keys,
      checkpoints,
      maxStallDuringMs: Math.max(0, ...during.map((m) => m.value)),
      maxStallOutsideMs: outside.length > 0 ? Math.max(...outside.map((m) => m.value)) : null,
      maxGcDuringMs: Math.max(0, ...job.lines.of("gc").filter(inside).map((m) => m.value)),
    };
    process.stderr.write(`median ${median(checkpoints.map((c) => c.endToEndDuration))} ms, ${mb(median(checkpoints.map((c) => c.stateSize)))} MB\n`);
    return r;
  } finally {
    await job.stop();
  }
}

async function checkpointSize(opts: SuiteOptions): Promise<string> {
  const keys = opts.keys ?? DEFAULT_KEYS;
  const results: SizeResult[] = [];
  for (const backend of BACKENDS) results.push(await withScratch((dirs) => checkpointSizeOnce(opts, backend, keys, dirs)));
  writeResults(opts, "checkpoint-size", results);
  return [
    `| state | keys | checkpoints (every ${SIZE_INTERVAL_MS / 1000} s, ${SIZE_MIN_PAUSE_MS / 1000} s apart) | duration median ms | duration max ms | size MB | bytes per key | max alignment ms | longest event-loop stall during / outside checkpoints ms | longest GC pause during checkpoints ms |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map((r) => {
      const d = r.checkpoints.map((c) => c.endToEndDuration);
      const size = median(r.checkpoints.map((c) => c.stateSize));
      return (
        `| ${r.backend} | ${fmt(r.keys)} | ${r.checkpoints.length} | ${fmt(median(d))} | ${fmt(Math.max(...d))} | ${mb(size)} | ${(size / r.keys).toFixed(1)} | ` +
        `${fmt(Math.max(...r.checkpoints.map((c) => c.alignmentMs)))} | ${r.maxStallDuringMs.toFixed(0)} / ${r.maxStallOutsideMs === null ? "–" : r.maxStallOutsideMs.toFixed(0)} | ${r.maxGcDuringMs.toFixed(0)} |`
      );
    }),
  ].join("\n");
}

// ---- recovery ----------------------------------------------------------------------------------

const RECOVERY_INTERVAL_MS = 2_000;
/** Events/s of the job while it runs: records keep flowing, so their return is visible at once. */
const RECOVERY_RATE = 10_000;
const RECOVERY_GOAL_MS = 5_000;

/** Milliseconds from the SIGKILL to each step, as seen by the JobManager, the benchmark and the tasks. */
interface RecoveryResult {
  backend: Backend;
  keys: number;
  restoredCheckpoint: number | null;
  restoredBytes: number;
  /** JobManager: RESTARTING (it noticed the lost TaskManager and cancels the other tasks). */
  detectedMs: number;
  /** The replacement TaskManager registered (started right after the kill). */
  replacementReadyMs: number;
  /** JobManager: RUNNING again (new attempt deployed, after the old tasks ended and slots were found). */
  redeployedMs: number;
  /** Every stateful subtask restored its state and opened. */
  restoredMs: number;
  /** Every stateful subtask processed its first record. */
  resumedMs: number;
  cause: string;
}

async function recoveryOnce(opts: SuiteOptions, backend: Backend, keys: number, run: string, dirs: string[]): Promise<RecoveryResult> {
  const config = [
    ...dirs,
    `state.backend=${backend}`,
    `execution.checkpointing.interval=${RECOVERY_INTERVAL_MS}`,
    "restart-strategy.type=fixed-delay",
    "restart-strategy.fixed-delay.delay=0",
    "restart-strategy.fixed-delay.attempts=3",
  ];
  process.stderr.write(`${run}: building state for ${fmt(keys)} keys... `);
  const job = await startLiveJob(opts, run, config, ["--rate", String(RECOVERY_RATE)], keys);
  const { cluster, jobId, lines } = job;
  try {
    const [checkpoint] = await checkpointsAfter(job, job.builtAt, 1, 120_000); // holds every key
    const victim = cluster.taskmanagers[1]!;
    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    const replacement = cluster.addTaskManager().then(() => Date.now() - killedAt);
    await until(
      async () => {
        const d = await running(cluster, jobId);
        return d.restarts >= 1 && d.state === "RUNNING";
      },
      60_000,
      "the job to run again",
      20,
    );
    const fresh = (kind: string) => lines.of(kind).filter((m) => m.time > killedAt);
    await until(
      async () => {
        await running(cluster, jobId);
        return new Set(fresh("first").map((m) => m.subtask)).size >= PARALLELISM;
      },
      120_000,
      "every subtask to process a record after the restart",
      20,
    );
    const after = await cluster.client.jobDetail(jobId);
    const replacementReadyMs = await replacement;
    const overview = await cluster.client.checkpoints(jobId);
    const restoredId = after.restoredFrom?.checkpointId ?? null;
    const restored = overview.history.find((c) => c.id === restoredId);
    const r: RecoveryResult = {
      backend,
      keys,
      restoredCheckpoint: restoredId,
      restoredBytes: restored?.stateSize ?? checkpoint!.stateSize,
      detectedMs: after.timestamps.RESTARTING! - killedAt,
      replacementReadyMs,
      redeployedMs: after.timestamps.RUNNING! - killedAt,
      restoredMs: Math.max(...fresh("open").map((m) => m.time)) - killedAt,
      resumedMs: Math.max(...fresh("first").map((m) => m.time)) - killedAt,
      cause: after.failureHistory.at(-1)?.cause ?? "",
    };
    process.stderr.write(`records flowing again ${fmt(r.resumedMs)} ms after the kill\n`);
    return r;
  } finally {
    await job.stop();
  }
}

async function recovery(opts: SuiteOptions): Promise<string> {
  const keys = opts.keys ?? DEFAULT_KEYS;
  const results: { median: RecoveryResult; runs: RecoveryResult[] }[] = [];
  for (const backend of BACKENDS) {
    const runs: RecoveryResult[] = [];
    for (let i = 1; i <= opts.runs; i++) runs.push(await withScratch((dirs) => recoveryOnce(opts, backend, keys, `recovery-${backend}-${i}`, dirs)));
    runs.sort((a, b) => a.resumedMs - b.resumedMs);
    results.push({ median: runs[Math.floor(runs.length / 2)]!, runs });
  }
  writeResults(opts, "recovery", results);
  return [
    "| state | keys | restored MB | detected (RESTARTING) | replacement TM registered | redeployed (RUNNING) | state restored (tasks open) | records flowing again | range over runs | goal < 5 s |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(({ median: r, runs }) => {
      const ms = (x: number) => `${fmt(x)} ms`;
      return (
        `| ${r.backend} | ${fmt(r.keys)} | ${mb(r.restoredBytes)} | ${ms(r.detectedMs)} | ${ms(r.replacementReadyMs)} | ${ms(r.redeployedMs)} | ${ms(r.restoredMs)} | ` +
        `**${ms(r.resumedMs)}** | ${ms(runs[0]!.resumedMs)} .. ${ms(runs.at(-1)!.resumedMs)} | ${runs.every((x) => x.resumedMs < RECOVERY_GOAL_MS) ? "met" : r.resumedMs < RECOVERY_GOAL_MS ? "median met" : "MISSED"} |`
      );
    }),
    "",
    "Times from the SIGKILL of one of the two TaskManagers (the median run by the last column); a replacement TaskManager is started right after it.",
  ].join("\n");
}

/** The benchmarks of this file, in the order they run. */
export const CHECKPOINT_BENCHMARKS: readonly CheckpointBenchmark[] = [
  { name: "checkpoint-size", description: "1 M keys: checkpoint duration, size and pause, heap and RocksDB", run: checkpointSize },
  { name: "checkpoint-overhead", description: "keyed count with checkpoints every second vs none", run: checkpointOverhead },
  { name: "rocksdb-state", description: "ValueState read + update per record over 1 M keys, RocksDB vs heap", run: rocksdbState },
  { name: "recovery", description: "SIGKILL a TaskManager: time until records flow again", run: recovery },
];
