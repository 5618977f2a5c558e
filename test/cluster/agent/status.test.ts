import { describe, expect, it } from "vitest";
import { exitCodeOf, exitReason, podPhase, podStatus, type ContainerView, type PodView } from "./internal/status.js";

const T0 = Date.parse("2026-11-21T12:00:00Z");
const running = (over: Partial<ContainerView> = {}): ContainerView => ({
  name: "app", image: "weir", state: { kind: "running", startedAt: T0 }, restartCount: 0, ready: true, started: true, final: false, ...over,
});
const view = (containers: ContainerView[], initContainers: ContainerView[] = []): PodView => ({
  podIP: "10.88.1.2", hostIP: "10.88.0.1", startTime: T0, sandboxReady: true, containers, initContainers,
  initialized: initContainers.every((c) => c.final && c.state.kind === "terminated" && c.state.exitCode === 0),
});
const done = (exitCode: number, name = "app"): ContainerView => running({ name, state: { kind: "terminated", exitCode, reason: exitReason(exitCode, undefined), startedAt: T0, finishedAt: T0 + 1 }, final: true, ready: false });

describe("pod phase", () => {
  it("is Pending before any container ran", () => expect(podPhase(view([running({ state: { kind: "waiting", reason: "ContainerCreating" }, ready: false })]))).toBe("Pending"));
  it("is Running while a container runs or restarts", () => {
    expect(podPhase(view([running()]))).toBe("Running");
    expect(podPhase(view([running({ state: { kind: "waiting", reason: "CrashLoopBackOff" }, restartCount: 2 })]))).toBe("Running");
  });
  it("is Succeeded when every container completed for good, Failed when one failed", () => {
    expect(podPhase(view([done(0), done(0)]))).toBe("Succeeded");
    expect(podPhase(view([done(0), done(3)]))).toBe("Failed");
  });
});

describe("init containers", () => {
  const waiting = running({ state: { kind: "waiting", reason: "PodInitializing" }, ready: false });
  it("keep the pod Pending and not Initialized until all completed", () => {
    const v = view([waiting], [done(0, "a"), running({ name: "b", ready: false })]);
    expect(podPhase(v)).toBe("Pending");
    const conds = podStatus({}, v, T0)["conditions"] as Array<{ type: string; status: string; reason?: string }>;
    expect(conds.find((c) => c.type === "Initialized")).toMatchObject({ status: "False", reason: "ContainersNotInitialized" });
  });
  it("fail the pod when one failed for good", () => expect(podPhase(view([waiting], [done(1, "a")]))).toBe("Failed"));
  it("are reported in initContainerStatuses", () => {
    const s = podStatus({}, view([running()], [done(0, "a")]), T0);
    expect(s["initContainerStatuses"]).toMatchObject([{ name: "a", state: { terminated: { exitCode: 0, reason: "Completed" } } }]);
    expect(podPhase(view([running()], [done(0, "a")]))).toBe("Running");
  });
});

describe("exit codes and reasons", () => {
  it("maps signals to 128+n and names the reason", () => {
    expect(exitCodeOf(null, 9)).toBe(137);
    expect(exitCodeOf(2, undefined)).toBe(2);
    expect(exitReason(0, undefined)).toBe("Completed");
    expect(exitReason(1, undefined)).toBe("Error");
    expect(exitReason(137, 9)).toBe("Error");
    expect(exitReason(137, 9, true)).toBe("OOMKilled");
  });
});

describe("podStatus", () => {
  it("reports IPs, conditions and container statuses", () => {
    const s = podStatus({}, view([running({ restartCount: 1, lastTermination: { exitCode: 1, reason: "Error", startedAt: T0 - 5000, finishedAt: T0 - 1000 } })]), T0);
    expect(s).toMatchObject({
      phase: "Running", podIP: "10.88.1.2", podIPs: [{ ip: "10.88.1.2" }], hostIP: "10.88.0.1", startTime: "2026-11-21T12:00:00.000Z",
      containerStatuses: [{ name: "app", ready: true, started: true, restartCount: 1, state: { running: { startedAt: "2026-11-21T12:00:00.000Z" } },
        lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: "2026-11-21T11:59:59.000Z" } } }],
    });
    const conds = Object.fromEntries((s["conditions"] as Array<{ type: string; status: string }>).map((c) => [c.type, c.status]));
    expect(conds).toEqual({ PodReadyToStartContainers: "True", Initialized: "True", Ready: "True", ContainersReady: "True", PodScheduled: "True" });
  });
  it("keeps a condition's lastTransitionTime while its status holds", () => {
    const prev = { status: { conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date(T0 - 60_000) }] } };
    const s = podStatus(prev, view([running()]), T0);
    const ready = (s["conditions"] as Array<{ type: string; lastTransitionTime: string }>).find((c) => c.type === "Ready");
    expect(ready?.lastTransitionTime).toBe("2026-11-21T11:59:00.000Z");
  });
  it("is not Ready while a container is not ready", () => {
    const s = podStatus({}, view([running({ ready: false })]), T0);
    expect((s["conditions"] as Array<{ type: string; status: string; reason?: string }>).find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "ContainersNotReady" });
  });
});
