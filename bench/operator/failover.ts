/**
 * Leader failover: with a wordcount StreamJob STABLE, SIGKILL the leading operator pod's process (the
 * Lease's holderIdentity names the pod; its pid comes from the node agent's state file), then at once
 * bump `spec.job.savepointTriggerNonce`. Polling the Lease and the StreamJob every 50 ms gives the time
 * until another replica holds the Lease and until the nonce's savepoint is triggered and recorded.
 * A nonce savepoint without a failover is measured first as the baseline. Before each kill both
 * replicas are Ready again (the node agent restarts the killed container).
 */
import { join } from "node:path";
import { holderPod, isReady, lease, LEASE_DURATION_MS, operatorPods, type Installed } from "./install.js";
import { stableAt, wordcountWithSavepoints, type Job } from "./jobs.js";
import { containerPid, poll, sleep } from "./kube.js";
import { met, secs, spread, table } from "./stats.js";

const POLL_MS = 50;
const RETRY_PERIOD_MS = 2_000;
export const FAILOVER_GOAL_MS = LEASE_DURATION_MS + 2_000;
const NAME = "failover";

/** ms after the kill (or, for the baseline, after the patch). */
export interface FailoverRun {
  /** Lease holder identities (`<pod>_<suffix>`): the killed one and the next. */
  killed?: string;
  newHolder?: string;
  /** When the killed leader's last renewal expires (renewTime + leaseDuration). */
  leaseExpiryMs?: number;
  newLeaderMs?: number;
  /** The Lease's acquireTime written by the new leader. */
  acquireTimeMs?: number;
  savepointTriggeredMs: number;
  savepointRecordedMs: number;
}

const triggered = (nonce: number) => (j: Job) => j.status?.upgrade?.triggerNonce === nonce && j.status.upgrade.triggerId !== undefined;
const recorded = (nonce: number) => (j: Job) => j.status?.savepointInfo?.lastSavepoint?.triggerNonce === nonce;
const ms = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).getTime());

/** Patch the nonce and poll until its savepoint is recorded (and, after a kill, another replica leads). */
async function nonceSavepoint(i: Installed, nonce: number, t0: number, leader?: string): Promise<FailoverRun> {
  await i.jobs.patchSpec(NAME, { job: { savepointTriggerNonce: nonce } });
  const r: Partial<FailoverRun> = {};
  for (;;) {
    const [j, l] = await Promise.all([i.jobs.get(NAME), leader ? lease(i) : undefined]);
    const now = Date.now() - t0;
    if (r.savepointTriggeredMs === undefined && (triggered(nonce)(j) || recorded(nonce)(j))) r.savepointTriggeredMs = now;
    if (r.savepointRecordedMs === undefined && recorded(nonce)(j)) r.savepointRecordedMs = now;
    if (l && r.newLeaderMs === undefined && l.spec?.holderIdentity && l.spec.holderIdentity !== leader) {
      r.newLeaderMs = now;
      r.newHolder = l.spec.holderIdentity;
      r.acquireTimeMs = (ms(l.spec.acquireTime) ?? NaN) - t0;
    }
    if (r.savepointRecordedMs !== undefined && (!leader || r.newLeaderMs !== undefined)) return r as FailoverRun;
    if (now > 120_000) throw new Error(`nonce ${nonce}: not done 120 s after ${leader ? `killing ${leader}` : "the patch"}: ${JSON.stringify(r)}; status ${JSON.stringify(j.status)}`);
    await sleep(POLL_MS);
  }
}

/** Both operator replicas Ready and one of them holding the Lease: its holder identity. */
async function replicasReady(i: Installed): Promise<string> {
  return poll("both operator replicas Ready and a Lease holder", async () => {
    const pods = await operatorPods(i);
    const holder = (await lease(i)).spec?.holderIdentity;
    return pods.filter(isReady).length >= 2 && pods.some((p) => p.metadata?.name === holderPod(holder)) ? holder : undefined;
  }, 180_000, 250);
}

async function killLeader(i: Installed, nonce: number): Promise<FailoverRun> {
  const leader = await replicasReady(i);
  await i.jobs.waitFor(NAME, "STABLE", stableAt(2), 120_000);
  const pid = containerPid(holderPod(leader)!);
  if (pid === undefined) throw new Error(`no pid for operator pod ${holderPod(leader)} (Lease holder ${leader}) in the node agents' state files`);
  const before = await lease(i);
  const t0 = Date.now();
  process.kill(pid, "SIGKILL");
  const r = await nonceSavepoint(i, nonce, t0, leader);
  const renewed = ms(before.spec?.renewTime);
  const duration = (before.spec?.leaseDurationSeconds ?? LEASE_DURATION_MS / 1000) * 1000;
  return { killed: leader, ...(renewed !== undefined ? { leaseExpiryMs: renewed + duration - t0 } : {}), ...r };
}

export interface FailoverResult {
  baseline: FailoverRun;
  runs: FailoverRun[];
}

export async function benchFailover(i: Installed, runs: number, log: (s: string) => void): Promise<FailoverResult> {
  await i.jobs.create(wordcountWithSavepoints(NAME, i.jobs.namespace, join(i.work, NAME)));
  try {
    await i.jobs.waitFor(NAME, "STABLE", stableAt(2));
    const baseline = await nonceSavepoint(i, 1, Date.now());
    log(`failover baseline: nonce savepoint triggered after ${secs(baseline.savepointTriggeredMs)} s, recorded after ${secs(baseline.savepointRecordedMs)} s`);
    const results: FailoverRun[] = [];
    for (let n = 1; n <= runs; n++) {
      const r = await killLeader(i, n + 1);
      log(`failover run ${n}/${runs}: killed ${r.killed}; new leader after ${secs(r.newLeaderMs)} s (lease expired at ${secs(r.leaseExpiryMs)} s), ` +
        `nonce savepoint triggered after ${secs(r.savepointTriggeredMs)} s, recorded after ${secs(r.savepointRecordedMs)} s`);
      results.push(r);
    }
    return { baseline, runs: results };
  } finally {
    await i.jobs.delete(NAME).catch(() => undefined);
  }
}

export function failoverTable(r: FailoverResult): string {
  const row = (label: string, f: (x: FailoverRun) => number | undefined, goal = "") => {
    const s = spread(r.runs.map(f).filter((v): v is number => v !== undefined && !Number.isNaN(v)));
    return [label, secs(s.median), secs(s.max), goal];
  };
  const taken = spread(r.runs.map((x) => x.newLeaderMs ?? NaN));
  return table([`leader SIGKILL (${r.runs.length} runs), s after the kill`, "median s", "max s", "goal"], [
    row("the killed leader's last renewTime + 15 s", (x) => x.leaseExpiryMs),
    row("**another replica holds the Lease**", (x) => x.newLeaderMs, `< ${FAILOVER_GOAL_MS / 1000} s: ${met(taken.max, FAILOVER_GOAL_MS)}`),
    row("Lease acquireTime written by the new leader", (x) => x.acquireTimeMs),
    row("nonce savepoint (patched right after the kill) triggered", (x) => x.savepointTriggeredMs),
    row("nonce savepoint recorded in status", (x) => x.savepointRecordedMs),
  ], [false, true, true, false]) + "\n\n" + [
    `- baseline, the same nonce savepoint without a failover: triggered ${secs(r.baseline.savepointTriggeredMs)} s, recorded ${secs(r.baseline.savepointRecordedMs)} s after the patch`,
    `- Lease: duration ${LEASE_DURATION_MS / 1000} s, retry period ${RETRY_PERIOD_MS / 1000} s (chart defaults). A standby counts the duration from when *it* ` +
      "observed the last renewal (client-go's observedTime rule, looking every retry period) and tries again when it expires, so takeover lands up to 1 retry period after renewTime + duration",
    `- the other replica took over in ` +
      `${r.runs.filter((x) => holderPod(x.newHolder) !== holderPod(x.killed)).length} of ${r.runs.length} runs (holder identities in the JSON)`,
  ].join("\n");
}
