/**
 * `npm run bench:operator`: the operator's performance on the local Kubernetes (test/cluster).
 *
 *   npm run bench:operator                               # every part, 5 runs each (about 11 minutes)
 *   npm run bench:operator -- --runs 3 --only apply,upgrade
 *   npm run bench:operator -- --only scale --jobs 50 --running 2
 *
 * Starts (or keeps) the cluster with `npm run cluster:up`, helm-installs charts/weir-operator into a
 * namespace of its own watching another of its own (stabilityWindow 3s, as the acceptance suite), runs
 * the parts, and removes everything it created (StreamJobs, the release, both namespaces), also on
 * failure or Ctrl-C. Parts (bench/operator/*.ts say exactly what they time):
 *
 *   apply     create a wordcount StreamJob -> jobStatus RUNNING -> lifecycle STABLE (poll every 50 ms)
 *   upgrade   savepoint upgrade 2 -> 3 of an exactly-once job: gap in its committed output, operator phases
 *   scale     50 suspended + 2 running StreamJobs: spec change -> status latency, operator /metrics
 *   failover  SIGKILL of the leading operator pod: new Lease holder, a nonce savepoint acted on
 *
 * Tables print as markdown; results go to bench/results/operator-<part>.json (git-ignored).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineBusySeconds } from "./proc-cpu.js";
import { applyTable, benchApply } from "./operator/apply.js";
import { benchFailover, failoverTable } from "./operator/failover.js";
import { install, uninstall, type Installed } from "./operator/install.js";
import { ClusterUnavailable, errorText, startKube } from "./operator/kube.js";
import { benchScale, scaleTable } from "./operator/scale.js";
import { benchUpgrade, upgradeTable } from "./operator/upgrade.js";

const PARTS = ["apply", "upgrade", "scale", "failover"] as const;
type Part = (typeof PARTS)[number];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      only: { type: "string" },
      jobs: { type: "string", default: "50" },
      running: { type: "string", default: "2" },
      "stability-window": { type: "string", default: "3s" },
    },
  });
  const count = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!(Number.isSafeInteger(n) && n >= min)) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
  const only = values.only?.split(",").map((s) => s.trim()) ?? [...PARTS];
  const unknown = only.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--only: unknown part ${unknown.join(", ")}; parts: ${PARTS.join(", ")}`);
  return {
    parts: PARTS.filter((p) => only.includes(p)),
    runs: count("runs", values.runs, 1),
    jobs: count("jobs", values.jobs, 1),
    running: count("running", values.running, 0),
    stabilityWindow: values["stability-window"],
  };
}

type Options = ReturnType<typeof parseOptions>;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Each part: its figures (for the JSON) and its markdown. */
const RUNNERS: Record<Part, (i: Installed, opts: Options) => Promise<{ result: unknown; text: string }>> = {
  apply: async (i, o) => withText(await benchApply(i, o.runs, log), applyTable),
  upgrade: async (i, o) => withText(await benchUpgrade(i, o.runs, log), upgradeTable),
  scale: async (i, o) => withText(await benchScale(i, o.jobs, o.running, log), scaleTable),
  failover: async (i, o) => withText(await benchFailover(i, o.runs, log), failoverTable),
};

function withText<T>(result: T, format: (r: T) => string): { result: T; text: string } {
  return { result, text: format(result) };
}

/** Run one part; its table to stdout, its figures to bench/results/operator-<part>.json. */
async function runPart(part: Part, i: Installed, opts: Options): Promise<void> {
  log(`\n== ${part}`);
  const busy0 = machineBusySeconds();
  const t0 = Date.now();
  const { result, text } = await RUNNERS[part](i, opts);
  const seconds = (Date.now() - t0) / 1000;
  const machineCoresBusy = (machineBusySeconds() - busy0) / seconds;
  console.log(`\n### operator: ${part}\n\n${text}\n\nMachine busy ${machineCoresBusy.toFixed(2)} of ${cpus().length} cores during this part (${seconds.toFixed(0)} s; everything, this bench and the cluster included).`);
  const file = join("bench", "results", `operator-${part}.json`);
  writeFileSync(file, JSON.stringify({
    part,
    date: new Date().toISOString(),
    command: ["npm run bench:operator", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    options: opts,
    seconds,
    machineCoresBusy,
    result,
  }, null, 2) + "\n");
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions();
  } catch (e) {
    log(errorText(e));
    return 2;
  }
  mkdirSync(join("bench", "results"), { recursive: true });
  let created: Partial<Installed> = {};
  let cleaning: Promise<string[]> | undefined;
  const cleanUp = () => (cleaning ??= uninstall(created));
  const onSignal = (signal: NodeJS.Signals) => {
    log(`\n${signal}: removing what the bench created...`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let failed = false;
  try {
    const kube = await startKube();
    log(`installing the operator (helm, stabilityWindow ${opts.stabilityWindow})...`);
    const installed = await install(kube, opts.stabilityWindow, (p) => (created = p));
    log(`operator in ${installed.operatorNamespace}, StreamJobs in ${installed.jobs.namespace}`);
    for (const part of opts.parts) {
      try {
        await runPart(part, installed, opts);
      } catch (e) {
        failed = true;
        log(`${part} failed: ${errorText(e)}`);
      }
    }
  } catch (e) {
    log(e instanceof ClusterUnavailable ? e.message : `bench failed: ${errorText(e)}`);
    failed = true;
  } finally {
    if (created.kube) {
      log("\nremoving the StreamJobs, the helm release and the namespaces...");
      for (const p of await cleanUp()) log(`cleanup: ${p}`);
    }
  }
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  log(`bench failed: ${errorText(e)}`);
  process.exit(1);
});
