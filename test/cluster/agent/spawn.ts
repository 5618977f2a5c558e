/**
 * Starting and stopping the node agent CLI as a separate process, so tests can SIGKILL and restart
 * it and `cluster:up` can leave it running (`detached: true`). Its stdout and stderr go to a log file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A node agent running as a separate process. */
export interface SpawnedAgent {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM (it kills its pods' processes unless started with --keep-pods) and waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL: the pods keep running, a later agent for the node re-adopts them. */
  kill(): Promise<void>;
}

/** Options of `spawnNodeAgent`. */
export interface SpawnOptions {
  readonly node: string;
  /** Default `.cluster/logs/agent-<node>.log`. */
  readonly logFile?: string;
  /** Outlive the caller (for `cluster:up`); stop it later with `stopNodeAgent(stateDir)`. */
  readonly detached?: boolean;
  readonly timeoutMs?: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../../..");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/**
 * Spawns `node --import tsx main.ts --node <node> <args>` (not the tsx wrapper, so the pid is the
 * agent itself); resolves once it logs its ready line.
 */
export async function spawnNodeAgent(args: readonly string[], opts: SpawnOptions): Promise<SpawnedAgent> {
  const logFile = opts.logFile ?? join(REPO, ".cluster", "logs", `agent-${opts.node}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const offset = existsSync(logFile) ? statSync(logFile).size : 0;
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "main.ts"), "--node", opts.node, ...args], {
    stdio: ["ignore", fd, fd], cwd: REPO, detached: opts.detached ?? false,
  });
  closeSync(fd);
  if (opts.detached) child.unref();
  const pid = child.pid!;
  const signal = (sig: NodeJS.Signals) => async () => {
    if (alive(pid)) process.kill(pid, sig);
    await waitExit(pid, 60_000);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const out = readFileSync(logFile, "utf8").slice(offset);
    if (out.includes(`node agent ${opts.node} ready`)) break;
    if (!alive(pid) || child.exitCode !== null) throw new Error(`node agent ${opts.node} exited before it was ready; see ${logFile}`);
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      throw new Error(`node agent ${opts.node} not ready after ${opts.timeoutMs ?? 30_000} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, pid, stop: signal("SIGTERM"), kill: signal("SIGKILL") };
}

/**
 * Stops the agent that owns `stateDir` (its `agent.pid`) with SIGTERM, which kills its pods'
 * processes and removes their network namespaces; resolves false when none was running.
 */
export async function stopNodeAgent(stateDir: string, timeoutMs = 60_000): Promise<boolean> {
  const file = join(stateDir, "agent.pid");
  if (!existsSync(file)) return false;
  const pid = Number(readFileSync(file, "utf8"));
  if (!(pid > 0) || !alive(pid)) return false;
  process.kill(pid, "SIGTERM");
  if (!(await waitExit(pid, timeoutMs))) process.kill(pid, "SIGKILL");
  return true;
}
