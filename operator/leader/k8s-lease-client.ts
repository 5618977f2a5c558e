/** LeaseClient over `@kubernetes/client-node` 1.x CoordinationV1Api (object-parameter calls). */
import * as k8s from "@kubernetes/client-node";
import type { LeaderElectionRecord, ObservedLease } from "./election-state.js";
import { type LeaseClient, LeaseConflictError } from "./lease-client.js";

/** A LeaseClient for the Leases of the cluster `api` talks to. Errors other than 404/409 are rethrown as is. */
export function coordinationLeaseClient(api: k8s.CoordinationV1Api): LeaseClient {
  return {
    async get(namespace, name) {
      try {
        return toObserved(await api.readNamespacedLease({ name, namespace }), namespace, name);
      } catch (e) {
        if (e instanceof k8s.ApiException && e.code === 404) return undefined;
        throw e;
      }
    },
    async create(namespace, name, record) {
      const body: k8s.V1Lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: toSpec(record) };
      return toObserved(await conflictAware(api.createNamespacedLease({ namespace, body }), namespace, name, "already exists"), namespace, name);
    },
    async replace(namespace, name, record, resourceVersion) {
      const body: k8s.V1Lease = {
        apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace, resourceVersion }, spec: toSpec(record),
      };
      const written = api.replaceNamespacedLease({ name, namespace, body });
      return toObserved(await conflictAware(written, namespace, name, `was modified since resourceVersion ${resourceVersion}`), namespace, name);
    },
  };
}

async function conflictAware<T>(p: Promise<T>, namespace: string, name: string, detail: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof k8s.ApiException && e.code === 409) throw new LeaseConflictError(namespace, name, detail);
    throw e;
  }
}

function toSpec(r: LeaderElectionRecord): k8s.V1LeaseSpec {
  return {
    // An empty holder is written as absent, as client-go does on release.
    holderIdentity: r.holderIdentity === "" ? undefined : r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    // client-node sends a V1MicroTime with six fractional digits; the record keeps the exact string.
    acquireTime: microTime(r.acquireTime),
    renewTime: microTime(r.renewTime),
    leaseTransitions: r.leaseTransitions,
  };
}

function microTime(s: string): k8s.V1MicroTime | undefined {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : new k8s.V1MicroTime(ms);
}

function toObserved(lease: k8s.V1Lease, namespace: string, name: string): ObservedLease {
  const rv = lease.metadata?.resourceVersion;
  if (!rv) throw new Error(`Lease ${namespace}/${name}: the API returned no metadata.resourceVersion`);
  const s = lease.spec ?? {};
  return {
    resourceVersion: rv,
    record: {
      holderIdentity: s.holderIdentity ?? "",
      leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
      acquireTime: microTimeString(s.acquireTime),
      renewTime: microTimeString(s.renewTime),
      leaseTransitions: s.leaseTransitions ?? 0,
    },
  };
}

/** client-node deserializes MicroTime fields as the raw string at runtime despite the Date type; accept both. */
function microTimeString(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return typeof v === "string" ? v : "";
}
