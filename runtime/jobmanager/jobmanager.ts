/**
 * The JobManager process: accepts TaskManagers on its control port, runs a JobMaster per submitted
 * job, and serves the REST API (with its own Prometheus metrics at /metrics).
 */
import { disposeSavepoint } from "./savepoint-disposal.js";
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { JsonSocket } from "../common/json-socket.js";
import { describeError, WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import { loadJob } from "../graph/job-module.js";
import type { JmToTm, TmToJm } from "./control-protocol.js";
import { JobMaster, restoreVertices, type RestorePoint } from "./job-master.js";
import { CheckpointCoordinator } from "./checkpoint-coordinator.js";
import { checkpointPlan } from "./checkpoint-plan.js";
import { createRestartStrategy } from "./restart-strategy.js";
import type { TriggerOutcome } from "./rest-server.js";
import type { CheckpointingOverview, SavepointInfo, StopJobRequest, TriggerSavepointRequest } from "./rest-types.js";
import { snapshotStoreFor, type JobSnapshotStore } from "./snapshot-store.js";
import { chooseRestore, restoreSources, type RestoreDecision } from "./restore-selection.js";
import type { JobGraph } from "../graph/job-graph.js";
import { parentUrl, storageFor } from "../state/storage/checkpoint-storage.js";
import { fileRefsOf, readMetadata, readVerified, verifyStateFiles } from "../state/storage/metadata.js";
import { assignRestore, checkStateMatches, finishedVertices } from "../state/restore-assignment.js";
import { ResourceManager } from "./resource-manager.js";
import { checkExactlyOnceSinksCanCommit } from "./submission-checks.js";
import type { ClusterOverview, JobDetail, JobSummary, SubmitJobRequest, SubmitJobResponse, TaskManagerInfo } from "./rest-types.js";
import { startRestServer, type JobManagerApi } from "./rest-server.js";
import { createMetricsRegistry } from "../metrics/otel.js";
import { registerCheckpointMetrics, type CheckpointMetricsSource } from "../metrics/checkpoint-metrics.js";
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
  /** Submit a job in-process (application mode: the JobManager runs one job given on its command line). */
  submit(req: SubmitJobRequest): Promise<SubmitJobResponse>;
  rpcAddress: string;
  restUrl: string;
  close(): Promise<void>;
}

export class JobManager implements JobManagerApi {
  private readonly rm = new ResourceManager();
  private readonly jobs = new Map<string, JobMaster>();
  private readonly coordinators = new Map<string, CheckpointCoordinator>();
  private readonly snapshotStores = new Map<string, JobSnapshotStore>();
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
    checkExactlyOnceSinksCanCommit(jobGraph, this.config);
    const id = req.jobId ?? randomBytes(16).toString("hex");
    // A snapshot to start from is checked completely before anything is deployed.
    const restore = await chooseRestore(restoreSources(req, this.config["state.checkpoints.dir"]), {
      config: this.config,
      load: (path) => this.loadRestorePoint(path, jobGraph, req.allowNonRestoredState ?? false),
      log: this.log.child({ jobId: id }),
    });
    const initialRestore = restore.chosen?.point ?? null;
    if (this.jobs.has(id)) throw new WeirError("WEIR_E_JOB_EXISTS", `a job with id ${id} was already submitted to this JobManager`);
    const job = new JobMaster(
      id,
      request,
      jobGraph,
      {
        send: (tmId, msg) => this.sockets.get(tmId)?.send(msg),
        onTerminal: (j) => this.onJobTerminal(j),
        onRestart: (j, delayMs) => this.restartLater(j, delayMs),
        log: (msg, fields) => this.log.warn(fields ?? {}, msg),
      },
      createRestartStrategy(this.config),
      initialRestore,
    );
    this.attachCheckpointing(job, restore);
    this.jobs.set(id, job);
    this.log.info({ jobId: id, name: job.name, slots: jobGraph.slotsRequired }, "job submitted");
    if (!this.tryDeploy(job)) this.waitForSlots(job);
    return { jobId: id };
  }

  /** Read, verify and match a savepoint or checkpoint against the job; throws a WeirError saying what is wrong. */
  private async loadRestorePoint(path: string, graph: JobGraph, allowNonRestoredState: boolean): Promise<RestorePoint> {
    const storage = storageFor(path, this.config);
    const { meta, metadataUrl } = await readMetadata(storage, path);
    await verifyStateFiles(storage, meta);
    // Every byte is checked before any task starts: a sink must not commit from a snapshot that a
    // keyed operator then cannot restore. One file at a time bounds memory.
    for (const { ref } of fileRefsOf(meta)) await readVerified(storageFor(ref.url, this.config), ref);
    const operators = graph.vertices.flatMap((v) => v.operators.map((o) => ({ uid: o.uid, name: o.node.name })));
    checkStateMatches(meta, operators, allowNonRestoredState);
    // Surfaces a changed max parallelism now rather than in every task.
    for (const v of graph.vertices) for (const o of v.operators) assignRestore(meta, { uid: o.uid, parallelism: v.parallelism, maxParallelism: o.maxParallelism }, 0);
    finishedVertices(meta, restoreVertices(graph));
    return { meta, metadataUrl };
  }

  /** The job's checkpoint coordinator, wired to its tasks and to checkpoint storage. */
  private attachCheckpointing(job: JobMaster, restore: RestoreDecision): void {
    const store = snapshotStoreFor(job.id, this.config, this.log);
    this.snapshotStores.set(job.id, store);
    const restored = restore.chosen?.point ?? null;
    if (restore.owned) store.addRecovered(restore.owned);
    else if (restored) store.addRestored(restored);
    const execTm = (executionId: string) => job.currentExecutions().find((e) => e.id === executionId)?.tmId ?? null;
    const byTm = (executionIds: string[]) => {
      const groups = new Map<string, string[]>();
      for (const id of executionIds) {
        const tm = execTm(id);
        if (tm) groups.set(tm, [...(groups.get(tm) ?? []), id]);
      }
      return groups;
    };
    const coordinator = new CheckpointCoordinator({
      jobId: job.id,
      jobName: job.name,
      config: this.config,
      store,
      log: this.log.child({ jobId: job.id }),
      initialCheckpointId: restore.lastCheckpointId,
      plan: () => checkpointPlan(job),
      trigger: (executionId, trigger) => {
        const tm = execTm(executionId);
        if (tm) this.sockets.get(tm)?.send({ type: "triggerCheckpoint", executionId, trigger });
      },
      notifyComplete: (executionIds, checkpointId) => {
        for (const [tm, ids] of byTm(executionIds)) this.sockets.get(tm)?.send({ type: "checkpointComplete", executionIds: ids, checkpointId });
      },
      notifyAborted: (executionIds, checkpointId, reason) => {
        for (const [tm, ids] of byTm(executionIds)) this.sockets.get(tm)?.send({ type: "checkpointAborted", executionIds: ids, checkpointId, reason });
      },
      failJob: (reason) => job.failGlobally(reason),
    });
    if (restored) {
      coordinator.recordRestore({ id: restored.meta.checkpointId, kind: restored.meta.kind, externalPath: parentUrl(restored.metadataUrl), restoreTimestamp: Date.now() });
    }
    this.coordinators.set(job.id, coordinator);
    job.checkpointing = {
      start: () => coordinator.start(),
      stop: () => coordinator.stop(),
      abortAll: (reason) => coordinator.abortAll(reason),
      receiveAck: (executionId, checkpointId, ack) => coordinator.receiveAck(executionId, checkpointId, ack),
      receiveDecline: (executionId, checkpointId, reason) => coordinator.receiveDecline(executionId, checkpointId, reason),
      taskFinished: (executionId) => coordinator.taskFinished(executionId),
      latest: () => coordinator.latestCompleted(),
    };
  }

  checkpoints(id: string): CheckpointingOverview | undefined {
    return this.coordinators.get(id)?.overview();
  }

  triggerSavepoint(id: string, req: TriggerSavepointRequest): TriggerOutcome {
    return this.startSavepoint(id, req.targetDirectory, undefined);
  }

  stopJob(id: string, req: StopJobRequest): TriggerOutcome {
    return this.startSavepoint(id, req.targetDirectory, { drain: req.drain ?? false });
  }

  private startSavepoint(id: string, targetDir: string | undefined, stop: { drain: boolean } | undefined): TriggerOutcome {
    const job = this.jobs.get(id);
    const coordinator = this.coordinators.get(id);
    if (!job || !coordinator) return "not-found";
    if (job.isTerminal) return "terminal";
    const triggerId = coordinator.triggerSavepoint({ ...(targetDir ? { targetDir } : {}), ...(stop ? { stop } : {}) });
    this.log.info({ jobId: id, triggerId, stop }, stop ? "stop-with-savepoint triggered" : "savepoint triggered");
    return { triggerId };
  }

  disposeSavepoint(path: string): Promise<void> {
    return disposeSavepoint(path, this.config);
  }

  savepointStatus(id: string, triggerId: string): SavepointInfo | undefined {
    return this.coordinators.get(id)?.savepointStatus(triggerId);
  }

  cancelJob(id: string): "canceling" | "not-found" | "terminal" {
    const job = this.jobs.get(id);
    if (!job) return "not-found";
    if (!job.cancel()) return "terminal";
    this.log.info({ jobId: id }, "job canceling");
    return "canceling";
  }

  /** Per-job checkpoint and restart series on the JobManager's /metrics. */
  checkpointMetricsSource(): CheckpointMetricsSource {
    return () => [...this.jobs.values()].filter((j) => !j.isTerminal).map((j) => ({ id: j.id, name: j.name, coordinator: this.coordinators.get(j.id) ?? null, restarts: j.restarts }));
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
      job.onSlotsUnavailable(
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

  /** After a failed attempt ended: give its slots back, wait, then deploy the next attempt (waiting for slots as needed). */
  private restartLater(job: JobMaster, delayMs: number): void {
    this.rm.release(job.id);
    this.retryWaiting();
    const timer = setTimeout(() => {
      this.restartTimers.delete(job.id);
      if (job.state !== "RESTARTING") return;
      if (!this.tryDeploy(job)) this.waitForSlots(job);
    }, delayMs);
    this.restartTimers.set(job.id, timer);
  }
  private readonly restartTimers = new Map<string, ReturnType<typeof setTimeout>>();

  private onJobTerminal(job: JobMaster): void {
    // Statistics stay readable over REST; the coordinator itself has nothing left to do.
    const coordinator = this.coordinators.get(job.id);
    coordinator?.stop();
    // A finished job needs no checkpoint; a canceled or failed one keeps them unless told otherwise.
    const discard = job.state === "FINISHED" || this.config["execution.checkpointing.externalized-checkpoint-retention"] === "DELETE_ON_CANCELLATION";
    const store = this.snapshotStores.get(job.id);
    this.snapshotStores.delete(job.id);
    if (discard && store) {
      void (coordinator?.whenIdle() ?? Promise.resolve())
        .then(() => store.discardAll())
        .catch((err) => this.log.warn({ jobId: job.id, err: describeError(err) }, "could not delete the job's checkpoints"));
    }
    clearTimeout(this.restartTimers.get(job.id));
    this.restartTimers.delete(job.id);
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
    } else if (msg.type === "ackCheckpoint") {
      this.jobOf(msg.executionId)?.onCheckpointAck(msg.executionId, msg.checkpointId, msg.ack);
    } else if (msg.type === "declineCheckpoint") {
      this.jobOf(msg.executionId)?.onCheckpointDecline(msg.executionId, msg.checkpointId, msg.reason);
    } else if (msg.type === "reportWatermark") {
      this.jobOf(msg.executionId)?.onWatermarkReport(msg.executionId, msg.watermark);
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
  registerCheckpointMetrics(metrics, jm.checkpointMetricsSource());
  const rest = await startRestServer(jm, { host: opts.host, port: opts.restPort, metricsHandler: metrics.handler, logger: opts.logger });
  const hb = setInterval(() => jm.checkHeartbeats(), Math.max(100, opts.config["heartbeat.interval"]));
  hb.unref();
  return {
    rpcAddress: `${opts.host}:${addr.port}`,
    restUrl: rest.url,
    submit: (req) => jm.submitJob(req),
    async close() {
      clearInterval(hb);
      server.close();
      await rest.close();
      await metrics.shutdown();
    },
  };
}
