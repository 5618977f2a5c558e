/**
 * Structured JSON logs on stderr, one pino logger per component:
 *
 *   const log = createLogger("jobmanager");
 *   log.info({ jobId }, "job submitted");
 *
 * stdout is reserved for the records of the print sink, so logs go to file descriptor 2 unless a
 * destination is given. The level comes from `WEIR_LOG_LEVEL` (default "info").
 */
import pino from "pino";
import { WeirError } from "./errors.js";

/** A Weir logger (pino). */
export type Logger = pino.Logger;

/** Log levels accepted by `WEIR_LOG_LEVEL` and `LoggerOptions.level`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of `createLogger`; every field is optional. */
export interface LoggerOptions {
  /** Overrides `WEIR_LOG_LEVEL`. */
  level?: LogLevel;
  /** Where JSON lines go: a pino destination stream, or a file descriptor (default 2, stderr). */
  destination?: pino.DestinationStream | number;
  /** Extra fields on every line, e.g. `{ taskmanager: "tm-1" }`. */
  bindings?: Record<string, unknown>;
}

/** The level named by `WEIR_LOG_LEVEL`, or "info"; a WeirError naming the variable when it is invalid. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = env.WEIR_LOG_LEVEL?.trim().toLowerCase();
  if (raw === undefined || raw === "") return "info";
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  throw new WeirError(
    "WEIR_E_CONFIG",
    `WEIR_LOG_LEVEL is "${env.WEIR_LOG_LEVEL}"; expected one of ${LOG_LEVELS.join(", ")}`,
  );
}

/**
 * A pino logger for `component` (reported as the `component` field), writing JSON lines with ISO
 * times and level names (`"level":"warn"`) to stderr synchronously, so the last lines before a crash
 * are not lost. Throws a WeirError (WEIR_E_CONFIG) when `WEIR_LOG_LEVEL` is not a level name.
 */
export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? 2;
  const stream = typeof destination === "number" ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      level: opts.level ?? logLevelFromEnv(),
      base: { pid: process.pid, component, ...opts.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
