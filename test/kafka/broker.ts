/**
 * A real Apache Kafka 3.9.1 broker for tests and demos: a single KRaft node in combined mode (broker and
 * controller in one JVM), from jars Maven fetches from Maven Central into .cluster/kafka/3.9.1/libs (once
 * per checkout; test/support/global-setup.ts does it before the suites).
 *
 *   const kafka = await startKafka();              // fresh data dir, free ports, returns when ready
 *   new Kafka({ brokers: [kafka.bootstrap] });     // host clients: 127.0.0.1:<port>
 *   // pods on the local Kubernetes: kafka.podBootstrap (10.88.0.1:<podPort>)
 *   await kafka.restart();                         // same ports, same data: clients reconnect
 *   await kafka.stop();
 *
 * Listeners: PLAINTEXT on 127.0.0.1 for host clients; PODS bound on 0.0.0.0 (the weir0 bridge may come up
 * after the broker) and advertised as 10.88.0.1, the host's address on the pods' bridge; CONTROLLER on
 * 127.0.0.1. A client gets the addresses of the listener it connected to, so a pod bootstraps from
 * 10.88.0.1:<podPort> and is sent there again. Binding 0.0.0.0 makes that port reachable from every
 * interface of the machine (plaintext, no authentication): test data only.
 *
 * Files in the data dir: server.properties, log4j.properties, kraft/ (KRaft metadata and topic data),
 * broker.log (the JVM's output, appended to on every start).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readSync, renameSync,
  rmSync, statSync, writeFileSync, writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { waitFor } from "../../runtime/cli/embedded-cluster.js";
import { freePort } from "../cluster/cluster.js";
import { REPO_ROOT } from "../cluster/paths.js";

export const KAFKA_VERSION = "3.9.1";
/** The cached jars (shared by every broker of the checkout); complete when it holds the marker file. */
export const KAFKA_LIBS = join(REPO_ROOT, ".cluster", "kafka", KAFKA_VERSION, "libs");
/** The host's address on the pods' bridge (weir0, 10.88.0.0/16): where pods reach the broker. */
export const POD_HOST = "10.88.0.1";

type Log = (line: string) => void;
const defaultLog: Log = (l) => process.stderr.write(l + "\n");

const POM = join(REPO_ROOT, "test", "kafka", "kafka-pom.xml");
const MARKER = ".complete";
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1";

// ------------------------------------------------------------------------------------------------ jars

const pomHash = () => createHash("sha256").update(readFileSync(POM)).digest("hex").slice(0, 16);

function jarsFresh(): boolean {
  const marker = join(KAFKA_LIBS, MARKER);
  return existsSync(marker) && readFileSync(marker, "utf8").trim() === pomHash();
}

/**
 * Fetches the broker's jars (kafka_2.13 3.9.1 and its runtime dependencies, reload4j, slf4j-reload4j; see
 * test/kafka/kafka-pom.xml) with Maven into KAFKA_LIBS, unless they are there for the current pom; returns
 * KAFKA_LIBS. Maven caches downloads in ~/.m2 as usual. The jars are fetched into a temp dir and renamed
 * into place, so an interrupted fetch is never taken for complete; a lock file (holding the fetcher's pid)
 * makes concurrent callers wait for one fetch. Throws with Maven's output when Maven fails.
 */
export async function ensureKafkaJars(opts: { force?: boolean; log?: Log } = {}): Promise<string> {
  const log = opts.log ?? defaultLog;
  if (!opts.force && jarsFresh()) return KAFKA_LIBS;
  mkdirSync(dirname(KAFKA_LIBS), { recursive: true });
  const lock = `${KAFKA_LIBS}.lock`;
  await acquireLock(lock, log);
  try {
    if (!opts.force && jarsFresh()) return KAFKA_LIBS; // fetched by the process we waited for
    log(`[kafka] fetching Kafka ${KAFKA_VERSION} jars with Maven into ${relative(REPO_ROOT, KAFKA_LIBS)}/ ` +
      "(cold: about 20 s)");
    const t0 = Date.now();
    const jars = await fetchJars();
    log(`[kafka] fetched ${jars} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(lock, { force: true });
  }
  return KAFKA_LIBS;
}

/** Runs Maven in a temp dir beside KAFKA_LIBS and renames its output into place; returns the jar count. */
async function fetchJars(): Promise<number> {
  const home = dirname(KAFKA_LIBS);
  // Left by an interrupted fetch (we hold the lock, so no other fetch is running).
  for (const f of readdirSync(home)) if (f.startsWith(".tmp-")) rmSync(join(home, f), { recursive: true, force: true });
  const tmp = mkdtempSync(join(home, ".tmp-"));
  try {
    copyFileSync(POM, join(tmp, "pom.xml"));
    await runCaptured("mvn", ["-B", "-q", "-f", "pom.xml", `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      "-DoutputDirectory=libs", "-DincludeScope=runtime"], tmp);
    const libs = join(tmp, "libs");
    writeFileSync(join(libs, MARKER), pomHash() + "\n");
    if (existsSync(KAFKA_LIBS)) renameSync(KAFKA_LIBS, join(tmp, "stale")); // fetched for another pom
    renameSync(libs, KAFKA_LIBS);
    return readdirSync(KAFKA_LIBS).filter((f) => f.endsWith(".jar")).length;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function acquireLock(lock: string, log: Log): Promise<void> {
  if (tryLock(lock)) return;
  log(`[kafka] waiting for another process fetching the Kafka jars (${relative(REPO_ROOT, lock)})`);
  await waitFor(() => tryLock(lock), 20 * 60_000, `the Kafka jar fetch of the process holding ${lock}`, 250);
}

/** Creates the lock file; false while a live process holds it (a dead holder's lock is removed). */
function tryLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  let holder: number;
  try {
    holder = Number(readFileSync(lock, "utf8")); // empty (0) while its creator is still writing it
  } catch {
    return false; // released meanwhile: the next try takes it
  }
  if (holder > 0 && !pidAlive(holder)) rmSync(lock, { force: true });
  return false;
}

// ------------------------------------------------------------------------------------------------ processes

/** True while `pid` is a live process (not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** True if `pid` is a broker started on `dataDir` (guards against a recycled pid before a signal). */
export function isBrokerProcess(pid: number, dataDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return pidAlive(pid) && args.includes("kafka.Kafka") && args.includes(join(dataDir, "server.properties"));
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the broker leads its own process group (spawned detached)
  } catch { /* already gone */ }
}

/**
 * Stops a broker process group: SIGTERM, then SIGKILL if it is still there after `graceMs`. `gone(ms)`
 * resolves true once the process has exited (false when `ms` passed first).
 */
async function terminate(pid: number, gone: (ms: number) => Promise<boolean>, graceMs: number, log: Log): Promise<void> {
  signalGroup(pid, "SIGTERM");
  if (await gone(graceMs)) return;
  log(`[kafka] broker (pid ${pid}) still running ${(graceMs / 1000).toFixed(0)} s after SIGTERM; SIGKILL`);
  signalGroup(pid, "SIGKILL");
  if (!(await gone(10_000))) throw new Error(`kafka broker (pid ${pid}) survived SIGKILL`);
}

/** Stops a broker this process did not start (`npm run kafka:down`); see `KafkaBroker.stop`. */
export function stopBrokerProcess(pid: number, opts: { graceMs?: number; log?: Log } = {}): Promise<void> {
  const gone = (ms: number) => waitFor(() => !pidAlive(pid), ms, `pid ${pid} to exit`, 50).then(() => true, () => false);
  return terminate(pid, gone, opts.graceMs ?? GRACE_MS, opts.log ?? defaultLog);
}

/** Runs a command to completion; rejects with the tail of its output when it fails. */
function runCaptured(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (e) => reject(new Error(`could not run ${cmd}: ${e.message}`)));
    child.on("exit", (code, signal) => code === 0 ? resolve(out) : reject(new Error(
      `${cmd} ${args.join(" ")} failed (${signal ?? `exit ${code}`}) in ${cwd}:\n${lastLines(out)}`)));
  });
}

const lastLines = (text: string, n = 25) => text.trimEnd().split("\n").slice(-n).join("\n");

// ------------------------------------------------------------------------------------------------ config

/** The broker's ports; `client` and `pods` are what clients use, `controller` is KRaft's own. */
export interface KafkaPorts {
  client: number;
  pods: number;
  controller: number;
}

/** Options of `startKafka`; every field has a default. */
export interface KafkaOptions {
  /** Data directory; a fresh temp dir by default. Formatted on first use, reused as it is afterwards. */
  dataDir?: string;
  /** Ports; each one not given is a free port. */
  ports?: Partial<KafkaPorts>;
  /** Address advertised on the PODS listener (default POD_HOST, 10.88.0.1). */
  podHost?: string;
  /** Extra or overriding server.properties entries. */
  properties?: Record<string, string | number | boolean>;
  /** Readiness timeout per start (default 60 s). */
  timeoutMs?: number;
  /** SIGTERM-to-SIGKILL grace of `stop()` (default 20 s). */
  graceMs?: number;
  /**
   * Leave the broker running when this process exits (`npm run kafka:up`). Otherwise an exit of this
   * process SIGKILLs it (a crash of this process, or a SIGKILL of it, still leaves it running).
   */
  detached?: boolean;
  log?: Log;
}

const GRACE_MS = 20_000;

/**
 * The settings a single node needs for consumer groups and transactions, plus test-friendly choices:
 * - the internal topics (__consumer_offsets, __transaction_state) have replication 1 and 4 partitions
 *   instead of 50: the first transaction and the first consumer group on a fresh broker wait for them to
 *   be created, 1-2 s less each on 2 cores;
 * - no automatic topic creation: a missing topic is an error a connector must report;
 * - transaction.max.timeout.ms stays at Kafka's default, 15 minutes: a producer's transaction.timeout.ms
 *   (kafkajs default 60 s) must not exceed it, and a sink checks its timeout against it;
 * - broker heartbeats every 0.5 s and a 3 s session (defaults 2 s and 9 s): after a SIGKILL the restarted
 *   broker cannot register until the session of its previous incarnation expires, which made a restart
 *   after `kill()` take 15 s instead of 5.
 */
export const BROKER_DEFAULTS: Readonly<Record<string, string | number | boolean>> = Object.freeze({
  "num.partitions": 1,
  "default.replication.factor": 1,
  "auto.create.topics.enable": false,
  "offsets.topic.replication.factor": 1,
  "offsets.topic.num.partitions": 4,
  "transaction.state.log.replication.factor": 1,
  "transaction.state.log.min.isr": 1,
  "transaction.state.log.num.partitions": 4,
  "transaction.max.timeout.ms": 900_000,
  "group.initial.rebalance.delay.ms": 0,
  "broker.heartbeat.interval.ms": 500,
  "broker.session.timeout.ms": 3_000,
});

interface BrokerConfig {
  dataDir: string;
  ports: KafkaPorts;
  podHost: string;
  timeoutMs: number;
  graceMs: number;
  detached: boolean;
  log: Log;
  logFile: string;
  classpath: string;
}

function serverProperties(c: BrokerConfig, extra: KafkaOptions["properties"]): string {
  const { client, pods, controller } = c.ports;
  const props: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@127.0.0.1:${controller}`,
    "listeners": `PLAINTEXT://127.0.0.1:${client},PODS://0.0.0.0:${pods},CONTROLLER://127.0.0.1:${controller}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${client},PODS://${c.podHost}:${pods}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,PODS:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "log.dirs": join(c.dataDir, "kraft"),
    ...BROKER_DEFAULTS,
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

// The JVM's stdout is the log file, so startup failures before log4j (no main class, bad heap) land there too.
const LOG4J = [
  "log4j.rootLogger=INFO, stdout",
  "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
  "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
  "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
  "",
].join("\n");

/** A KRaft cluster id: 16 random bytes, base64url without padding, never starting with '-' (Kafka's rule). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** Writes the config files and formats KRaft storage unless the data dir was formatted before. */
async function prepare(c: BrokerConfig, extra: KafkaOptions["properties"]): Promise<void> {
  mkdirSync(c.dataDir, { recursive: true });
  writeFileSync(join(c.dataDir, "server.properties"), serverProperties(c, extra));
  writeFileSync(join(c.dataDir, "log4j.properties"), LOG4J);
  if (existsSync(join(c.dataDir, "kraft", "meta.properties"))) return;
  await runCaptured("java", ["-cp", c.classpath, "kafka.tools.StorageTool", "format", "-t", clusterId(),
    "-c", join(c.dataDir, "server.properties")], c.dataDir);
}

// ------------------------------------------------------------------------------------------------ broker

/** A running broker. */
export interface KafkaBroker {
  /** `127.0.0.1:<client port>`, for clients on this machine. */
  readonly bootstrap: string;
  /** `<podHost>:<pods port>` (10.88.0.1 by default), for pods on the local Kubernetes. */
  readonly podBootstrap: string;
  readonly ports: KafkaPorts;
  readonly dataDir: string;
  /** The JVM's output (log4j at INFO), appended to on every start. */
  readonly logFile: string;
  /** The JVM's pid; a new one after `restart()`. */
  readonly pid: number;
  /** SIGTERM, wait for the exit, SIGKILL after the grace period; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash: no flush, no controlled shutdown); resolves when the process is gone. */
  kill(): Promise<void>;
  /** Stops the broker if it runs, then starts it on the same ports and data; resolves when it is ready. */
  restart(): Promise<void>;
}

/** The line KafkaRaftServer logs once the broker and controller have started (KafkaBroker.STARTED_MESSAGE). */
const STARTED = "Kafka Server started";

const JVM_ARGS = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"];

interface Running {
  pid: number;
  child: ChildProcess;
  /** resolves when the process has exited */
  exited: Promise<void>;
  done: boolean;
}

/**
 * Starts a broker (fetching the jars first if needed): formats KRaft storage in a fresh or unformatted
 * data dir, writes server.properties (BROKER_DEFAULTS, then `properties`) and log4j.properties there and
 * resolves when the broker logs that it has started. Rejects, naming the log and quoting its last lines,
 * when the JVM exits first or is not ready within `timeoutMs` (then it is killed).
 */
export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaBroker> {
  const c = await compile(opts);
  await prepare(c, opts.properties);
  let run = await startProcess(c);
  const stop = async () => {
    if (!run.done) await terminate(run.pid, (ms) => exitWithin(run, ms), c.graceMs, c.log);
  };
  return {
    bootstrap: `127.0.0.1:${c.ports.client}`,
    podBootstrap: `${c.podHost}:${c.ports.pods}`,
    ports: c.ports,
    dataDir: c.dataDir,
    logFile: c.logFile,
    get pid() {
      return run.pid;
    },
    stop,
    async kill() {
      signalGroup(run.pid, "SIGKILL");
      await run.exited;
    },
    async restart() {
      await stop();
      run = await startProcess(c);
    },
  };
}

async function compile(opts: KafkaOptions): Promise<Readonly<BrokerConfig>> {
  const log = opts.log ?? defaultLog;
  const libs = await ensureKafkaJars({ log });
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "weir-kafka-"));
  return Object.freeze({
    dataDir,
    ports: Object.freeze(await resolvePorts(opts.ports ?? {})),
    podHost: opts.podHost ?? POD_HOST,
    timeoutMs: opts.timeoutMs ?? 60_000,
    graceMs: opts.graceMs ?? GRACE_MS,
    detached: opts.detached ?? false,
    log,
    logFile: join(dataDir, "broker.log"),
    classpath: join(libs, "*"),
  });
}

/** The given ports (validated) and free ports for the others, all distinct. */
async function resolvePorts(given: Partial<KafkaPorts>): Promise<KafkaPorts> {
  const fixed = Object.entries(given).filter((e): e is [string, number] => e[1] !== undefined);
  for (const [k, v] of fixed) {
    if (!(Number.isInteger(v) && v > 0 && v < 65536)) throw new Error(`kafka ports.${k}: expected a port (1-65535), got ${v}`);
  }
  const taken = new Set(fixed.map(([, v]) => v));
  if (taken.size < fixed.length) throw new Error(`kafka ports must differ, got ${JSON.stringify(given)}`);
  const pick = async (port: number | undefined): Promise<number> => {
    if (port !== undefined) return port;
    let free = await freePort();
    while (taken.has(free)) free = await freePort();
    taken.add(free);
    return free;
  };
  return { client: await pick(given.client), pods: await pick(given.pods), controller: await pick(given.controller) };
}

/** Spawns the JVM (its own process group, output appended to the log) and waits until it is ready. */
async function startProcess(c: Readonly<BrokerConfig>): Promise<Running> {
  const fd = openSync(c.logFile, "a");
  writeSync(fd, `\n===== ${new Date().toISOString()} starting Kafka ${KAFKA_VERSION} (${join(c.dataDir, "server.properties")})\n`);
  const offset = statSync(c.logFile).size;
  const args = [...JVM_ARGS, `-Dlog4j.configuration=file:${join(c.dataDir, "log4j.properties")}`,
    "-cp", c.classpath, "kafka.Kafka", join(c.dataDir, "server.properties")];
  const child = spawn("java", args, { cwd: c.dataDir, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const run = track(child, c.detached);
  await waitReady(c, run, offset);
  return run;
}

function track(child: ChildProcess, detached: boolean): Running {
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));
  if (child.pid === undefined) throw new Error(`could not start java${spawnError ? `: ${spawnError.message}` : ""}`);
  const pid = child.pid;
  // Not detached: the broker belongs to this process and must not outlive it.
  const killOnExit = () => signalGroup(pid, "SIGKILL");
  if (detached) child.unref();
  else process.on("exit", killOnExit);
  const run: Running = { pid, child, done: false, exited: Promise.resolve() };
  run.exited = new Promise((resolve) => child.once("exit", () => {
    run.done = true;
    process.off("exit", killOnExit);
    resolve();
  }));
  return run;
}

async function waitReady(c: Readonly<BrokerConfig>, run: Running, offset: number): Promise<void> {
  const logTail = () => `last log lines (${c.logFile}):\n${lastLines(readFrom(c.logFile, offset))}`;
  try {
    await waitFor(() => run.done || readFrom(c.logFile, offset).includes(STARTED), c.timeoutMs, "kafka", 100);
  } catch {
    signalGroup(run.pid, "SIGKILL");
    await run.exited;
    throw new Error(`kafka broker (pid ${run.pid}) not ready within ${c.timeoutMs / 1000} s; ${logTail()}`);
  }
  if (run.done) {
    const { exitCode, signalCode } = run.child;
    throw new Error(`kafka broker exited (${signalCode ?? `exit ${exitCode}`}) before it was ready; ${logTail()}`);
  }
}

function exitWithin(run: Running, ms: number): Promise<boolean> {
  if (run.done) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void run.exited.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The file's text from byte `offset` on. */
function readFrom(file: string, offset: number): string {
  const fd = openSync(file, "r");
  try {
    const chunks: Buffer[] = [];
    for (let pos = offset; ;) {
      const buf = Buffer.alloc(1 << 16);
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return Buffer.concat(chunks).toString("utf8");
      chunks.push(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

// ------------------------------------------------------------------------------------------------ clients

/** What a broker reports about its cluster to a client bootstrapping from an address. */
export interface KafkaClusterInfo {
  clusterId: string;
  controller: number | null;
  brokers: { nodeId: number; host: string; port: number }[];
}

/**
 * Connects to `bootstrap` with kafkajs (its logging off) and returns describeCluster's answer: the
 * brokers as advertised on the listener `bootstrap` reaches. Rejects when the broker does not answer.
 */
export async function describeKafka(bootstrap: string, timeoutMs = 5_000): Promise<KafkaClusterInfo> {
  const kafka = new Kafka({
    clientId: "weir-kafka-probe", brokers: [bootstrap], logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { clusterId, controller, brokers } = await admin.describeCluster();
    return { clusterId, controller, brokers: brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })) };
  } finally {
    await admin.disconnect();
  }
}
