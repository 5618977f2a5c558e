/**
 * Container processes. A container runs as
 * `nsenter --net=<pod netns> unshare --mount --propagation private sh -c <mounts; cd; exec argv>`:
 * every step execs, so the recorded pid is the container's own process, which leads its own process
 * group (signals go to the group) and writes stdout/stderr straight to its log file, so it outlives
 * the agent.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { MountPlan, ProcessPlan } from "./plan.js";
import { shq } from "./sh.js";

/** A started container process. */
export interface Started {
  readonly pid: number;
  /** Kernel start time of the pid (clock ticks since boot), to tell a reused pid apart. */
  readonly startTicks: number;
  readonly child: ChildProcess;
}

/** The shell lines that bind-mount volumes inside the container's private mount namespace. */
export function mountScript(mounts: readonly MountPlan[]): string {
  return mounts
    .map((m) => {
      const src = shq(m.hostPath);
      const dst = shq(m.mountPath);
      const target = `if [ -d ${src} ]; then mkdir -p ${dst}; else mkdir -p "$(dirname ${dst})"; [ -e ${dst} ] || : > ${dst}; fi`;
      const ro = m.readOnly ? `; mount -o remount,bind,ro ${dst}` : "";
      return `${target}; mount --bind ${src} ${dst}${ro}`;
    })
    .join("\n");
}

/** The full argv that runs `plan` in the pod's namespaces (`netns` undefined: the host network). */
export function containerArgv(plan: ProcessPlan, netns: string | undefined): string[] {
  const host = plan.hostname ? `hostname ${shq(plan.hostname)}\n` : "";
  const script = `set -e\n${host}${mountScript(plan.mounts)}\ncd ${shq(plan.cwd)}\nexec "$@"`;
  const net = netns ? ["nsenter", `--net=/run/netns/${netns}`, "--"] : [];
  const uts = plan.hostname ? ["--uts"] : [];
  return [...net, "unshare", "--mount", ...uts, "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", ...plan.argv];
}

/** Kernel start time of `pid` in clock ticks, or undefined when the process does not exist. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that started at `startTicks` (and not a zombie). */
export function processAlive(pid: number, startTicks: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[0] !== "Z" && Number(rest[19]) === startTicks;
  } catch {
    return false;
  }
}

/** Starts a container; its output is appended to `logFile`. */
export function startContainer(plan: ProcessPlan, netns: string | undefined, logFile: string): Promise<Started> {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  const [cmd, ...args] = containerArgv(plan, netns);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ["ignore", fd, fd], env: { ...plan.env }, detached: true, cwd: "/" });
    closeSync(fd);
    child.once("error", reject);
    child.once("spawn", () => {
      const pid = child.pid!;
      resolve({ pid, startTicks: processStartTicks(pid) ?? 0, child });
    });
  });
}

/** Sends `signal` to the container's process group; a missing group is fine. */
export function signalContainer(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/** Runs `command` inside a running container's namespaces; resolves with its exit code. */
export function execInContainer(pid: number, plan: ProcessPlan, command: readonly string[], timeoutMs: number): Promise<number> {
  const args = ["-t", String(pid), "--net", "--mount", ...(plan.hostname ? ["--uts"] : []), "--", "/bin/sh", "-c", `cd ${shq(plan.cwd)} && exec "$@"`, "sh", ...command];
  return new Promise((resolve) => {
    const child = spawn("nsenter", args, { stdio: "ignore", env: { ...plan.env }, timeout: timeoutMs, killSignal: "SIGKILL" });
    child.on("error", () => resolve(126));
    child.on("exit", (code) => resolve(code ?? 137));
  });
}
