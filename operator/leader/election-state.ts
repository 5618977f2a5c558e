/**
 * The leader-election decision as a pure function, after client-go's `tryAcquireOrRenew`: given the Lease as
 * last read, the local observation of it, the local clock and who we are, decide whether to create, acquire,
 * renew, wait or give up. No I/O, no timers: the elector in lease-elector.ts performs what this decides.
 *
 * Expiry follows client-go's observedTime rule: a holder's Lease is considered expired only when its record has
 * not changed for `leaseDurationSeconds`, measured on the local monotonic clock from the moment this process
 * first saw that record. The remote `renewTime` is informational, because clocks differ between machines.
 */

/** The `spec` of a coordination.k8s.io/v1 Lease as leader election uses it. Times are RFC3339 MicroTime. */
export interface LeaderElectionRecord {
  /** The current holder; "" when the Lease was released or never held. */
  readonly holderIdentity: string;
  /** How long others must see this record unchanged before they may take over. */
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string;
  readonly renewTime: string;
  /** Incremented each time a candidate acquires a Lease it did not hold. */
  readonly leaseTransitions: number;
}

/** A Lease as read from the API: its record and the resourceVersion to write against. */
export interface ObservedLease {
  readonly record: LeaderElectionRecord;
  readonly resourceVersion: string;
}

/** The record this process last saw change and when (local monotonic ms), the basis for expiry. */
export interface Observation {
  readonly record: LeaderElectionRecord;
  readonly observedAtMs: number;
}

/** Everything the decision depends on. */
export interface DecideInput {
  readonly identity: string;
  readonly leaseDurationMs: number;
  /** Local monotonic time, ms. */
  readonly nowMs: number;
  /** Wall-clock time for the record's acquireTime/renewTime, ms since the epoch. */
  readonly wallMs: number;
  /** Whether this elector is leading right now (it has started and not yet stopped leading). */
  readonly leading: boolean;
  /** The Lease as just read; undefined when it does not exist. */
  readonly lease: ObservedLease | undefined;
  /** The previous observation, undefined before the first read. */
  readonly observation: Observation | undefined;
}

/** What to do next. Writes carry the full record to write; updates carry the resourceVersion to write against. */
export type Decision =
  | { readonly kind: "create"; readonly record: LeaderElectionRecord }
  | { readonly kind: "acquire"; readonly record: LeaderElectionRecord; readonly resourceVersion: string }
  | { readonly kind: "renew"; readonly record: LeaderElectionRecord; readonly resourceVersion: string }
  | { readonly kind: "wait"; readonly holder: string; readonly expiresInMs: number }
  | { readonly kind: "lost"; readonly holder: string };

/** The decision and the observation to keep for the next round. */
export interface DecideResult {
  readonly decision: Decision;
  readonly observation: Observation | undefined;
}

/** Formats ms since the epoch as a Kubernetes MicroTime: RFC3339 with six fractional digits, UTC. */
export function formatMicroTime(wallMs: number): string {
  return new Date(wallMs).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** True when two records are the same (client-go compares the whole record, not the resourceVersion). */
export function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime && a.renewTime === b.renewTime && a.leaseTransitions === b.leaseTransitions;
}

/** The observation after reading `lease` at `nowMs`: unchanged records keep their first-seen time. */
export function observe(prev: Observation | undefined, lease: ObservedLease | undefined, nowMs: number): Observation | undefined {
  if (!lease) return undefined;
  if (prev && sameRecord(prev.record, lease.record)) return prev;
  return { record: lease.record, observedAtMs: nowMs };
}

/** The pure decision: see the module comment. */
export function decide(input: DecideInput): DecideResult {
  const { identity, lease, leading } = input;
  const observation = observe(input.observation, lease, input.nowMs);
  const seconds = Math.max(1, Math.ceil(input.leaseDurationMs / 1000));
  const now = formatMicroTime(input.wallMs);
  if (!lease || !observation) {
    if (leading) return { decision: { kind: "lost", holder: "" }, observation };
    const record = { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: 0 };
    return { decision: { kind: "create", record }, observation };
  }
  const old = lease.record;
  const resourceVersion = lease.resourceVersion;
  if (old.holderIdentity === identity) {
    const record = { ...old, leaseDurationSeconds: seconds, renewTime: now };
    return { decision: { kind: "renew", record, resourceVersion }, observation };
  }
  if (leading) return { decision: { kind: "lost", holder: old.holderIdentity }, observation };
  const expiresInMs = observation.observedAtMs + old.leaseDurationSeconds * 1000 - input.nowMs;
  if (old.holderIdentity !== "" && expiresInMs > 0) {
    return { decision: { kind: "wait", holder: old.holderIdentity, expiresInMs }, observation };
  }
  const record = {
    holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: now, renewTime: now,
    leaseTransitions: old.leaseTransitions + 1,
  };
  return { decision: { kind: "acquire", record, resourceVersion }, observation };
}

/** The record a leader writes when it steps down gracefully: no holder, 1 s duration (client-go's release). */
export function releaseRecord(old: LeaderElectionRecord, wallMs: number): LeaderElectionRecord {
  const now = formatMicroTime(wallMs);
  return { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: old.leaseTransitions };
}
