/**
 * StreamJobs of the operator benchmark: manifests (examples/wordcount.yaml, and test/jobs/exactly-once.ts
 * writing through the transactional file sink into a host directory, as test/cluster/operator.test.ts
 * builds them) and reading, patching and deleting them in the bench's job namespace.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type StreamJob, type StreamJobSpec } from "../../operator/api/index.js";
import type { UpgradeStatus } from "../../operator/upgrade/index.js";
import { RestClient } from "../../runtime/jobmanager/rest-client.js";
import { k8s, poll, REPO_ROOT, statusOf, type Kube } from "./kube.js";

/** A StreamJob as read back, with the operator's status. */
export type Job = StreamJob & { status?: UpgradeStatus };
/** A merge patch of `spec` (nested objects merge). */
export type SpecPatch = Partial<Omit<StreamJobSpec, "job">> & { job?: Partial<StreamJobSpec["job"]> };

/** examples/wordcount.yaml (an endless stream of 2000 lines/s, parallelism 2) under another name. */
export function wordcount(name: string, namespace: string, job: Partial<StreamJobSpec["job"]> = {}): Job {
  const example = parse(readFileSync(join(REPO_ROOT, "examples/wordcount.yaml"), "utf8")) as Job;
  return { ...example, metadata: { name, namespace }, spec: { ...example.spec, job: { ...example.spec.job, ...job } } };
}

/** A pod template mounting host directory `dir` at the same path (JobManager and TaskManagers). */
function hostDir(dir: string) {
  return {
    spec: {
      volumes: [{ name: "work", hostPath: { path: dir } }],
      containers: [{ name: "weir", volumeMounts: [{ name: "work", mountPath: dir }] }],
    },
  };
}

/** wordcount with savepoints into `<dir>/savepoints` (a host directory), for nonce savepoints. */
export function wordcountWithSavepoints(name: string, namespace: string, dir: string): Job {
  mkdirSync(join(dir, "savepoints"), { recursive: true });
  const job = wordcount(name, namespace);
  const podTemplate = hostDir(dir);
  job.spec = { ...job.spec, savepoints: { directory: `file://${dir}/savepoints` }, jobManager: { podTemplate }, taskManager: { slots: 1, podTemplate } };
  return job;
}

/** Keys of the exactly-once job (as in the acceptance suite). */
export const EXACTLY_ONCE_KEYS = 40;

/**
 * test/jobs/exactly-once.ts paced at `rate` events/s, as the acceptance suite builds it: checkpoints
 * every second, checkpoints and savepoints under `dir` (a host directory mounted into its pods),
 * committed output (`part-*`) in `<dir>/out`.
 */
export function exactlyOnce(name: string, namespace: string, dir: string, events: number, rate: number, job: Partial<StreamJobSpec["job"]>): { manifest: Job; out: string } {
  const out = join(dir, "out");
  mkdirSync(out, { recursive: true });
  const podTemplate = hostDir(dir);
  const manifest = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
    spec: {
      image: "weir:dev",
      job: { module: "test/jobs/exactly-once.ts", args: [String(events), String(EXACTLY_ONCE_KEYS), out, String(rate)], parallelism: 2, ...job },
      checkpointing: { interval: "1s", storage: `file://${dir}/checkpoints` },
      savepoints: { directory: `file://${dir}/savepoints` },
      config: { "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "20", "restart-strategy.fixed-delay.delay": "500" },
      jobManager: { podTemplate },
      taskManager: { slots: 1, podTemplate },
    },
  } as Job;
  return { manifest, out };
}

/** StreamJobs of one namespace. */
export class Jobs {
  constructor(private readonly kube: Kube, readonly namespace: string) {}

  private ref(name: string) {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name };
  }

  async create(job: Job): Promise<Job> {
    return (await this.kube.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, body: job })) as Job;
  }

  async get(name: string): Promise<Job> {
    return (await this.kube.custom.getNamespacedCustomObject(this.ref(name))) as Job;
  }

  async list(): Promise<Job[]> {
    const l = (await this.kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL })) as { items: Job[] };
    return l.items;
  }

  /** Merge-patch `spec`; returns the stored object (its `metadata.generation` is the one to wait for). */
  async patchSpec(name: string, spec: SpecPatch): Promise<Job> {
    return (await this.kube.custom.patchNamespacedCustomObject({ ...this.ref(name), body: { spec } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch))) as Job;
  }

  /** Poll the StreamJob every `everyMs` until `ok`. */
  waitFor(name: string, what: string, ok: (j: Job) => boolean, timeoutMs = 180_000, everyMs = 250): Promise<Job> {
    return poll(`StreamJob ${name}: ${what}`, async () => {
      const j = await this.get(name);
      return ok(j) ? j : undefined;
    }, timeoutMs, everyMs);
  }

  /** Pods of a StreamJob (JobManager and TaskManagers). */
  async pods(name: string): Promise<k8s.V1Pod[]> {
    return (await this.kube.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `weir.dev/streamjob=${name}` })).items;
  }

  /**
   * When the running JobManager says its job went RUNNING (ms since the epoch, from `GET /jobs/:id`
   * on the JobManager pod's REST port), to tell the job's start from the operator noticing it.
   */
  async jobRunningAt(name: string): Promise<number | undefined> {
    const jm = (await this.pods(name)).find((p) => p.metadata?.labels?.["weir.dev/component"] === "jobmanager" && !p.metadata.deletionTimestamp && p.status?.podIP);
    if (!jm) return undefined;
    const rest = new RestClient(`http://${jm.status!.podIP}:8081`, { timeoutMs: 5_000 });
    const [job] = await rest.listJobs();
    return job ? (await rest.jobDetail(job.id)).timestamps.RUNNING : undefined;
  }

  /** Delete and wait until the object (its finalizer released by the operator) and its pods are gone. */
  async delete(name: string, timeoutMs = 120_000): Promise<void> {
    if ((await statusOf(this.kube.custom.deleteNamespacedCustomObject(this.ref(name)))) === 404) return;
    await poll(`StreamJob ${name} deleted`, async () => (await statusOf(this.get(name))) === 404, timeoutMs, 250);
    await poll(`pods of ${name} gone`, async () => (await this.pods(name)).length === 0, timeoutMs, 250);
  }

  /** Delete every StreamJob; those still there after `timeoutMs` lose their finalizers (the operator is not releasing them). */
  async deleteAll(timeoutMs: number): Promise<string[]> {
    const names = (await this.list()).map((j) => j.metadata.name!);
    const stuck: string[] = [];
    await Promise.all(names.map(async (name) => {
      try {
        await this.delete(name, timeoutMs);
      } catch {
        stuck.push(name);
        await this.kube.custom.patchNamespacedCustomObject({ ...this.ref(name), body: { metadata: { finalizers: null } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch)).catch(() => undefined);
      }
    }));
    return stuck;
  }
}

/** STABLE, no operation in progress, the job RUNNING at `parallelism`. */
export const stableAt = (parallelism: number) => (j: Job) =>
  j.status?.lifecycleState === "STABLE" && j.status.upgrade === undefined && j.status.jobStatus?.state === "RUNNING" && j.status.jobStatus.parallelism === parallelism;
