/**
 * Probe bookkeeping as pure functions: when a probe is due and how results move its state.
 * Mirrors the kubelet: a probe starts after `initialDelaySeconds`, runs every `periodSeconds`,
 * flips to success after `successThreshold` consecutive successes and to failure after
 * `failureThreshold` consecutive failures.
 */
import type { V1Probe } from "@kubernetes/client-node";

/** Probe timing and thresholds with Kubernetes defaults applied, in milliseconds. */
export interface ProbeTiming {
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** The running state of one probe of one container. */
export interface ProbeState {
  /** The current verdict: undefined until the first threshold is crossed. */
  readonly ok: boolean | undefined;
  readonly successes: number;
  readonly failures: number;
  readonly lastRunAt: number | undefined;
}

/** The state of a probe that has not run yet. */
export const INITIAL_PROBE_STATE: ProbeState = Object.freeze({ ok: undefined, successes: 0, failures: 0, lastRunAt: undefined });

/** Applies Kubernetes defaults (period 10 s, timeout 1 s, thresholds 1/3). */
export function probeTiming(p: V1Probe): ProbeTiming {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds ?? 10) * 1000,
    timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
}

/** Whether the probe should run now for a container that started at `startedAt`. */
export function probeDue(t: ProbeTiming, s: ProbeState, startedAt: number, now: number): boolean {
  if (now - startedAt < t.initialDelayMs) return false;
  return s.lastRunAt === undefined || now - s.lastRunAt >= t.periodMs;
}

/** The state after one probe result. */
export function recordProbe(t: ProbeTiming, s: ProbeState, success: boolean, now: number): ProbeState {
  const successes = success ? s.successes + 1 : 0;
  const failures = success ? 0 : s.failures + 1;
  let ok = s.ok;
  if (successes >= t.successThreshold) ok = true;
  if (failures >= t.failureThreshold) ok = false;
  return { ok, successes, failures, lastRunAt: now };
}

/** What a probe does, resolved against the pod (the agent runs it; see probe-exec.ts). */
export type ProbeAction =
  | { readonly kind: "http"; readonly url: string; readonly headers: Record<string, string> }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "exec"; readonly command: readonly string[] };

/** Resolves a probe handler to an action; a named port is looked up in the container's ports. */
export function probeAction(p: V1Probe, podIP: string, ports: ReadonlyArray<{ name?: string; containerPort: number }>): ProbeAction {
  const port = (v: number | string | undefined): number => {
    if (typeof v === "number") return v;
    const byName = ports.find((x) => x.name === v);
    if (byName) return byName.containerPort;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`probe port ${String(v)} is neither a number nor a named container port`);
    return n;
  };
  if (p.httpGet) {
    const h = p.httpGet;
    const host = h.host ?? podIP;
    const path = h.path ?? "/";
    const headers = Object.fromEntries((h.httpHeaders ?? []).map((x) => [x.name, x.value]));
    return { kind: "http", url: `${(h.scheme ?? "HTTP").toLowerCase()}://${host}:${port(h.port)}${path.startsWith("/") ? path : `/${path}`}`, headers };
  }
  if (p.tcpSocket) return { kind: "tcp", host: p.tcpSocket.host ?? podIP, port: port(p.tcpSocket.port) };
  if (p.exec?.command) return { kind: "exec", command: p.exec.command };
  throw new Error("probe has no httpGet, tcpSocket or exec handler");
}
