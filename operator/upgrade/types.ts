/**
 * Types of the upgrade state machine: what the controller observed, the actions it may take, and the
 * operation record the machine keeps in `.status.upgrade` (written before acting, so that a restarted
 * operator resumes the operation instead of repeating or losing it).
 */
import type { LifecycleState, StreamJob, StreamJobSpec, StreamJobStatus, UpgradeMode } from "../api/index.js";
import type { StartFrom } from "../reconcile/desired-objects.js";

export type JobManagerPhase = "absent" | "starting" | "running" | "failed";
export type SavepointTriggerStatus = "IN_PROGRESS" | "COMPLETED" | "FAILED";

/** What the controller saw this pass (REST API and Deployments), for the trigger recorded in status. */
export interface ObservedJob {
  jobManager: JobManagerPhase;
  /** Why the JobManager failed (CrashLoopBackOff, ImagePullBackOff, ...), when it did. */
  jobManagerError?: string;
  /** The JobManager Deployment's record: its job id and checkpoint directory (`<storage>/<jobId>`). */
  deployment?: { jobId: string; checkpointDir?: string };
  /** `GET /jobs/:id`: state RUNNING, CANCELLING, CANCELED, FAILED, FINISHED, ... */
  job?: { id: string; state: string };
  /** `GET /jobs/:id/checkpoints`: latest completed checkpoint and its externalPath. */
  latestCheckpoint?: { id: number; path: string };
  /** `GET /jobs/:id/savepoints/:triggerId` for `status.upgrade.triggerId`. */
  savepoint?: { triggerId: string; status: SavepointTriggerStatus; location?: string; failure?: string };
}

export type Action =
  /** `jobId`: the runtime job id of this deployment (its checkpoints live under `<storage>/<jobId>`). */
  | { type: "deploy"; spec: StreamJobSpec; startFrom: StartFrom | null; jobId: string }
  | { type: "triggerStopWithSavepoint"; drain: false }
  | { type: "triggerSavepoint" }
  | { type: "pollSavepoint"; triggerId: string }
  | { type: "deleteJobPods" }
  | { type: "cancelJob" }
  | { type: "wait"; ms: number; reason: string }
  | { type: "none" };

/** What the operation in progress is for. */
export type OperationKind = "deploy" | "upgrade" | "suspend" | "rollback" | "savepoint";
/**
 * SAVEPOINTING: a (stop-with-)savepoint was requested; `triggerId` once the controller recorded it.
 * CANCELLING: a last-state stop; the job is cancelled, then its latest checkpoint is recorded.
 * TEARING_DOWN: the restore point (`startFrom`) is recorded; the JM/TM Deployments are deleted.
 * DEPLOYING: `targetSpec` is applied from `startFrom`; waiting for RUNNING plus the stability window.
 * BLOCKED: the operation cannot go on (`error` says why); only a spec change moves it.
 */
export type UpgradePhase = "SAVEPOINTING" | "CANCELLING" | "TEARING_DOWN" | "DEPLOYING" | "BLOCKED";

/** `.status.upgrade`: the operation in progress. */
export interface UpgradeRecord {
  kind: OperationKind;
  phase: UpgradePhase;
  /** How state is carried over (the spec's upgradeMode, or last-state after a fallback). */
  mode: UpgradeMode;
  /** The spec being deployed, as JSON (the rollback target for a rollback). */
  targetSpec: string;
  /** ms since the epoch when the operation started (rollback's stableTimeout counts from here). */
  startedAt: number;
  /**
   * The runtime job id of the deployment this operation makes (fixed when DEPLOYING is recorded). Every
   * deployment gets its own, so its checkpoint directory holds only its own checkpoints: a restarted
   * JobManager process recovers the newest of them, never one of an older deployment.
   */
  jobId?: string;
  triggerId?: string;
  triggerType?: "manual" | "periodic" | "upgrade";
  triggerNonce?: number;
  /** Where the next deployment restores from; recorded before the teardown. */
  startFrom?: StartFrom | null;
  /** Snapshot to fall back to when a cancelled job reports no checkpoint. */
  fallback?: string;
  /** First time the deployed job was seen RUNNING, and the checkpoint id then. */
  runningSince?: number;
  baselineCheckpointId?: number;
  /** Lifecycle to return to after a savepoint taken while the job keeps running. */
  previousLifecycle?: LifecycleState;
  error?: string;
}

/** `.status` as the upgrade machine reads it (the CRD needs `upgrade`, see the report/README). */
export type UpgradeStatus = Omit<StreamJobStatus, "jobStatus" | "savepointInfo"> & {
  /** `upgradeSavepointPath`: the snapshot a suspended job resumes from (jobStatus preserves unknown fields). */
  jobStatus?: NonNullable<StreamJobStatus["jobStatus"]> & { upgradeSavepointPath?: string; upgradeLatestCheckpointDir?: string };
  /** `lastPeriodicTriggerTime`: when the last periodic savepoint was triggered (savepointInfo preserves unknown fields). */
  savepointInfo?: NonNullable<StreamJobStatus["savepointInfo"]> & { lastPeriodicTriggerTime?: string };
  upgrade?: UpgradeRecord;
};

/**
 * Top-level merge patch of `.status`: every key present replaces that field (nested objects are written
 * whole); `upgrade: null` removes the record.
 */
export type StatusPatch = { [K in Exclude<keyof UpgradeStatus, "upgrade">]?: UpgradeStatus[K] } & { upgrade?: UpgradeRecord | null };

export interface DecideConfig {
  /** A deployed job RUNNING this long (or with a checkpoint completed since) is stable. */
  stabilityWindowMs: number;
  /** How long to wait before looking again while something is in progress. */
  pollIntervalMs: number;
}

export interface DecideInput {
  job: StreamJob & { status?: UpgradeStatus };
  observed: ObservedJob;
  now: number;
  config?: Partial<DecideConfig>;
}

/** Write `status` to `.status` first; only then perform `action`. */
export interface Decision {
  action: Action;
  status: StatusPatch;
}
