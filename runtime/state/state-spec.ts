/**
 * What a state declaration compiles to (name, kind, TTL settings with defaults applied), and the
 * snapshot namespace that identifies it: `s:<kind>:<name>`, with `+ttl` after the kind when entries
 * are TTL-wrapped (`s:value+ttl:count`). Putting the kind in the namespace lets a restore refuse, by
 * name, state declared with another kind or TTL setting than the one that wrote it.
 */
import type { StateTtlConfig, ValueStateOptions } from "../api/state.js";
import { WeirError } from "../common/errors.js";

export const STATE_KINDS = ["value", "list", "map", "reducing", "aggregating"] as const;
export type StateKind = (typeof STATE_KINDS)[number];

/** TTL of a state, defaults applied. */
export interface TtlSettings {
  readonly ttlMs: number;
  readonly updateOnRead: boolean;
  readonly returnExpired: boolean;
}

/** A compiled declaration. `ttl` is null for state without TTL. */
export interface StateSpec {
  readonly name: string;
  readonly kind: StateKind;
  readonly ttl: TtlSettings | null;
}

/** TTL of state restored from a snapshot but not (yet) declared: TTL-wrapped, never expiring here. */
export const UNDECLARED_TTL: TtlSettings = Object.freeze({ ttlMs: Infinity, updateOnRead: false, returnExpired: false });

/** Validate and freeze a declaration. */
export function compileSpec(name: string, kind: StateKind, ttl: StateTtlConfig | undefined): StateSpec {
  if (typeof name !== "string" || name === "") throw new WeirError("WEIR_E_USER_FUNCTION", "a state needs a non-empty name");
  return Object.freeze({ name, kind, ttl: ttl === undefined ? null : compileTtl(name, ttl) });
}

function compileTtl(name: string, c: StateTtlConfig): TtlSettings {
  if (!(typeof c.ttlMs === "number" && c.ttlMs > 0 && Number.isFinite(c.ttlMs))) {
    throw new WeirError("WEIR_E_USER_FUNCTION", `state "${name}": ttl.ttlMs must be a positive number of milliseconds, got ${String(c.ttlMs)}`);
  }
  return Object.freeze({
    ttlMs: c.ttlMs,
    updateOnRead: c.updateType === "OnReadAndWrite",
    returnExpired: c.visibility === "ReturnExpiredIfNotCleanedUp",
  });
}

/** The snapshot namespace of a state. */
export function namespaceOf(spec: StateSpec): string {
  return `s:${spec.kind}${spec.ttl ? "+ttl" : ""}:${spec.name}`;
}

/** The spec a namespace was written with (undeclared TTL), or null when it is not a state namespace. */
export function specOfNamespace(ns: string): StateSpec | null {
  const m = /^s:([a-z]+)(\+ttl)?:(.+)$/s.exec(ns);
  if (m === null || !(STATE_KINDS as readonly string[]).includes(m[1]!)) return null;
  return Object.freeze({ name: m[3]!, kind: m[1] as StateKind, ttl: m[2] ? UNDECLARED_TTL : null });
}

/** How a spec reads in error messages: `value state "count" with TTL`. */
export function describeSpec(spec: StateSpec): string {
  return `${spec.kind} state "${spec.name}"${spec.ttl ? " with TTL" : ""}`;
}

/** True when two declarations may share the stored entries (same kind, both with or both without TTL). */
export function sameLayout(a: StateSpec, b: StateSpec): boolean {
  return a.kind === b.kind && (a.ttl === null) === (b.ttl === null);
}

/** True when two declarations are the same state (same layout and TTL settings). */
export function sameSpec(a: StateSpec, b: StateSpec): boolean {
  if (!sameLayout(a, b) || a.ttl === null || b.ttl === null) return sameLayout(a, b);
  return a.ttl.ttlMs === b.ttl.ttlMs && a.ttl.updateOnRead === b.ttl.updateOnRead && a.ttl.returnExpired === b.ttl.returnExpired;
}

/**
 * Split `valueState(name, x)`'s second argument: options when `x` is a plain object whose only keys
 * are `defaultValue` and/or `ttl` (at least one), otherwise the default value (the older form).
 */
export function valueStateArgs<T>(x: ValueStateOptions<T> | T | undefined): ValueStateOptions<T> {
  if (x === null || typeof x !== "object") return { defaultValue: x };
  const proto = Object.getPrototypeOf(x);
  const keys = Object.keys(x);
  const isOptions =
    (proto === Object.prototype || proto === null) && keys.length > 0 && keys.every((k) => k === "defaultValue" || k === "ttl");
  return isOptions ? (x as ValueStateOptions<T>) : { defaultValue: x as T };
}
