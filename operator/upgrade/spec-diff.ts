/**
 * Which spec changes need a redeploy. Operator-side fields (nonces for savepoints, savepoint history and
 * period, rollback settings, upgradeMode and the first-deploy restore options) do not; `job.state` is
 * compared separately (suspend/resume).
 */
import type { StreamJobSpec } from "../api/index.js";

const IGNORED_JOB = ["savepointTriggerNonce", "upgradeMode", "initialSavepointPath", "allowNonRestoredState"] as const;
const IGNORED_SAVEPOINTS = ["historyMaxCount", "historyMaxAge", "periodicInterval", "onDeletion"] as const;

/** JSON with sorted keys and without undefined values, so equal specs give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The part of a spec that the running job depends on (`withState`: also the desired job state). */
export function deployedPart(spec: StreamJobSpec, withState = false): string {
  const { rollback: _rollback, savepoints, job, ...rest } = spec;
  const jobPart: Record<string, unknown> = { ...job };
  for (const k of IGNORED_JOB) delete jobPart[k];
  if (!withState) delete jobPart.state;
  else jobPart.state = job.state ?? "running";
  let sp: Record<string, unknown> | undefined;
  if (savepoints) {
    sp = { ...savepoints };
    for (const k of IGNORED_SAVEPOINTS) delete sp[k];
    if (Object.keys(sp).length === 0) sp = undefined;
  }
  return canonicalJson({ ...rest, job: jobPart, savepoints: sp });
}

/** True when going from `from` to `to` needs the job to be redeployed (upgradeMode applies). */
export function needsRedeploy(from: StreamJobSpec, to: StreamJobSpec): boolean {
  return deployedPart(from) !== deployedPart(to);
}

export function parseSpec(json: string | undefined): StreamJobSpec | undefined {
  return json === undefined ? undefined : (JSON.parse(json) as StreamJobSpec);
}

export function specJson(spec: StreamJobSpec): string {
  return canonicalJson(spec);
}
