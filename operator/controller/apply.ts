/**
 * Writing to the apiserver the way the operator always does: server-side apply of whole desired
 * objects under one field manager (the apiserver merges, tracks ownership per field and leaves fields
 * other managers own, e.g. an HPA's replicas), and merge patches of a StreamJob's status subresource.
 */
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi, type KubernetesObject, type KubernetesObjectApi } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type StreamJob, type StreamJobStatus } from "../api/index.js";

/** The field manager of every write the operator makes. */
export const FIELD_MANAGER = "weir-operator";

/** Server-side apply `objects` in order (force: the operator owns what it declares). Returns what the apiserver stored. */
export async function applyAll(api: KubernetesObjectApi, objects: readonly KubernetesObject[]): Promise<KubernetesObject[]> {
  const out: KubernetesObject[] = [];
  for (const obj of objects) {
    // Server-side apply must not carry server-populated fields; desired objects never do.
    out.push(await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply));
  }
  return out;
}

/** A merge patch of `.status`: present keys replace, `null` removes a field. */
export type StatusMergePatch = { [K in keyof StreamJobStatus]?: StreamJobStatus[K] | null } & Record<string, unknown>;

/**
 * Merge-patch `.status` of a StreamJob through the status subresource (spec and metadata untouched).
 * With `resourceVersion` the write is conditional: 409 Conflict when the object changed since it was
 * read, so a decision taken on a stale object is never written.
 */
export async function patchStatus(
  api: CustomObjectsApi,
  job: Pick<StreamJob, "metadata">,
  status: StatusMergePatch,
  resourceVersion?: string,
): Promise<StreamJob> {
  const body = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status };
  return (await api.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, namespace: job.metadata.namespace!, plural: PLURAL, name: job.metadata.name!, body },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  )) as StreamJob;
}

/** Set a StreamJob's finalizers (conditional on `resourceVersion`: the list is replaced whole). */
export async function patchFinalizers(api: CustomObjectsApi, job: StreamJob, finalizers: string[]): Promise<StreamJob> {
  const body = { metadata: { resourceVersion: job.metadata.resourceVersion, finalizers } };
  return (await api.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace: job.metadata.namespace!, plural: PLURAL, name: job.metadata.name!, body },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  )) as StreamJob;
}
