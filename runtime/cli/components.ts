/**
 * `weir jobmanager` and `weir taskmanager`: one component per process, as pods run them. Each binds
 * the address it is given (flag, $WEIR_HOST or $POD_IP), reports readiness to a parent over IPC when
 * there is one (the embedded cluster), and shuts down cleanly on SIGTERM.
 */
import { UsageError } from "./usage-error.js";
import { describeError } from "../common/errors.js";
import { createLogger } from "../common/logging.js";
import { resolveConfig } from "../config/options.js";
import { startJobManager } from "../jobmanager/jobmanager.js";
import { startTaskManager } from "../taskmanager/taskmanager.js";
import type { SubmitJobRequest } from "../jobmanager/rest-types.js";

/** The address to bind and advertise: never a silent default, since pods must bind their pod IP. */
export function resolveHost(flag: string | undefined): string {
  const host = flag ?? process.env.WEIR_HOST ?? process.env.POD_IP;
  if (!host) throw new UsageError("no address to bind: pass --host or set WEIR_HOST (pods: POD_IP from the downward API)");
  return host;
}

function announce(message: Record<string, unknown>): void {
  process.send?.({ type: "ready", ...message });
  // The IPC channel must not keep the process alive once it has shut down after SIGTERM.
  process.channel?.unref();
}

/** Resolve when SIGTERM or SIGINT arrives, or when the parent that started us over IPC is gone. */
function terminationSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve(sig));
    if (process.send) process.once("disconnect", () => resolve("parent exited"));
  });
}

/** Application mode: the job a JobManager submits to itself at start (what a StreamJob's JobManager pod runs). */
export interface ApplicationJob {
  module: string;
  args: string[];
  jobId?: string;
  parallelism?: number;
  fromSavepoint?: string;
  /** A job checkpoint directory whose newest completed checkpoint wins over `fromSavepoint`. */
  fromLatestCheckpoint?: string;
  allowNonRestoredState?: boolean;
}

/** The snapshot flags of `weir run` and application mode as the fields of a submission. */
export function restoreFlags(f: { fromSavepoint?: string; fromLatestCheckpoint?: string; allowNonRestoredState?: boolean }): Pick<SubmitJobRequest, "savepointPath" | "latestCheckpointDir" | "allowNonRestoredState"> {
  return {
    ...(f.fromSavepoint ? { savepointPath: f.fromSavepoint } : {}),
    ...(f.fromLatestCheckpoint ? { latestCheckpointDir: f.fromLatestCheckpoint } : {}),
    ...(f.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
  };
}

export async function jobManagerCommand(opts: { host?: string; rpcPort: number; restPort: number; config: string[]; job?: ApplicationJob }): Promise<number> {
  const host = resolveHost(opts.host);
  const config = resolveConfig(opts.config);
  const logger = createLogger("jobmanager");
  const jm = await startJobManager({ host, rpcPort: opts.rpcPort, restPort: opts.restPort, config, logger });
  logger.info({ rest: jm.restUrl, rpc: jm.rpcAddress }, "JobManager started");
  if (opts.job) {
    const j = opts.job;
    try {
      // Waits for TaskManagers' slots like any submission; a bad module or snapshot ends the process
      // with status 1, which a Deployment shows as a crash loop with this log line as the cause. Under
      // a fixed job id, a restarted JobManager resumes from the job's own latest checkpoint.
      const { jobId } = await jm.submit({
        module: j.module,
        args: j.args,
        ...(j.parallelism ? { parallelism: j.parallelism } : {}),
        ...(j.jobId ? { jobId: j.jobId } : {}),
        ...restoreFlags(j),
      });
      logger.info({ jobId, module: j.module }, "application job submitted");
    } catch (err) {
      logger.error({ err: describeError(err), module: j.module }, "the application job cannot start");
      await jm.close();
      return 1;
    }
  }
  announce({ restUrl: jm.restUrl, rpcAddress: jm.rpcAddress });
  const sig = await terminationSignal();
  logger.info({ signal: sig }, "JobManager stopping");
  await jm.close();
  return 0;
}

export async function taskManagerCommand(opts: {
  jobmanager: string;
  host?: string;
  dataPort: number;
  metricsPort: number;
  slots: number;
  config: string[];
}): Promise<number> {
  const host = resolveHost(opts.host);
  const config = resolveConfig(opts.config);
  const logger = createLogger("taskmanager");
  const tm = await startTaskManager({ jobManager: opts.jobmanager, host, dataPort: opts.dataPort, metricsPort: opts.metricsPort, slots: opts.slots, config, logger });
  logger.info({ id: tm.id, data: tm.dataAddress, metrics: tm.metricsUrl }, "TaskManager started");
  announce({ id: tm.id, dataAddress: tm.dataAddress });
  const outcome = await Promise.race([terminationSignal().then(() => "signal" as const), tm.lost.then(() => "lost" as const)]);
  await tm.close();
  return outcome === "lost" ? 1 : 0;
}
