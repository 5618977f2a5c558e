import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { podFailure, podHealth } from "../../operator/reconcile/pod-health.js";

function pod(name: string, component: string, status: V1Pod["status"], deleting = false): V1Pod {
  return {
    metadata: { name, labels: { "weir.dev/component": component }, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    status,
  };
}
const running = (ip: string): V1Pod["status"] => ({ podIP: ip, containerStatuses: [{ name: "weir", image: "weir", imageID: "", ready: true, restartCount: 0, state: { running: {} } }] });

describe("pod health", () => {
  it("no pods: absent; a running JobManager: its IP", () => {
    expect(podHealth([])).toEqual({ noPods: true });
    const h = podHealth([pod("jm", "jobmanager", running("10.88.1.2")), pod("tm", "taskmanager", running("10.88.1.3"))]);
    expect(h).toMatchObject({ noPods: false, jobManagerIp: "10.88.1.2" });
    expect(h.failure).toBeUndefined();
  });

  it("a JobManager without a running container has no IP yet; a terminating one is ignored", () => {
    expect(podHealth([pod("jm", "jobmanager", { podIP: "10.88.1.2", containerStatuses: [] })]).jobManagerIp).toBeUndefined();
    const h = podHealth([pod("old", "jobmanager", running("10.88.1.9"), true)]);
    expect(h).toMatchObject({ noPods: false });
    expect(h.jobManagerPod).toBeUndefined();
  });

  it("names the pod and the cause of a crash loop, with the last exit code", () => {
    const crashing = pod("tm-1", "taskmanager", {
      containerStatuses: [{
        name: "weir", image: "weir", imageID: "", ready: false, restartCount: 4,
        state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" } },
        lastState: { terminated: { exitCode: 1, reason: "Error" } },
      }],
    });
    expect(podFailure(crashing)).toBe("taskmanager pod tm-1: CrashLoopBackOff: back-off 40s restarting failed container; last exit code 1 (Error) (restarts: 4)");
    expect(podHealth([pod("jm", "jobmanager", running("10.88.1.2")), crashing]).failure).toContain("tm-1: CrashLoopBackOff");
  });

  it("reports unschedulable and Failed pods; a container that is merely starting is no failure", () => {
    expect(podFailure(pod("jm", "jobmanager", { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/2 nodes have enough cpu" }] })))
      .toBe("jobmanager pod jm is unschedulable: 0/2 nodes have enough cpu");
    expect(podFailure(pod("jm", "jobmanager", { phase: "Failed", reason: "Evicted", message: "low on disk" }))).toBe("jobmanager pod jm failed: Evicted low on disk");
    expect(podFailure(pod("jm", "jobmanager", { containerStatuses: [{ name: "weir", image: "weir", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] }))).toBeUndefined();
  });
});
