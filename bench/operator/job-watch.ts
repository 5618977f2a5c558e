/**
 * A watch on the StreamJobs of a namespace that resolves waiters when an object first satisfies a
 * condition, timestamped when the watch event arrives: cheaper and finer than polling 50 objects.
 *
 *   const w = await JobWatch.start(kube, ns);
 *   const at = await w.until("scale-1", (j) => j.status?.observedGeneration === 2);   // ms since the epoch
 */
import { GROUP, PLURAL, VERSION } from "../../operator/api/index.js";
import type { Job } from "./jobs.js";
import { k8s, type Kube } from "./kube.js";

interface Waiter {
  name: string;
  ok: (j: Job) => boolean;
  resolve: (at: number) => void;
}

export class JobWatch {
  readonly #latest = new Map<string, Job>();
  #waiters: Waiter[] = [];
  #abort: AbortController | undefined;
  #stopped = false;

  private constructor(private readonly kube: Kube, private readonly namespace: string) {}

  static async start(kube: Kube, namespace: string): Promise<JobWatch> {
    const w = new JobWatch(kube, namespace);
    await w.#connect();
    return w;
  }

  async #connect(): Promise<void> {
    const list = (await this.kube.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL })) as { items: Job[]; metadata: { resourceVersion: string } };
    for (const j of list.items) this.#seen(j);
    this.#abort = await new k8s.Watch(this.kube.kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${this.namespace}/${PLURAL}`,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false },
      (type, obj: Job) => {
        if (type === "ADDED" || type === "MODIFIED") this.#seen(obj);
      },
      () => {
        // the server ends watches after a while: list again and go on
        if (!this.#stopped) void this.#connect().catch(() => undefined);
      },
    );
  }

  #seen(j: Job): void {
    const at = Date.now();
    this.#latest.set(j.metadata.name!, j);
    this.#waiters = this.#waiters.filter((w) => {
      if (w.name !== j.metadata.name || !w.ok(j)) return true;
      w.resolve(at);
      return false;
    });
  }

  /** ms since the epoch at which `name` first satisfied `ok` from now on (at once if its latest version does). */
  until(name: string, ok: (j: Job) => boolean, timeoutMs = 120_000): Promise<number> {
    const latest = this.#latest.get(name);
    if (latest && ok(latest)) return Promise.resolve(Date.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`StreamJob ${name}: condition not met within ${timeoutMs / 1000} s; status ${JSON.stringify(this.#latest.get(name)?.status)}`));
      }, timeoutMs);
      const waiter: Waiter = { name, ok, resolve: (at) => (clearTimeout(timer), resolve(at)) };
      this.#waiters.push(waiter);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}

/** The status reflects generation `generation` of the spec. */
export const reconciledGeneration = (generation: number) => (j: Job) => (j.status?.observedGeneration ?? 0) >= generation;
