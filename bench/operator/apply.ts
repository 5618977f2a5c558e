/**
 * apply -> RUNNING: create a StreamJob like examples/wordcount.yaml (endless, 2000 lines/s, parallelism
 * 2, one slot per TaskManager) and poll it and its pods every 50 ms until it is STABLE; then delete it
 * and wait until it and its pods are gone. Times are from just before the create request; the
 * JobManager's own RUNNING timestamp (REST) shows how much of it is the operator's polling.
 */
import type { Installed } from "./install.js";
import { wordcount, type Job } from "./jobs.js";
import { k8s, sleep } from "./kube.js";
import { met, secs, spread, table, type Spread } from "./stats.js";

const POLL_MS = 50;
const PARALLELISM = 2;
export const APPLY_GOAL_MS = 10_000;

/** ms after the create request at which each step was first seen (undefined: never). */
export interface ApplyRun {
  /** The operator's first status write (lifecycle DEPLOYED). */
  firstStatusMs?: number;
  jobManagerPodMs?: number;
  /** The JobManager pod's phase Running (its process started). */
  jobManagerStartedMs?: number;
  /** Every TaskManager pod Running. */
  taskManagersStartedMs?: number;
  /** The JobManager's own RUNNING timestamp of the job (REST API). */
  jobRunningAtJobManagerMs?: number;
  /** `.status.jobStatus.state == RUNNING`. */
  runningMs?: number;
  /** `.status.lifecycleState == STABLE`. */
  stableMs?: number;
  /** Delete request -> the StreamJob and all its pods gone. */
  deleteMs?: number;
}

export interface ApplyResult {
  runs: ApplyRun[];
  running: Spread;
  stable: Spread;
}

const isRunningPod = (p: k8s.V1Pod) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp;
const component = (p: k8s.V1Pod) => p.metadata?.labels?.["weir.dev/component"];

/** Observe one StreamJob from creation to STABLE. */
async function observeStart(i: Installed, name: string, t0: number, timeoutMs: number): Promise<ApplyRun> {
  const r: ApplyRun = {};
  const first = (key: keyof ApplyRun, seen: boolean) => {
    if (seen && r[key] === undefined) r[key] = Date.now() - t0;
  };
  while (r.stableMs === undefined) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${name} not STABLE after ${timeoutMs / 1000} s: ${JSON.stringify(r)}`);
    const [job, pods] = await Promise.all([i.jobs.get(name), i.jobs.pods(name)]);
    const jms = pods.filter((p) => component(p) === "jobmanager");
    const tms = pods.filter((p) => component(p) === "taskmanager");
    first("firstStatusMs", job.status?.lifecycleState !== undefined);
    first("jobManagerPodMs", jms.length > 0);
    first("jobManagerStartedMs", jms.some(isRunningPod));
    first("taskManagersStartedMs", tms.filter(isRunningPod).length >= PARALLELISM);
    first("runningMs", job.status?.jobStatus?.state === "RUNNING");
    first("stableMs", job.status?.lifecycleState === "STABLE");
    await sleep(POLL_MS);
  }
  return r;
}

export async function benchApply(i: Installed, runs: number, log: (s: string) => void): Promise<ApplyResult> {
  const results: ApplyRun[] = [];
  for (let n = 1; n <= runs; n++) {
    const name = `apply-${n}`;
    const manifest: Job = wordcount(name, i.jobs.namespace, { parallelism: PARALLELISM });
    const t0 = Date.now();
    await i.jobs.create(manifest);
    const r = await observeStart(i, name, t0, 180_000);
    const at = await i.jobs.jobRunningAt(name).catch(() => undefined);
    if (at !== undefined) r.jobRunningAtJobManagerMs = at - t0;
    const t1 = Date.now();
    await i.jobs.delete(name);
    r.deleteMs = Date.now() - t1;
    log(`apply run ${n}/${runs}: RUNNING after ${secs(r.runningMs)} s (JobManager: ${secs(r.jobRunningAtJobManagerMs)} s), STABLE after ${secs(r.stableMs)} s, deleted in ${secs(r.deleteMs)} s`);
    results.push(r);
    await sleep(1_000);
  }
  const of = (k: keyof ApplyRun) => results.map((r) => r[k]).filter((v): v is number => v !== undefined);
  return { runs: results, running: spread(of("runningMs")), stable: spread(of("stableMs")) };
}

export function applyTable(r: ApplyResult): string {
  const steps: [string, keyof ApplyRun][] = [
    ["first status write (DEPLOYED)", "firstStatusMs"],
    ["JobManager pod created", "jobManagerPodMs"],
    ["JobManager process started (pod Running)", "jobManagerStartedMs"],
    [`${PARALLELISM} TaskManager processes started`, "taskManagersStartedMs"],
    ["job RUNNING (the JobManager's timestamp)", "jobRunningAtJobManagerMs"],
    ["**jobStatus.state RUNNING**", "runningMs"],
    ["lifecycle STABLE", "stableMs"],
    ["delete -> StreamJob and pods gone", "deleteMs"],
  ];
  const rows = steps.map(([label, key]) => {
    const s = spread(r.runs.map((x) => x[key]).filter((v): v is number => v !== undefined));
    const goal = key === "runningMs" ? `< 10 s: ${met(s.max, APPLY_GOAL_MS)}` : "";
    return [label, secs(s.median), secs(s.max), goal];
  });
  return table([`apply -> (${r.runs.length} runs)`, "median s", "max s", "goal"], rows, [false, true, true, false]);
}
