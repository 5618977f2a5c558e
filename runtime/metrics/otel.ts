/**
 * OpenTelemetry metrics with a Prometheus endpoint, one per Weir process (JobManager, TaskManager):
 *
 *   const metrics = await startMetrics({ serviceName: "weir-taskmanager", host: "0.0.0.0", port: 9249 });
 *   registerTaskMetrics(metrics.meter, () => tasks.map((t) => ({ labels: t.labels, metrics: t.io })));
 *   // ... scrape metrics.url ...
 *   await metrics.shutdown();
 *
 * Built on `@opentelemetry/sdk-metrics` directly rather than `@opentelemetry/sdk-node`'s NodeSDK:
 * NodeSDK registers process-global providers (only once per process, so an embedded local cluster
 * with a JobManager and TaskManagers in one process could not have one provider each), configures
 * OTLP trace and log exporters from `OTEL_*` variables by default, and does not expose its
 * MeterProvider. Nothing here touches the global OpenTelemetry API state.
 *
 * Series that come and go with tasks and jobs are not OpenTelemetry instruments (the SDK would export
 * them forever, see snapshot-producer.ts) but snapshot sources, built at each scrape:
 * `registerTaskMetrics(metrics, source)`. Use `meter` for series that live as long as the process.
 *
 * `PrometheusExporter` treats port 0 as "use the default 9464" and cannot report the port it bound,
 * so it runs with `preventServerStart` and its request handler is served from our own `node:http`
 * server, which can listen on an ephemeral port and report it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Meter } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { SnapshotProducer, type SnapshotSource } from "./snapshot-producer.js";

export { registerTaskMetrics, type TaskMetricsSource } from "./task-series.js";

/** The path the Prometheus text format is served at. */
export const METRICS_PATH = "/metrics";

/** A handler writing the Prometheus text exposition of a process's metrics. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A MeterProvider with a Prometheus reader, not yet served over HTTP. */
export interface MetricsRegistry {
  /** The meter for instruments whose series live as long as the process. */
  meter: Meter;
  /** Export the metrics `source` returns at each scrape; returns a function that removes it. */
  addSnapshotSource(source: SnapshotSource): () => void;
  /** Serves the Prometheus text format; mount it on any HTTP server (e.g. the JobManager's REST port). */
  handler: MetricsRequestHandler;
  /** Stops collection; idempotent. */
  shutdown(): Promise<void>;
}

/** A MetricsRegistry served on its own HTTP port. */
export interface MetricsServer extends MetricsRegistry {
  /** The full scrape URL, e.g. `http://127.0.0.1:40213/metrics`, with the port actually bound. */
  url: string;
}

/** Options of `startMetrics`. */
export interface MetricsOptions {
  /** `service.name` of the process (reported in `target_info`), e.g. "weir-jobmanager". */
  serviceName: string;
  /** Interface to listen on, e.g. "0.0.0.0" or "127.0.0.1". */
  host: string;
  /** Port to listen on; 0 picks a free one (see `url`). */
  port: number;
}

/**
 * Create a MeterProvider whose metrics are read by a Prometheus exporter at scrape time. Use this
 * directly to serve metrics from an existing HTTP server; `startMetrics` adds a server of its own.
 */
export function createMetricsRegistry(serviceName: string): MetricsRegistry {
  const resource = resourceFromAttributes({ "service.name": serviceName });
  const snapshots = new SnapshotProducer(resource);
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    metricProducers: [snapshots],
  });
  const provider = new MeterProvider({ resource, readers: [exporter] });
  let stopped: Promise<void> | undefined;
  return {
    meter: provider.getMeter("weir"),
    addSnapshotSource: (source) => snapshots.add(source),
    handler: (req, res) => exporter.getMetricsRequestHandler(req, res),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}

/**
 * Create a metrics registry and serve it at `http://host:port/metrics` (404 for other paths).
 * Resolves once the server listens; rejects naming the address when it cannot (e.g. port in use).
 */
export async function startMetrics(opts: MetricsOptions): Promise<MetricsServer> {
  const registry = createMetricsRegistry(opts.serviceName);
  const server = createServer((req, res) => route(registry.handler, req, res));
  try {
    await listen(server, opts.host, opts.port);
  } catch (err) {
    await registry.shutdown();
    throw new Error(`cannot serve metrics on ${opts.host}:${opts.port}: ${(err as Error).message}`, { cause: err });
  }
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    ...registry,
    url: `${httpBase(opts.host, port)}${METRICS_PATH}`,
    shutdown: () => (closed ??= closeServer(server).then(() => registry.shutdown())),
  };
}

function route(handler: MetricsRequestHandler, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? "/").split("?")[0];
  if (path === METRICS_PATH && (req.method === "GET" || req.method === "HEAD")) {
    handler(req, res);
    return;
  }
  res.statusCode = 404;
  res.setHeader("content-type", "text/plain");
  res.end(`not found: ${req.method ?? "GET"} ${path}; metrics are served at ${METRICS_PATH}\n`);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `http://host:port`, with brackets around an IPv6 literal. */
function httpBase(host: string, port: number): string {
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
