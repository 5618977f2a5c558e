/**
 * Where CPU time goes, from `perf record -g` data of engine processes (`npm run bench -- --perf`):
 * every on-CPU sample is put in one category by the innermost frame that says what the work was for
 * (a JavaScript function's file, the garbage collector, the compiler, a system call), and the table
 * lists categories by share, with the top functions inside each.
 *
 *   npx tsx bench/perf-summary.ts bench/results/perf/<stamp>/stateless-network-1.data [--pid 1234,1235]
 *
 * Needs the perf map files that `--perf-basic-prof` wrote (/tmp/perf-<pid>.map) to name JIT code.
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";

/** Category rules, first match wins, tried on each frame from the leaf outwards. */
const RULES: readonly [RegExp, string][] = [
  [/Scaveng|Heap::|MarkCompact|ConcurrentMarking|Sweeper|Evacuat|MinorMC|GCTracer/, "garbage collection"],
  [/compiler::|Compiler::|Maglev|interpreter::Bytecode|CompileLazy|baseline::|Parser::Parse|ParseProgram/, "JIT / compilation"],
  [/msgpackr\/pack\.js|serializer\.js:\d+:\d+.*encode|encodeBatch|encodeData|encodeElement/, "serialize (msgpackr pack)"],
  [/msgpackr\/unpack\.js|decodeBatch|decodeElement|extractStrings/, "deserialize (msgpackr unpack)"],
  [/runtime\/network\/(framing|server-connection|client-connection|remote-channel|transport)/, "network stack (framing, credit, send loop)"],
  [/runtime\/network\/(record-writer)/, "partitioning (record writer)"],
  [/runtime\/network\//, "channels, gate, subpartitions"],
  [/runtime\/(operators|time|state)\//, "operators (map, filter, window, state)"],
  [/runtime\/connectors\/generator/, "source: generator"],
  [/runtime\/taskmanager\/source-driver/, "source driver (collect, timestamps)"],
  // perf sees no inlining: chain.js's NetworkOutput.emit includes the record writer's partitioning loop.
  [/runtime\/taskmanager\/(task|chain)\.js/, "task loop and chain (incl. inlined partitioning)"],
  [/bench\/jobs\//, "user functions"],
  [/runtime\/(metrics|jobmanager|common\/json-socket)|pino|opentelemetry|fastify|llhttp|Parser::on_/, "metrics, logging, control, REST"],
  [/node:internal\/(streams|stream_base|net)|node:net|LibuvStreamWrap|StreamBase|uv__write|uv__read|uv_try_write/, "Node streams and sockets (JS + libuv)"],
  [/JS:[*^~+]? :\d+/, "deserialize (msgpackr unpack)"], // code made by new Function: msgpackr's record readers
  [/node:|file:\/\/|JS:/, "other JavaScript"],
];

interface Sample {
  pid: number;
  frames: string[];
}

function* samples(text: string): Generator<Sample> {
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const head = /^\S+\s+(\d+)/.exec(lines[0] ?? "");
    if (!head) continue;
    yield { pid: Number(head[1]), frames: lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+ /, "")) };
  }
}

/** The category of a sample, and the frame that decided it (for the per-category top list). */
export function categorize(frames: readonly string[]): [string, string] {
  const leaf = frames[0] ?? "?";
  if (leaf.includes("[kernel.kallsyms]")) {
    const user = frames.find((f) => !f.includes("[kernel.kallsyms]")) ?? "";
    if (/writev|__libc_write|\bwrite\b|uv__write/.test(user)) return ["kernel: socket writes", user];
    if (/\bread\b|uv__read/.test(user)) return ["kernel: socket reads", user];
    if (/epoll/.test(user)) return ["kernel: event loop wait", user];
    if (frames.some((f) => /page_fault|clear_page/.test(f))) return ["kernel: page faults (heap growth)", leaf];
    return ["kernel: other (scheduling, timers)", leaf];
  }
  for (const frame of frames) {
    for (const [pattern, category] of RULES) if (pattern.test(frame)) return [category, frame];
  }
  return ["native: other", leaf];
}

/** A function name without its offset and binary, e.g. `JS:*pack node_modules/msgpackr/pack.js:258`. */
function shortName(frame: string): string {
  return frame.replace(/\+0x[0-9a-f]+/, "").replace(/ \([^)]*\)$/, "").replace(/file:\/\/\S*?\/(node_modules|dist|bench)\//, "$1/").replace(/:\d+$/, "");
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { pid: { type: "string" }, top: { type: "string", default: "3" } } });
  const file = positionals[0];
  if (!file) throw new Error("usage: perf-summary.ts <perf.data> [--pid 1,2] [--top 3]");
  const pids = values.pid ? new Set(values.pid.split(",").map(Number)) : null;
  const text = execFileSync("perf", ["script", "-i", file], { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] });
  const byCategory = new Map<string, { n: number; frames: Map<string, number> }>();
  const byPid = new Map<number, number>();
  let total = 0;
  for (const s of samples(text)) {
    if (pids && !pids.has(s.pid)) continue;
    total++;
    byPid.set(s.pid, (byPid.get(s.pid) ?? 0) + 1);
    const [category, frame] = categorize(s.frames);
    const entry = byCategory.get(category) ?? { n: 0, frames: new Map() };
    entry.n++;
    const name = shortName(frame);
    entry.frames.set(name, (entry.frames.get(name) ?? 0) + 1);
    byCategory.set(category, entry);
  }
  const pct = (n: number) => ((100 * n) / total).toFixed(1);
  console.log(`${total} on-CPU samples; by process: ${[...byPid].map(([p, n]) => `${p} ${pct(n)}%`).join(", ")}\n`);
  console.log("| CPU % | category | top frames (share of all samples) |\n|---:|---|---|");
  for (const [category, { n, frames }] of [...byCategory].sort((a, b) => b[1].n - a[1].n)) {
    const top = [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
    console.log(`| ${pct(n)} | ${category} | ${top.map(([f, k]) => `${f.replace(/\|/g, "\\|")} ${pct(k)}%`).join("; ")} |`);
  }
}

main();
