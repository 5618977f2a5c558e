/**
 * `weir list`, `cancel`, `savepoint`, `stop` and `checkpoints`: thin clients of a JobManager's REST
 * API. Results go to stdout (a savepoint's path alone on its line, for scripts), progress to stderr.
 * A failed request or savepoint prints `error: ...` and exits 1.
 */
import { RestClient, RestError, SavepointError } from "../jobmanager/rest-client.js";
import type { CheckpointStats } from "../jobmanager/rest-types.js";

export async function listCommand(url: string): Promise<number> {
  return reportFailures(async () => {
    const jobs = await new RestClient(url).listJobs();
    if (jobs.length === 0) {
      process.stdout.write("no jobs\n");
      return 0;
    }
    const rows = jobs.map((j) => [j.id, j.state, `${(j.duration / 1000).toFixed(1)}s`, j.name]);
    writeTable(["JOB ID", "STATE", "DURATION", "NAME"], rows, [32, 10, 9]);
    return 0;
  });
}

export async function cancelCommand(url: string, jobId: string): Promise<number> {
  return reportFailures(async () => {
    await new RestClient(url).cancelJob(jobId);
    process.stdout.write(`canceling job ${jobId}\n`);
    return 0;
  });
}

/** Options of `weir savepoint` and `weir stop`. */
export interface SavepointCommandOptions {
  /** Give up waiting after this long (ms); the savepoint may still complete. */
  timeoutMs: number;
}

/** `weir savepoint <job-id> [target-directory]`: take a savepoint and print its path. */
export async function savepointCommand(
  url: string,
  jobId: string,
  targetDirectory: string | undefined,
  opts: SavepointCommandOptions,
): Promise<number> {
  return reportFailures(async () => {
    const client = new RestClient(url);
    const { triggerId } = await client.triggerSavepoint(jobId, targetDirectory);
    process.stderr.write(`triggered savepoint ${triggerId} of job ${jobId}; waiting for it to complete\n`);
    process.stdout.write(`${await client.waitForSavepoint(jobId, triggerId, opts.timeoutMs)}\n`);
    return 0;
  });
}

/** `weir stop <job-id> [--savepoint-dir DIR] [--drain]`: stop with a savepoint and print its path. */
export async function stopCommand(
  url: string,
  jobId: string,
  opts: SavepointCommandOptions & { savepointDir?: string; drain: boolean },
): Promise<number> {
  return reportFailures(async () => {
    const client = new RestClient(url);
    const { triggerId } = await client.stopWithSavepoint(jobId, { dir: opts.savepointDir, drain: opts.drain });
    process.stderr.write(`stopping job ${jobId} with savepoint ${triggerId}${opts.drain ? " (draining)" : ""}\n`);
    process.stdout.write(`${await client.waitForSavepoint(jobId, triggerId, opts.timeoutMs)}\n`);
    return 0;
  });
}

/** `weir checkpoints <job-id>`: counts and the recent checkpoints and savepoints, newest first. */
export async function checkpointsCommand(url: string, jobId: string): Promise<number> {
  return reportFailures(async () => {
    const { counts, history, latest } = await new RestClient(url).checkpoints(jobId);
    const restored = latest.restored ? `; restored from ${latest.restored.externalPath}` : "";
    process.stdout.write(
      `completed ${counts.completed}, failed ${counts.failed}, in progress ${counts.inProgress}${restored}\n`,
    );
    if (history.length === 0) return 0;
    writeTable(
      ["ID", "TYPE", "STATUS", "TRIGGERED", "DURATION", "SIZE", "ALIGNMENT", "SYNC", "ASYNC"],
      history.map(checkpointRow),
      [6, 10, 11, 24, 9, 10],
    );
    return 0;
  });
}

function checkpointRow(c: CheckpointStats): string[] {
  return [
    String(c.id),
    c.kind,
    c.status,
    new Date(c.triggerTimestamp).toISOString(),
    duration(c.endToEndDuration),
    bytes(c.stateSize),
    `${Math.round(c.alignmentMs)} ms`,
    `${Math.round(c.syncMs)} ms`,
    `${Math.round(c.asyncMs)} ms`,
  ];
}

/** "240 ms" under a second, else "1.3s". */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** 1536 -> "1.5 KiB". */
function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Columns padded to `widths` (the last column is not padded), two spaces apart. */
function writeTable(headers: string[], rows: string[][], widths: number[]): void {
  const line = (cells: string[]) => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join("  ");
  process.stdout.write([headers, ...rows].map(line).join("\n") + "\n");
}

/** A REST or savepoint failure is the command's outcome (exit 1), not a crash with a stack trace. */
async function reportFailures(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (err) {
    if (!(err instanceof RestError || err instanceof SavepointError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
}
