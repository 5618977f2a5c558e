import { describe, expect, it } from "vitest";
import type { StreamJob, StreamJobSpec } from "../../operator/api/index.js";
import { applyStatusPatch, decide, recordSavepoint, recordTrigger, specJson } from "../../operator/upgrade/index.js";
import type { Decision, ObservedJob, UpgradeStatus } from "../../operator/upgrade/index.js";

type Job = StreamJob & { status?: UpgradeStatus };
const T0 = Date.parse("2026-01-01T00:00:00Z");
const RUNNING: ObservedJob = { jobManager: "running", job: { id: "j1", state: "RUNNING" } };
const ABSENT: ObservedJob = { jobManager: "absent" };

function spec(job: Partial<StreamJobSpec["job"]> = {}, rest: Partial<StreamJobSpec> = {}): StreamJobSpec {
  return {
    checkpointing: { interval: "10s", storage: "s3://b/chk" },
    savepoints: { directory: "s3://b/sp" },
    ...rest,
    job: { module: "/opt/wc.ts", parallelism: 2, upgradeMode: "savepoint", state: "running", ...job },
  };
}
function mk(s: StreamJobSpec, status?: UpgradeStatus): Job {
  return { apiVersion: "weir.dev/v1alpha1", kind: "StreamJob", metadata: { name: "wc", namespace: "ns", uid: "0d5c6c8e-8a0c-4c1e-9d1e-6b8e2d4f7a11", generation: 2 }, spec: s, ...(status ? { status } : {}) };
}
/** One reconcile pass: decide, then write the status patch (as the controller does before acting). */
function step(job: Job, observed: ObservedJob, now = T0): { d: Decision; job: Job } {
  const d = decide({ job, observed, now });
  return { d, job: { ...job, status: applyStatusPatch(job.status, d.status) } };
}
/** A job that was deployed from `s` and is STABLE. */
function stable(s: StreamJobSpec, extra: UpgradeStatus = {}): Job {
  return mk(s, { lifecycleState: "STABLE", lastReconciledSpec: specJson(s), lastStableSpec: specJson(s), jobStatus: { jobId: "j1", state: "RUNNING" }, ...extra });
}
const withSpec = (job: Job, s: StreamJobSpec): Job => ({ ...job, spec: s });

describe("first deploy and stability", () => {
  it.each([
    ["fresh", spec(), null],
    ["from initialSavepointPath", spec({ initialSavepointPath: "s3://b/sp/init" }), { path: "s3://b/sp/init", allowNonRestoredState: false }],
  ])("CREATED -> DEPLOYED (%s)", (_n, s, from) => {
    const { d, job } = step(mk(s), ABSENT);
    expect(d.action).toEqual({ type: "deploy", spec: JSON.parse(specJson(s)), startFrom: from, jobId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(job.status).toMatchObject({ lifecycleState: "DEPLOYED", lastReconciledSpec: specJson(s), observedGeneration: 2, upgrade: { phase: "DEPLOYING" } });
  });

  it("DEPLOYED -> STABLE after RUNNING for the stability window, or as soon as a checkpoint completes", () => {
    let { job } = step(mk(spec()), ABSENT);
    let r = step(job, { jobManager: "starting" }, T0 + 1000);
    expect(r.d.action.type).toBe("wait");
    r = step(r.job, RUNNING, T0 + 2000);
    // looked at again every poll interval (1 s), so a completed checkpoint ends the window early
    expect(r.d.action).toMatchObject({ type: "wait", ms: 1_000 });
    expect(r.job.status?.upgrade?.runningSince).toBe(T0 + 2000);
    expect(step(r.job, RUNNING, T0 + 5000).d.action).toMatchObject({ type: "wait", ms: 1_000 });
    expect(step(r.job, RUNNING, T0 + 11_500).d.action).toMatchObject({ type: "wait", ms: 500 });
    job = step(r.job, RUNNING, T0 + 12_000).job;
    expect(job.status).toMatchObject({ lifecycleState: "STABLE", lastStableSpec: specJson(spec()) });
    expect(job.status?.upgrade).toBeUndefined();
    const byCheckpoint = step(r.job, { ...RUNNING, latestCheckpoint: { id: 1, path: "s3://b/chk/chk-1" } }, T0 + 3000);
    expect(byCheckpoint.job.status?.lifecycleState).toBe("STABLE");
    expect(step(job, RUNNING, T0 + 20_000).d).toEqual({ action: { type: "none" }, status: {} });
  });

  it("suspended at creation records the spec and deploys nothing", () => {
    const { d, job } = step(mk(spec({ state: "suspended" })), ABSENT);
    expect(d.action.type).toBe("none");
    expect(job.status?.lifecycleState).toBe("SUSPENDED");
  });

  it("re-applies the recorded deployment when the operator died between writing DEPLOYING and deploying", () => {
    const { d, job } = step(mk(spec({ initialSavepointPath: "s3://b/sp/init" })), ABSENT);
    expect(step(job, ABSENT, T0 + 60_000).d.action).toEqual(d.action);
  });
});

describe("spec changes", () => {
  it.each([
    ["savepointTriggerNonce", spec({ savepointTriggerNonce: 7 }), false],
    ["savepoints.historyMaxCount/Age", spec({}, { savepoints: { directory: "s3://b/sp", historyMaxCount: 3, historyMaxAge: "1h" } }), false],
    ["rollback settings", spec({}, { rollback: { enabled: true } }), false],
    ["parallelism", spec({ parallelism: 4 }), true],
    ["restartNonce", spec({}, { restartNonce: 1 }), true],
  ])("%s: redeploy=%s", (_n, s, redeploy) => {
    const { d } = step(withSpec(stable(spec()), s), RUNNING);
    if (redeploy) expect(d.action.type).toBe("triggerStopWithSavepoint");
    else expect(d.action.type).not.toMatch(/StopWithSavepoint|deploy|cancelJob|deleteJobPods/);
  });

  it("savepoint mode: stop-with-savepoint -> poll -> tear down -> deploy from it -> STABLE, resumable at every step", () => {
    const next = spec({ parallelism: 4 });
    let r = step(withSpec(stable(spec()), next), RUNNING);
    expect(r.d.action).toEqual({ type: "triggerStopWithSavepoint", drain: false });
    expect(r.job.status).toMatchObject({ lifecycleState: "UPGRADING", lastReconciledSpec: specJson(next), upgrade: { phase: "SAVEPOINTING", kind: "upgrade" } });
    // restart before the trigger id was recorded: the job still runs, the stop is requested again (never lost)
    expect(step(r.job, RUNNING).d).toEqual({ action: { type: "triggerStopWithSavepoint", drain: false }, status: {} });
    let job: Job = { ...r.job, status: applyStatusPatch(r.job.status, recordTrigger(r.job.status, "t1")) };
    // restart with a recorded trigger: poll the same trigger, never a second savepoint
    for (const obs of [RUNNING, { ...RUNNING, savepoint: { triggerId: "t1", status: "IN_PROGRESS" as const } }, { ...RUNNING, savepoint: { triggerId: "old", status: "COMPLETED" as const, location: "s3://b/sp/old" } }]) {
      expect(step(job, obs).d).toEqual({ action: { type: "pollSavepoint", triggerId: "t1" }, status: {} });
    }
    r = step(job, { jobManager: "running", job: { id: "j1", state: "FINISHED" }, savepoint: { triggerId: "t1", status: "COMPLETED", location: "s3://b/sp/sp-1" } }, T0 + 1000);
    expect(r.d.action).toEqual({ type: "deleteJobPods" });
    expect(r.job.status?.upgrade).toMatchObject({ phase: "TEARING_DOWN", startFrom: { path: "s3://b/sp/sp-1" } });
    expect(r.job.status?.savepointInfo?.lastSavepoint).toMatchObject({ location: "s3://b/sp/sp-1", triggerType: "upgrade" });
    job = r.job;
    expect(step(job, { jobManager: "running" }).d).toEqual({ action: { type: "deleteJobPods" }, status: {} }); // resumed teardown
    r = step(job, ABSENT, T0 + 2000);
    expect(r.d.action).toEqual({ type: "deploy", spec: JSON.parse(specJson(next)), startFrom: { path: "s3://b/sp/sp-1", allowNonRestoredState: false }, jobId: expect.any(String) });
    // restart after deploying: the same deployment from the same savepoint
    expect(step(r.job, ABSENT, T0 + 3000).d.action).toEqual(r.d.action);
    r = step(r.job, RUNNING, T0 + 4000);
    r = step(r.job, RUNNING, T0 + 20_000);
    expect(r.job.status).toMatchObject({ lifecycleState: "STABLE", lastStableSpec: specJson(next) });
  });

  it("savepoint mode with an unhealthy job falls back to last-state (cancel, then the checkpoint after the cancel)", () => {
    const next = spec({ parallelism: 4 });
    const restarting: ObservedJob = { jobManager: "running", job: { id: "j1", state: "RESTARTING" }, latestCheckpoint: { id: 5, path: "s3://b/chk/chk-5" } };
    let r = step(withSpec(stable(spec()), next), restarting);
    expect(r.d.action).toEqual({ type: "cancelJob" });
    expect(r.job.status?.upgrade).toMatchObject({ phase: "CANCELLING", mode: "last-state", fallback: "s3://b/chk/chk-5" });
    expect(step(r.job, { ...restarting, job: { id: "j1", state: "CANCELLING" } }).d.action.type).toBe("wait");
    r = step(r.job, { jobManager: "running", job: { id: "j1", state: "CANCELED" }, latestCheckpoint: { id: 6, path: "s3://b/chk/chk-6" } });
    expect(r.d.action).toEqual({ type: "deleteJobPods" });
    expect(r.job.status?.upgrade?.startFrom?.path).toBe("s3://b/chk/chk-6");
    expect(r.job.status?.checkpointInfo?.lastCheckpoint?.location).toBe("s3://b/chk/chk-6");
  });

  it("last-state: cancel, record the latest checkpoint before the teardown, redeploy from it", () => {
    const base = spec({ upgradeMode: "last-state" });
    const next = spec({ upgradeMode: "last-state", parallelism: 8 });
    let r = step(withSpec(stable(base), next), { ...RUNNING, latestCheckpoint: { id: 3, path: "s3://b/chk/chk-3" } });
    expect(r.d.action).toEqual({ type: "cancelJob" });
    expect(step(r.job, RUNNING).d.action).toEqual({ type: "cancelJob" }); // restart: cancel is idempotent
    r = step(r.job, { jobManager: "absent" }); // JM gone after the cancel: fall back to the recorded checkpoint
    expect(r.job.status?.upgrade).toMatchObject({ phase: "TEARING_DOWN", startFrom: { path: "s3://b/chk/chk-3" } });
    r = step(r.job, ABSENT);
    expect(r.d.action).toMatchObject({ type: "deploy", startFrom: { path: "s3://b/chk/chk-3" } });
  });

  it("stateless: tear down and deploy fresh", () => {
    const next = spec({ upgradeMode: "stateless", parallelism: 3 });
    let r = step(withSpec(stable(spec({ upgradeMode: "stateless" })), next), RUNNING);
    expect(r.d.action).toEqual({ type: "deleteJobPods" });
    r = step(r.job, ABSENT);
    expect(r.d.action).toEqual({ type: "deploy", spec: JSON.parse(specJson(next)), startFrom: null, jobId: expect.any(String) });
  });

  it("restartNonce redeploys with state kept per upgradeMode", () => {
    const base = spec({ upgradeMode: "last-state" });
    const r = step(withSpec(stable(base), { ...base, restartNonce: 2 }), RUNNING);
    expect(r.d.action).toEqual({ type: "cancelJob" });
    expect(r.job.status?.lastReconciledSpec).toBe(specJson({ ...base, restartNonce: 2 }));
  });
});

describe("savepoints without upgrade", () => {
  it("a savepointTriggerNonce change takes one savepoint, records it and reconciles the nonce even on failure", () => {
    let r = step(withSpec(stable(spec()), spec({ savepointTriggerNonce: 7 })), RUNNING);
    expect(r.d.action).toEqual({ type: "triggerSavepoint" });
    expect(r.job.status?.upgrade).toMatchObject({ kind: "savepoint", triggerType: "manual", triggerNonce: 7 });
    expect(step(r.job, RUNNING).d.action).toEqual({ type: "triggerSavepoint" }); // no trigger id recorded yet
    const job: Job = { ...r.job, status: applyStatusPatch(r.job.status, recordTrigger(r.job.status, "m1")) };
    expect(step(job, RUNNING).d.action).toEqual({ type: "pollSavepoint", triggerId: "m1" });
    r = step(job, { ...RUNNING, savepoint: { triggerId: "m1", status: "COMPLETED", location: "s3://b/sp/m1" } });
    expect(r.d.action.type).toBe("none");
    expect(r.job.status).toMatchObject({ lifecycleState: "STABLE", savepointInfo: { lastSavepoint: { location: "s3://b/sp/m1", triggerType: "manual", triggerNonce: 7 } } });
    expect(step(r.job, RUNNING).d.action.type).toBe("none"); // nonce reconciled: no second savepoint
    const failed = step(job, { ...RUNNING, savepoint: { triggerId: "m1", status: "FAILED", failure: "disk full" } });
    expect(failed.job.status?.error).toContain("disk full");
    expect(failed.job.status?.conditions?.find((c) => c.type === "Savepoint")).toMatchObject({ status: "False", reason: "SavepointFailed" });
    expect(step(failed.job, RUNNING).d.action.type).toBe("none"); // no savepoint loop
  });

  it("a nonce bumped together with an upgrade is kept for a savepoint after the upgrade", () => {
    const r = step(withSpec(stable(spec()), spec({ parallelism: 4, savepointTriggerNonce: 9 })), RUNNING);
    expect(JSON.parse(r.job.status!.lastReconciledSpec!).job.savepointTriggerNonce).toBeUndefined();
  });

  it("periodic savepoints when periodicInterval elapsed, not before, and no loop after a failure", () => {
    const s = spec({}, { savepoints: { directory: "s3://b/sp", periodicInterval: "1h" } });
    const job = stable(s, { savepointInfo: { lastPeriodicTriggerTime: new Date(T0).toISOString() } });
    expect(step(job, RUNNING, T0 + 30 * 60_000).d.action.type).toBe("none");
    const r = step(job, RUNNING, T0 + 3_600_000);
    expect(r.d.action).toEqual({ type: "triggerSavepoint" });
    const withId: Job = { ...r.job, status: applyStatusPatch(r.job.status, recordTrigger(r.job.status, "p1")) };
    const failed = step(withId, { ...RUNNING, savepoint: { triggerId: "p1", status: "FAILED" } }, T0 + 3_601_000);
    expect(step(failed.job, RUNNING, T0 + 3_602_000).d.action.type).toBe("none");
  });

  it("history is trimmed by historyMaxCount and historyMaxAge", () => {
    const old = { location: "a", time: new Date(T0 - 2 * 3_600_000).toISOString() };
    const recent = [1, 2, 3].map((i) => ({ location: `r${i}`, time: new Date(T0 - i * 1000).toISOString() }));
    const info = recordSavepoint({ history: [old, ...recent] }, { location: "new", time: new Date(T0).toISOString() }, { historyMaxCount: 3, historyMaxAge: "1h" }, T0);
    expect(info.history?.map((h) => h.location)).toEqual(["r2", "r3", "new"]);
    expect(info.lastSavepoint?.location).toBe("new");
  });
});

describe("suspend and resume", () => {
  it.each([
    ["savepoint", { type: "triggerStopWithSavepoint", drain: false }],
    ["last-state", { type: "cancelJob" }],
    ["stateless", { type: "deleteJobPods" }],
  ] as const)("%s: stop, delete pods, SUSPENDED, resume from what was recorded", (mode, first) => {
    const base = spec({ upgradeMode: mode });
    const obs: ObservedJob = { ...RUNNING, latestCheckpoint: { id: 4, path: "s3://b/chk/chk-4" } };
    let r = step(withSpec(stable(base), { ...base, job: { ...base.job, state: "suspended" } }), obs);
    expect(r.d.action).toEqual(first);
    let job = r.job;
    if (mode === "savepoint") {
      job = { ...job, status: applyStatusPatch(job.status, recordTrigger(job.status, "s1")) };
      job = step(job, { jobManager: "running", job: { id: "j1", state: "FINISHED" }, savepoint: { triggerId: "s1", status: "COMPLETED", location: "s3://b/sp/s1" } }).job;
    } else if (mode === "last-state") {
      job = step(job, { jobManager: "running", job: { id: "j1", state: "CANCELED" }, latestCheckpoint: { id: 4, path: "s3://b/chk/chk-4" } }).job;
    }
    expect(job.status?.upgrade?.phase).toBe("TEARING_DOWN");
    r = step(job, ABSENT);
    expect(r.d.action.type).toBe("none");
    expect(r.job.status?.lifecycleState).toBe("SUSPENDED");
    expect(step(r.job, ABSENT).d).toEqual({ action: { type: "none" }, status: {} });
    r = step(withSpec(r.job, base), ABSENT);
    const path = { savepoint: "s3://b/sp/s1", "last-state": "s3://b/chk/chk-4", stateless: undefined }[mode];
    expect(r.d.action).toMatchObject({ type: "deploy", startFrom: path ? { path } : null });
  });

  it("savepoint FAILED while the job keeps running: BLOCKED with the error, no new savepoint until the spec changes", () => {
    const base = spec();
    let job = step(withSpec(stable(base), spec({ parallelism: 4 })), RUNNING).job;
    job = { ...job, status: applyStatusPatch(job.status, recordTrigger(job.status, "t1")) };
    const r = step(job, { ...RUNNING, savepoint: { triggerId: "t1", status: "FAILED", failure: "timeout" } });
    expect(r.d.action.type).toBe("none");
    expect(r.job.status?.upgrade).toMatchObject({ phase: "BLOCKED" });
    expect(r.job.status?.error).toContain("timeout");
    expect(step(r.job, RUNNING).d).toEqual({ action: { type: "none" }, status: {} });
    expect(step(withSpec(r.job, spec({ parallelism: 5 })), RUNNING).d.action.type).toBe("triggerStopWithSavepoint");
  });
});

describe("failures and rollback", () => {
  it("a failed JobManager makes the job FAILED with the cause", () => {
    const r = step(stable(spec()), { jobManager: "failed", jobManagerError: "ImagePullBackOff" });
    expect(r.job.status).toMatchObject({ lifecycleState: "FAILED", error: "JobManager failed: ImagePullBackOff" });
    expect(step(r.job, { jobManager: "failed", jobManagerError: "ImagePullBackOff" }).d).toEqual({ action: { type: "none" }, status: {} });
  });

  it("an upgrade not STABLE within stableTimeout rolls back to lastStableSpec -> ROLLED_BACK", () => {
    const base = spec({ upgradeMode: "last-state" }, { rollback: { enabled: true, stableTimeout: "1m" } });
    const next = { ...base, image: "weir:broken" };
    let r = step(withSpec(stable(base), next), { jobManager: "running", job: { id: "j1", state: "CANCELED" }, latestCheckpoint: { id: 2, path: "s3://b/chk/chk-2" } });
    r = step(r.job, ABSENT);
    expect(r.d.action).toMatchObject({ type: "deploy", spec: { image: "weir:broken" } });
    r = step(r.job, { jobManager: "failed", jobManagerError: "ErrImagePull" }, T0 + 30_000);
    expect(r.job.status?.lifecycleState).toBe("FAILED");
    r = step(r.job, { jobManager: "failed", jobManagerError: "ErrImagePull" }, T0 + 61_000);
    expect(r.d.action).toEqual({ type: "deleteJobPods" });
    expect(r.job.status).toMatchObject({ lifecycleState: "ROLLING_BACK", upgrade: { kind: "rollback", startFrom: { path: "s3://b/chk/chk-2" } } });
    r = step(r.job, ABSENT, T0 + 62_000);
    expect(r.d.action).toMatchObject({ type: "deploy", spec: JSON.parse(specJson(base)), startFrom: { path: "s3://b/chk/chk-2" } });
    r = step(r.job, RUNNING, T0 + 63_000);
    r = step(r.job, RUNNING, T0 + 80_000);
    expect(r.job.status).toMatchObject({ lifecycleState: "ROLLED_BACK", lastStableSpec: specJson(base), lastReconciledSpec: specJson(next) });
    expect(step(r.job, RUNNING, T0 + 90_000).d.action.type).toBe("none"); // no re-upgrade loop
    expect(step(withSpec(r.job, { ...next, image: "weir:fixed" }), RUNNING, T0 + 90_000).d.action.type).toBe("cancelJob");
  });

  it("without rollback a stuck upgrade waits and a spec fix supersedes it", () => {
    const base = spec({ upgradeMode: "stateless" });
    let r = step(withSpec(stable(base), { ...base, image: "bad" }), RUNNING);
    r = step(r.job, ABSENT);
    expect(step(r.job, { jobManager: "starting" }, T0 + 3_600_000).d.action.type).toBe("wait");
    r = step(withSpec(r.job, { ...base, image: "good" }), { jobManager: "starting" }, T0 + 3_600_000);
    expect(r.d.action).toEqual({ type: "deleteJobPods" });
    expect(JSON.parse(r.job.status!.upgrade!.targetSpec).image).toBe("good");
  });
});

describe("deployments, job ids and dead JobManagers", () => {
  it("every deployment runs under its own job id; re-applying an interrupted deployment keeps it", () => {
    const base = spec({ upgradeMode: "stateless" });
    const first = step(mk(base), ABSENT);
    const id1 = (first.d.action as { jobId: string }).jobId;
    expect(first.job.status?.upgrade?.jobId).toBe(id1);
    expect((step(first.job, ABSENT, T0 + 5_000).d.action as { jobId: string }).jobId).toBe(id1);
    let r = step(first.job, RUNNING, T0 + 1_000);
    r = step(r.job, RUNNING, T0 + 20_000);
    expect(r.job.status?.lifecycleState).toBe("STABLE");
    r = step(withSpec(r.job, spec({ upgradeMode: "stateless", parallelism: 3 })), RUNNING, T0 + 30_000);
    r = step(r.job, ABSENT, T0 + 31_000);
    expect(r.d.action.type).toBe("deploy");
    expect((r.d.action as { jobId: string }).jobId).not.toBe(id1);
  });

  it("last-state with a dead JobManager restores the newest checkpoint of the old deployment's directory", () => {
    const base = spec({ upgradeMode: "last-state" });
    const job = stable(base, { jobStatus: { jobId: "0123456789abcdef0123456789abcdef", state: "RUNNING" }, checkpointInfo: { lastCheckpoint: { id: 3, location: "s3://b/chk/old/chk-3" } } });
    const dead: ObservedJob = { jobManager: "failed", jobManagerError: "CrashLoopBackOff", deployment: { jobId: "0123456789abcdef0123456789abcdef", checkpointDir: "s3://b/chk/0123456789abcdef0123456789abcdef" } };
    let r = step(withSpec(job, spec({ upgradeMode: "last-state", parallelism: 4 })), dead);
    expect(r.d.action).toEqual({ type: "deleteJobPods" });
    expect(r.job.status?.upgrade?.startFrom).toEqual({
      path: "s3://b/chk/old/chk-3", latestCheckpointDir: "s3://b/chk/0123456789abcdef0123456789abcdef", allowNonRestoredState: false,
    });
    r = step(r.job, ABSENT);
    expect(r.d.action).toMatchObject({ type: "deploy", startFrom: { latestCheckpointDir: "s3://b/chk/0123456789abcdef0123456789abcdef" } });
  });

  it("a FAILED job that runs again becomes STABLE and its error is cleared", () => {
    let r = step(stable(spec()), { jobManager: "failed", jobManagerError: "CrashLoopBackOff" });
    expect(r.job.status?.lifecycleState).toBe("FAILED");
    r = step(r.job, RUNNING);
    expect(r.d.status).toHaveProperty("error", undefined);
    expect(r.job.status).toMatchObject({ lifecycleState: "STABLE" });
    expect(r.job.status?.error).toBeUndefined();
  });
});

describe("bounded jobs", () => {
  it("a job that FINISHED before the stability window ends the deployment as STABLE", () => {
    let r = step(mk(spec({ upgradeMode: "stateless" })), ABSENT);
    r = step(r.job, { jobManager: "running", job: { id: "j1", state: "FINISHED" } }, T0 + 500);
    expect(r.d.action.type).toBe("none");
    expect(r.job.status).toMatchObject({ lifecycleState: "STABLE" });
    expect(r.job.status?.upgrade).toBeUndefined();
  });
});
