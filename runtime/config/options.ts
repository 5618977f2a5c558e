/**
 * Every runtime configuration key, declared once with its default and meaning. Processes read
 * overrides from `--config key=value` flags and `WEIR_CONFIG_<KEY>` environment variables (dots and
 * dashes become underscores, upper case); `resolveConfig` validates them into a frozen object.
 */
import { WeirError } from "../common/errors.js";

interface NumberOption {
  readonly default: number;
  readonly min: number;
  readonly doc: string;
}
/** A string option; `values` lists the allowed ones (an enum), else any string is accepted. */
interface StringOption {
  readonly default: string;
  readonly values?: readonly string[];
  readonly doc: string;
}
type OptionDef = NumberOption | StringOption;

export const OPTIONS = {
  "network.batch-size": { default: 1024, min: 1, doc: "Records per network batch before it is handed to a channel." },
  "network.buffers-per-channel": { default: 4, min: 1, doc: "Credits (batches) a receiving channel grants; bounds in-flight memory." },
  "network.subpartition-capacity": { default: 4, min: 1, doc: "Batches a sender queues per consumer before its task stops pulling input." },
  "network.partition-request-timeout": { default: 30_000, min: 100, doc: "How long a consumer waits for a producer's partition to appear (ms)." },
  "execution.buffer-timeout": { default: 100, min: 1, doc: "Flush partly filled batches at least this often (ms)." },
  "pipeline.auto-watermark-interval": { default: 200, min: 1, doc: "How often sources emit watermarks and check idleness (ms)." },
  "task.time-slice": { default: 10, min: 1, doc: "A task yields the event loop after processing this long (ms)." },
  "heartbeat.interval": { default: 1_000, min: 10, doc: "TaskManager -> JobManager heartbeat period, with metrics (ms)." },
  "heartbeat.timeout": { default: 10_000, min: 100, doc: "A TaskManager silent this long is lost (ms)." },
  "taskmanager.registration.timeout": {
    default: 300_000,
    min: 100,
    doc: "How long a TaskManager tries to register with its JobManager, at start and again after losing it (its tasks canceled first), before it exits with status 1 (ms).",
  },
  "slot.request.timeout": { default: 30_000, min: 100, doc: "How long a job waits for enough free slots before failing (ms)." },
  "execution.checkpointing.interval": { default: 0, min: 0, doc: "Trigger a checkpoint this often (ms); 0 disables periodic checkpoints." },
  "execution.checkpointing.min-pause": { default: 0, min: 0, doc: "At least this long between the end of one checkpoint and the start of the next (ms)." },
  "execution.checkpointing.timeout": { default: 600_000, min: 100, doc: "A checkpoint not complete after this long is aborted (ms)." },
  "execution.checkpointing.tolerable-failed-checkpoints": { default: 0, min: 0, doc: "Consecutive failed checkpoints tolerated before the job fails." },
  "execution.checkpointing.num-retained": { default: 1, min: 1, doc: "Completed checkpoints kept; older ones are deleted." },
  "execution.checkpointing.externalized-checkpoint-retention": {
    default: "RETAIN_ON_CANCELLATION",
    values: ["RETAIN_ON_CANCELLATION", "DELETE_ON_CANCELLATION"],
    doc: "Whether a canceled or failed job keeps its retained checkpoints (a finished job always deletes them).",
  },
  "state.checkpoints.dir": { default: "", doc: "Where checkpoints go: file:///dir or s3://bucket/prefix (required when checkpointing is on)." },
  "state.savepoints.dir": { default: "", doc: "Default target directory of savepoints (file:// or s3:// URL)." },
  "state.backend": { default: "heap", values: ["heap", "rocksdb"], doc: "Keyed state backend: heap (in memory) or rocksdb (on local disk)." },
  "state.backend.rocksdb.localdir": { default: "", doc: "Working directory of RocksDB instances (default: the OS temp dir)." },
  "s3.endpoint": { default: "", doc: "S3 endpoint URL for s3:// storage (empty: AWS_ENDPOINT_URL or AWS's default)." },
  "s3.region": { default: "us-east-1", doc: "Region of the S3 endpoint." },
  "s3.access-key": { default: "", doc: "S3 access key (empty: the AWS SDK's default credential chain)." },
  "s3.secret-key": { default: "", doc: "S3 secret key." },
  "s3.path-style-access": { default: "true", values: ["true", "false"], doc: "Address buckets by path (needed by most S3-compatible servers)." },
  "restart-strategy.type": {
    default: "none",
    values: ["none", "fixed-delay", "exponential-delay", "failure-rate"],
    doc: "How a failed job restarts from its latest checkpoint (none: it fails).",
  },
  "restart-strategy.fixed-delay.attempts": { default: 3, min: 0, doc: "fixed-delay: restarts before the job fails." },
  "restart-strategy.fixed-delay.delay": { default: 1_000, min: 0, doc: "fixed-delay: wait before each restart (ms)." },
  "restart-strategy.exponential-delay.initial-backoff": { default: 1_000, min: 0, doc: "exponential-delay: first wait (ms)." },
  "restart-strategy.exponential-delay.max-backoff": { default: 60_000, min: 0, doc: "exponential-delay: longest wait (ms)." },
  "restart-strategy.exponential-delay.backoff-multiplier": { default: 2, min: 1, doc: "exponential-delay: factor between waits." },
  "restart-strategy.exponential-delay.reset-backoff-threshold": {
    default: 3_600_000,
    min: 0,
    doc: "exponential-delay: running this long without failure resets the wait (ms).",
  },
  "restart-strategy.exponential-delay.attempts": { default: 1_000_000, min: 0, doc: "exponential-delay: restarts before the job fails." },
  "restart-strategy.failure-rate.max-failures-per-interval": { default: 1, min: 1, doc: "failure-rate: failures allowed per interval." },
  "restart-strategy.failure-rate.failure-rate-interval": { default: 60_000, min: 1, doc: "failure-rate: the interval (ms)." },
  "restart-strategy.failure-rate.delay": { default: 1_000, min: 0, doc: "failure-rate: wait before each restart (ms)." },
} as const satisfies Record<string, OptionDef>;

export type ConfigKey = keyof typeof OPTIONS;
type ValueOf<D> = D extends { readonly values: readonly (infer V)[] } ? V : D extends { readonly min: number } ? number : string;
export type RuntimeConfig = { readonly [K in ConfigKey]: ValueOf<(typeof OPTIONS)[K]> };

function envName(key: string): string {
  return "WEIR_CONFIG_" + key.replace(/[.-]/g, "_").toUpperCase();
}

/** Parse `key=value` strings (from flags) over environment overrides over defaults. */
export function resolveConfig(pairs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const out = {} as Record<ConfigKey, number | string>;
  for (const key of Object.keys(OPTIONS) as ConfigKey[]) {
    const fromEnv = env[envName(key)];
    out[key] = fromEnv === undefined ? OPTIONS[key].default : parseValue(key, fromEnv, envName(key));
  }
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = (eq < 0 ? pair : pair.slice(0, eq)) as ConfigKey;
    if (!Object.hasOwn(OPTIONS, key)) {
      throw new WeirError("WEIR_E_CONFIG", `unknown configuration key "${key}"; known keys: ${Object.keys(OPTIONS).join(", ")}`);
    }
    if (eq < 0) throw new WeirError("WEIR_E_CONFIG", `configuration "${pair}" needs the form key=value`);
    out[key] = parseValue(key, pair.slice(eq + 1), key);
  }
  return Object.freeze(out) as RuntimeConfig;
}

function parseValue(key: ConfigKey, raw: string, source: string): number | string {
  const def: OptionDef = OPTIONS[key];
  if (!("min" in def)) {
    if (def.values && !def.values.includes(raw)) {
      throw new WeirError("WEIR_E_CONFIG", `${source} must be one of ${def.values.join(", ")}, got "${raw}"`);
    }
    return raw;
  }
  const v = Number(raw);
  if (!Number.isFinite(v) || v < def.min) {
    throw new WeirError("WEIR_E_CONFIG", `${source} must be a number >= ${def.min}, got "${raw}"`);
  }
  return v;
}
