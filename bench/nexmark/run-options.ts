/**
 * The command line of `npm run bench:nexmark` (bench/nexmark/run.ts), compiled once into frozen
 * options; and what those options make of the engine's configuration and the job's arguments.
 *
 *   const parsed = parseCommandLine(process.argv.slice(2), QUERIES.map((q) => q.name));
 *   if (parsed.kind === "usage") process.exitCode = parsed.exitCode; // after printing parsed.message
 *
 * Pure: nothing here reads the environment or the file system.
 */
import { parseArgs } from "node:util";

export type StateBackend = "heap" | "rocksdb";

/** Where results of `--all` go by default. */
export const DEFAULT_OUT = "bench/results/nexmark";
/** The job every query runs in (its `--query` picks the query). */
export const JOB_MODULE = "bench/nexmark/job.ts";

/** What to run, fully defaulted and validated. */
export interface NexmarkOptions {
  /** Query names, in the order they run. */
  readonly queries: readonly string[];
  /** `--all`: every query; the report files are written. */
  readonly all: boolean;
  readonly events: number;
  /** Job parallelism, and TaskManagers of 1 slot each. */
  readonly parallelism: number;
  readonly state: StateBackend;
  /** Checkpoint interval in ms, or null: no checkpoints. */
  readonly checkpointMs: number | null;
  /** Generator seed, or null: the job's default. */
  readonly seed: number | null;
  /** Event-time rate of the generator (events per second of event time), or null: the job's default. */
  readonly tps: number | null;
  /** Runs per query; the median run (by events/s per core) is reported. */
  readonly runs: number;
  /** Directory of the `--all` report files. */
  readonly out: string;
  /** `key=value` runtime configuration, applied after the runner's own. */
  readonly config: readonly string[];
  /** `--profile`: V8 CPU profiles of every engine process (bench/cpu-profiler.ts) under `<out>/profiles/`. */
  readonly profile: boolean;
}

/** The outcome of parsing: options to run with, or a message to print and the exit code (0 for --help, 2 for a bad command line). */
export type ParsedCommandLine = { kind: "run"; options: NexmarkOptions } | { kind: "usage"; exitCode: 0 | 2; message: string };

export const USAGE = `Usage: npm run bench:nexmark -- (--query q0[,q1...] | --all) [options]

  --query q0,q5         queries to run, in this order
  --all                 every query; writes <out>/nexmark-<state>.md, .json and .svg
  --events N            events per query (default 10000000; 200k, 10M accepted)
  --parallelism N       job parallelism = TaskManagers of 1 slot each (default 2)
  --state heap|rocksdb  keyed state backend (default heap)
  --checkpoint D        checkpoint interval: 10s, 500ms, 1m, or off (default off)
  --seed S              generator seed (default: the job's, 1; --seed=-5 for a negative one)
  --tps T               event-time rate of the generator, events/s (default: the job's)
  --runs N              runs per query; the median run by events/s per core is reported (default 1)
  --out DIR             where --all writes its files (default ${DEFAULT_OUT})
  --config k=v          runtime configuration for every engine process (repeatable)
  --profile             CPU profiles of every engine process under <out>/profiles/<time>/<query>-<run>
                        (summarise: npx tsx bench/profile-summary.ts <dir>); profiling slows the run
  --help                this text
`;

/** A bad command line; turned into exit code 2 by {@link parseCommandLine}. */
class UsageError extends Error {}

/** Parse the runner's arguments (without `node` and the script) against the known query names. */
export function parseCommandLine(argv: readonly string[], knownQueries: readonly string[]): ParsedCommandLine {
  try {
    const options = compile(argv, knownQueries);
    return options === "help" ? { kind: "usage", exitCode: 0, message: USAGE } : { kind: "run", options };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { kind: "usage", exitCode: 2, message: `${message}\n\n${USAGE}` };
  }
}

function compile(argv: readonly string[], knownQueries: readonly string[]): NexmarkOptions | "help" {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      query: { type: "string" },
      all: { type: "boolean", default: false },
      events: { type: "string", default: "10000000" },
      parallelism: { type: "string", default: "2" },
      state: { type: "string", default: "heap" },
      checkpoint: { type: "string", default: "off" },
      seed: { type: "string" },
      tps: { type: "string" },
      runs: { type: "string", default: "1" },
      out: { type: "string", default: DEFAULT_OUT },
      config: { type: "string", multiple: true, default: [] },
      profile: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  if (values.all === (values.query !== undefined)) throw new UsageError("give either --query or --all");
  if (values.state !== "heap" && values.state !== "rocksdb") throw new UsageError(`--state must be heap or rocksdb, got "${values.state}"`);
  const bad = values.config.filter((c) => !/^[\w.-]+=/.test(c));
  if (bad.length > 0) throw new UsageError(`--config takes key=value, got "${bad[0]}"`);
  return Object.freeze({
    queries: Object.freeze(values.all ? [...knownQueries] : queryList(values.query!, knownQueries)),
    all: values.all,
    events: count("events", values.events),
    parallelism: count("parallelism", values.parallelism),
    state: values.state,
    checkpointMs: checkpointInterval(values.checkpoint),
    seed: values.seed === undefined ? null : integer("seed", values.seed),
    tps: values.tps === undefined ? null : count("tps", values.tps),
    runs: count("runs", values.runs),
    out: values.out,
    config: Object.freeze([...values.config]),
    profile: values.profile,
  });
}

/** `q0,q5` -> ["q0", "q5"], every name known, none twice. */
function queryList(text: string, known: readonly string[]): string[] {
  const names = text.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UsageError(`unknown query ${unknown.join(", ")}; known: ${known.join(", ")}`);
  if (new Set(names).size !== names.length) throw new UsageError(`a query is named twice in --query ${text}`);
  return names;
}

/** A positive integer (see {@link integer}). */
function count(name: string, text: string): number {
  const n = integer(name, text);
  if (n < 1) throw new UsageError(`--${name} must be an integer >= 1, got "${text}"`);
  return n;
}

/** A safe integer; `k` and `M` suffixes (thousands, millions) and `_` separators allowed. */
function integer(name: string, text: string): number {
  const m = /^(-?\d[\d_]*)([kM]?)$/.exec(text.trim());
  const n = m ? Number(m[1]!.replaceAll("_", "")) * (m[2] === "k" ? 1e3 : m[2] === "M" ? 1e6 : 1) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer, got "${text}"`);
  return n;
}

function checkpointInterval(text: string): number | null {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`--checkpoint: ${(err as Error).message}`);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000 };

/**
 * A duration such as `10s`, `500ms`, `1.5s` or `2m`, in whole milliseconds; `off` (or `0`) is null.
 * Throws a RangeError for anything else, a bare number (ambiguous unit) included.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (t === "off" || t === "0") return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min)$/.exec(t);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!(Number.isSafeInteger(ms) && ms > 0)) throw new RangeError(`expected a duration such as 10s, 500ms, 1m or off, got "${text}"`);
  return ms;
}

/** The runtime configuration the options stand for, before the user's `--config` (which wins). */
export function engineConfig(o: Pick<NexmarkOptions, "state" | "checkpointMs" | "config">): string[] {
  const checkpoints = o.checkpointMs === null ? [] : [`execution.checkpointing.interval=${o.checkpointMs}`];
  return [`state.backend=${o.state}`, ...checkpoints, ...o.config];
}

/** The job's arguments for `query` (bench/nexmark/job.ts). */
export function jobArgs(query: string, o: Pick<NexmarkOptions, "events" | "seed" | "tps">): string[] {
  const seed = o.seed === null ? [] : ["--seed", String(o.seed)];
  const tps = o.tps === null ? [] : ["--tps", String(o.tps)];
  return ["--query", query, "--events", String(o.events), ...seed, ...tps];
}

/** The command that reproduces a run, for reports: `npm run bench:nexmark -- <argv>`, shell-quoted. */
export function commandLine(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  return ["npm run bench:nexmark --", ...argv.map(quote)].join(" ");
}
