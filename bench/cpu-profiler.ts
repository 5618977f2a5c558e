/**
 * A CPU profiler to preload into engine processes: `NODE_OPTIONS=--import <dist/bench/cpu-profiler.js>`
 * with `WEIR_BENCH_PROFILE_DIR` set. Node 20 refuses `--cpu-prof` in NODE_OPTIONS, and the embedded
 * cluster passes only environment to its children, so this starts V8's profiler through the inspector
 * and writes `<role>.<pid>.cpuprofile` on SIGTERM (how the cluster stops its processes; they may take
 * longer to exit than the cluster waits before SIGKILL) or at exit, whichever comes first.
 */
import { Session } from "node:inspector";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.WEIR_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  // `weir <role> ...`: argv[2] names the component.
  const role = process.argv[2] ?? "node";
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // Same-thread inspector sessions answer synchronously, so this also completes inside an exit handler.
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${role}.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  // A listener of our own does not change how the component handles SIGTERM (it has one too).
  process.once("SIGTERM", write);
  process.once("exit", write);
}
