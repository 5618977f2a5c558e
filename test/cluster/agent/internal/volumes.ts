/**
 * Volumes as host directories under `<stateDir>/pods/<uid>/volumes/<name>`, bind-mounted at each
 * mountPath by the container wrapper. emptyDir: a fresh directory. configMap/secret/downwardAPI/
 * projected: files written once at pod start (service-account tokens are refreshed by the worker).
 * hostPath: the path itself. persistentVolumeClaim: the bound PV's hostPath/local path, else a
 * directory per claim under `<stateDir>/../claims/<namespace>/<claim>`.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CoreV1Api, V1Pod, V1Volume } from "@kubernetes/client-node";
import { fieldValue, keyFiles } from "./plan.js";

/** What materializing needs: the API, fetched objects and where things go. */
export interface VolumeDeps {
  readonly core: CoreV1Api;
  readonly podDir: string;
  readonly claimsDir: string;
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly field: { podIP: string; hostIP: string; nodeName: string };
  /** Only rewrite configMap/secret/downwardAPI files (no tokens, no directories created). */
  readonly refreshOnly?: boolean;
}

/** A projected service-account token file the worker keeps fresh. */
export interface TokenFile {
  readonly path: string;
  readonly audience: string | undefined;
  readonly expirationSeconds: number;
}

/** Materialized volumes: name -> host directory, plus the token files to refresh. */
export interface Materialized {
  readonly dirs: Map<string, string>;
  readonly tokens: TokenFile[];
}

function writeFiles(dir: string, files: Array<{ path: string; content: string; mode?: number }>, defaultMode?: number): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const p = join(dir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
    const mode = f.mode ?? defaultMode;
    if (mode !== undefined) chmodSync(p, mode);
  }
}

function missing(kind: string, name: string | undefined, optional: boolean | undefined): Error | undefined {
  return optional ? undefined : new Error(`${kind} "${name}" not found`);
}

/** Requests a bound service-account token for the pod and writes it to `file.path`. */
export async function writeToken(pod: V1Pod, core: CoreV1Api, file: TokenFile): Promise<void> {
  const tr = await core.createNamespacedServiceAccountToken({
    name: pod.spec?.serviceAccountName ?? "default",
    namespace: pod.metadata!.namespace!,
    body: {
      spec: {
        audiences: file.audience ? [file.audience] : [],
        expirationSeconds: file.expirationSeconds,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata!.name!, uid: pod.metadata!.uid! },
      },
    },
  });
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, tr.status?.token ?? "");
}

async function claimDir(pod: V1Pod, claim: string, deps: VolumeDeps): Promise<string> {
  const ns = pod.metadata!.namespace!;
  const pvc = await deps.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns });
  if (pvc.spec?.volumeName) {
    const pv = await deps.core.readPersistentVolume({ name: pvc.spec.volumeName });
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (path) {
      mkdirSync(path, { recursive: true });
      return path;
    }
  }
  const dir = join(deps.claimsDir, ns, claim);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function materializeOne(pod: V1Pod, v: V1Volume, dir: string, deps: VolumeDeps, tokens: TokenFile[]): Promise<string> {
  if (deps.refreshOnly && !(v.configMap || v.secret || v.downwardAPI || v.projected)) return dir;
  if (v.hostPath) {
    if (v.hostPath.type === "DirectoryOrCreate" || !v.hostPath.type) mkdirSync(v.hostPath.path, { recursive: true });
    return v.hostPath.path;
  }
  if (v.persistentVolumeClaim) return claimDir(pod, v.persistentVolumeClaim.claimName, deps);
  mkdirSync(dir, { recursive: true });
  if (v.emptyDir) return dir;
  if (v.configMap) {
    const data = deps.configMaps.get(v.configMap.name ?? "");
    if (!data) { const e = missing("configmap", v.configMap.name, v.configMap.optional); if (e) throw e; return dir; }
    writeFiles(dir, keyFiles(data, v.configMap.items), v.configMap.defaultMode);
    return dir;
  }
  if (v.secret) {
    const data = deps.secrets.get(v.secret.secretName ?? "");
    if (!data) { const e = missing("secret", v.secret.secretName, v.secret.optional); if (e) throw e; return dir; }
    writeFiles(dir, keyFiles(data, v.secret.items), v.secret.defaultMode);
    return dir;
  }
  if (v.downwardAPI) {
    const files = (v.downwardAPI.items ?? []).map((i) => ({ path: i.path, content: i.fieldRef ? fieldValue(pod, i.fieldRef, deps.field) ?? "" : "0" }));
    writeFiles(dir, files, v.downwardAPI.defaultMode);
    return dir;
  }
  if (v.projected) {
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken) {
        if (deps.refreshOnly) continue;
        const t = { path: join(dir, s.serviceAccountToken.path), audience: s.serviceAccountToken.audience, expirationSeconds: s.serviceAccountToken.expirationSeconds ?? 3607 };
        await writeToken(pod, deps.core, t);
        tokens.push(t);
      } else if (s.configMap) {
        const data = deps.configMaps.get(s.configMap.name ?? "");
        if (!data) { const e = missing("configmap", s.configMap.name, s.configMap.optional); if (e) throw e; continue; }
        writeFiles(dir, keyFiles(data, s.configMap.items), v.projected.defaultMode);
      } else if (s.secret) {
        const data = deps.secrets.get(s.secret.name ?? "");
        if (!data) { const e = missing("secret", s.secret.name, s.secret.optional); if (e) throw e; continue; }
        writeFiles(dir, keyFiles(data, s.secret.items), v.projected.defaultMode);
      } else if (s.downwardAPI) {
        const files = (s.downwardAPI.items ?? []).map((i) => ({ path: i.path, content: i.fieldRef ? fieldValue(pod, i.fieldRef, deps.field) ?? "" : "0" }));
        writeFiles(dir, files, v.projected.defaultMode);
      }
    }
    return dir;
  }
  throw new Error(`volume ${v.name}: unsupported volume type (supported: emptyDir, configMap, secret, downwardAPI, projected, hostPath, persistentVolumeClaim)`);
}

/** Materializes every volume of the pod; rejects with a message naming the volume that failed. */
export async function materializeVolumes(pod: V1Pod, deps: VolumeDeps): Promise<Materialized> {
  const dirs = new Map<string, string>();
  const tokens: TokenFile[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    try {
      dirs.set(v.name, await materializeOne(pod, v, join(deps.podDir, "volumes", v.name), deps, tokens));
    } catch (err) {
      throw new Error(`volume ${v.name}: ${(err as Error).message}`);
    }
  }
  return { dirs, tokens };
}
