/**
 * Savepoint-upgrade downtime: test/jobs/exactly-once.ts (200,000 events at 2,000/s, 40 keys,
 * checkpoints every second, upgradeMode savepoint) writes through the transactional file sink, which
 * renames a part file into `<out>/part-<subtask>-<checkpoint>-<id>` when a checkpoint (or savepoint)
 * completes. Once the job is STABLE and committing, its parallelism is patched 2 -> 3.
 *
 * Output side: the out directory is listed every 25 ms; a new part file's first sighting is its commit
 * time. Downtime = first commit of the new deployment - last commit of the old one, split at the
 * moment the operator was first seen DEPLOYING (the old job is stopped and torn down by then). When
 * nothing is committed within 20 s of STABLE the run reports the output as stalled, with the
 * JobManager's last reason for skipping a checkpoint.
 * Operator side: the StreamJob and its pods are polled every 50 ms for lifecycle, upgrade phase and
 * new pods. Afterwards the committed rolling counts are checked: per key 1..n, none twice, none missing.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Installed } from "./install.js";
import { exactlyOnce, stableAt, type Job } from "./jobs.js";
import { k8s, podLogDirs, poll, sleep } from "./kube.js";
import { met, percentile, secs, spread, table } from "./stats.js";

const DIR_POLL_MS = 25;
const STATUS_POLL_MS = 50;
const MERGE_MS = 250;
export const UPGRADE_GOAL_MS = 5_000;

/** Part files as they appear: name -> ms since the epoch of the first listing that showed it. */
class CommitWatcher {
  readonly seen = new Map<string, number>();
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(private readonly dir: string) {
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const now = Date.now();
      for (const f of readdirSync(this.dir)) if (f.startsWith("part-") && !this.seen.has(f)) this.seen.set(f, now);
      await sleep(DIR_POLL_MS);
    }
  }

  /**
   * Commit instants, ascending: listings that showed new part files, those within 250 ms of the previous
   * one merged into it (the sink subtasks of one checkpoint rename their files a few ms apart).
   */
  instants(): number[] {
    const out: number[] = [];
    for (const t of [...new Set(this.seen.values())].sort((a, b) => a - b)) if (out.length === 0 || t - out.at(-1)! > MERGE_MS) out.push(t);
    return out;
  }

  /** First sighting of a file of `subtask`. */
  firstOfSubtask(subtask: number): number | undefined {
    const times = [...this.seen].filter(([f]) => f.startsWith(`part-${subtask}-`)).map(([, t]) => t);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

/** One upgrade, ms relative to the patch request. */
export interface UpgradeRun {
  /** Median gap between commits before the upgrade (the checkpoint interval plus commit time). */
  normalCommitGapMs: number;
  lastOldCommitMs: number;
  /** Undefined when the new deployment committed nothing (`stalled`). */
  firstNewCommitMs?: number;
  /** firstNewCommitMs - lastOldCommitMs. */
  downtimeMs?: number;
  /** Why no commit followed within 20 s of STABLE. */
  stalled?: string;
  /** Largest gap between any two consecutive commits from 5 s before the patch to the end (a cross-check). */
  largestGapMs: number;
  /** First part file of subtask 2 (exists only at parallelism 3). */
  firstSubtask2CommitMs?: number;
  /** First sighting of each lifecycle / phase / job state after the patch. */
  upgradingMs?: number;
  savepointingMs?: number;
  tearingDownMs?: number;
  deployingMs?: number;
  /** The new JobManager pod / all 3 new TaskManager pods Running (processes started). */
  jobManagerStartedMs?: number;
  taskManagersStartedMs?: number;
  runningAt3Ms?: number;
  /** The new JobManager's own RUNNING timestamp of the job (REST API). */
  jobRunningAtJobManagerMs?: number;
  stableMs: number;
  check: OutputCheck;
}

interface OutputCheck {
  lines: number;
  duplicates: number;
  missing: number;
}

/** Rolling counts committed so far: every key's counts must be 1..n with none twice. */
function checkRollingCounts(out: string): OutputCheck {
  const counts = new Map<string, number[]>();
  let lines = 0;
  for (const f of readdirSync(out).filter((n) => n.startsWith("part-"))) {
    for (const line of readFileSync(join(out, f), "utf8").split("\n")) {
      if (!line) continue;
      lines++;
      const rec = JSON.parse(line) as unknown[];
      if (rec[0] !== "c") continue;
      const key = rec[1] as string;
      if (!counts.has(key)) counts.set(key, []);
      counts.get(key)!.push(rec[2] as number);
    }
  }
  let duplicates = 0;
  let missing = 0;
  for (const ns of counts.values()) {
    const distinct = new Set(ns);
    duplicates += ns.length - distinct.size;
    missing += Math.max(...distinct) - distinct.size;
  }
  return { lines, duplicates, missing };
}

/** Poll the StreamJob until `done`, noting when each of `marks` first held. */
async function timeline(i: Installed, name: string, t0: number, marks: Record<string, Mark>, done: (j: Job) => boolean, timeoutMs: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  const old = new Set((await i.jobs.pods(name)).map((p) => p.metadata!.name!));
  for (;;) {
    const [j, pods] = await Promise.all([i.jobs.get(name), i.jobs.pods(name)]);
    const now = Date.now() - t0;
    const started = pods.filter((p) => !old.has(p.metadata!.name!) && p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
    for (const [k, ok] of Object.entries(marks)) if (seen[k] === undefined && ok(j, started)) seen[k] = now;
    if (done(j)) return seen;
    if (now > timeoutMs) throw new Error(`${name}: not STABLE at the new parallelism ${timeoutMs / 1000} s after the patch; seen ${JSON.stringify(seen)}, status ${JSON.stringify(j.status)}`);
    await sleep(STATUS_POLL_MS);
  }
}

/** A condition on the StreamJob and its pods started since the patch. */
type Mark = (j: Job, newPods: k8s.V1Pod[]) => boolean;
const phase = (p: string): Mark => (j) => j.status?.upgrade?.phase === p;
const newPods = (component: string, n: number): Mark => (_, pods) => pods.filter((p) => p.metadata?.labels?.["weir.dev/component"] === component).length >= n;

const EVENTS = 200_000;
const RATE = 2_000;
/** How long after STABLE commits must resume before the output counts as stalled. */
const STALL_MS = 20_000;

/** The last "skipping a periodic checkpoint" reason in the logs of `job`'s JobManager pods. */
function skippedCheckpointReason(namespace: string, job: string): string | undefined {
  let reason: string | undefined;
  for (const dir of podLogDirs(namespace).filter((d) => d.includes(`_${job}-jobmanager-`))) {
    const file = join(dir, "weir.log");
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.includes("skipping a periodic checkpoint")) reason = (JSON.parse(line) as { reason?: string }).reason;
    }
  }
  return reason;
}

async function upgradeOnce(i: Installed, name: string): Promise<UpgradeRun> {
  const { manifest, out } = exactlyOnce(name, i.jobs.namespace, join(i.work, name), EVENTS, RATE, { upgradeMode: "savepoint" });
  await i.jobs.create(manifest);
  await i.jobs.waitFor(name, "STABLE at parallelism 2", stableAt(2));
  const watcher = new CommitWatcher(out);
  try {
    await poll(`${name}: 4 commits`, async () => watcher.instants().length >= 4, 60_000, 100);
    const t0 = Date.now();
    await i.jobs.patchSpec(name, { job: { parallelism: 3 } });
    const seen = await timeline(i, name, t0, {
      upgrading: (j) => j.status?.lifecycleState === "UPGRADING",
      savepointing: phase("SAVEPOINTING"),
      tearingDown: phase("TEARING_DOWN"),
      deploying: phase("DEPLOYING"),
      jobManagerStarted: newPods("jobmanager", 1),
      taskManagersStarted: newPods("taskmanager", 3),
      runningAt3: (j) => j.status?.jobStatus?.state === "RUNNING" && j.status.jobStatus.parallelism === 3,
    }, stableAt(3), 180_000);
    const stableMs = Date.now() - t0;
    const jobRunningAt = await i.jobs.jobRunningAt(name).catch(() => undefined);
    const deployingAt = t0 + (seen.deploying ?? stableMs);
    const resumed = await poll(`${name}: 3 commits after STABLE`, async () => watcher.instants().filter((t) => t > t0 + stableMs).length >= 3, STALL_MS, 100).then(() => true, () => false);
    await watcher.stop();
    const instants = watcher.instants();
    const gaps = (ts: number[]) => ts.slice(1).map((t, k) => t - ts[k]!);
    const lastOld = Math.max(...instants.filter((t) => t < deployingAt));
    const firstNew = instants.find((t) => t >= deployingAt);
    const sub2 = watcher.firstOfSubtask(2);
    const stall = resumed ? undefined : skippedCheckpointReason(i.jobs.namespace, name) ?? "no reason logged";
    return {
      normalCommitGapMs: percentile(gaps(instants.filter((t) => t < t0)), 50),
      lastOldCommitMs: lastOld - t0,
      ...(firstNew !== undefined ? { firstNewCommitMs: firstNew - t0, downtimeMs: firstNew - lastOld } : {}),
      largestGapMs: Math.max(...gaps(instants.filter((t) => t >= t0 - 5_000))),
      ...(sub2 !== undefined ? { firstSubtask2CommitMs: sub2 - t0 } : {}),
      ...(stall !== undefined ? { stalled: `no commit from ${secs(lastOld - t0)} s to ${secs(Date.now() - t0)} s after the patch; JobManager: ${stall}` } : {}),
      upgradingMs: seen.upgrading,
      savepointingMs: seen.savepointing,
      tearingDownMs: seen.tearingDown,
      deployingMs: seen.deploying,
      jobManagerStartedMs: seen.jobManagerStarted,
      taskManagersStartedMs: seen.taskManagersStarted,
      runningAt3Ms: seen.runningAt3,
      ...(jobRunningAt !== undefined ? { jobRunningAtJobManagerMs: jobRunningAt - t0 } : {}),
      stableMs,
      check: checkRollingCounts(out),
    };
  } finally {
    await watcher.stop();
    await i.jobs.delete(name);
  }
}

export async function benchUpgrade(i: Installed, runs: number, log: (s: string) => void): Promise<UpgradeRun[]> {
  const results: UpgradeRun[] = [];
  for (let n = 1; n <= runs; n++) {
    const r = await upgradeOnce(i, `upgrade-${n}`);
    log(`upgrade run ${n}/${runs}: ${r.stalled ?? `downtime ${secs(r.downtimeMs)} s (last old / first new commit ${secs(r.lastOldCommitMs)} / ${secs(r.firstNewCommitMs)} s after the patch)`}, ` +
      `STABLE after ${secs(r.stableMs)} s; committed ${r.check.lines} lines, ${r.check.duplicates} duplicate / ${r.check.missing} missing counts`);
    results.push(r);
  }
  return results;
}

export function upgradeTable(runs: readonly UpgradeRun[]): string {
  const row = (label: string, f: (r: UpgradeRun) => number | undefined, goal = "") => {
    const s = spread(runs.map(f).filter((v): v is number => v !== undefined));
    return [label, secs(s.median), secs(s.max), goal];
  };
  const downtime = spread(runs.map((r) => r.downtimeMs ?? Infinity));
  const bad = runs.filter((r) => r.check.duplicates + r.check.missing > 0).length;
  const stalled = runs.filter((r) => r.stalled).map((r) => r.stalled);
  return table([`savepoint upgrade 2 -> 3 (${runs.length} runs), s after the patch`, "median s", "max s", "goal"], [
    row("commit gap before the upgrade (normal)", (r) => r.normalCommitGapMs),
    row("lifecycle UPGRADING, phase SAVEPOINTING", (r) => r.savepointingMs),
    row("last commit of the old deployment", (r) => r.lastOldCommitMs),
    row("phase TEARING_DOWN seen", (r) => r.tearingDownMs),
    row("phase DEPLOYING seen", (r) => r.deployingMs),
    row("new JobManager process started (pod Running)", (r) => r.jobManagerStartedMs),
    row("3 new TaskManager processes started", (r) => r.taskManagersStartedMs),
    row("job RUNNING (the new JobManager's timestamp)", (r) => r.jobRunningAtJobManagerMs),
    row("first commit of the new deployment", (r) => r.firstNewCommitMs),
    row("jobStatus RUNNING at parallelism 3", (r) => r.runningAt3Ms),
    row("lifecycle STABLE", (r) => r.stableMs),
    row("operator: UPGRADING -> STABLE", (r) => (r.upgradingMs === undefined ? undefined : r.stableMs - r.upgradingMs)),
    row("**downtime: commit gap across the upgrade**", (r) => r.downtimeMs, `< 5 s: ${met(downtime.max, UPGRADE_GOAL_MS)}`),
    row("largest commit gap around the upgrade (cross-check)", (r) => r.largestGapMs),
  ], [false, true, true, false]) + "\n\n" +
    `Committed rolling counts after each run: ${bad === 0 ? "every key 1..n, none twice or missing" : `**${bad} run(s) with duplicate or missing counts**`}.` +
    stalled.map((s) => `\n**Output stalled**: ${s}.`).join("");
}
