/**
 * `weir run <module>`: start an embedded cluster, submit the module, show progress on a terminal, and
 * exit with the job's outcome (0 finished, 1 failed, 130 canceled by Ctrl-C). Ctrl-C cancels the job
 * and waits for it to stop before the processes are terminated; a second Ctrl-C stops at once.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { UsageError } from "./usage-error.js";
import { resolveConfig } from "../config/options.js";
import type { JobDetail } from "../jobmanager/rest-types.js";
import { TERMINAL_JOB_STATES } from "../jobmanager/rest-types.js";
import { startEmbeddedCluster, type EmbeddedCluster } from "./embedded-cluster.js";
import { restoreFlags } from "./components.js";

export interface RunOptions {
  parallelism: number;
  taskmanagers?: number;
  slots?: number;
  logDir?: string;
  progress: boolean;
  config: string[];
  fromSavepoint?: string;
  fromLatestCheckpoint?: string;
  allowNonRestoredState?: boolean;
}

export async function runCommand(module: string, args: string[], opts: RunOptions): Promise<number> {
  const path = resolve(module);
  if (!existsSync(path)) throw new UsageError(`job module ${path} does not exist`);
  resolveConfig(opts.config); // reject bad keys before starting processes
  const taskmanagers = opts.taskmanagers ?? Math.max(1, Math.min(opts.parallelism, availableParallelism()));
  const slots = opts.slots ?? Math.ceil(opts.parallelism / taskmanagers);
  if (taskmanagers * slots < opts.parallelism) {
    process.stderr.write(`error: ${taskmanagers} TaskManagers x ${slots} slots cannot run parallelism ${opts.parallelism}\n`);
    return 2;
  }
  const logDir = opts.logDir ?? join(".weir", "logs", new Date().toISOString().replace(/[:.]/g, "-"));
  const cluster = await startEmbeddedCluster({ taskmanagers, slots, config: opts.config, logDir });
  process.stderr.write(`JobManager ${cluster.restUrl} with ${taskmanagers} TaskManager(s) x ${slots} slot(s); logs in ${logDir}\n`);
  let interrupted = 0;
  let jobId: string | null = null;
  const onSignal = () => {
    interrupted++;
    if (interrupted === 1 && jobId) {
      process.stderr.write("\ncanceling the job (Ctrl-C again to stop at once)...\n");
      cluster.client.cancelJob(jobId).catch(() => {});
    } else {
      void cluster.stop().then(() => process.exit(130));
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    let submitted;
    try {
      submitted = await cluster.client.submitJob({
        module: path,
        args,
        parallelism: opts.parallelism,
        ...restoreFlags(opts),
      });
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return 1;
    }
    jobId = submitted.jobId;
    const detail = await Promise.race([follow(cluster, jobId, opts.progress && process.stderr.isTTY === true), cluster.unexpectedExit]);
    return report(detail, cluster, interrupted > 0);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cluster.stop();
  }
}

/** Poll the job until it ends, drawing a progress line when asked. */
async function follow(cluster: EmbeddedCluster, jobId: string, progress: boolean): Promise<JobDetail> {
  for (;;) {
    const d = await cluster.client.jobDetail(jobId);
    if (progress) process.stderr.write(`\r\x1b[K${progressLine(d)}`);
    if (TERMINAL_JOB_STATES.has(d.state)) {
      if (progress) process.stderr.write("\n");
      return d;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Records read by sources and written by the last vertices, with rates. */
export function progressLine(d: JobDetail): string {
  const sources = d.vertices.filter((v) => !d.edges.some((e) => e.target === v.id));
  const sinks = d.vertices.filter((v) => !d.edges.some((e) => e.source === v.id));
  const sum = (vs: typeof d.vertices, f: (m: NonNullable<JobDetail["vertices"][number]["metrics"]>) => number) =>
    vs.reduce((n, v) => n + (v.metrics ? f(v.metrics) : 0), 0);
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const read = sum(sources, (m) => m.recordsIn);
  const readRate = sum(sources, (m) => m.recordsInPerSecond);
  const written = sum(sinks, (m) => m.recordsOut);
  const bp = Math.max(0, ...d.vertices.map((v) => v.metrics?.backPressuredTimeMsPerSecond ?? 0));
  return `${d.state} ${(d.duration / 1000).toFixed(1)}s | read ${fmt(read)} (${fmt(readRate)}/s) | written ${fmt(written)} | max backpressure ${fmt(bp)} ms/s`;
}

function report(d: JobDetail, cluster: EmbeddedCluster, interrupted: boolean): number {
  const line = `job ${d.name} (${d.id}) ${d.state} after ${(d.duration / 1000).toFixed(1)}s`;
  if (d.state === "FINISHED") {
    process.stderr.write(`${line}\n`);
    return 0;
  }
  if (d.state === "CANCELED") {
    process.stderr.write(`${line}\n`);
    return interrupted ? 130 : 1;
  }
  process.stderr.write(`${line}\n${d.failure ? `cause: ${d.failure.cause}\n` : ""}logs: ${cluster.logDir}\n`);
  return 1;
}
