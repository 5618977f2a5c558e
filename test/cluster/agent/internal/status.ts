/**
 * Pure computation of a pod's status from the agent's view of its containers. The agent writes the
 * result once per sync pass; nothing else mutates pod status.
 */
import type { V1Pod } from "@kubernetes/client-node";

/** Why and how a container process ended. */
export interface Termination {
  readonly exitCode: number;
  readonly signal?: number;
  readonly reason: string;
  readonly message?: string;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** The agent's state of one container. */
export type ContainerState =
  | { readonly kind: "waiting"; readonly reason: string; readonly message?: string }
  | { readonly kind: "running"; readonly startedAt: number }
  | ({ readonly kind: "terminated" } & Termination);

/** What the status writer needs to know about one container. */
export interface ContainerView {
  readonly name: string;
  readonly image: string;
  readonly containerID?: string;
  readonly state: ContainerState;
  readonly lastTermination?: Termination;
  readonly restartCount: number;
  readonly ready: boolean;
  readonly started: boolean;
  /** True when the container has ended for good (its restart policy keeps it down). */
  readonly final: boolean;
}

/** What the status writer needs to know about the pod. */
export interface PodView {
  readonly podIP?: string;
  readonly hostIP: string;
  readonly startTime: number;
  readonly sandboxReady: boolean;
  /** All init containers completed successfully (true when there are none). */
  readonly initialized: boolean;
  readonly initContainers: readonly ContainerView[];
  readonly containers: readonly ContainerView[];
  /** A pod-level failure to report (e.g. the network could not be set up). */
  readonly message?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Exit reason as the kubelet reports it. */
export function exitReason(exitCode: number, signal: number | undefined, oomKilled = false): string {
  if (oomKilled) return "OOMKilled";
  return exitCode === 0 && signal === undefined ? "Completed" : "Error";
}

/** Shell-style exit code of a process that ended with `code` or `signal`. */
export function exitCodeOf(code: number | null, signal: number | undefined): number {
  if (code !== null) return code;
  return 128 + (signal ?? 0);
}

function terminatedJson(t: Termination): Record<string, unknown> {
  return {
    exitCode: t.exitCode,
    ...(t.signal !== undefined ? { signal: t.signal } : {}),
    reason: t.reason,
    ...(t.message ? { message: t.message } : {}),
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
    containerID: undefined,
  };
}

function stateJson(s: ContainerState): Record<string, unknown> {
  switch (s.kind) {
    case "waiting": return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
    case "running": return { running: { startedAt: iso(s.startedAt) } };
    case "terminated": return { terminated: terminatedJson(s) };
  }
}

/** The pod phase: Pending until a container has run, Succeeded/Failed when all ended for good. */
export function podPhase(v: PodView): "Pending" | "Running" | "Succeeded" | "Failed" {
  if (v.initContainers.some((c) => c.final && c.state.kind === "terminated" && c.state.exitCode !== 0)) return "Failed";
  if (!v.initialized) return "Pending";
  const cs = v.containers;
  if (cs.length > 0 && cs.every((c) => c.final)) {
    return cs.every((c) => c.state.kind === "terminated" && c.state.exitCode === 0) ? "Succeeded" : "Failed";
  }
  const hasRun = cs.some((c) => c.state.kind !== "waiting" || c.restartCount > 0 || c.lastTermination);
  return hasRun ? "Running" : "Pending";
}

function condition(type: string, ok: boolean, previous: V1Pod["status"], now: number, reason?: string): Record<string, unknown> {
  const status = ok ? "True" : "False";
  const prev = previous?.conditions?.find((c) => c.type === type);
  const since = prev && prev.status === status && prev.lastTransitionTime ? new Date(prev.lastTransitionTime).toISOString() : iso(now);
  return { type, status, lastProbeTime: null, lastTransitionTime: since, ...(ok || !reason ? {} : { reason }) };
}

/** The pod's full status object, ready for a merge patch of `/status`. */
export function podStatus(pod: V1Pod, v: PodView, now: number): Record<string, unknown> {
  const phase = podPhase(v);
  const containersReady = v.containers.length > 0 && v.containers.every((c) => c.ready);
  const done = phase === "Succeeded" || phase === "Failed";
  const prev = pod.status;
  return {
    phase,
    conditions: [
      condition("PodReadyToStartContainers", v.sandboxReady, prev, now),
      condition("Initialized", v.initialized, prev, now, "ContainersNotInitialized"),
      condition("Ready", containersReady && !done, prev, now, done ? "PodCompleted" : "ContainersNotReady"),
      condition("ContainersReady", containersReady && !done, prev, now, done ? "PodCompleted" : "ContainersNotReady"),
      condition("PodScheduled", true, prev, now),
    ],
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    ...(v.podIP ? { podIP: v.podIP, podIPs: [{ ip: v.podIP }] } : {}),
    startTime: iso(v.startTime),
    ...(v.message ? { message: v.message } : {}),
    ...(v.initContainers.length > 0 ? { initContainerStatuses: v.initContainers.map(containerStatusJson) } : {}),
    containerStatuses: v.containers.map(containerStatusJson),
  };
}

function containerStatusJson(c: ContainerView): Record<string, unknown> {
  return {
    name: c.name,
    image: c.image,
    imageID: `weir-local://${c.image}`,
    ...(c.containerID ? { containerID: c.containerID } : {}),
    state: stateJson(c.state),
    lastState: c.lastTermination ? { terminated: terminatedJson(c.lastTermination) } : {},
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
  };
}
