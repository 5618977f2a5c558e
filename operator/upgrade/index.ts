/** The reconcile decision of a StreamJob: a pure, resumable upgrade state machine (see decide.ts). */
export { decide, DEFAULT_CONFIG } from "./decide.js";
export { applyStatusPatch, recordTrigger, recordSavepoint, setCondition } from "./status.js";
export { canonicalJson, deployedPart, needsRedeploy, parseSpec, specJson } from "./spec-diff.js";
export type {
  Action, DecideConfig, DecideInput, Decision, JobManagerPhase, ObservedJob, OperationKind, SavepointTriggerStatus,
  StatusPatch, UpgradePhase, UpgradeRecord, UpgradeStatus,
} from "./types.js";
