/**
 * Pure translation of a Pod into process plans: one argv, environment, working directory and set of
 * bind mounts per container. All API objects the pod refers to are fetched beforehand (see
 * `referencedObjects`) and handed in as `PlanInputs`, so this module does no I/O.
 */
import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from "@kubernetes/client-node";

/** Everything outside the pod spec that a plan depends on. */
export interface PlanInputs {
  readonly podIP: string;
  readonly hostIP: string;
  readonly nodeName: string;
  /** Image name -> local root directory; `*` is the fallback. */
  readonly images: Readonly<Record<string, string>>;
  /** ConfigMap data by name (the pod's namespace); missing = not found. */
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Secret data by name, base64-decoded to UTF-8. */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Volume name -> host directory the volume was materialized in. */
  readonly volumeDirs: ReadonlyMap<string, string>;
  /** Where the apiserver is reachable from inside the pod. */
  readonly apiserver: { readonly host: string; readonly port: number };
  /** The agent's own PATH and other variables every container inherits. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Bind-mounted over /etc/hosts (maps the pod's hostname to its IP), if any. */
  readonly hostsFile?: string;
}

/** The pod's hostname as Kubernetes sets it: `spec.hostname`, else the pod name (at most 63 characters). */
export function podHostname(pod: V1Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? "pod").slice(0, 63).replace(/[-.]+$/, "");
}

/** The pod's /etc/hosts, as the kubelet writes it. */
export function hostsFileContent(pod: V1Pod, podIP: string): string {
  return `# Kubernetes-managed hosts file (weir node agent).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${podIP}\t${podHostname(pod)}\n`;
}

/** A bind mount inside the container's mount namespace. */
export interface MountPlan {
  readonly hostPath: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

/** How to run one container as a local process. */
export interface ProcessPlan {
  readonly name: string;
  readonly image: string;
  readonly root: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly mounts: readonly MountPlan[];
  /** The container's hostname (own UTS namespace); undefined = the host's (hostNetwork pods). */
  readonly hostname?: string;
}

/** A plan, or a reason the container cannot start (the kubelet's CreateContainerConfigError). */
export type PlanResult = { readonly ok: true; readonly plan: ProcessPlan } | { readonly ok: false; readonly reason: string; readonly message: string };

/** Names of the ConfigMaps and Secrets the pod's env, envFrom and volumes refer to. */
export function referencedObjects(pod: V1Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps, secrets };
}

/** The local root directory an image maps to. */
export function imageRoot(image: string, images: Readonly<Record<string, string>>): string {
  const bare = image.replace(/@sha256:[0-9a-f]+$/, "");
  const noTag = bare.replace(/:[^/:]+$/, "");
  const root = images[image] ?? images[bare] ?? images[noTag] ?? images["*"];
  if (!root) throw new Error(`image ${image} maps to no local root (configure images["${noTag}"] or images["*"])`);
  return root;
}

/** Resolves a downward-API field path against the pod; undefined when the path is unsupported. */
export function fieldValue(pod: V1Pod, ref: V1ObjectFieldSelector, inputs: Pick<PlanInputs, "podIP" | "hostIP" | "nodeName">): string | undefined {
  const path = ref.fieldPath;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!] ?? "";
  switch (path) {
    case "metadata.name": return pod.metadata?.name ?? "";
    case "metadata.namespace": return pod.metadata?.namespace ?? "default";
    case "metadata.uid": return pod.metadata?.uid ?? "";
    case "spec.nodeName": return inputs.nodeName;
    case "spec.serviceAccountName": return pod.spec?.serviceAccountName ?? "default";
    case "status.podIP": case "status.podIPs": return inputs.podIP;
    case "status.hostIP": case "status.hostIPs": return inputs.hostIP;
    default: return undefined;
  }
}

/** Kubernetes `$(VAR)` expansion: known variables are replaced, `$$` escapes, unknown ones stay. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (name === undefined) return "$";
    return env[name] ?? all;
  });
}

type EnvResult = { ok: true; env: Record<string, string> } | { ok: false; message: string };

function envVarValue(pod: V1Pod, e: V1EnvVar, inputs: PlanInputs, env: Record<string, string>): string | undefined | Error {
  if (e.value !== undefined) return expandVars(e.value, env);
  const from = e.valueFrom;
  if (!from) return "";
  if (from.fieldRef) return fieldValue(pod, from.fieldRef, inputs) ?? new Error(`env ${e.name}: unsupported fieldRef ${from.fieldRef.fieldPath}`);
  if (from.resourceFieldRef) return "0";
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  if (ref) {
    const kind = from.configMapKeyRef ? "configmap" : "secret";
    const data = (from.configMapKeyRef ? inputs.configMaps : inputs.secrets).get(ref.name ?? "");
    const v = data?.[ref.key];
    if (v !== undefined) return v;
    if (ref.optional) return undefined;
    return new Error(data ? `couldn't find key ${ref.key} in ${kind} ${pod.metadata?.namespace}/${ref.name}` : `${kind} "${ref.name}" not found`);
  }
  return new Error(`env ${e.name}: unsupported valueFrom`);
}

/** The container's environment: base env, envFrom, then env (later wins), with `$(VAR)` expansion. */
export function containerEnv(pod: V1Pod, c: V1Container, inputs: PlanInputs): EnvResult {
  const env: Record<string, string> = {
    ...inputs.baseEnv,
    HOSTNAME: pod.metadata?.name ?? "",
    KUBERNETES_SERVICE_HOST: inputs.apiserver.host,
    KUBERNETES_SERVICE_PORT: String(inputs.apiserver.port),
    KUBERNETES_PORT: `tcp://${inputs.apiserver.host}:${inputs.apiserver.port}`,
  };
  for (const f of c.envFrom ?? []) {
    const ref = f.configMapRef ?? f.secretRef;
    const kind = f.configMapRef ? "configmap" : "secret";
    const data = (f.configMapRef ? inputs.configMaps : inputs.secrets).get(ref?.name ?? "");
    if (!data) {
      if (ref?.optional) continue;
      return { ok: false, message: `${kind} "${ref?.name}" not found` };
    }
    for (const [k, v] of Object.entries(data)) env[`${f.prefix ?? ""}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    const v = envVarValue(pod, e, inputs, env);
    if (v instanceof Error) return { ok: false, message: v.message };
    if (v !== undefined) env[e.name] = v;
  }
  return { ok: true, env };
}

/** The bind mounts of a container, or an error naming a volume the pod does not declare. */
export function containerMounts(c: V1Container, volumeDirs: ReadonlyMap<string, string>): MountPlan[] | Error {
  const out: MountPlan[] = [];
  for (const m of c.volumeMounts ?? []) {
    const dir = volumeDirs.get(m.name);
    if (!dir) return new Error(`volumeMount ${m.name} of container ${c.name} names no materialized volume`);
    const hostPath = m.subPath ? `${dir}/${m.subPath}` : dir;
    out.push({ hostPath, mountPath: m.mountPath, readOnly: m.readOnly ?? false });
  }
  return out;
}

/** Plans one container of the pod. */
export function planContainer(pod: V1Pod, c: V1Container, inputs: PlanInputs): PlanResult {
  let root: string;
  try {
    root = imageRoot(c.image ?? "", inputs.images);
  } catch (err) {
    return { ok: false, reason: "ErrImagePull", message: (err as Error).message };
  }
  const env = containerEnv(pod, c, inputs);
  if (!env.ok) return { ok: false, reason: "CreateContainerConfigError", message: env.message };
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expandVars(a, env.env));
  if (argv.length === 0) {
    return { ok: false, reason: "CreateContainerConfigError", message: `container ${c.name} has no command or args (images have no entrypoint here)` };
  }
  const mounts = containerMounts(c, inputs.volumeDirs);
  if (mounts instanceof Error) return { ok: false, reason: "CreateContainerConfigError", message: mounts.message };
  const cwd = c.workingDir ?? root;
  const hostNetwork = pod.spec?.hostNetwork === true;
  const hosts = inputs.hostsFile && !hostNetwork && !mounts.some((m) => m.mountPath === "/etc/hosts")
    ? [{ hostPath: inputs.hostsFile, mountPath: "/etc/hosts", readOnly: true }] : [];
  const hostname = hostNetwork ? {} : { hostname: podHostname(pod) };
  return { ok: true, plan: { name: c.name, image: c.image ?? "", root, argv, env: env.env, cwd, mounts: [...mounts, ...hosts], ...hostname } };
}

/** Files a configMap/secret volume (or projected source) writes: `items` select and rename keys. */
export function keyFiles(
  data: Readonly<Record<string, string>>,
  items: ReadonlyArray<{ key: string; path: string }> | undefined,
): Array<{ path: string; content: string }> {
  if (!items || items.length === 0) return Object.entries(data).map(([path, content]) => ({ path, content }));
  return items.filter((i) => data[i.key] !== undefined).map((i) => ({ path: i.path, content: data[i.key]! }));
}
