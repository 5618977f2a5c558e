/**
 * TTL-wrapped stored values: `{ v, t }`, t = the epoch ms of the last update (or read, with
 * OnReadAndWrite). An entry is expired once `now >= t + ttlMs`.
 */
import type { TtlSettings } from "./state-spec.js";

/** A stored value of a state with TTL. */
export interface Stamped {
  v: unknown;
  t: number;
}

/** The stored form of `v` written at `now`: wrapped when the state has TTL. */
export function stamp(ttl: TtlSettings | null, v: unknown, now: number): unknown {
  return ttl === null ? v : { v, t: now };
}

/** The user value inside a stored value. */
export function unstamp(ttl: TtlSettings | null, stored: unknown): unknown {
  return ttl === null ? stored : (stored as Stamped).v;
}

/** True when a stored value of a state with `ttl` has expired at `now`. */
export function isExpired(ttl: TtlSettings | null, stored: unknown, now: number): boolean {
  return ttl !== null && now >= (stored as Stamped).t + ttl.ttlMs;
}
