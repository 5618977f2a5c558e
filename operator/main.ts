/**
 * `weir operator`: the Kubernetes operator process (what the Helm chart's Deployment runs).
 *
 *   weir operator [--watch-namespaces a,b] [--lease-name weir-operator] [--lease-namespace NS]
 *                 [--lease-duration 15s] [--renew-deadline 10s] [--retry-period 2s] [--http-port 8080]
 *                 [--log-level info] [--default-image IMAGE] [--job-defaults FILE] [--workers 4]
 *
 * In a pod it talks to the apiserver with its ServiceAccount; elsewhere with $KUBECONFIG or
 * ~/.kube/config (`--kubeconfig` to name one).
 */
import { existsSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { createLogger, LOG_LEVELS, type LogLevel } from "../runtime/common/logging.js";
import { parseDuration } from "./api/index.js";
import { ELECTION_DEFAULTS } from "./leader/index.js";

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export interface OperatorCommandOptions {
  watchNamespaces: string[];
  leaseName: string;
  leaseNamespace?: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  httpPort: number;
  logLevel?: LogLevel;
  defaultImage?: string;
  jobDefaults?: string;
  workers: number;
  kubeconfig?: string;
  stabilityWindow?: number;
}

const durationArg = (flag: string) => (raw: string): number => {
  try {
    return parseDuration(raw, flag);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

/** Adds the `operator` command to the `weir` program. */
export function addOperatorCommand(program: Command, port: (raw: string) => number, positiveInt: (name: string) => (raw: string) => number, setCode: (code: number) => void): void {
  program
    .command("operator")
    .description("run the Kubernetes operator (what the weir-operator Helm chart deploys)")
    .option("--watch-namespaces <list>", "comma-separated namespaces to watch (default: all)", (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean), [])
    .option("--lease-name <name>", "name of the leader-election Lease", "weir-operator")
    .option("--lease-namespace <ns>", "namespace of the Lease (default: $POD_NAMESPACE, the pod's namespace, or default)")
    .option("--lease-duration <duration>", "how long followers wait before taking over", durationArg("--lease-duration"), ELECTION_DEFAULTS.leaseDurationMs)
    .option("--renew-deadline <duration>", "how long a leader keeps acting without a successful renew", durationArg("--renew-deadline"), ELECTION_DEFAULTS.renewDeadlineMs)
    .option("--retry-period <duration>", "pause between Lease attempts", durationArg("--retry-period"), ELECTION_DEFAULTS.retryPeriodMs)
    .option("--http-port <port>", "port of /healthz, /readyz and /metrics", port, 8080)
    .addOption(new Option("--log-level <level>", "log level (default: $WEIR_LOG_LEVEL or info)").choices(LOG_LEVELS))
    .option("--default-image <image>", "image of StreamJobs that name none (default: $WEIR_OPERATOR_IMAGE or weir:0.1.0)")
    .option("--job-defaults <file>", "YAML map of runtime configuration used under every StreamJob's spec.config")
    .option("--workers <n>", "StreamJobs reconciled concurrently", positiveInt("--workers"), 4)
    .option("--kubeconfig <file>", "kubeconfig to use outside a pod (default: $KUBECONFIG, ~/.kube/config)")
    .addOption(new Option("--stability-window <duration>", "how long a deployed job must run before it is STABLE").argParser(durationArg("--stability-window")))
    .exitOverride()
    .action(async (opts: OperatorCommandOptions) => setCode(await operatorCommand(opts)));
}

export async function operatorCommand(opts: OperatorCommandOptions): Promise<number> {
  const log = createLogger("operator", opts.logLevel ? { level: opts.logLevel } : {});
  // loaded here, not at the top: every other `weir` command would pay for the Kubernetes client
  const [{ KubeConfig }, { Operator }] = await Promise.all([import("@kubernetes/client-node"), import("./controller/manager.js")]);
  const kubeConfig = new KubeConfig();
  if (opts.kubeconfig) kubeConfig.loadFromFile(opts.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  const podNamespace = process.env.POD_NAMESPACE ?? (existsSync(SERVICE_ACCOUNT_NAMESPACE) ? readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim() : undefined);
  const operator = new Operator({
    kubeConfig,
    log,
    // unique per process: a container restarted in the same pod is a new candidate, not the old leader
    identity: `${process.env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`,
    watchNamespaces: opts.watchNamespaces,
    lease: {
      name: opts.leaseName,
      namespace: opts.leaseNamespace ?? podNamespace ?? "default",
      leaseDurationMs: opts.leaseDuration,
      renewDeadlineMs: opts.renewDeadline,
      retryPeriodMs: opts.retryPeriod,
    },
    httpPort: opts.httpPort,
    defaultImage: opts.defaultImage ?? process.env.WEIR_OPERATOR_IMAGE ?? "weir:0.1.0",
    jobDefaults: opts.jobDefaults ? readJobDefaults(opts.jobDefaults) : {},
    workers: opts.workers,
    ...(opts.stabilityWindow !== undefined ? { decide: { stabilityWindowMs: opts.stabilityWindow } } : {}),
  });
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "shutting down");
      void operator.stop().then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await operator.start();
  await stopped;
  return 0;
}

/** The `--job-defaults` file: a YAML map of configuration keys to scalar values (read as strings). */
export function readJobDefaults(file: string): Record<string, string> {
  const parsed: unknown = parseYaml(readFileSync(file, "utf8")) ?? {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new InvalidArgumentError(`--job-defaults ${file}: expected a map of configuration keys to values`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (v !== null && typeof v === "object") throw new InvalidArgumentError(`--job-defaults ${file}: "${k}" must be a scalar`);
    out[k] = String(v);
  }
  return out;
}
