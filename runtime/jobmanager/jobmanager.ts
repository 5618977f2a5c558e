/**
 * The JobManager process: accepts TaskManagers on its control port, runs a JobMaster per submitted
 * job, and serves the REST API (with its own Prometheus metrics at /metrics).
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { JsonSocket } from "../common/json-socket.js";
import { describeError, WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import { loadJob } from "../graph/job-module.js";
import type { JmToTm, TmToJm } from "./control-protocol.js";
import { JobMaster } from "./job-master.js";
import { ResourceManager } from "./resource-manager.js";
import type { ClusterOverview, JobDetail, JobSummary, SubmitJobRequest, SubmitJobResponse, TaskManagerInfo } from "./rest-types.js";
import { startRestServer, type JobManagerApi } from "./rest-server.js";
import { createMetricsRegistry } from "../metrics/otel.js";
import type { Meter } from "@opentelemetry/api";
import { VERSION } from "../common/version.js";

export interface JobManagerOptions {
  host: string;
  /** Control port for TaskManagers (0 = any free port). */
  rpcPort: number;
  /** REST port (0 = any free port). */
  restPort: number;
  config: RuntimeConfig;
  logger: Logger;
}

export interface RunningJobManager {
  rpcAddress: string;
  restUrl: string;
  close(): Promise<void>;
}

export class JobManager implements JobManagerApi {
  private readonly rm = new ResourceManager();
  private readonly jobs = new Map<string, JobMaster>();
  private readonly sockets = new Map<string, JsonSocket<TmToJm, JmToTm>>();
  private readonly waitingForSlots: { job: JobMaster; timer: ReturnType<typeof setTimeout> }[] = [];

  constructor(
    private readonly config: RuntimeConfig,
    private readonly log: Logger,
  ) {}

  // ---- REST API -------------------------------------------------------------------------------

  overview(): ClusterOverview {
    const count = (s: string) => [...this.jobs.values()].filter((j) => j.state === s).length;
    return {
      version: VERSION,
      taskmanagers: this.rm.all().length,
      slotsTotal: this.rm.totalSlots,
      slotsAvailable: this.rm.freeSlots,
      jobsRunning: [...this.jobs.values()].filter((j) => !j.isTerminal).length,
      jobsFinished: count("FINISHED"),
      jobsCanceled: count("CANCELED"),
      jobsFailed: count("FAILED"),
    };
  }

  taskManagers(): TaskManagerInfo[] {
    return this.rm.info();
  }

  listJobs(): JobSummary[] {
    return [...this.jobs.values()].map((j) => j.summary());
  }

  jobDetail(id: string): JobDetail | undefined {
    return this.jobs.get(id)?.detail();
  }

  async submitJob(req: SubmitJobRequest): Promise<SubmitJobResponse> {
    const request = { module: req.module, args: req.args ?? [], parallelism: req.parallelism ?? 1 };
    const { jobGraph } = await loadJob({ ...request, name: req.name });
    const id = randomBytes(16).toString("hex");
    const job = new JobMaster(id, request, jobGraph, {
      send: (tmId, msg) => this.sockets.get(tmId)?.send(msg),
      onTerminal: (j) => this.onJobTerminal(j),
    });
    this.jobs.set(id, job);
    this.log.info({ jobId: id, name: job.name, slots: jobGraph.slotsRequired }, "job submitted");
    if (!this.tryDeploy(job)) this.waitForSlots(job);
    return { jobId: id };
  }

  cancelJob(id: string): "canceling" | "not-found" | "terminal" {
    const job = this.jobs.get(id);
    if (!job) return "not-found";
    if (!job.cancel()) return "terminal";
    this.log.info({ jobId: id }, "job canceling");
    return "canceling";
  }

  /** Cluster-level gauges on the JobManager's /metrics. */
  registerGauges(meter: Meter): void {
    const gauge = (name: string, description: string, read: () => number) =>
      meter.createObservableGauge(name, { description }).addCallback((r) => r.observe(read()));
    gauge("weir_jobmanager_taskmanagers", "Registered TaskManagers", () => this.rm.all().length);
    gauge("weir_jobmanager_slots_total", "Task slots of all TaskManagers", () => this.rm.totalSlots);
    gauge("weir_jobmanager_slots_available", "Free task slots", () => this.rm.freeSlots);
    gauge("weir_jobmanager_jobs_running", "Jobs not yet ended", () => this.overview().jobsRunning);
  }

  // ---- scheduling -----------------------------------------------------------------------------

  private tryDeploy(job: JobMaster): boolean {
    if (job.isTerminal) return true;
    const slots = this.rm.allocate(job.id, job.graph.slotsRequired);
    if (!slots) return false;
    job.deploy(slots);
    return true;
  }

  private waitForSlots(job: JobMaster): void {
    const ms = this.config["slot.request.timeout"];
    const timer = setTimeout(() => {
      this.removeWaiting(job);
      job.failBeforeStart(
        new WeirError(
          "WEIR_E_NOT_ENOUGH_SLOTS",
          `job needs ${job.graph.slotsRequired} slots but only ${this.rm.freeSlots} of ${this.rm.totalSlots} were free after waiting ${ms} ms; start more TaskManagers or lower the parallelism`,
        ).message,
      );
    }, ms);
    this.waitingForSlots.push({ job, timer });
  }

  private removeWaiting(job: JobMaster): void {
    const i = this.waitingForSlots.findIndex((w) => w.job === job);
    if (i >= 0) clearTimeout(this.waitingForSlots.splice(i, 1)[0]!.timer);
  }

  private retryWaiting(): void {
    for (const w of [...this.waitingForSlots]) {
      if (this.tryDeploy(w.job)) this.removeWaiting(w.job);
    }
  }

  private onJobTerminal(job: JobMaster): void {
    this.removeWaiting(job);
    this.rm.release(job.id);
    this.log.info({ jobId: job.id, state: job.state, failure: job.failure?.cause }, "job ended");
    this.retryWaiting();
  }

  // ---- TaskManagers ---------------------------------------------------------------------------

  /** A new control connection: the first message must be a registration. */
  accept(socket: Socket): void {
    const conn = new JsonSocket<TmToJm, JmToTm>(socket);
    let tmId: string | null = null;
    conn.on("message", (msg) => {
      try {
        if (msg.type === "register") {
          tmId = msg.tmId;
          this.register(conn, msg);
        } else if (tmId) {
          this.onTmMessage(tmId, msg);
        }
      } catch (err) {
        this.log.error({ err: describeError(err) }, "bad control message");
      }
    });
    conn.on("close", (err) => {
      if (tmId && this.sockets.get(tmId) === conn) {
        this.lostTaskManager(tmId, `connection closed${err ? ` (${err.message})` : ""}`);
      }
    });
  }

  private register(conn: JsonSocket<TmToJm, JmToTm>, msg: Extract<TmToJm, { type: "register" }>): void {
    if (this.sockets.has(msg.tmId)) this.lostTaskManager(msg.tmId, "re-registered");
    this.rm.register({ id: msg.tmId, dataAddress: msg.dataAddress, metricsUrl: msg.metricsUrl, pid: msg.pid, slots: msg.slots });
    this.sockets.set(msg.tmId, conn);
    conn.send({ type: "registered", heartbeatIntervalMs: this.config["heartbeat.interval"] });
    this.log.info({ tmId: msg.tmId, dataAddress: msg.dataAddress, slots: msg.slots, pid: msg.pid }, "TaskManager registered");
    this.retryWaiting();
  }

  private onTmMessage(tmId: string, msg: TmToJm): void {
    const tm = this.rm.get(tmId);
    if (tm) tm.lastHeartbeat = Date.now();
    if (msg.type === "heartbeat") {
      for (const t of msg.tasks) this.jobOf(t.executionId)?.onMetrics(t.executionId, t.metrics);
    } else if (msg.type === "taskState") {
      this.jobOf(msg.executionId)?.onTaskState(msg.executionId, msg.state, msg.failure);
    }
  }

  private jobOf(executionId: string): JobMaster | undefined {
    return this.jobs.get(executionId.slice(0, executionId.indexOf(".")));
  }

  /** Heartbeat check: a TaskManager silent longer than the timeout is lost. */
  checkHeartbeats(now = Date.now()): void {
    const timeout = this.config["heartbeat.timeout"];
    for (const tm of this.rm.all()) {
      if (now - tm.lastHeartbeat > timeout) this.lostTaskManager(tm.id, `no heartbeat for ${now - tm.lastHeartbeat} ms (timeout ${timeout} ms)`);
    }
  }

  private lostTaskManager(tmId: string, reason: string): void {
    const tm = this.rm.remove(tmId);
    const conn = this.sockets.get(tmId);
    this.sockets.delete(tmId);
    conn?.destroy();
    if (!tm) return;
    const description = `TaskManager ${tmId} (data ${tm.dataAddress}, pid ${tm.pid}) lost: ${reason}`;
    this.log.warn({ tmId }, description);
    for (const job of this.jobs.values()) if (!job.isTerminal) job.onTaskManagerLost(tmId, description);
  }
}

/** Start a JobManager: control server, REST API and heartbeat checks. */
export async function startJobManager(opts: JobManagerOptions): Promise<RunningJobManager> {
  const jm = new JobManager(opts.config, opts.logger);
  const server: Server = createServer((s) => jm.accept(s));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.rpcPort, opts.host, () => resolve());
  });
  const addr = server.address() as { port: number };
  const metrics = createMetricsRegistry("weir-jobmanager");
  jm.registerGauges(metrics.meter);
  const rest = await startRestServer(jm, { host: opts.host, port: opts.restPort, metricsHandler: metrics.handler, logger: opts.logger });
  const hb = setInterval(() => jm.checkHeartbeats(), Math.max(100, opts.config["heartbeat.interval"]));
  hb.unref();
  return {
    rpcAddress: `${opts.host}:${addr.port}`,
    restUrl: rest.url,
    async close() {
      clearInterval(hb);
      server.close();
      await rest.close();
      await metrics.shutdown();
    },
  };
}
