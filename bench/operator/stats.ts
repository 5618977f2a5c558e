/**
 * Figures of the operator benchmark: percentiles, markdown tables, and the few Prometheus text
 * series it reads from the operator's /metrics (histograms and gauges, summed over label sets).
 */

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** median and max of some durations. */
export interface Spread {
  median: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: percentile(xs, 50), max: xs.length === 0 ? NaN : Math.max(...xs) };
}

/** Milliseconds as seconds with 2 decimals ("–" when unknown). */
export const secs = (ms: number | undefined): string => (ms === undefined || Number.isNaN(ms) ? "–" : (ms / 1000).toFixed(2));

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned = header.map((_, i) => i > 0)): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (rightAligned[i] ? "---:" : "---"))), ...rows.map(line)].join("\n");
}

export const met = (value: number, goal: number): string => (value < goal ? "met" : "MISSED");

/** One sample of a Prometheus text exposition: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** A histogram's cumulative buckets (upper bound -> count), count and sum, summed over label sets. */
export interface Histogram {
  buckets: Map<number, number>;
  count: number;
  sum: number;
}

export function histogram(samples: readonly Sample[], name: string): Histogram {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const s of samples) {
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    } else if (s.name === `${name}_count`) count += s.value;
    else if (s.name === `${name}_sum`) sum += s.value;
  }
  return { buckets, count, sum };
}

/** What was recorded between two scrapes of the same histogram. */
export function histogramDelta(before: Histogram, after: Histogram): Histogram {
  const buckets = new Map<number, number>();
  for (const [le, n] of after.buckets) buckets.set(le, n - (before.buckets.get(le) ?? 0));
  return { buckets, count: after.count - before.count, sum: after.sum - before.sum };
}

/** The upper bound of the bucket holding quantile q (0..1): "p99 <= 0.05 s" is what buckets can say. */
export function bucketQuantile(h: Histogram, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  for (const le of [...h.buckets.keys()].sort((a, b) => a - b)) if (h.buckets.get(le)! >= rank) return le;
  return Infinity;
}

/** A gauge's value, summed over label sets (undefined when absent). */
export function gauge(samples: readonly Sample[], name: string): number | undefined {
  const own = samples.filter((s) => s.name === name);
  return own.length === 0 ? undefined : own.reduce((a, s) => a + s.value, 0);
}
