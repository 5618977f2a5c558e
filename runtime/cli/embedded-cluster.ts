/**
 * An embedded local cluster: a JobManager and M TaskManager processes on loopback, each a real
 * `weir jobmanager` / `weir taskmanager` child process. Used by `weir run`, tests and benchmarks.
 * Children report readiness over IPC; their stderr (logs) goes to files, TaskManagers' stdout (the
 * print sink) is passed through.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RestClient } from "../jobmanager/rest-client.js";

export interface EmbeddedClusterOptions {
  taskmanagers: number;
  slots: number;
  /** `key=value` runtime configuration passed to every process. */
  config?: string[];
  /** Where process logs go (one file per process). */
  logDir: string;
  /** Receives TaskManagers' stdout (print sink output); default: this process's stdout. */
  stdout?: NodeJS.WritableStream;
  /** Extra environment for the children. */
  env?: NodeJS.ProcessEnv;
  /** Extra arguments of the JobManager (e.g. an application job: `--job module ...`). */
  jobmanagerArgs?: string[];
  host?: string;
}

export interface ClusterProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

export interface EmbeddedCluster {
  readonly restUrl: string;
  readonly rpcAddress: string;
  readonly client: RestClient;
  readonly jobmanager: ClusterProcess;
  readonly taskmanagers: ClusterProcess[];
  readonly logDir: string;
  /** Rejects when any process exits before `stop()` (with its name and exit code). */
  readonly unexpectedExit: Promise<never>;
  /** Start one more TaskManager (a replacement after a crash) and wait until it registered. */
  addTaskManager(): Promise<ClusterProcess>;
  stop(): Promise<void>;
}

/** Path of the `weir` launcher script: bin/weir.js of the package this file belongs to (source or dist/). */
export const WEIR_BIN = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the weir package root");
    dir = up;
  }
  return join(dir, "bin", "weir.js");
})();

/** What a `weir jobmanager` / `weir taskmanager` child reports over IPC once it is up. */
export interface Ready {
  type: "ready";
  restUrl?: string;
  rpcAddress?: string;
}

/**
 * Start one `weir <args>` child process; its stderr is appended to `<logDir>/<name>.log`, its stdout
 * goes to `opts.stdout`. `ready` resolves with its IPC announcement, or rejects if it exits first.
 */
export function startProcess(
  name: string,
  args: string[],
  opts: Pick<EmbeddedClusterOptions, "logDir" | "env" | "stdout">,
): { proc: ClusterProcess; ready: Promise<Ready> } {
  const log = createWriteStream(join(opts.logDir, `${name}.log`), { flags: "a" });
  // Own process group: Ctrl-C on the terminal reaches `weir run` only, which cancels the job before
  // stopping the processes. Children exit by themselves when this process dies (IPC disconnect).
  const child = spawn(process.execPath, [WEIR_BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...opts.env },
    detached: true,
  });
  child.stderr!.pipe(log);
  child.stdout!.pipe(opts.stdout ?? process.stdout, { end: false });
  const exited = new Promise<number | null>((res) => child.once("exit", (code, signal) => res(code ?? (signal ? 128 : null))));
  const ready = new Promise<Ready>((res, rej) => {
    child.once("message", (m) => res(m as Ready));
    child.once("exit", (code) => rej(new Error(`${name} exited with code ${code} before it was ready; see ${join(opts.logDir, `${name}.log`)}`)));
  });
  return { proc: { name, child, exited }, ready };
}

export async function startEmbeddedCluster(opts: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  mkdirSync(opts.logDir, { recursive: true });
  const host = opts.host ?? "127.0.0.1";
  const cfg = (opts.config ?? []).flatMap((c) => ["--config", c]);
  const jm = startProcess("jobmanager", ["jobmanager", "--host", host, "--rpc-port", "0", "--rest-port", "0", ...cfg, ...(opts.jobmanagerArgs ?? [])], opts);
  const all: ClusterProcess[] = [jm.proc];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(all.map((p) => terminate(p)));
  };
  try {
    const ready = await jm.ready;
    const startTm = (i: number) =>
      startProcess(`taskmanager-${i}`, ["taskmanager", "--jobmanager", ready.rpcAddress!, "--host", host, "--slots", String(opts.slots), ...cfg], opts);
    const tms = Array.from({ length: opts.taskmanagers }, (_, i) => startTm(i));
    all.push(...tms.map((t) => t.proc));
    await Promise.all(tms.map((t) => t.ready));
    const client = new RestClient(ready.restUrl!);
    await waitFor(async () => (await client.overview()).taskmanagers >= opts.taskmanagers, 30_000, "TaskManagers to register");
    const unexpectedExit = new Promise<never>((_, reject) => {
      for (const p of all) {
        void p.exited.then((code) => {
          if (!stopping) reject(new Error(`${p.name} (pid ${p.child.pid}) exited unexpectedly with code ${code}; see ${join(opts.logDir, `${p.name}.log`)}`));
        });
      }
    });
    unexpectedExit.catch(() => {});
    const taskmanagers = tms.map((t) => t.proc);
    return {
      restUrl: ready.restUrl!,
      rpcAddress: ready.rpcAddress!,
      client,
      jobmanager: jm.proc,
      taskmanagers,
      logDir: opts.logDir,
      unexpectedExit,
      async addTaskManager() {
        const tm = startTm(all.length - 1);
        all.push(tm.proc);
        await tm.ready;
        taskmanagers.push(tm.proc);
        return tm.proc;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** SIGTERM, then SIGKILL after a grace period. */
export async function terminate(p: ClusterProcess, graceMs = 5_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const t = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(t);
}

/** Poll `cond` until it holds, or fail naming what was awaited. */
export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // Not there yet (e.g. connection refused while a server starts).
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
