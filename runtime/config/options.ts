/**
 * Every runtime configuration key, declared once with its default and meaning. Processes read
 * overrides from `--config key=value` flags and `WEIR_CONFIG_<KEY>` environment variables (dots and
 * dashes become underscores, upper case); `resolveConfig` validates them into a frozen object.
 */
import { WeirError } from "../common/errors.js";

interface OptionDef {
  readonly default: number;
  readonly min: number;
  readonly doc: string;
}

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
  "slot.request.timeout": { default: 30_000, min: 100, doc: "How long a job waits for enough free slots before failing (ms)." },
} as const satisfies Record<string, OptionDef>;

export type ConfigKey = keyof typeof OPTIONS;
export type RuntimeConfig = Readonly<Record<ConfigKey, number>>;

function envName(key: string): string {
  return "WEIR_CONFIG_" + key.replace(/[.-]/g, "_").toUpperCase();
}

/** Parse `key=value` strings (from flags) over environment overrides over defaults. */
export function resolveConfig(pairs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const out = {} as Record<ConfigKey, number>;
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
  return Object.freeze(out);
}

function parseValue(key: ConfigKey, raw: string, source: string): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < OPTIONS[key].min) {
    throw new WeirError("WEIR_E_CONFIG", `${source} must be a number >= ${OPTIONS[key].min}, got "${raw}"`);
  }
  return v;
}
