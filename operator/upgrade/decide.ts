/**
 * The reconcile decision of a StreamJob as a pure state machine: (job with status, observation, now) ->
 * the status to write first and the one action to perform after it. Every in-progress operation lives in
 * `status.upgrade` (see {@link UpgradeRecord}), so a restarted operator resumes it: it polls the recorded
 * savepoint trigger instead of taking a second one, and deploys from the recorded `startFrom`.
 *
 * Flow per upgradeMode (upgrade, restartNonce, suspend, rollback share it):
 *   savepoint:  SAVEPOINTING (stop-with-savepoint) -> TEARING_DOWN(startFrom = savepoint) -> DEPLOYING
 *               (job not RUNNING: last-state fallback when a checkpoint is known, else BLOCKED)
 *   last-state: CANCELLING -> TEARING_DOWN(startFrom = latest checkpoint after the cancel) -> DEPLOYING
 *   stateless:  TEARING_DOWN(startFrom = null) -> DEPLOYING
 * DEPLOYING ends when the job is RUNNING for the stability window (or completed a checkpoint): STABLE
 * (ROLLED_BACK after a rollback); suspend ends after TEARING_DOWN in SUSPENDED.
 */
import { parseDuration, type LifecycleState, type StreamJobSpec, type UpgradeMode } from "../api/index.js";
import { checkpointDirOf, deploymentJobId, type StartFrom } from "../reconcile/desired-objects.js";
import { deployedPart, needsRedeploy, parseSpec, specJson } from "./spec-diff.js";
import { applyStatusPatch, recordSavepoint, setCondition } from "./status.js";
import type { Action, DecideConfig, DecideInput, Decision, ObservedJob, StatusPatch, UpgradeRecord, UpgradeStatus } from "./types.js";

export const DEFAULT_CONFIG: DecideConfig = { stabilityWindowMs: 10_000, pollIntervalMs: 1_000 };

interface Ctx {
  spec: StreamJobSpec;
  status: UpgradeStatus;
  observed: ObservedJob;
  now: number;
  cfg: DecideConfig;
  generation: number | undefined;
  job: DecideInput["job"];
}

const TERMINAL_JOB_STATES = new Set(["CANCELED", "FAILED", "FINISHED"]);

export function decide(input: DecideInput): Decision {
  const ctx: Ctx = {
    spec: input.job.spec,
    status: input.job.status ?? {},
    observed: input.observed,
    now: input.now,
    cfg: { ...DEFAULT_CONFIG, ...(input.config ?? {}) },
    generation: input.job.metadata.generation,
    job: input.job,
  };
  const decision = ctx.status.upgrade ? resume(ctx, ctx.status.upgrade) : steady(ctx);
  return { action: decision.action, status: { ...observation(ctx), ...decision.status } };
}

// ---------------------------------------------------------------- helpers

const act = (action: Action, status: StatusPatch = {}): Decision => ({ action, status });
const none = (status: StatusPatch = {}): Decision => act({ type: "none" }, status);
const wait = (ctx: Ctx, reason: string, status: StatusPatch = {}): Decision => act({ type: "wait", ms: ctx.cfg.pollIntervalMs, reason }, status);
const iso = (ms: number): string => new Date(ms).toISOString();
const modeOf = (spec: StreamJobSpec): UpgradeMode => spec.job.upgradeMode ?? "stateless";
const jobRunning = (o: ObservedJob): boolean => o.jobManager === "running" && o.job?.state === "RUNNING";
const startFrom = (spec: StreamJobSpec, path: string | undefined, latestCheckpointDir?: string): StartFrom | null =>
  path || latestCheckpointDir
    ? { ...(path ? { path } : {}), ...(latestCheckpointDir ? { latestCheckpointDir } : {}), allowNonRestoredState: spec.job.allowNonRestoredState ?? false }
    : null;

/**
 * The checkpoint directory of the deployment that ran last (`<storage>/<jobId>`), for a JobManager that
 * cannot be asked for its newest checkpoint: the next one restores the newest it finds there.
 */
function previousCheckpointDir(ctx: Ctx): string | undefined {
  if (ctx.observed.deployment) return ctx.observed.deployment.checkpointDir;
  const jobId = ctx.status.jobStatus?.jobId;
  const storage = parseSpec(ctx.status.lastReconciledSpec)?.checkpointing?.storage;
  return jobId && storage ? checkpointDirOf(storage, jobId) : undefined;
}

/** Bookkeeping of what was observed: latest checkpoint and job state (recorded only when changed). */
function observation(ctx: Ctx): StatusPatch {
  const patch: StatusPatch = {};
  const { latestCheckpoint: cp, job } = ctx.observed;
  const recorded = ctx.status.checkpointInfo?.lastCheckpoint;
  if (cp && (recorded?.id !== cp.id || recorded.location !== cp.path)) {
    patch.checkpointInfo = { ...(ctx.status.checkpointInfo ?? {}), lastCheckpoint: { id: cp.id, location: cp.path, time: iso(ctx.now) } };
  }
  const js = ctx.status.jobStatus;
  if (job && (js?.jobId !== job.id || js.state !== job.state)) patch.jobStatus = { ...(js ?? {}), jobId: job.id, state: job.state };
  return patch;
}

/** The newest snapshot the job could restore from: the live JM's latest checkpoint, else what status recorded. */
function lastKnownSnapshot(ctx: Ctx, extra?: string): string | undefined {
  if (ctx.observed.latestCheckpoint) return ctx.observed.latestCheckpoint.path;
  if (extra) return extra;
  const cp = ctx.status.checkpointInfo?.lastCheckpoint;
  const sp = ctx.status.savepointInfo?.lastSavepoint;
  const t = (s?: string) => (s ? Date.parse(s) : -Infinity);
  if (cp?.location && (!sp?.location || t(cp.time) >= t(sp.time))) return cp.location;
  return sp?.location;
}

function errorStatus(ctx: Ctx, type: string, reason: string, message: string, extra: StatusPatch = {}): StatusPatch {
  return { ...extra, error: message, conditions: setCondition(ctx.status.conditions, { type, status: "False", reason, message }, ctx.now) };
}

// ---------------------------------------------------------------- no operation in progress

function steady(ctx: Ctx): Decision {
  const { spec, status, observed, now } = ctx;
  const reconciled = parseSpec(status.lastReconciledSpec);
  if (!reconciled) return firstDeploy(ctx);
  const suspended = spec.job.state === "suspended";

  if (status.lifecycleState === "SUSPENDED") {
    if (suspended) return none(specJson(spec) === status.lastReconciledSpec ? {} : { lastReconciledSpec: specJson(spec), observedGeneration: ctx.generation });
    const js = status.jobStatus;
    const from = modeOf(spec) === "stateless" ? null : startFrom(spec, js?.upgradeSavepointPath, js?.upgradeLatestCheckpointDir);
    return deployStep(ctx, { kind: "upgrade", phase: "DEPLOYING", mode: modeOf(spec), targetSpec: specJson(spec), startedAt: now, startFrom: from }, "UPGRADING", {
      lastReconciledSpec: specJson(spec), observedGeneration: ctx.generation,
    });
  }
  if (suspended) return beginStop(ctx, "suspend", modeOf(spec), specJson(spec), { lastReconciledSpec: specJson(spec), observedGeneration: ctx.generation });
  if (needsRedeploy(reconciled, spec)) {
    // keep the reconciled savepoint nonce: a nonce bumped with the upgrade still gets its savepoint afterwards
    const target = specJson({ ...spec, job: { ...spec.job, savepointTriggerNonce: reconciled.job.savepointTriggerNonce } });
    return beginStop(ctx, "upgrade", modeOf(spec), target, { lastReconciledSpec: target, observedGeneration: ctx.generation });
  }

  if (observed.jobManager === "failed" || observed.job?.state === "FAILED") {
    const message = observed.jobManager === "failed"
      ? `JobManager failed: ${observed.jobManagerError ?? "no reason observed"}`
      : `job ${observed.job?.id} FAILED; change the spec (or restartNonce) to redeploy`;
    if (status.lifecycleState === "FAILED" && status.error === message) return none();
    return none(errorStatus(ctx, "Ready", observed.jobManager === "failed" ? "JobManagerFailed" : "JobFailed", message, { lifecycleState: "FAILED" }));
  }
  if (status.lifecycleState === "FAILED" && jobRunning(observed)) {
    // e.g. a JobManager that crash-looped until a dependency came back: running again without a redeploy
    return none({
      lifecycleState: "STABLE", error: undefined,
      conditions: setCondition(status.conditions, { type: "Ready", status: "True", reason: "Recovered", message: "job RUNNING again" }, now),
    });
  }
  if (observed.jobManager === "absent") {
    // pods deleted behind the operator's back: bring the reconciled (or rolled-back-to) spec back up
    const deployed = status.lifecycleState === "ROLLED_BACK" ? parseSpec(status.lastStableSpec) ?? spec : reconciled;
    const from = modeOf(spec) === "stateless" ? null : startFrom(spec, lastKnownSnapshot(ctx), previousCheckpointDir(ctx));
    return deployStep(ctx, { kind: "deploy", phase: "DEPLOYING", mode: modeOf(spec), targetSpec: specJson(deployed), startedAt: now, startFrom: from }, status.lifecycleState ?? "DEPLOYED");
  }

  const nonce = spec.job.savepointTriggerNonce;
  if (nonce !== undefined && nonce !== reconciled.job.savepointTriggerNonce) {
    if (!jobRunning(observed)) return wait(ctx, `savepoint for savepointTriggerNonce ${nonce} waits for the job to run`);
    return savepointStep(ctx, "manual", nonce);
  }
  const interval = spec.savepoints?.periodicInterval;
  if (interval && status.lifecycleState === "STABLE" && jobRunning(observed)) {
    const last = status.savepointInfo?.lastPeriodicTriggerTime ?? status.savepointInfo?.lastSavepoint?.time;
    if (last === undefined || now - Date.parse(last) >= parseDuration(interval, "spec.savepoints.periodicInterval")) return savepointStep(ctx, "periodic", undefined);
  }
  return none();
}

function firstDeploy(ctx: Ctx): Decision {
  const { spec } = ctx;
  const base: StatusPatch = { lastReconciledSpec: specJson(spec), observedGeneration: ctx.generation };
  if (spec.job.state === "suspended") return none({ ...base, lifecycleState: "SUSPENDED" });
  const rec: UpgradeRecord = {
    kind: "deploy", phase: "DEPLOYING", mode: modeOf(spec), targetSpec: specJson(spec), startedAt: ctx.now,
    startFrom: startFrom(spec, spec.job.initialSavepointPath),
  };
  return deployStep(ctx, rec, "DEPLOYED", base);
}

function deployStep(ctx: Ctx, base: UpgradeRecord, lifecycle: LifecycleState, extra: StatusPatch = {}): Decision {
  const rec: UpgradeRecord = { ...base, jobId: deploymentJobId(ctx.job, ctx.now) };
  const patch: StatusPatch = { ...extra, lifecycleState: lifecycle, upgrade: rec };
  if (rec.startFrom?.path) patch.jobStatus = { ...(ctx.status.jobStatus ?? {}), upgradeSavepointPath: rec.startFrom.path };
  return act(deployAction(rec), patch);
}

function deployAction(rec: UpgradeRecord): Action {
  return { type: "deploy", spec: parseSpec(rec.targetSpec)!, startFrom: rec.startFrom ?? null, jobId: rec.jobId! };
}

function savepointStep(ctx: Ctx, triggerType: "manual" | "periodic", nonce: number | undefined): Decision {
  const rec: UpgradeRecord = {
    kind: "savepoint", phase: "SAVEPOINTING", mode: modeOf(ctx.spec), targetSpec: ctx.status.lastReconciledSpec!, startedAt: ctx.now,
    triggerType, ...(nonce !== undefined ? { triggerNonce: nonce } : {}), ...(ctx.status.lifecycleState ? { previousLifecycle: ctx.status.lifecycleState } : {}),
  };
  const patch: StatusPatch = { upgrade: rec };
  if (triggerType === "periodic") patch.savepointInfo = { ...(ctx.status.savepointInfo ?? {}), lastPeriodicTriggerTime: iso(ctx.now) };
  return act({ type: "triggerSavepoint" }, patch);
}

/** Start stopping the running job for an upgrade, suspend or rollback, per mode. */
function beginStop(ctx: Ctx, kind: "upgrade" | "suspend" | "rollback", mode: UpgradeMode, targetSpec: string, extra: StatusPatch, fallback?: string): Decision {
  const lifecycle: LifecycleState = kind === "rollback" ? "ROLLING_BACK" : "UPGRADING";
  const rec: UpgradeRecord = { kind, phase: "TEARING_DOWN", mode, targetSpec, startedAt: ctx.now };
  return stopPerMode(ctx, rec, { ...extra, lifecycleState: lifecycle }, fallback);
}

function stopPerMode(ctx: Ctx, base: UpgradeRecord, extra: StatusPatch, fallback?: string): Decision {
  const { observed } = ctx;
  const rec: UpgradeRecord = { ...base };
  delete rec.triggerId;
  if (rec.mode === "stateless") return teardown({ ...rec, startFrom: null }, extra);
  if (rec.mode === "savepoint" && jobRunning(observed)) {
    return act({ type: "triggerStopWithSavepoint", drain: false }, { ...extra, upgrade: { ...rec, phase: "SAVEPOINTING", triggerType: "upgrade" } });
  }
  // last-state, or the savepoint fallback for a job that is not healthy
  const live = observed.jobManager === "running" && observed.job !== undefined && !TERMINAL_JOB_STATES.has(observed.job.state);
  const known = lastKnownSnapshot(ctx, fallback);
  if (live) {
    return act({ type: "cancelJob" }, { ...extra, upgrade: { ...rec, mode: "last-state", phase: "CANCELLING", ...(known ? { fallback: known } : {}) } });
  }
  const dir = previousCheckpointDir(ctx);
  if (!known && !dir) {
    const what = rec.mode === "savepoint" ? "the job is not RUNNING (no savepoint possible) and no completed checkpoint is known" : "no completed checkpoint is known";
    return blocked(ctx, rec, "NoSnapshot", `cannot stop with state: ${what}; restore via spec.job.initialSavepointPath or use upgradeMode stateless`, extra);
  }
  return teardown({ ...rec, mode: "last-state", startFrom: startFrom(ctx.spec, known, dir) }, extra);
}

function teardown(rec: UpgradeRecord, extra: StatusPatch): Decision {
  return act({ type: "deleteJobPods" }, { ...extra, upgrade: { ...rec, phase: "TEARING_DOWN" } });
}

function blocked(ctx: Ctx, rec: UpgradeRecord, reason: string, message: string, extra: StatusPatch = {}): Decision {
  return none(errorStatus(ctx, "Upgrade", reason, message, { ...extra, upgrade: { ...rec, phase: "BLOCKED", error: message } }));
}

// ---------------------------------------------------------------- operation in progress

/** Did the user change the desired job (spec or state) away from what the operation targets? */
function userChanged(ctx: Ctx): boolean {
  const reconciled = parseSpec(ctx.status.lastReconciledSpec);
  return !reconciled || deployedPart(reconciled, true) !== deployedPart(ctx.spec, true);
}

/** Drop the record and decide afresh (a new upgrade starts from the current state). */
function restartFromSteady(ctx: Ctx): Decision {
  const next = steady({ ...ctx, status: applyStatusPatch(ctx.status, { upgrade: null }) });
  return { action: next.action, status: { upgrade: null, ...next.status } };
}

function resume(ctx: Ctx, up: UpgradeRecord): Decision {
  switch (up.phase) {
    case "SAVEPOINTING": return resumeSavepointing(ctx, up);
    case "CANCELLING": return resumeCancelling(ctx, up);
    case "TEARING_DOWN": return resumeTearingDown(ctx, up);
    case "DEPLOYING": return resumeDeploying(ctx, up);
    case "BLOCKED": return userChanged(ctx) ? restartFromSteady(ctx) : none();
  }
}

function resumeSavepointing(ctx: Ctx, up: UpgradeRecord): Decision {
  const { observed, now, spec } = ctx;
  const stop = up.kind !== "savepoint";
  if (!up.triggerId) {
    // crashed between recording the intent and recording the trigger id: the job still runs, so ask again
    if (jobRunning(observed)) return act(stop ? { type: "triggerStopWithSavepoint", drain: false } : { type: "triggerSavepoint" });
    if (!stop) return none({ upgrade: null, ...(up.previousLifecycle ? { lifecycleState: up.previousLifecycle } : {}) });
    return stopPerMode(ctx, { ...up, mode: "last-state" }, {});
  }
  const sp = observed.savepoint?.triggerId === up.triggerId ? observed.savepoint : undefined;
  if (!sp || sp.status === "IN_PROGRESS") return act({ type: "pollSavepoint", triggerId: up.triggerId });

  if (sp.status === "COMPLETED" && sp.location) {
    const savepointInfo = recordSavepoint(ctx.status.savepointInfo, {
      location: sp.location, time: iso(now), triggerType: up.triggerType ?? "upgrade", ...(up.triggerNonce !== undefined ? { triggerNonce: up.triggerNonce } : {}),
    }, spec.savepoints, now);
    const ok = setCondition(ctx.status.conditions, { type: "Savepoint", status: "True", reason: "SavepointCompleted", message: sp.location }, now);
    if (!stop) return none({ upgrade: null, savepointInfo, conditions: ok, ...finishSavepoint(ctx, up) });
    return teardown({ ...up, startFrom: startFrom(spec, sp.location) }, {
      savepointInfo, conditions: ok, jobStatus: { ...(ctx.status.jobStatus ?? {}), upgradeSavepointPath: sp.location },
    });
  }
  const message = `savepoint ${up.triggerId} failed: ${sp.failure ?? (sp.status === "COMPLETED" ? "completed without a location" : "no reason given")}`;
  if (!stop) return none(errorStatus(ctx, "Savepoint", "SavepointFailed", message, { upgrade: null, ...finishSavepoint(ctx, up) }));
  const failed = errorStatus(ctx, "Savepoint", "SavepointFailed", message);
  if (!jobRunning(observed) && lastKnownSnapshot(ctx)) return stopPerMode(ctx, { ...up, mode: "last-state" }, failed);
  return blocked(ctx, up, "SavepointFailed", `${message}; the job keeps running the old spec: change the spec or restartNonce to retry`, failed);
}

/** After a manual or periodic savepoint: the nonce is reconciled (even on failure: no savepoint loop). */
function finishSavepoint(ctx: Ctx, up: UpgradeRecord): StatusPatch {
  const patch: StatusPatch = up.previousLifecycle ? { lifecycleState: up.previousLifecycle } : {};
  const reconciled = parseSpec(ctx.status.lastReconciledSpec);
  if (up.triggerNonce !== undefined && reconciled) {
    patch.lastReconciledSpec = specJson({ ...reconciled, job: { ...reconciled.job, savepointTriggerNonce: up.triggerNonce } });
  }
  return patch;
}

function resumeCancelling(ctx: Ctx, up: UpgradeRecord): Decision {
  const { observed } = ctx;
  const live = observed.jobManager === "running" && observed.job !== undefined;
  if (live && observed.job!.state === "RUNNING") return act({ type: "cancelJob" });
  if (live && !TERMINAL_JOB_STATES.has(observed.job!.state)) return wait(ctx, `job is ${observed.job!.state}, waiting for the cancel`);
  const path = observed.latestCheckpoint?.path ?? up.fallback;
  if (!path) return blocked(ctx, up, "NoCheckpoint", "the job was cancelled but no completed checkpoint is known: restore manually via spec.job.initialSavepointPath");
  return teardown({ ...up, startFrom: startFrom(ctx.spec, path) }, {});
}

function resumeTearingDown(ctx: Ctx, up: UpgradeRecord): Decision {
  if (ctx.observed.jobManager !== "absent") return act({ type: "deleteJobPods" });
  const from = up.startFrom ?? null;
  if (up.kind === "suspend") {
    const jobStatus = { ...(ctx.status.jobStatus ?? {}) };
    delete jobStatus.upgradeSavepointPath;
    delete jobStatus.upgradeLatestCheckpointDir;
    if (from?.path) jobStatus.upgradeSavepointPath = from.path;
    if (from?.latestCheckpointDir) jobStatus.upgradeLatestCheckpointDir = from.latestCheckpointDir;
    return none({ upgrade: null, lifecycleState: "SUSPENDED", jobStatus });
  }
  const patch: StatusPatch = {};
  if (!from) patch.checkpointInfo = {}; // fresh state: older checkpoints are no restore point any more
  return deployStep(ctx, { ...up, phase: "DEPLOYING" }, ctx.status.lifecycleState ?? "UPGRADING", patch);
}

function resumeDeploying(ctx: Ctx, up: UpgradeRecord): Decision {
  const { observed, now, status, spec } = ctx;
  if (userChanged(ctx)) return restartFromSteady(ctx);
  if (rollbackDue(ctx, up)) return startRollback(ctx, up);
  // the operator died between recording DEPLOYING and deploying (or the pods were removed): same deployment again
  if (observed.jobManager === "absent") return act(up.jobId ? deployAction(up) : deployAction({ ...up, jobId: deploymentJobId(ctx.job, up.startedAt) }));
  if (observed.jobManager === "failed" || observed.job?.state === "FAILED") {
    const message = observed.jobManager === "failed" ? `JobManager failed: ${observed.jobManagerError ?? "no reason observed"}` : `job ${observed.job?.id} FAILED after deploy`;
    if (status.lifecycleState === "FAILED" && status.error === message) return wait(ctx, message);
    return wait(ctx, message, errorStatus(ctx, "Ready", observed.jobManager === "failed" ? "JobManagerFailed" : "JobFailed", message, { lifecycleState: "FAILED" }));
  }
  // a bounded job may finish before the stability window: it ran, so the deployment is done
  const finished = observed.jobManager === "running" && observed.job?.state === "FINISHED";
  if (!jobRunning(observed) && !finished) return wait(ctx, `waiting for the job to run (JobManager ${observed.jobManager}, job ${observed.job?.state ?? "not submitted"})`);
  if (up.runningSince === undefined && !finished) {
    const rec: UpgradeRecord = { ...up, runningSince: now, ...(observed.latestCheckpoint ? { baselineCheckpointId: observed.latestCheckpoint.id } : {}) };
    // looked at every poll interval: a checkpoint completed earlier ends the window early
    return act({ type: "wait", ms: Math.min(ctx.cfg.stabilityWindowMs, ctx.cfg.pollIntervalMs), reason: "job RUNNING, waiting for the stability window" }, { upgrade: rec });
  }
  const checkpointed = observed.latestCheckpoint !== undefined && observed.latestCheckpoint.id > (up.baselineCheckpointId ?? -1);
  const left = (up.runningSince ?? now) + ctx.cfg.stabilityWindowMs - now;
  if (left > 0 && !checkpointed && !finished) return act({ type: "wait", ms: Math.min(left, ctx.cfg.pollIntervalMs), reason: "job RUNNING, waiting for the stability window" });
  const rolledBack = up.kind === "rollback";
  const patch: StatusPatch = {
    upgrade: null,
    lifecycleState: rolledBack ? "ROLLED_BACK" : "STABLE",
    conditions: setCondition(status.conditions, {
      type: "Ready", status: "True", reason: rolledBack ? "RolledBack" : "Stable",
      message: rolledBack ? "rolled back to the last stable spec" : `job ${observed.job?.state ?? "RUNNING"}`, ...(ctx.generation !== undefined ? { observedGeneration: ctx.generation } : {}),
    }, now),
  };
  if (!rolledBack) {
    patch.lastStableSpec = up.targetSpec;
    if (status.error) patch.error = undefined;
  }
  if (spec.savepoints?.periodicInterval && !status.savepointInfo?.lastPeriodicTriggerTime) {
    patch.savepointInfo = { ...(status.savepointInfo ?? {}), lastPeriodicTriggerTime: iso(now) };
  }
  return none(patch);
}

function rollbackDue(ctx: Ctx, up: UpgradeRecord): boolean {
  const { spec, status, now } = ctx;
  if (!spec.rollback?.enabled || up.kind === "rollback" || up.kind === "deploy" || !status.lastStableSpec) return false;
  const stable = parseSpec(status.lastStableSpec)!;
  if (deployedPart(stable) === deployedPart(parseSpec(up.targetSpec)!)) return false;
  return now - up.startedAt >= parseDuration(spec.rollback.stableTimeout ?? "5m", "spec.rollback.stableTimeout");
}

function startRollback(ctx: Ctx, up: UpgradeRecord): Decision {
  const stable = parseSpec(ctx.status.lastStableSpec)!;
  const mode: UpgradeMode = modeOf(ctx.spec) === "stateless" ? "stateless" : "last-state";
  const message = `upgrade not stable within ${ctx.spec.rollback?.stableTimeout ?? "5m"}: rolling back to the last stable spec`;
  return beginStop(ctx, "rollback", mode, specJson(stable), errorStatus(ctx, "Ready", "RollingBack", message), up.startFrom?.path);
}
