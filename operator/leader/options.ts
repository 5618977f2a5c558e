/** LeaseElector options: user options -> defaults -> validated, frozen config. */
import type { Clock, ElectionLog, LeaseClient } from "./lease-client.js";
import { silentLog, systemClock } from "./lease-client.js";

/** Defaults, as in client-go, controller-runtime and the Flink operator. */
export const ELECTION_DEFAULTS = Object.freeze({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });

/** What a LeaseElector is built from. */
export interface LeaseElectorOptions {
  readonly client: LeaseClient;
  readonly namespace: string;
  /** The Lease's name, unique per election in its namespace. */
  readonly name: string;
  /** This candidate, unique among candidates (e.g. the pod name). */
  readonly identity: string;
  /** How long others wait, after they last saw the Lease change, before taking it over. Default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long a leader keeps leading without a successful renew. Default 10 s; must be < leaseDurationMs. */
  readonly renewDeadlineMs?: number;
  /** Pause between acquire/renew attempts. Default 2 s; must be < renewDeadlineMs. */
  readonly retryPeriodMs?: number;
  /**
   * Called once when this elector starts leading. Act only while `signal` is not aborted; it is aborted the
   * moment leadership ends. A returned promise is awaited (bounded) before a graceful release.
   */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<unknown>;
  /** Called once when leadership ends (never if it never started), before another candidate could lead. */
  readonly onStoppedLeading: () => void | Promise<unknown>;
  /** Called when the observed holder changes to a non-empty identity (including this one). */
  readonly onNewLeader?: (identity: string) => void;
  readonly log?: ElectionLog;
  readonly clock?: Clock;
}

/** The compiled options: every field present and checked. */
export interface ElectorConfig extends Required<Omit<LeaseElectorOptions, "onNewLeader">> {
  readonly onNewLeader: (identity: string) => void;
  /** Timeout of one acquire/renew attempt (get + write): max(retryPeriod, renewDeadline / 2). */
  readonly attemptTimeoutMs: number;
}

/** Thrown for invalid options and for misuse of an elector; the message names the field or the call. */
export class LeaderElectionError extends Error {
  readonly code = "WEIR_E_LEADER_ELECTION";
  constructor(message: string) {
    super(message);
    this.name = "LeaderElectionError";
  }
}

/** Applies defaults and validates: leaseDuration > renewDeadline > retryPeriod > 0, non-empty names. */
export function compileElectorOptions(o: LeaseElectorOptions): Readonly<ElectorConfig> {
  for (const field of ["namespace", "name", "identity"] as const) {
    if (typeof o[field] !== "string" || o[field] === "") throw new LeaderElectionError(`leader election: ${field} must be a non-empty string`);
  }
  const leaseDurationMs = o.leaseDurationMs ?? ELECTION_DEFAULTS.leaseDurationMs;
  const renewDeadlineMs = o.renewDeadlineMs ?? ELECTION_DEFAULTS.renewDeadlineMs;
  const retryPeriodMs = o.retryPeriodMs ?? ELECTION_DEFAULTS.retryPeriodMs;
  for (const [field, v] of Object.entries({ leaseDurationMs, renewDeadlineMs, retryPeriodMs })) {
    if (!Number.isFinite(v) || v <= 0) throw new LeaderElectionError(`leader election: ${field} must be a positive number of ms, got ${v}`);
  }
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new LeaderElectionError(`leader election: leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`);
  }
  if (renewDeadlineMs <= retryPeriodMs) {
    throw new LeaderElectionError(`leader election: renewDeadlineMs (${renewDeadlineMs}) must be greater than retryPeriodMs (${retryPeriodMs})`);
  }
  return Object.freeze({
    client: o.client, namespace: o.namespace, name: o.name, identity: o.identity,
    leaseDurationMs, renewDeadlineMs, retryPeriodMs,
    onStartedLeading: o.onStartedLeading, onStoppedLeading: o.onStoppedLeading,
    onNewLeader: o.onNewLeader ?? (() => undefined),
    log: o.log ?? silentLog, clock: o.clock ?? systemClock,
    attemptTimeoutMs: Math.max(retryPeriodMs, renewDeadlineMs / 2),
  });
}
