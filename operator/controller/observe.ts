/**
 * One observation of a StreamJob's deployment: its JobManager Deployment and pods (from the informer
 * caches) and, when the JobManager runs, its REST API reached by pod IP (the operator never assumes
 * cluster DNS). The result feeds the pure upgrade machine (`decide`).
 */
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { RestClient, RestError } from "../../runtime/jobmanager/rest-client.js";
import type { StreamJob } from "../api/index.js";
import { checkpointDirOf, DEPLOYMENT_ANNOTATION, JOBMANAGER_REST_PORT, type DeploymentRecord } from "../reconcile/desired-objects.js";
import { podHealth } from "../reconcile/pod-health.js";
import type { ObservedJob, UpgradeStatus } from "../upgrade/index.js";

/** What the reconciler knows beyond what `decide` needs: how to reach the JobManager and what runs. */
export interface Observation {
  observed: ObservedJob;
  /** REST client of the running JobManager. */
  rest?: RestClient;
  /** The runtime job id the JobManager runs (for cancel and savepoint calls). */
  jobId?: string;
  /** The JobManager pod's IP (the TaskManagers' control address). */
  jobManagerIp?: string;
  /** What the JobManager Deployment was built from. */
  record?: DeploymentRecord;
  /** Extra job status (start time, parallelism per vertex) for `.status.jobStatus`. */
  jobDetail?: { startTime?: string; parallelism: number; vertices: Record<string, number> };
}

export interface ObserveInput {
  job: StreamJob & { status?: UpgradeStatus };
  /** The StreamJob's Deployments and pods (selected by its labels and owner uid). */
  deployments: readonly V1Deployment[];
  pods: readonly V1Pod[];
  restTimeoutMs?: number;
}

/** The DeploymentRecord annotated on a JobManager Deployment (undefined when absent or unreadable). */
export function deploymentRecord(d: V1Deployment | undefined): DeploymentRecord | undefined {
  const raw = d?.metadata?.annotations?.[DEPLOYMENT_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as DeploymentRecord;
  } catch {
    return undefined;
  }
}

export async function observe(input: ObserveInput): Promise<Observation> {
  const { job, deployments, pods } = input;
  const jmDeployment = deployments.find((d) => d.metadata?.name === `${job.metadata.name}-jobmanager` && !d.metadata?.deletionTimestamp);
  const record = deploymentRecord(jmDeployment);
  const health = podHealth(pods);
  const base: Observation = {
    observed: { jobManager: "starting" },
    ...(record ? { record } : {}),
    ...(health.jobManagerIp ? { jobManagerIp: health.jobManagerIp } : {}),
  };
  if (record) {
    const storage = record.spec.checkpointing?.storage;
    base.observed.deployment = { jobId: record.jobId, ...(storage ? { checkpointDir: checkpointDirOf(storage, record.jobId) } : {}) };
  }
  if (deployments.length === 0 && health.noPods) return { ...base, observed: { ...base.observed, jobManager: "absent" } };
  if (health.failure) return { ...base, observed: { ...base.observed, jobManager: "failed", jobManagerError: health.failure } };
  if (!health.jobManagerIp || !jmDeployment) return base;

  const rest = new RestClient(`http://${health.jobManagerIp}:${JOBMANAGER_REST_PORT}`, { timeoutMs: input.restTimeoutMs ?? 3_000 });
  try {
    const jobs = await rest.listJobs();
    const summary = jobs.find((j) => j.id === record?.jobId) ?? jobs[0];
    if (!summary) return { ...base, rest, observed: { ...base.observed, jobManager: "running" } };
    const [detail, checkpoints] = await Promise.all([rest.jobDetail(summary.id), rest.checkpoints(summary.id)]);
    const observed: ObservedJob = { ...base.observed, jobManager: "running", job: { id: summary.id, state: detail.state } };
    const completed = checkpoints.latest.completed;
    if (completed?.externalPath) observed.latestCheckpoint = { id: completed.id, path: completed.externalPath };
    const triggerId = job.status?.upgrade?.triggerId;
    if (triggerId) observed.savepoint = await savepointStatus(rest, summary.id, triggerId);
    return {
      ...base,
      observed,
      rest,
      jobId: summary.id,
      jobDetail: {
        ...(detail.startTime ? { startTime: new Date(detail.startTime).toISOString() } : {}),
        parallelism: detail.parallelism,
        vertices: Object.fromEntries(detail.vertices.map((v) => [v.name, v.parallelism])),
      },
    };
  } catch (err) {
    // a JobManager process that is (re)starting: its pod runs but its REST port does not answer yet
    if (err instanceof RestError && err.status >= 400 && err.status < 500) throw err;
    return base;
  }
}

async function savepointStatus(rest: RestClient, jobId: string, triggerId: string): Promise<ObservedJob["savepoint"]> {
  try {
    const sp = await rest.savepointStatus(jobId, triggerId);
    return { triggerId, status: sp.status, ...(sp.location ? { location: sp.location } : {}), ...(sp.failure ? { failure: sp.failure } : {}) };
  } catch (err) {
    if (err instanceof RestError && err.status === 404) {
      // a restarted JobManager forgets triggers: that savepoint will never report, so it failed
      return { triggerId, status: "FAILED", failure: "the JobManager does not know this savepoint trigger (it restarted?)" };
    }
    throw err;
  }
}
