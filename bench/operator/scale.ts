/**
 * Reconcile latency with many StreamJobs: `jobs` suspended StreamJobs (no pods: 50 running jobs would be
 * 150 processes on a 2-core machine) next to `running` small running ones (wordcount at parallelism 1:
 * a JobManager and a TaskManager each, observed through their REST API every resync).
 *
 * Latency of a spec change = patch request sent -> a watch event showing `status.observedGeneration`
 * at the patched generation (`spec.restartNonce` bumped on a suspended job: the operator records the
 * spec, nothing else happens). Measured for all suspended jobs patched at once (burst) and one at a
 * time (single). The leader's /metrics is scraped around the burst and sampled every 100 ms during it,
 * and over a 10 s idle window (reconciles/s, the leader process's CPU).
 */
import { cpuSeconds } from "../proc-cpu.js";
import { leaderPod, scrape, type Installed } from "./install.js";
import { reconciledGeneration, JobWatch } from "./job-watch.js";
import { stableAt, wordcount, type Job } from "./jobs.js";
import { containerPid, sleep } from "./kube.js";
import { bucketQuantile, gauge, histogram, histogramDelta, parseProm, percentile, secs, table, type Histogram } from "./stats.js";

const SINGLE_SAMPLES = 20;
const IDLE_WINDOW_MS = 10_000;
const RECONCILE = "weir_operator_reconcile_duration_seconds";
const QUEUE_LATENCY = "weir_operator_queue_latency_seconds";

export interface Latencies {
  p50: number;
  p99: number;
  max: number;
  /** First request sent -> last status seen. */
  allMs: number;
}

export interface HistogramFigures {
  count: number;
  meanMs: number;
  /** Upper bounds of the buckets holding the median and the 99th percentile. */
  p50LeMs: number;
  p99LeMs: number;
}

export interface ScaleResult {
  jobs: number;
  running: number;
  /** Creating the suspended jobs: create sent -> SUSPENDED with the generation recorded. */
  initial: Latencies;
  idle: { reconcilesPerSecond: number; leaderCpuCores?: number; queueDepth?: number };
  burst: Latencies & { reconcile: HistogramFigures; queueLatency: HistogramFigures; maxQueueDepth: number };
  single: Latencies;
  /** Delete request of every StreamJob -> all gone. */
  deleteAllMs: number;
}

function latencies(pairs: readonly { sent: number; seen: number }[]): Latencies {
  const ds = pairs.map((p) => p.seen - p.sent);
  return { p50: percentile(ds, 50), p99: percentile(ds, 99), max: Math.max(...ds), allMs: Math.max(...pairs.map((p) => p.seen)) - Math.min(...pairs.map((p) => p.sent)) };
}

function figures(h: Histogram): HistogramFigures {
  return { count: h.count, meanMs: h.count > 0 ? (h.sum / h.count) * 1000 : NaN, p50LeMs: bucketQuantile(h, 0.5) * 1000, p99LeMs: bucketQuantile(h, 0.99) * 1000 };
}

const counter = (text: string, name: string) => parseProm(text).filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

/** Patch `spec.restartNonce` of `names` (all at once) and time each until its status shows the new generation. */
async function patchAndWait(i: Installed, watch: JobWatch, names: readonly string[], nonce: number): Promise<{ sent: number; seen: number }[]> {
  return Promise.all(names.map(async (name) => {
    const sent = Date.now();
    const patched = await i.jobs.patchSpec(name, { restartNonce: nonce });
    const seen = await watch.until(name, reconciledGeneration(patched.metadata.generation!));
    return { sent, seen };
  }));
}

async function idleWindow(i: Installed): Promise<ScaleResult["idle"]> {
  const leader = await leaderPod(i);
  const pid = containerPid(leader.metadata!.name!);
  const before = await scrape(leader.status!.podIP!);
  const cpu0 = pid !== undefined ? cpuSeconds(pid) : undefined;
  const t0 = Date.now();
  await sleep(IDLE_WINDOW_MS);
  const after = await scrape(leader.status!.podIP!);
  const seconds = (Date.now() - t0) / 1000;
  const queueDepth = gauge(parseProm(after), "weir_operator_queue_depth");
  return {
    reconcilesPerSecond: (counter(after, `${RECONCILE}_count`) - counter(before, `${RECONCILE}_count`)) / seconds,
    ...(cpu0 !== undefined ? { leaderCpuCores: (cpuSeconds(pid!) - cpu0) / seconds } : {}),
    ...(queueDepth !== undefined ? { queueDepth } : {}),
  };
}

async function burst(i: Installed, watch: JobWatch, names: readonly string[]): Promise<ScaleResult["burst"]> {
  const ip = (await leaderPod(i)).status!.podIP!;
  const before = parseProm(await scrape(ip));
  let maxQueueDepth = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const depth = gauge(parseProm(await scrape(ip).catch(() => "")), "weir_operator_queue_depth");
      if (depth !== undefined) maxQueueDepth = Math.max(maxQueueDepth, depth);
      await sleep(100);
    }
  })();
  const pairs = await patchAndWait(i, watch, names, 1);
  sampling = false;
  await sampler;
  const after = parseProm(await scrape(ip));
  return {
    ...latencies(pairs),
    reconcile: figures(histogramDelta(histogram(before, RECONCILE), histogram(after, RECONCILE))),
    queueLatency: figures(histogramDelta(histogram(before, QUEUE_LATENCY), histogram(after, QUEUE_LATENCY))),
    maxQueueDepth,
  };
}

export async function benchScale(i: Installed, jobs: number, running: number, log: (s: string) => void): Promise<ScaleResult> {
  const watch = await JobWatch.start(i.kube, i.jobs.namespace);
  try {
    const runningNames = Array.from({ length: running }, (_, k) => `scale-run-${k + 1}`);
    await Promise.all(runningNames.map((n) => i.jobs.create(wordcount(n, i.jobs.namespace, { parallelism: 1 }))));
    await Promise.all(runningNames.map((n) => i.jobs.waitFor(n, "STABLE", stableAt(1))));
    log(`scale: ${running} running jobs STABLE; creating ${jobs} suspended ones`);

    const names = Array.from({ length: jobs }, (_, k) => `scale-${k + 1}`);
    const created = await Promise.all(names.map(async (name) => {
      const sent = Date.now();
      const job: Job = wordcount(name, i.jobs.namespace, { parallelism: 1, state: "suspended" });
      const c = await i.jobs.create(job);
      const seen = await watch.until(name, (j) => j.status?.lifecycleState === "SUSPENDED" && reconciledGeneration(c.metadata.generation!)(j));
      return { sent, seen };
    }));
    const initial = latencies(created);
    log(`scale: ${jobs} created and SUSPENDED in ${secs(initial.allMs)} s (p50 ${secs(initial.p50)} s)`);

    await sleep(3_000); // let the creation wave settle
    const idle = await idleWindow(i);
    log(`scale: idle ${idle.reconcilesPerSecond.toFixed(1)} reconciles/s, leader CPU ${idle.leaderCpuCores?.toFixed(3) ?? "?"} cores`);
    const b = await burst(i, watch, names);
    log(`scale: burst of ${jobs} patches: p50 ${secs(b.p50)} s, p99 ${secs(b.p99)} s, all in ${secs(b.allMs)} s; max queue depth ${b.maxQueueDepth}`);
    const singles: { sent: number; seen: number }[] = [];
    for (const name of names.slice(0, SINGLE_SAMPLES)) {
      await sleep(200);
      singles.push(...(await patchAndWait(i, watch, [name], 2)));
    }
    const single = latencies(singles);
    log(`scale: one at a time: p50 ${secs(single.p50)} s, p99 ${secs(single.p99)} s`);

    const t0 = Date.now();
    await Promise.all([...names, ...runningNames].map((n) => i.jobs.delete(n)));
    return { jobs, running, initial, idle, burst: b, single, deleteAllMs: Date.now() - t0 };
  } finally {
    watch.stop();
  }
}

export function scaleTable(r: ScaleResult): string {
  const ms = (x: number) => (Number.isFinite(x) ? (x / 1000).toFixed(3) : x === Infinity ? "> 10" : "–");
  const lat = (label: string, l: Latencies): string[] => [label, ms(l.p50), ms(l.p99), ms(l.max), secs(l.allMs)];
  const hist = (h: HistogramFigures) => `${h.count} observations, mean ${ms(h.meanMs)} s, p50 <= ${ms(h.p50LeMs)} s, p99 <= ${ms(h.p99LeMs)} s (bucket bounds)`;
  return table([`${r.jobs} suspended + ${r.running} running StreamJobs`, "p50 s", "p99 s", "max s", "first sent -> last seen s"], [
    lat(`create ${r.jobs} suspended -> SUSPENDED`, r.initial),
    lat(`**patch all ${r.jobs} at once -> observedGeneration**`, r.burst),
    lat(`patch one at a time (${SINGLE_SAMPLES}) -> observedGeneration`, r.single),
  ]) + "\n\n" + [
    `- operator /metrics over the burst: \`weir_operator_reconcile_duration_seconds\` ${hist(r.burst.reconcile)}; ` +
      `\`weir_operator_queue_latency_seconds\` ${hist(r.burst.queueLatency)}; \`weir_operator_queue_depth\` at most ${r.burst.maxQueueDepth} (sampled every 100 ms)`,
    `- idle (${IDLE_WINDOW_MS / 1000} s, nothing changing): ${r.idle.reconcilesPerSecond.toFixed(1)} reconciles/s, leader process ${r.idle.leaderCpuCores?.toFixed(3) ?? "?"} cores, queue depth ${r.idle.queueDepth ?? "?"}`,
    `- deleting all ${r.jobs + r.running} StreamJobs -> gone: ${secs(r.deleteAllMs)} s`,
  ].join("\n");
}
