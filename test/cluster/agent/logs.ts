/**
 * Pod log files: `<logDir>/pods/<namespace>_<pod>_<uid>/<container>.log`, appended across restarts.
 * `npm run cluster:logs -- <namespace>/<pod> [container] [--no-follow] [--log-dir <dir>]` tails one: the
 * newest pod directory of that name under `$WEIR_CLUSTER_DIR/logs`, `.cluster/logs` or `.cluster/test/logs`
 * (the dev and the test cluster); the first container's log unless one is named.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The log directory of a pod, or undefined when it never ran here. */
export function podLogDir(logDir: string, namespace: string, pod: string): string | undefined {
  const root = join(logDir, "pods");
  if (!existsSync(root)) return undefined;
  const dirs = readdirSync(root)
    .filter((d) => d.startsWith(`${namespace}_${pod}_`) && d.length === namespace.length + pod.length + 2 + 36)
    .map((d) => join(root, d))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return dirs[0];
}

function main(argv: string[]): void {
  const follow = !argv.includes("--no-follow");
  const i = argv.indexOf("--log-dir");
  const explicit = i >= 0 ? argv.splice(i, 2)[1] : undefined;
  const [target, container] = argv.filter((a) => !a.startsWith("--"));
  const m = /^(?:([^/]+)\/)?([^/]+)$/.exec(target ?? "");
  if (!m) {
    console.error("usage: npm run cluster:logs -- <namespace>/<pod> [container] [--no-follow] [--log-dir <dir>]");
    process.exit(2);
  }
  const repo = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
  const candidates = explicit
    ? [resolve(explicit)]
    : [process.env.WEIR_CLUSTER_DIR, join(repo, ".cluster"), join(repo, ".cluster", "test")].filter((d): d is string => !!d).map((d) => join(d, "logs"));
  const dir = candidates
    .map((d) => podLogDir(d, m[1] ?? "default", m[2]!))
    .filter((d): d is string => !!d)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!dir) {
    console.error(`no logs for pod ${m[1] ?? "default"}/${m[2]} under ${candidates.map((d) => join(d, "pods")).join(" or ")}`);
    process.exit(1);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith(".log")).sort();
  const file = container ? `${container}.log` : files[0];
  if (!file || !files.includes(file)) {
    console.error(`pod ${m[2]} has no log for container ${container ?? "(any)"}; containers: ${files.map((f) => f.slice(0, -4)).join(", ")}`);
    process.exit(1);
  }
  const tail = spawn("tail", [...(follow ? ["-F"] : []), "-n", "+1", join(dir, file)], { stdio: "inherit" });
  tail.on("exit", (code) => process.exit(code ?? 0));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
