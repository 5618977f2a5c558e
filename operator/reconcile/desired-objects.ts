/**
 * What a StreamJob turns into, as a pure function of its spec and what the controller observed:
 * a ConfigMap with the runtime configuration, the JobManager Deployment (application mode: the pod
 * submits the job at start under a fixed job id) and its Service, and the TaskManager Deployment.
 *
 * The TaskManagers are told the JobManager's pod IP, never a Service DNS name: the local cluster has
 * no cluster DNS and the operator must not assume one. So the TaskManager Deployment can only be
 * built once the JobManager pod has an IP (`observed.jobManagerIp`).
 *
 * Every object is owned by the StreamJob (garbage-collected with it) and carries its labels.
 */
import type { V1ConfigMap, V1Container, V1Deployment, V1OwnerReference, V1PodTemplateSpec, V1Service } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { API_VERSION, KIND, parseDuration, type StreamJob } from "../api/index.js";

export const JOBMANAGER_RPC_PORT = 6123;
export const JOBMANAGER_REST_PORT = 8081;
export const TASKMANAGER_METRICS_PORT = 9249;
/** Label keys the operator sets (and selects on). */
export const LABELS = { app: "app.kubernetes.io/name", job: "weir.dev/streamjob", component: "weir.dev/component" } as const;

/**
 * Where the job starts from: a savepoint or checkpoint path, or nothing (fresh state). With
 * `latestCheckpointDir` (a dead deployment's checkpoint directory, whose newest checkpoint the operator
 * could not ask for) the JobManager restores the newest completed checkpoint found there, `path` when
 * there is none.
 */
export interface StartFrom {
  path?: string;
  latestCheckpointDir?: string;
  allowNonRestoredState: boolean;
}

export interface Observed {
  /** The running JobManager pod's IP, once it has one. */
  jobManagerIp?: string;
}

export interface DesiredObjects {
  configMap: V1ConfigMap;
  jobManager: V1Deployment;
  jobManagerService: V1Service;
  /** Null until the JobManager pod has an IP. */
  taskManager: V1Deployment | null;
}

export interface BuildOptions {
  /** Image used when the spec names none (the operator's own image, which contains Weir). */
  defaultImage: string;
  startFrom: StartFrom | null;
  /** The deployment's runtime job id ({@link deploymentJobId}). */
  jobId: string;
}

/**
 * The runtime job id of one deployment of a StreamJob: 32 hex digits from its uid and the deployment's
 * start time. Each deployment has its own, so its checkpoint directory (`<storage>/<jobId>`) holds only
 * its own checkpoints and a restarted JobManager process recovers the right one.
 */
export function deploymentJobId(job: StreamJob, deployedAt: number): string {
  const uid = job.metadata.uid ?? "";
  if (!uid) throw new Error(`StreamJob ${job.metadata.namespace}/${job.metadata.name} has no uid`);
  return createHash("sha256").update(`${uid}/${deployedAt}`).digest("hex").slice(0, 32);
}

/** `<storage>/<jobId>`: where a deployment's checkpoints go (the runtime's layout: `<dir>/<jobId>/chk-<n>`). */
export function checkpointDirOf(storage: string, jobId: string): string {
  return `${storage.replace(/\/+$/, "")}/${jobId}`;
}

/** Annotation on the JobManager Deployment recording what it runs (see {@link DeploymentRecord}). */
export const DEPLOYMENT_ANNOTATION = "weir.dev/deployment";

/** What a JobManager Deployment was built from: enough to build its TaskManagers later. */
export interface DeploymentRecord {
  spec: StreamJob["spec"];
  startFrom: StartFrom | null;
  jobId: string;
}

/** TaskManager replicas for the job's parallelism: ceil(parallelism / slots). */
export function taskManagerReplicas(job: StreamJob): number {
  const parallelism = job.spec.job.parallelism ?? 1;
  const slots = job.spec.taskManager?.slots ?? 1;
  return Math.ceil(parallelism / slots);
}

/** Runtime configuration as WEIR_CONFIG_* environment entries (what every Weir process reads). */
export function runtimeConfig(job: StreamJob): Record<string, string> {
  const s = job.spec;
  const conf: Record<string, string> = { ...(s.config ?? {}) };
  conf["state.backend"] = s.stateBackend ?? "heap";
  if (s.checkpointing) {
    conf["execution.checkpointing.interval"] = String(parseDuration(s.checkpointing.interval, "spec.checkpointing.interval"));
    conf["execution.checkpointing.timeout"] = String(parseDuration(s.checkpointing.timeout ?? "10m", "spec.checkpointing.timeout"));
    conf["execution.checkpointing.num-retained"] = String(s.checkpointing.retained ?? 1);
    conf["state.checkpoints.dir"] = s.checkpointing.storage;
    // The operator restarts from retained checkpoints (last-state): they must outlive a cancel.
    conf["execution.checkpointing.externalized-checkpoint-retention"] = "RETAIN_ON_CANCELLATION";
  }
  if (s.savepoints?.directory) conf["state.savepoints.dir"] = s.savepoints.directory;
  return Object.fromEntries(Object.entries(conf).map(([k, v]) => ["WEIR_CONFIG_" + k.replace(/[.-]/g, "_").toUpperCase(), v]));
}

export function desiredObjects(job: StreamJob, observed: Observed, opts: BuildOptions): DesiredObjects {
  const name = job.metadata.name!;
  const namespace = job.metadata.namespace!;
  const owner = ownerReference(job);
  const meta = (suffix: string, component: string) => ({
    name: `${name}-${suffix}`,
    namespace,
    labels: labelsOf(job, component),
    ownerReferences: [owner],
  });
  const configMap: V1ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: meta("config", "config"), data: runtimeConfig(job) };
  const jmArgs = [
    "jobmanager",
    "--rpc-port", String(JOBMANAGER_RPC_PORT),
    "--rest-port", String(JOBMANAGER_REST_PORT),
    "--job", job.spec.job.module,
    "--job-id", opts.jobId,
    "-p", String(job.spec.job.parallelism ?? 1),
    ...startArgs(opts.startFrom),
    "--", ...(job.spec.job.args ?? []),
  ];
  const record: DeploymentRecord = { spec: job.spec, startFrom: opts.startFrom, jobId: opts.jobId };
  const jmMeta = { ...meta("jobmanager", "jobmanager"), annotations: { [DEPLOYMENT_ANNOTATION]: JSON.stringify(record) } };
  const jobManager = deployment(jmMeta, 1, podTemplate(job, "jobmanager", container(job, opts, jmArgs, configMap, "jobmanager")));
  const jobManagerService: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta("rest", "jobmanager"),
    spec: {
      selector: labelsOf(job, "jobmanager"),
      ports: [
        { name: "rest", port: JOBMANAGER_REST_PORT, targetPort: JOBMANAGER_REST_PORT },
        { name: "rpc", port: JOBMANAGER_RPC_PORT, targetPort: JOBMANAGER_RPC_PORT },
      ],
    },
  };
  const taskManager = observed.jobManagerIp
    ? deployment(
        meta("taskmanager", "taskmanager"),
        taskManagerReplicas(job),
        podTemplate(
          job,
          "taskmanager",
          container(
            job,
            opts,
            ["taskmanager", "--jobmanager", `${observed.jobManagerIp}:${JOBMANAGER_RPC_PORT}`, "--slots", String(job.spec.taskManager?.slots ?? 1), "--metrics-port", String(TASKMANAGER_METRICS_PORT)],
            configMap,
            "taskmanager",
          ),
        ),
      )
    : null;
  return { configMap, jobManager, jobManagerService, taskManager };
}

function startArgs(from: StartFrom | null): string[] {
  if (!from) return [];
  return [
    ...(from.latestCheckpointDir ? ["--from-latest-checkpoint", from.latestCheckpointDir] : []),
    ...(from.path ? ["--from-savepoint", from.path] : []),
    ...(from.allowNonRestoredState ? ["--allow-non-restored-state"] : []),
  ];
}

function labelsOf(job: StreamJob, component: string): Record<string, string> {
  return { [LABELS.app]: "weir", [LABELS.job]: job.metadata.name!, [LABELS.component]: component };
}

function ownerReference(job: StreamJob): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: job.metadata.name!, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

function deployment(metadata: V1Deployment["metadata"], replicas: number, template: V1PodTemplateSpec): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata,
    spec: {
      replicas,
      // JobManager and TaskManagers never run two generations at once: a rolling update would let an
      // old TaskManager register with a new JobManager.
      strategy: { type: "Recreate" },
      selector: { matchLabels: template.metadata!.labels! },
      template,
    },
  };
}

function container(job: StreamJob, opts: BuildOptions, args: string[], configMap: V1ConfigMap, component: "jobmanager" | "taskmanager"): V1Container {
  const resources = (component === "jobmanager" ? job.spec.jobManager : job.spec.taskManager)?.resources;
  return {
    name: "weir",
    image: job.spec.image ?? opts.defaultImage,
    imagePullPolicy: job.spec.imagePullPolicy ?? "IfNotPresent",
    // Images hold the Weir package with its root as working directory (the local cluster's node agent
    // maps every image to the checkout), so the launcher is found there without a PATH entry.
    command: ["node", "bin/weir.js"],
    args,
    env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }],
    envFrom: [{ configMapRef: { name: configMap.metadata!.name! } }],
    ...(resources ? { resources: resources as V1Container["resources"] } : {}),
    ports:
      component === "jobmanager"
        ? [
            { name: "rest", containerPort: JOBMANAGER_REST_PORT },
            { name: "rpc", containerPort: JOBMANAGER_RPC_PORT },
          ]
        : [{ name: "metrics", containerPort: TASKMANAGER_METRICS_PORT }],
  };
}

/**
 * The pod template: the user's podTemplate (metadata and spec) with the generated "weir" container
 * merged over a container of that name in it (the user's fields first, ours win), labels added.
 */
function podTemplate(job: StreamJob, component: "jobmanager" | "taskmanager", main: V1Container): V1PodTemplateSpec {
  const user = ((component === "jobmanager" ? job.spec.jobManager : job.spec.taskManager)?.podTemplate ?? {}) as V1PodTemplateSpec;
  const userSpec = user.spec ?? { containers: [] };
  const userMain: Partial<V1Container> = userSpec.containers?.find((c) => c.name === "weir") ?? {};
  const others = (userSpec.containers ?? []).filter((c) => c.name !== "weir");
  return {
    metadata: { ...user.metadata, labels: { ...user.metadata?.labels, ...labelsOf(job, component) } },
    spec: {
      ...userSpec,
      ...(job.spec.serviceAccountName ? { serviceAccountName: job.spec.serviceAccountName } : {}),
      containers: [{ ...userMain, ...main, env: [...(userMain.env ?? []), ...(main.env ?? [])] }, ...others],
    },
  };
}
