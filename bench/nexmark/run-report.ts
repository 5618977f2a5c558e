/**
 * What `npm run bench:nexmark` reports, from the harness's measurements: one query's figures
 * ({@link summariseQuery}), printed as a block; and for `--all` a markdown table, a JSON document and
 * an SVG bar chart of events/s per core per query with each goal marked.
 *
 *   const outcome = summariseQuery(query, runs, hashes);
 *   console.log(queryBlock(outcome, setup.state));
 *   writeFileSync("nexmark-heap.svg", svgChart({ setup, outcomes }));
 *
 * Pure: figures in, text out.
 */
import { fmt, round, type BenchMark, type BenchResult } from "../harness.js";
import type { StateBackend } from "./run-options.js";

/** How the suite was run: the report's header. */
export interface Setup {
  /** The exact command (`npm run bench:nexmark -- ...`). */
  command: string;
  events: number;
  parallelism: number;
  state: StateBackend;
  checkpointMs: number | null;
  /** Generator seed and event-time rate, as the job resolved them (its defaults unless given). */
  seed: number;
  tps: number;
  runs: number;
  node: string;
  /** CPU model and count of the machine. */
  machine: string;
  date: string;
}

/** What a query is, as far as reports go. */
export interface QueryInfo {
  name: string;
  description: string;
  goalPerCore: number | null;
}

/** Checkpoint figures of a run: counts, and end-to-end duration percentiles of the completed ones. */
export interface CheckpointFigures {
  completed: number;
  failed: number;
  /** Nearest-rank percentiles of the durations; null when none completed. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** A query that ran: its median run and the figures derived from it. */
export interface Measured {
  kind: "measured";
  query: QueryInfo;
  /** The run of median events/s per core. */
  run: BenchResult;
  /** Events/s per core of every run, in run order. */
  perCoreByRun: number[];
  /** The result hash (see {@link combineHashes}); distinct values of the runs joined by " / " if they differ. */
  resultHash: string | null;
  /** Largest VmHWM of one engine process, and their sum (at least the simultaneous peak of all). */
  peakRss: { maxBytes: number; totalBytes: number };
  /** Null when checkpointing was off. */
  checkpoints: CheckpointFigures | null;
}

/** A query whose run failed (the suite goes on with the next). */
export interface Failed {
  kind: "failed";
  query: QueryInfo;
  error: string;
}

export type QueryOutcome = Measured | Failed;

/** Everything a suite run reports; the JSON file is this object. */
export interface NexmarkReport {
  setup: Setup;
  outcomes: QueryOutcome[];
}

/** Nearest-rank percentile (the smallest value with at least p% of values at or below it); null for none. */
export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The result hash of a run from the blackhole sinks' `bench-hash <subtask> <ms> <hash>` marks: the
 * subtasks' hashes added mod 2^32 (bench/nexmark/blackhole.ts: the same whatever the parallelism, and
 * equal to `rowsHash` of the expected rows), in decimal; null without marks.
 */
export function combineHashes(marks: readonly BenchMark[]): string | null {
  if (marks.length === 0) return null;
  return String(marks.reduce((acc, m) => (acc + m.value) % 2 ** 32, 0));
}

/** One query's outcome from its runs (at least one) and the result hash of each. */
export function summariseQuery(query: QueryInfo, runs: readonly BenchResult[], hashes: readonly (string | null)[]): Measured {
  const run = [...runs].sort((x, y) => x.eventsPerSecondPerCore - y.eventsPerSecondPerCore)[Math.floor(runs.length / 2)]!;
  const rss = Object.values(run.peakRssBytesByProcess);
  const distinct = [...new Set(hashes.filter((h) => h !== null))];
  const c = run.checkpoints;
  return {
    kind: "measured",
    query,
    run,
    perCoreByRun: runs.map((r) => r.eventsPerSecondPerCore),
    resultHash: distinct.length > 0 ? distinct.join(" / ") : null,
    peakRss: { maxBytes: Math.max(0, ...rss), totalBytes: rss.reduce((a, b) => a + b, 0) },
    checkpoints: c && {
      completed: c.completed,
      failed: c.failed,
      p50Ms: percentile(c.durationsMs, 50),
      p99Ms: percentile(c.durationsMs, 99),
      maxMs: percentile(c.durationsMs, 100),
    },
  };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
const ms = (x: number | null) => (x === null ? "–" : fmt(x));

/** "every 10 s", "every 500 ms" or "off". */
export function intervalText(checkpointMs: number | null): string {
  if (checkpointMs === null) return "off";
  return checkpointMs % 1000 === 0 ? `every ${checkpointMs / 1000} s` : `every ${checkpointMs} ms`;
}

/** The goal per core and whether it is met; goals are for heap state, so other backends are not judged. */
export function goalText(goal: number | null, perCore: number, state: StateBackend): string {
  if (goal === null) return "–";
  if (state !== "heap") return `${fmt(goal)} (heap)`;
  return perCore >= goal ? `${fmt(goal)} met` : `${fmt(goal)} **MISSED**`;
}

const perProcess = (values: Record<string, number>, f: (x: number) => string) =>
  Object.entries(values)
    .map(([name, v]) => `${name} ${f(v)}`)
    .join(", ");

function checkpointLine(c: CheckpointFigures | null): string {
  if (!c) return "off";
  return `${c.completed} completed, ${c.failed} failed; end-to-end duration p50 ${ms(c.p50Ms)} ms, p99 ${ms(c.p99Ms)} ms, max ${ms(c.maxMs)} ms`;
}

/** The block printed after each query. */
export function queryBlock(o: QueryOutcome, state: StateBackend): string {
  const head = `${o.query.name}: ${o.query.description}`;
  if (o.kind === "failed") return `${head}\n  FAILED: ${o.error}`;
  const r = o.run;
  const runs = o.perCoreByRun.length > 1 ? ` (median of ${o.perCoreByRun.length} runs: ${o.perCoreByRun.map(fmt).join(", ")})` : "";
  const rows: [string, string][] = [
    ["events", fmt(r.events)],
    ["wall", `${r.wallSeconds.toFixed(2)} s`],
    ["CPU", `${r.cpuSeconds.toFixed(2)} s (${perProcess(r.cpuSecondsByProcess, (s) => s.toFixed(2))})`],
    ["cores used", r.coresUsed.toFixed(2)],
    ["events/s", fmt(r.eventsPerSecond)],
    ["events/s per core", `${fmt(r.eventsPerSecondPerCore)}${runs}`],
    ["goal per core", goalText(o.query.goalPerCore, r.eventsPerSecondPerCore, state).replaceAll("**", "")],
    ["peak RSS MB", `max ${mb(o.peakRss.maxBytes)}, total ${mb(o.peakRss.totalBytes)} (${perProcess(r.peakRssBytesByProcess, mb)})`],
    ["checkpoints", checkpointLine(o.checkpoints)],
    ["rows at sink", fmt(r.atSinks)],
    ["result hash", o.resultHash ?? "–"],
    ["other load", `${r.otherCoresBusy.toFixed(2)} cores${r.otherCoresBusy > 0.2 ? " (noisy: another process used CPU)" : ""}`],
  ];
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(18)}${v}`)].join("\n");
}

/** One line describing the setup, for table and chart headers. */
export function setupLine(s: Setup): string {
  return (
    `${fmt(s.events)} events, ${s.state} state, parallelism ${s.parallelism} on ${s.parallelism} TaskManagers (1 slot each), ` +
    `checkpoints ${intervalText(s.checkpointMs)}${s.runs > 1 ? `, median of ${s.runs} runs` : ""}`
  );
}

const TABLE_HEAD = [
  "| query | events | wall s | cores used | events/s | events/s per core | goal per core (heap) | peak RSS MB max / total | checkpoints | checkpoint p50 / p99 ms | rows at sink | result hash | other load |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
];

function tableRow(o: QueryOutcome, state: StateBackend): string {
  if (o.kind === "failed") return `| ${o.query.name} | failed: ${o.error.replaceAll("|", "\\|").split("\n")[0]} |`;
  const r = o.run;
  const c = o.checkpoints;
  const cells = [
    o.query.name,
    fmt(r.events),
    r.wallSeconds.toFixed(2),
    r.coresUsed.toFixed(2),
    fmt(r.eventsPerSecond),
    fmt(r.eventsPerSecondPerCore),
    goalText(o.query.goalPerCore, r.eventsPerSecondPerCore, state),
    `${mb(o.peakRss.maxBytes)} / ${mb(o.peakRss.totalBytes)}`,
    c ? String(c.completed) : "off",
    c ? `${ms(c.p50Ms)} / ${ms(c.p99Ms)}` : "–",
    fmt(r.atSinks),
    o.resultHash ?? "–",
    r.otherCoresBusy.toFixed(2),
  ];
  return `| ${cells.join(" | ")} |`;
}

/** The markdown report: setup, the exact command, one table row per query. */
export function markdownTable(report: NexmarkReport): string {
  const s = report.setup;
  return [
    `Nexmark: ${setupLine(s)}; generator seed ${s.seed}, ${fmt(s.tps)} events per event-time second.`,
    `${s.machine}, Node ${s.node}, ${s.date}.`,
    "",
    "```sh",
    s.command,
    "```",
    "",
    ...TABLE_HEAD,
    ...report.outcomes.map((o) => tableRow(o, s.state)),
    "",
  ].join("\n");
}

/** The JSON document: the report as it is (every figure of each median run, the setup). */
export function jsonReport(report: NexmarkReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}

// ---- chart -------------------------------------------------------------------------------------

const CHART = { width: 760, left: 48, plot: 520, top: 72, row: 26, bar: 16, axis: 34 } as const;

/** A round axis step (1, 2 or 5 times a power of ten) giving about `ticks` intervals up to `max`. */
export function niceStep(max: number, ticks = 8): number {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw)!;
}

/** 1,234,567 -> "1.2M", 150000 -> "150k". */
export function compact(n: number): string {
  if (n >= 1e6) return `${round(n / 1e6, 1)}M`;
  if (n >= 1e3) return `${round(n / 1e3, 1)}k`;
  return String(Math.round(n));
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${x}" y="${y}"${attrs ? " " + attrs : ""}>${escapeXml(s)}</text>`;
}

/** One query's row: label, bar, goal mark, value. */
function chartRow(o: QueryOutcome, i: number, scale: (v: number) => number, state: StateBackend): string[] {
  const y = CHART.top + i * CHART.row;
  const mid = y + CHART.row / 2 + 4;
  const label = text(CHART.left - 8, mid, o.query.name, 'text-anchor="end"');
  if (o.kind === "failed") return [label, text(CHART.left + 4, mid, "failed", 'fill="#b00"')];
  const perCore = o.run.eventsPerSecondPerCore;
  const goal = o.query.goalPerCore;
  const missed = state === "heap" && goal !== null && perCore < goal;
  const barY = y + (CHART.row - CHART.bar) / 2;
  const out = [
    label,
    `<rect x="${CHART.left}" y="${barY}" width="${scale(perCore).toFixed(1)}" height="${CHART.bar}" fill="${missed ? "#d9534f" : "#4c78a8"}"/>`,
    text(CHART.left + CHART.plot + 14, mid, `${fmt(perCore)}${goal === null ? "" : ` (goal ${compact(goal)})`}`),
  ];
  if (goal !== null) {
    const gx = (CHART.left + scale(goal)).toFixed(1);
    out.push(`<line x1="${gx}" y1="${y + 2}" x2="${gx}" y2="${y + CHART.row - 2}" stroke="#000" stroke-width="2"/>`);
  }
  return out;
}

/** Grid lines and labels of the x axis, 0 to `max` in steps of `step`. */
function axis(max: number, step: number, scale: (v: number) => number, bottom: number): string[] {
  const out: string[] = [];
  for (let v = 0; v <= max + step / 2; v += step) {
    const x = (CHART.left + scale(v)).toFixed(1);
    out.push(`<line x1="${x}" y1="${CHART.top}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`);
    out.push(text(Number(x), bottom + 14, compact(v), 'text-anchor="middle"'));
  }
  return out;
}

/** A horizontal bar chart of events/s per core per query, each goal marked by a black line. */
export function svgChart(report: NexmarkReport): string {
  const s = report.setup;
  const values = report.outcomes.flatMap((o) => (o.kind === "measured" ? [o.run.eventsPerSecondPerCore] : []));
  const goals = report.outcomes.flatMap((o) => (o.query.goalPerCore === null ? [] : [o.query.goalPerCore]));
  const step = niceStep(Math.max(1, ...values, ...goals));
  const max = Math.ceil(Math.max(1, ...values, ...goals) / step) * step;
  const scale = (v: number) => (v / max) * CHART.plot;
  const bottom = CHART.top + report.outcomes.length * CHART.row;
  const height = bottom + CHART.axis;
  const legendY = 56;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${height}" viewBox="0 0 ${CHART.width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(8, 18, "Nexmark: events/s per core", 'font-weight="bold" font-size="14"'),
    text(8, 36, setupLine(s)),
    `<rect x="${CHART.left}" y="${legendY - 10}" width="14" height="10" fill="#4c78a8"/>`,
    text(CHART.left + 20, legendY, "events/s per core"),
    `<rect x="${CHART.left + 140}" y="${legendY - 10}" width="14" height="10" fill="#d9534f"/>`,
    text(CHART.left + 160, legendY, "below goal (heap)"),
    `<line x1="${CHART.left + 290}" y1="${legendY - 12}" x2="${CHART.left + 290}" y2="${legendY + 2}" stroke="#000" stroke-width="2"/>`,
    text(CHART.left + 298, legendY, "goal per core (heap state)"),
    ...axis(max, step, scale, bottom),
    ...report.outcomes.flatMap((o, i) => chartRow(o, i, scale, s.state)),
    "</svg>",
    "",
  ].join("\n");
}
