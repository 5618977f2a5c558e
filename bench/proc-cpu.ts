/**
 * CPU time of a process from /proc (Linux): user + system time of all its threads (V8's GC and
 * compiler threads, libuv's pool), plus that of children it has waited for (esbuild, when tsx uses it);
 * and its peak memory.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second, the unit of /proc/<pid>/stat times (almost always 100). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Seconds of CPU used by `pid` so far (utime + stime + cutime + cstime). Throws if it is gone. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may contain spaces and parentheses: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / CLOCK_TICKS;
}

/**
 * Busy seconds of the whole machine so far, over all cores (from /proc/stat: everything but idle and
 * iowait). Compared with the engine's own CPU time it shows whether something else ran meanwhile.
 */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

/**
 * Peak resident set size of `pid` so far, in bytes: VmHWM of /proc/<pid>/status (the high-water mark
 * of its RSS over its whole life, all threads). Throws if the process is gone.
 */
export function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
