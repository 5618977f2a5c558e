/**
 * A long-lived Kafka broker for development and demos (see broker.ts for what it is and how pods reach it).
 *
 *   npm run kafka:up [-- --port 19092 --pod-port 19094 --controller-port 19093]
 *                        start it, or report the running one; prints the bootstrap addresses
 *   npm run kafka:status  pid, addresses, cluster id; exit 1 unless it answers
 *   npm run kafka:down    SIGTERM, then SIGKILL after 20 s; topics stay for the next `up`
 *
 * Everything lives in .cluster/kafka-dev/: state.json (pid, ports), broker.log, the config and kraft/ (the
 * data). Delete the directory (when it is down) for an empty broker.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../cluster/paths.js";
import { describeKafka, isBrokerProcess, startKafka, stopBrokerProcess, type KafkaPorts } from "./broker.js";

const DEV_DIR = join(REPO_ROOT, ".cluster", "kafka-dev");
const STATE = join(DEV_DIR, "state.json");
const DEFAULT_PORTS: KafkaPorts = { client: 19092, pods: 19094, controller: 19093 };
const USAGE = "usage: tsx test/kafka/cli.ts up [--port N] [--pod-port N] [--controller-port N] | down | status";

interface DevState {
  pid: number;
  bootstrap: string;
  podBootstrap: string;
  ports: KafkaPorts;
  logFile: string;
  startedAt: string;
}

function readState(): DevState | null {
  try {
    return JSON.parse(readFileSync(STATE, "utf8")) as DevState;
  } catch {
    return null;
  }
}

/** The recorded broker if its process still runs (a recycled pid is not taken for it). */
function running(): DevState | null {
  const s = readState();
  return s && isBrokerProcess(s.pid, DEV_DIR) ? s : null;
}

const where = (s: DevState) => [
  `  host clients  ${s.bootstrap}`,
  `  pods          ${s.podBootstrap}`,
  `  pid ${s.pid}, started ${s.startedAt}, log ${relative(REPO_ROOT, s.logFile)}`,
].join("\n");

async function up(ports: KafkaPorts): Promise<number> {
  const current = running();
  if (current && (await describeKafka(current.bootstrap).then(() => true, () => false))) {
    console.log(`kafka: already running (${relative(REPO_ROOT, DEV_DIR)})\n${where(current)}`);
    return 0;
  }
  if (current) {
    console.log(`kafka: pid ${current.pid} does not answer on ${current.bootstrap}; restarting it`);
    await stopBrokerProcess(current.pid);
  }
  const t0 = Date.now();
  const k = await startKafka({ dataDir: DEV_DIR, ports, detached: true });
  const state: DevState = {
    pid: k.pid, bootstrap: k.bootstrap, podBootstrap: k.podBootstrap, ports: k.ports, logFile: k.logFile,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(STATE, JSON.stringify(state, null, 2) + "\n");
  console.log(`kafka: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${relative(REPO_ROOT, DEV_DIR)})\n${where(state)}`);
  return 0;
}

async function down(): Promise<number> {
  const current = running();
  if (current) {
    console.log(`kafka: stopping pid ${current.pid}`);
    await stopBrokerProcess(current.pid);
  }
  console.log(current ? "kafka: stopped" : "kafka: not running");
  if (existsSync(STATE)) rmSync(STATE);
  return 0;
}

async function status(): Promise<number> {
  const current = running();
  if (!current) {
    console.log("kafka: not running");
    return 1;
  }
  try {
    const info = await describeKafka(current.bootstrap);
    console.log(`kafka: running, cluster ${info.clusterId}\n${where(current)}`);
    return 0;
  } catch (e) {
    console.log(`kafka: pid ${current.pid} runs but does not answer on ${current.bootstrap}: ${(e as Error).message}`);
    return 1;
  }
}

function port(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0 && n < 65536)) throw new UsageError(`--${flag}: expected a port (1-65535), got ${value}`);
  return n;
}

class UsageError extends Error {}

function parse(argv: string[]): { cmd: string; ports: KafkaPorts } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { port: { type: "string" }, "pod-port": { type: "string" }, "controller-port": { type: "string" } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { positionals, values } = parsed;
  const cmd = positionals[0] ?? "";
  if (positionals.length !== 1 || !["up", "down", "status"].includes(cmd)) throw new UsageError(`unknown command: ${argv.join(" ")}`);
  if (cmd !== "up" && Object.keys(values).length > 0) throw new UsageError(`${cmd} takes no options`);
  const ports = {
    client: port("port", values.port, DEFAULT_PORTS.client),
    pods: port("pod-port", values["pod-port"], DEFAULT_PORTS.pods),
    controller: port("controller-port", values["controller-port"], DEFAULT_PORTS.controller),
  };
  if (new Set(Object.values(ports)).size < 3) throw new UsageError(`ports must differ, got ${JSON.stringify(ports)}`);
  return { cmd, ports };
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  if (args.cmd === "up") return up(args.ports);
  return args.cmd === "down" ? down() : status();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
