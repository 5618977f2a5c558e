/**
 * What the pods of a StreamJob say about its JobManager, as a pure function of the pods: absent,
 * starting, running (has an IP and a running container), or failed with a cause a user can act on
 * (CrashLoopBackOff with the last exit code, image pull errors, unschedulable, a Failed pod).
 *
 * A TaskManager that cannot start fails the job as surely as a JobManager that cannot, so TaskManager
 * pods are checked too; the cause names the pod.
 */
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { LABELS } from "./desired-objects.js";

/** Waiting reasons that do not resolve by themselves (the kubelet's back-off and config errors). */
const STUCK_REASONS = new Set([
  "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerError", "CreateContainerConfigError", "RunContainerError",
]);

export interface PodHealth {
  /** No pod of the job exists (terminating ones count as existing). */
  noPods: boolean;
  /** The JobManager pod that is not being deleted, if any. */
  jobManagerPod?: V1Pod;
  /** Its IP once it has one and its container runs. */
  jobManagerIp?: string;
  /** Why the job cannot run, naming the pod; undefined when nothing is stuck. */
  failure?: string;
}

/** The main container's status ("weir", else the first). */
function mainStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const all = pod.status?.containerStatuses ?? [];
  return all.find((c) => c.name === "weir") ?? all[0];
}

/** Why this pod cannot run, or undefined. */
export function podFailure(pod: V1Pod): string | undefined {
  const name = pod.metadata?.name ?? "?";
  const component = pod.metadata?.labels?.[LABELS.component] ?? "pod";
  const what = `${component} pod ${name}`;
  if (pod.status?.phase === "Failed") return `${what} failed: ${pod.status.reason ?? ""} ${pod.status.message ?? ""}`.trim();
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") return `${what} is unschedulable: ${scheduled.message ?? "no reason given"}`;
  const cs = mainStatus(pod);
  const waiting = cs?.state?.waiting;
  if (!cs || !waiting?.reason || !STUCK_REASONS.has(waiting.reason)) return undefined;
  const last = cs.lastState?.terminated;
  const exit = last ? `; last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ""}${last.message ? `: ${last.message.trim()}` : ""}` : "";
  return `${what}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}${exit} (restarts: ${cs.restartCount})`;
}

/** Health of a job from its pods (those labelled with its name). */
export function podHealth(pods: readonly V1Pod[]): PodHealth {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const jobManagerPod = live.find((p) => p.metadata?.labels?.[LABELS.component] === "jobmanager");
  const running = jobManagerPod ? mainStatus(jobManagerPod)?.state?.running !== undefined : false;
  const failures = live.map(podFailure).filter((f): f is string => f !== undefined);
  return {
    noPods: pods.length === 0,
    ...(jobManagerPod ? { jobManagerPod } : {}),
    ...(jobManagerPod?.status?.podIP && running ? { jobManagerIp: jobManagerPod.status.podIP } : {}),
    ...(failures.length > 0 ? { failure: failures.join("; ") } : {}),
  };
}
