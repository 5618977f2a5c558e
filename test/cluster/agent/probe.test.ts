import { describe, expect, it } from "vitest";
import { INITIAL_PROBE_STATE, probeAction, probeDue, probeTiming, recordProbe } from "./internal/probe.js";

describe("probe timing", () => {
  it("applies the Kubernetes defaults", () => {
    expect(probeTiming({})).toEqual({ initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  });
  it("waits for the initial delay, then runs every period", () => {
    const t = probeTiming({ initialDelaySeconds: 2, periodSeconds: 1 });
    expect(probeDue(t, INITIAL_PROBE_STATE, 0, 1999)).toBe(false);
    expect(probeDue(t, INITIAL_PROBE_STATE, 0, 2000)).toBe(true);
    const s = recordProbe(t, INITIAL_PROBE_STATE, true, 2000);
    expect(probeDue(t, s, 0, 2500)).toBe(false);
    expect(probeDue(t, s, 0, 3000)).toBe(true);
  });
});

describe("probe thresholds", () => {
  const t = probeTiming({ successThreshold: 2, failureThreshold: 3 });
  const run = (results: boolean[]) => results.reduce((s, ok, i) => recordProbe(t, s, ok, i), INITIAL_PROBE_STATE);
  it("stays undecided until a threshold is crossed", () => expect(run([true]).ok).toBeUndefined());
  it("succeeds after successThreshold consecutive successes", () => expect(run([true, true]).ok).toBe(true));
  it("fails only after failureThreshold consecutive failures", () => {
    expect(run([true, true, false, false]).ok).toBe(true);
    expect(run([true, true, false, false, false]).ok).toBe(false);
  });
  it("a success in between resets the failure count", () => expect(run([true, true, false, false, true, false, false]).ok).toBe(true));
});

describe("probe actions", () => {
  const ports = [{ name: "http", containerPort: 8080 }];
  it("resolves httpGet against the pod IP and a named port", () => {
    expect(probeAction({ httpGet: { path: "healthz", port: "http" as never } }, "10.88.1.2", ports)).toEqual({ kind: "http", url: "http://10.88.1.2:8080/healthz", headers: {} });
  });
  it("resolves tcpSocket and exec", () => {
    expect(probeAction({ tcpSocket: { port: 9000 as never } }, "10.88.1.2", ports)).toEqual({ kind: "tcp", host: "10.88.1.2", port: 9000 });
    expect(probeAction({ exec: { command: ["true"] } }, "10.88.1.2", ports)).toEqual({ kind: "exec", command: ["true"] });
  });
  it("names an unknown port", () => {
    expect(() => probeAction({ tcpSocket: { port: "metrics" as never } }, "10.88.1.2", ports)).toThrow(/metrics/);
  });
});
