/**
 * Informer-backed caches of StreamJobs and of the Deployments and pods the operator creates, for all
 * namespaces or a list of them. Every replica keeps them warm (followers too), so a new leader starts
 * from a full cache instead of listing everything at takeover.
 *
 * `@kubernetes/client-node`'s ListWatch re-lists on 410 Gone by itself but stops on any other error:
 * it is restarted here with a capped exponential back-off.
 */
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, ListWatch, Watch,
  type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Deployment, type V1Pod,
} from "@kubernetes/client-node";
import type { Logger } from "../../runtime/common/logging.js";
import { GROUP, PLURAL, VERSION, type StreamJob } from "../api/index.js";
import { LABELS } from "../reconcile/desired-objects.js";
import type { ChildCache } from "./reconciler.js";

/** Only objects the operator made (and that name their StreamJob) are cached. */
const CHILD_SELECTOR = `${LABELS.app}=weir,${LABELS.job}`;

export interface CacheEvents {
  /** A StreamJob was added, changed or deleted. */
  onJob(namespace: string, name: string): void;
  /** A child (Deployment or pod) of the StreamJob `jobName` changed. */
  onChild(namespace: string, jobName: string): void;
}

type Lister<T extends KubernetesObject> = () => Promise<KubernetesListObject<T>>;

export class OperatorCaches implements ChildCache {
  readonly #jobs: ListWatch<StreamJob>[] = [];
  readonly #deployments: ListWatch<V1Deployment>[] = [];
  readonly #pods: ListWatch<V1Pod>[] = [];
  readonly #log: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(kc: KubeConfig, namespaces: readonly string[], events: CacheEvents, log: Logger) {
    this.#log = log;
    const watch = new Watch(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const scopes: (string | undefined)[] = namespaces.length > 0 ? [...namespaces] : [undefined];
    for (const ns of scopes) {
      const prefix = ns ? `/namespaces/${ns}` : "";
      const jobs: Lister<StreamJob> = () => (ns
        ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })
        : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as Promise<KubernetesListObject<StreamJob>>;
      const deployments: Lister<V1Deployment> = () => (ns
        ? apps.listNamespacedDeployment({ namespace: ns, labelSelector: CHILD_SELECTOR })
        : apps.listDeploymentForAllNamespaces({ labelSelector: CHILD_SELECTOR }));
      const pods: Lister<V1Pod> = () => (ns
        ? core.listNamespacedPod({ namespace: ns, labelSelector: CHILD_SELECTOR })
        : core.listPodForAllNamespaces({ labelSelector: CHILD_SELECTOR }));
      this.#jobs.push(this.#informer(watch, `/apis/${GROUP}/${VERSION}${prefix}/${PLURAL}`, jobs, undefined, (o) => events.onJob(o.metadata!.namespace!, o.metadata!.name!)));
      const child = (o: KubernetesObject) => {
        const job = o.metadata?.labels?.[LABELS.job];
        if (job) events.onChild(o.metadata!.namespace!, job);
      };
      this.#deployments.push(this.#informer(watch, `/apis/apps/v1${prefix}/deployments`, deployments, CHILD_SELECTOR, child));
      this.#pods.push(this.#informer(watch, `/api/v1${prefix}/pods`, pods, CHILD_SELECTOR, child));
    }
  }

  #informer<T extends KubernetesObject>(watch: Watch, path: string, list: Lister<T>, selector: string | undefined, onChange: (o: T) => void): ListWatch<T> {
    const lw = new ListWatch<T>(path, watch, list, false, selector);
    for (const verb of ["add", "update", "delete"] as const) lw.on(verb, onChange);
    let failures = 0;
    lw.on("connect", () => {
      failures = 0;
    });
    lw.on("error", (err: unknown) => {
      if (this.#stopped) return;
      const delay = Math.min(30_000, 500 * 2 ** failures++);
      this.#log.warn({ path, err: String(err), retryInMs: delay }, "watch failed; restarting");
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (!this.#stopped) lw.start().catch(() => undefined); // a failed start reports through "error" again
      }, delay);
      this.#timers.add(t);
    });
    return lw;
  }

  /** Lists everything and starts watching; resolves when every cache holds a full list (readiness). */
  async start(): Promise<void> {
    const all = [...this.#jobs, ...this.#deployments, ...this.#pods] as ListWatch<KubernetesObject>[];
    for (;;) {
      try {
        await Promise.all(all.map((lw) => lw.start()));
        return;
      } catch (err) {
        if (this.#stopped) return;
        this.#log.warn({ err: String(err) }, "initial list failed; retrying");
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await Promise.all([...this.#jobs, ...this.#deployments, ...this.#pods].map((lw) => lw.stop()));
  }

  jobs(): StreamJob[] {
    return this.#jobs.flatMap((lw) => [...lw.list()]);
  }

  deployments(namespace: string, jobName: string): V1Deployment[] {
    return this.#children(this.#deployments, namespace, jobName);
  }

  pods(namespace: string, jobName: string): V1Pod[] {
    return this.#children(this.#pods, namespace, jobName);
  }

  #children<T extends KubernetesObject>(informers: ListWatch<T>[], namespace: string, jobName: string): T[] {
    return informers.flatMap((lw) => lw.list(namespace).filter((o) => o.metadata?.labels?.[LABELS.job] === jobName));
  }
}
