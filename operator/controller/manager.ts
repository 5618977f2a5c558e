/**
 * The operator process: warm caches on every replica, a Lease elector per leadership term, and while
 * leading a fresh work queue drained by `workers` concurrent reconciles (one at a time per StreamJob).
 * When leadership ends the term's signal aborts: in-flight reconciles write nothing more, the queue
 * shuts down, and the replica campaigns again with a new elector.
 *
 * HTTP: /healthz (alive), /readyz (caches synced; followers are ready too), /metrics (Prometheus).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../../runtime/common/logging.js";
import { createMetricsRegistry, METRICS_PATH, type MetricsRegistry } from "../../runtime/metrics/otel.js";
import { coordinationLeaseClient, LeaseElector } from "../leader/index.js";
import type { DecideConfig } from "../upgrade/index.js";
import { eventRecorder } from "./events.js";
import { OperatorCaches } from "./informers.js";
import { operatorMetrics, type OperatorMetrics } from "./metrics.js";
import { NotLeaderError, statusCode, StreamJobReconciler } from "./reconciler.js";
import { WorkQueue } from "./work-queue.js";

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** Leader identity (the pod name). */
  identity: string;
  /** Namespaces to watch; empty: all. */
  watchNamespaces: string[];
  lease: { name: string; namespace: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** HTTP port for probes and metrics; 0 picks a free one. */
  httpPort: number;
  httpHost?: string;
  defaultImage: string;
  jobDefaults: Record<string, string>;
  workers: number;
  decide?: Partial<DecideConfig>;
  resyncMs?: number;
}

export class Operator {
  readonly #o: OperatorOptions;
  readonly #caches: OperatorCaches;
  readonly #reconciler: StreamJobReconciler;
  readonly #registry: MetricsRegistry;
  readonly #metrics: OperatorMetrics;
  #server: Server | undefined;
  #queue: WorkQueue | undefined;
  #elector: LeaseElector | undefined;
  #synced = false;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: OperatorOptions) {
    this.#o = options;
    const kc = options.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    this.#caches = new OperatorCaches(kc, options.watchNamespaces, {
      onJob: (ns, name) => this.#queue?.add(`${ns}/${name}`),
      onChild: (ns, job) => this.#queue?.add(`${ns}/${job}`),
    }, options.log);
    this.#reconciler = new StreamJobReconciler({
      custom: kc.makeApiClient(CustomObjectsApi),
      objects: KubernetesObjectApi.makeApiClient(kc),
      apps: kc.makeApiClient(AppsV1Api),
      core,
      cache: this.#caches,
      events: eventRecorder(core, options.identity, options.log),
      log: options.log,
      defaultImage: options.defaultImage,
      jobDefaults: options.jobDefaults,
      ...(options.decide ? { decide: options.decide } : {}),
      ...(options.resyncMs !== undefined ? { resyncMs: options.resyncMs } : {}),
    });
    this.#registry = createMetricsRegistry("weir-operator");
    this.#metrics = operatorMetrics(this.#registry.meter, {
      isLeader: () => this.#elector?.isLeader() ?? false,
      queueStats: () => this.#queue?.stats(),
      lifecycleStates: () => this.#caches.jobs().map((j) => j.status?.lifecycleState),
    });
  }

  /** The bound HTTP port (after start). */
  get httpPort(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  isLeader(): boolean {
    return this.#elector?.isLeader() ?? false;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === METRICS_PATH) return this.#registry.handler(req, res);
      const ok = path === "/healthz" || (path === "/readyz" && this.#synced);
      res.statusCode = path === "/healthz" || path === "/readyz" ? (ok ? 200 : 503) : 404;
      res.setHeader("content-type", "text/plain");
      res.end(ok ? "ok\n" : path === "/readyz" ? "caches not synced\n" : "not found\n");
    });
    await new Promise<void>((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen({ host: this.#o.httpHost ?? "0.0.0.0", port: this.#o.httpPort }, resolve);
    });
    await this.#caches.start();
    this.#synced = true;
    this.#o.log.info({ namespaces: this.#o.watchNamespaces.length > 0 ? this.#o.watchNamespaces : "all", httpPort: this.httpPort }, "caches synced");
    this.#loop = this.#electionLoop();
  }

  async #electionLoop(): Promise<void> {
    const client = coordinationLeaseClient(this.#o.kubeConfig.makeApiClient(CoordinationV1Api));
    const { lease, log, identity } = this.#o;
    while (!this.#stopped) {
      // a fresh elector per term: no state of an old term can leak into the next
      const elector = new LeaseElector({
        client, namespace: lease.namespace, name: lease.name, identity,
        leaseDurationMs: lease.leaseDurationMs, renewDeadlineMs: lease.renewDeadlineMs, retryPeriodMs: lease.retryPeriodMs,
        onStartedLeading: (signal) => this.#lead(signal),
        onStoppedLeading: () => {
          log.warn({ identity }, "stopped leading");
          this.#queue?.shutDown();
          this.#queue = undefined;
        },
        log,
      });
      this.#elector = elector;
      await elector.run();
    }
  }

  /** One leadership term: enqueue every StreamJob and reconcile until `signal` aborts. */
  async #lead(signal: AbortSignal): Promise<void> {
    const queue = new WorkQueue({ onMetrics: (e) => this.#metrics.onQueueEvent(e) });
    this.#queue = queue;
    signal.addEventListener("abort", () => queue.shutDown(), { once: true });
    for (const job of this.#caches.jobs()) queue.add(`${job.metadata.namespace}/${job.metadata.name}`);
    await Promise.all(Array.from({ length: this.#o.workers }, () => this.#worker(queue, signal)));
  }

  async #worker(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const [namespace, name] = key.split("/") as [string, string];
      const started = performance.now();
      try {
        const result = await this.#reconciler.reconcile(namespace, name, signal);
        const seconds = (performance.now() - started) / 1000;
        this.#metrics.reconciled("success", seconds, result.action);
        this.#o.log.debug({ namespace, name, action: result.action, requeueAfterMs: result.requeueAfterMs, ms: Math.round(seconds * 1000) }, "reconciled");
        queue.forget(key);
        if (result.requeueAfterMs !== undefined && !signal.aborted) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const seconds = (performance.now() - started) / 1000;
        if (err instanceof NotLeaderError || signal.aborted) {
          this.#metrics.reconciled("not_leader", seconds);
        } else if (statusCode(err) === 409) {
          // the object changed since it was read: decide again on the new version
          this.#metrics.reconciled("conflict", seconds);
          queue.addRateLimited(key);
        } else {
          this.#metrics.reconciled("error", seconds);
          this.#o.log.error({ namespace, name, err: errorText(err) }, "reconcile failed");
          if (!signal.aborted) await this.#reconciler.recordError(namespace, name, err);
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  }

  /** Stops reconciling, releases the Lease (so another replica takes over at once), stops the caches. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#elector?.stop({ release: true });
    await this.#loop;
    await this.#caches.stop();
    await this.#registry.shutdown();
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

function errorText(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  return `${err instanceof Error ? err.message : String(err)}${typeof body === "string" ? ` ${body.slice(0, 500)}` : ""}`;
}
