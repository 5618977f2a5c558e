/** Status helpers: merge patches, conditions, and the savepoint history (trimmed by count and age). */
import { parseDuration, type Condition, type SavepointsSpec, type SnapshotInfo, type StreamJobStatus } from "../api/index.js";
import type { StatusPatch, UpgradeStatus } from "./types.js";

/** `.status` after a {@link StatusPatch}: present keys replace, `upgrade: null` removes the record. */
export function applyStatusPatch(status: UpgradeStatus | undefined, patch: StatusPatch): UpgradeStatus {
  const out: Record<string, unknown> = { ...(status ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as UpgradeStatus;
}

/**
 * The patch the controller writes right after a trigger action returned its trigger id, before it does
 * anything else: from then on the machine polls that trigger and never takes a second savepoint.
 */
export function recordTrigger(status: UpgradeStatus | undefined, triggerId: string): StatusPatch {
  const up = status?.upgrade;
  if (!up || up.phase !== "SAVEPOINTING") throw new Error(`status.upgrade is not SAVEPOINTING; cannot record savepoint trigger ${triggerId}`);
  return { upgrade: { ...up, triggerId } };
}

/** `conditions` with `type` set (lastTransitionTime kept when the status did not change). */
export function setCondition(
  conditions: Condition[] | undefined,
  c: { type: string; status: Condition["status"]; reason: string; message: string; observedGeneration?: number },
  now: number,
): Condition[] {
  const list = conditions ?? [];
  const old = list.find((x) => x.type === c.type);
  const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : new Date(now).toISOString();
  const next: Condition = { ...c, lastTransitionTime };
  if (c.observedGeneration === undefined) delete next.observedGeneration;
  return [...list.filter((x) => x.type !== c.type), next];
}

/** `savepointInfo` with `snap` as the last savepoint, the history trimmed to historyMaxCount / historyMaxAge. */
export function recordSavepoint(
  info: StreamJobStatus["savepointInfo"],
  snap: SnapshotInfo,
  savepoints: SavepointsSpec | undefined,
  now: number,
): NonNullable<StreamJobStatus["savepointInfo"]> {
  const maxCount = savepoints?.historyMaxCount ?? 10;
  const maxAge = parseDuration(savepoints?.historyMaxAge ?? "24h", "spec.savepoints.historyMaxAge");
  const young = [...(info?.history ?? []), snap].filter((s) => s === snap || s.time === undefined || now - Date.parse(s.time) <= maxAge);
  return { ...(info ?? {}), lastSavepoint: snap, history: young.slice(Math.max(0, young.length - maxCount)) };
}
