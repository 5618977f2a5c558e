/** Starts the node agent CLI as a child process (so tests can SIGKILL and restart it). */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A node agent running as a child process. */
export interface SpawnedAgent {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM (kills its pods' processes unless started with --keep-pods) and waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL: the pods keep running. */
  kill(): Promise<void>;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Spawns `tsx main.ts <args>`; resolves once it prints its ready line. Its output goes to
 * `<logFile>` (default `.cluster/logs/agent-<node>.log`).
 */
export function spawnNodeAgent(args: readonly string[], opts: { node: string; logFile?: string; timeoutMs?: number }): Promise<SpawnedAgent> {
  const repo = resolve(HERE, "../../..");
  const logFile = opts.logFile ?? join(repo, ".cluster", "logs", `agent-${opts.node}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const err = openSync(logFile, "a");
  const tsx = join(repo, "node_modules", ".bin", "tsx");
  const child = spawn(tsx, [join(HERE, "main.ts"), "--node", opts.node, ...args], { stdio: ["ignore", "pipe", err], cwd: repo });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stopWith = (sig: NodeJS.Signals) => async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return new Promise((resolveP, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`node agent ${opts.node} not ready after ${opts.timeoutMs ?? 30_000} ms; see ${logFile}`)); }, opts.timeoutMs ?? 30_000);
    let out = "";
    child.stdout!.on("data", (d) => {
      out += String(d);
      if (out.includes(`node agent ${opts.node} ready`)) {
        clearTimeout(timer);
        resolveP({ child, pid: child.pid!, stop: stopWith("SIGTERM"), kill: stopWith("SIGKILL") });
      }
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`node agent ${opts.node} exited with ${code}; see ${logFile}`)); });
  });
}
