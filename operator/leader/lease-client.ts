/**
 * The two seams of the elector: the Lease API it reads and writes, and the clock it measures time with.
 * Production uses `coordinationLeaseClient` (k8s-lease-client.ts) and `systemClock`; unit tests inject fakes.
 */
import type { LeaderElectionRecord, ObservedLease } from "./election-state.js";

/** Thrown by `create` (AlreadyExists) and `replace` (stale resourceVersion): someone else wrote first. */
export class LeaseConflictError extends Error {
  readonly code = "WEIR_E_LEASE_CONFLICT";
  constructor(namespace: string, name: string, detail: string) {
    super(`Lease ${namespace}/${name}: ${detail}`);
    this.name = "LeaseConflictError";
  }
}

/**
 * Reads and writes one namespaced Lease with optimistic concurrency. Implementations may honour `signal` to
 * cancel a request; the elector stops waiting for a call once its signal aborts either way.
 */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist (404). */
  get(namespace: string, name: string, signal: AbortSignal): Promise<ObservedLease | undefined>;
  /** Creates the Lease; throws LeaseConflictError when it already exists. */
  create(namespace: string, name: string, record: LeaderElectionRecord, signal: AbortSignal): Promise<ObservedLease>;
  /** Replaces the Lease's spec if its resourceVersion is still `resourceVersion`; else throws LeaseConflictError. */
  replace(namespace: string, name: string, record: LeaderElectionRecord, resourceVersion: string, signal: AbortSignal): Promise<ObservedLease>;
}

/** Time as the elector sees it. */
export interface Clock {
  /** Monotonic milliseconds, for every interval the elector measures (never jumps with wall-clock changes). */
  now(): number;
  /** Wall-clock ms since the epoch, only for the Lease's informational acquireTime/renewTime. */
  wallNow(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The process clock: performance.now() for intervals, Date.now() for timestamps, setTimeout for timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Structured log sink, compatible with a pino logger. */
export interface ElectionLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

/** Discards everything. */
export const silentLog: ElectionLog = { info: () => undefined, warn: () => undefined, debug: () => undefined };
