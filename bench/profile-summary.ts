/**
 * Where CPU time goes, from V8 .cpuprofile files (`node --cpu-prof`, or `npm run bench -- --profile`):
 * self time per function (or per file), summed over the given profiles, as a markdown table.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/<stamp>/stateless-network [--top 25] [--by file]
 *
 * Directories are searched for *.cpuprofile; pass one process's file to see that process alone. Self
 * time of a sample is its time delta (more exact than hit counts when the sampling interval varies).
 * Percentages are of non-idle time. Caveat: V8 samples wall time, so when processes outnumber cores,
 * time spent waiting for a core lands in whatever was running (often socket writes that woke the
 * peer); `npm run bench -- --perf` gives on-CPU samples instead.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The subset of V8's CpuProfile format this script reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time in microseconds per key (a function, or a file), added into `into`. */
export function selfTimes(profile: CpuProfile, keyOf: (frame: ProfileNode["callFrame"]) => string, into = new Map<string, number>()): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const key = keyOf(node.callFrame);
    into.set(key, (into.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return into;
}

/** A short place for a URL: path relative to the working directory, node_modules packages by name. */
function place(url: string): string {
  if (url === "") return "(native)";
  const path = url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  return path.startsWith("/") ? relative(process.cwd(), path) : path;
}

function byFunction(f: ProfileNode["callFrame"]): string {
  const name = f.functionName || "(anonymous)";
  return f.url === "" ? name : `${name} ${place(f.url)}:${f.lineNumber + 1}`;
}

function byFile(f: ProfileNode["callFrame"]): string {
  return f.url === "" ? f.functionName || "(native)" : place(f.url);
}

function profilesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => profilesUnder(join(path, name))).filter((p) => p.endsWith(".cpuprofile"));
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "25" }, by: { type: "string", default: "function" } },
  });
  const files = positionals.flatMap(profilesUnder);
  if (files.length === 0) throw new Error("no .cpuprofile files given (pass files or directories)");
  const totals = new Map<string, number>();
  for (const file of files) selfTimes(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, values.by === "file" ? byFile : byFunction, totals);
  const idle = totals.get("(idle)") ?? 0;
  totals.delete("(idle)");
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  console.log(`${files.length} profile(s): ${files.map((f) => basename(f)).join(", ")}; ${(all / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle\n`);
  console.log(`| self % | self s | ${values.by} |\n|---:|---:|---|`);
  for (const [key, us] of rows) console.log(`| ${((100 * us) / all).toFixed(1)} | ${(us / 1e6).toFixed(2)} | ${key.replace(/\|/g, "\\|")} |`);
}

main();
