/**
 * The TaskManager process: registers its slots with the JobManager, runs the tasks deployed to it,
 * serves its partitions to remote consumers, and reports task states and (each heartbeat) task metrics.
 * Losing the JobManager cancels every task; once they have all ended the TaskManager registers again,
 * retrying with back-off (a JobManager restarted at the same address, e.g. its container in the same
 * pod, redeploys its job here). After `taskmanager.registration.timeout` without success the process
 * exits with status 1, and its pod restarts it.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { JsonSocket } from "../common/json-socket.js";
import { describeError, WeirError } from "../common/errors.js";
import type { RuntimeConfig } from "../config/options.js";
import { loadJob, type LoadedJob } from "../graph/job-module.js";
import type { JmToTm, TaskDeployment, TmToJm } from "../jobmanager/control-protocol.js";
import type { TaskState } from "../jobmanager/rest-types.js";
import { registerTaskMetrics, startMetrics, type MetricsServer } from "../metrics/otel.js";
import { ConnectionManager, DataServer, PartitionManager, parseAddress } from "../network/index.js";
import { Task } from "./task.js";
import { wireTaskIo } from "./task-io.js";

export interface TaskManagerOptions {
  /** The JobManager's control address, host:port. */
  jobManager: string;
  host: string;
  dataPort: number;
  metricsPort: number;
  slots: number;
  config: RuntimeConfig;
  logger: Logger;
  id?: string;
}

export interface RunningTaskManager {
  readonly id: string;
  readonly dataAddress: string;
  readonly metricsUrl: string;
  /**
   * Resolves when the TaskManager gave up on its JobManager: it lost it and could not register again
   * within `taskmanager.registration.timeout` (or its tasks did not end by then). Its tasks are canceled.
   */
  readonly lost: Promise<void>;
  close(): Promise<void>;
}

type JobManagerConnection = JsonSocket<JmToTm, TmToJm>;

class TaskManager {
  readonly tasks = new Map<string, Task>();
  /** Executions canceled while still being deployed (loading the job module). */
  private readonly canceledEarly = new Set<string>();
  /** Deployments still loading the job module. */
  private readonly deploying = new Set<Promise<void>>();
  /** The connection of the current registration; null while the JobManager is lost. */
  jm: JobManagerConnection | null = null;

  constructor(
    readonly id: string,
    private readonly opts: TaskManagerOptions,
    private readonly partitions: PartitionManager,
    private readonly connections: ConnectionManager,
  ) {}

  /** A message of the JobManager on connection `jm`; replies and the tasks it deploys use that connection. */
  onMessage(jm: JobManagerConnection, msg: JmToTm): void {
    switch (msg.type) {
      case "deploy": {
        const deploying = this.deploy(jm, msg.task);
        this.deploying.add(deploying);
        void deploying.finally(() => this.deploying.delete(deploying));
        break;
      }
      case "cancel": {
        const task = this.tasks.get(msg.executionId);
        if (task) task.cancel();
        else this.canceledEarly.add(msg.executionId);
        break;
      }
      case "triggerCheckpoint": {
        const task = this.tasks.get(msg.executionId);
        if (task) task.triggerCheckpoint(msg.trigger);
        else jm.send({ type: "declineCheckpoint", executionId: msg.executionId, checkpointId: msg.trigger.checkpointId, reason: `task ${msg.executionId} is not running on TaskManager ${this.id}` });
        break;
      }
      case "checkpointComplete":
        for (const id of msg.executionIds) this.tasks.get(id)?.notifyCheckpointComplete(msg.checkpointId);
        break;
      case "checkpointAborted":
        for (const id of msg.executionIds) this.tasks.get(id)?.notifyCheckpointAborted(msg.checkpointId);
        break;
      case "watermarkAlignment":
        for (const id of msg.executionIds) this.tasks.get(id)?.onWatermarkAlignment(msg.maxAllowed ?? Number.POSITIVE_INFINITY);
        break;
      default:
        break;
    }
  }

  private report(jm: JobManagerConnection, executionId: string, state: TaskState, failure?: string): void {
    jm.send({ type: "taskState", executionId, state, ...(failure ? { failure } : {}) });
    if (state === "FINISHED" || state === "FAILED" || state === "CANCELED") {
      this.tasks.delete(executionId);
      this.opts.logger.info({ executionId, state, failure }, "task ended");
    }
  }

  /**
   * Build the job's graph for one task. Every subtask builds its own, so the function objects a job
   * module creates (with their fields) are never shared between subtasks, as if Flink had
   * deserialized a fresh copy for each; the module itself is imported once per process.
   */
  private buildGraph(d: TaskDeployment): Promise<LoadedJob> {
    return loadJob({ module: d.module, args: d.args, parallelism: d.parallelism, name: d.jobName });
  }

  private async deploy(jm: JobManagerConnection, d: TaskDeployment): Promise<void> {
    try {
      const { jobGraph } = await this.buildGraph(d);
      // Canceled meanwhile, or its JobManager is gone (a restarted one may deploy the same execution id).
      if (this.canceledEarly.delete(d.executionId) || jm !== this.jm) return this.report(jm, d.executionId, "CANCELED");
      const vertex = jobGraph.vertices.find((v) => v.id === d.vertexId);
      if (!vertex) {
        throw new WeirError("WEIR_E_JOB_BUILD", `job module ${d.module} built a different graph here: no vertex ${d.vertexId}; job modules must build the same graph in every process`);
      }
      const io = wireTaskIo(d, jobGraph, this.id, this.partitions, this.connections, this.opts.config);
      const task = new Task(
        d,
        vertex,
        io,
        this.opts.config,
        (state, failure) => this.report(jm, d.executionId, state, failure),
        {
          ack: (checkpointId, ack) => jm.send({ type: "ackCheckpoint", executionId: d.executionId, checkpointId, ack }),
          decline: (checkpointId, reason) => jm.send({ type: "declineCheckpoint", executionId: d.executionId, checkpointId, reason }),
        },
        { reportWatermark: (watermark) => jm.send({ type: "reportWatermark", executionId: d.executionId, watermark }) },
      );
      this.tasks.set(d.executionId, task);
      io.onFailure((err) => task.fail(err));
      io.start();
      const finished = d.restore?.finished ? { finishedOnRestore: true } : {};
      this.opts.logger.info({ task: task.name, executionId: d.executionId, ...finished }, "task deployed");
      await task.start();
    } catch (err) {
      this.report(jm, d.executionId, "FAILED", `Task deployment of ${d.executionId} failed on TaskManager ${this.id}: ${describeError(err)}`);
    }
  }

  heartbeat(): void {
    const now = performance.now();
    const tasks = [...this.tasks.entries()].map(([executionId, t]) => ({ executionId, metrics: t.metrics.sample(now) }));
    this.jm?.send({ type: "heartbeat", tmId: this.id, tasks });
  }

  cancelAll(): void {
    for (const t of this.tasks.values()) t.cancel();
  }

  /**
   * The JobManager is lost: cancel every task (deployments still loading cancel themselves) and
   * resolve true once all have ended, false if they have not by `deadline`. Until then nothing may
   * register again: a restarted JobManager reuses execution and partition ids.
   */
  async cancelForLostJobManager(deadline: number): Promise<boolean> {
    this.jm = null;
    this.cancelAll();
    const ended = (async () => {
      while (this.deploying.size > 0 || this.tasks.size > 0) {
        await Promise.allSettled([...this.deploying, ...[...this.tasks.values()].map((t) => t.finished)]);
      }
      this.canceledEarly.clear();
      return true;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
    try {
      return await Promise.race([ended, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Wait before retry `attempt` (0, 1, ...): 100 ms doubling up to 2 s. */
const backoffMs = (attempt: number) => Math.min(2_000, 100 * 2 ** attempt);

/** Thrown by `registerWith` for a JobManager that refuses this TaskManager: trying again will not help. */
class RegistrationRejected extends WeirError {}

/** Connect to the JobManager, retrying with back-off until `deadline` (epoch ms) or until `signal` aborts. */
async function connectToJobManager(address: string, deadline: number, signal: AbortSignal, log: Logger): Promise<JobManagerConnection> {
  const { host, port } = parseAddress(address);
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      const socket = await new Promise<import("node:net").Socket>((resolve, reject) => {
        const s = connect({ host, port }, () => resolve(s));
        s.once("error", reject);
      });
      return new JsonSocket<JmToTm, TmToJm>(socket);
    } catch (err) {
      if (Date.now() > deadline) throw new WeirError("WEIR_E_PROTOCOL", `cannot reach the JobManager at ${address}: ${(err as Error).message}`);
      log.warn({ attempt, err: (err as Error).message }, "JobManager not reachable yet");
      await sleep(backoffMs(attempt), undefined, { signal });
    }
  }
}

/**
 * Send the registration and resolve once the JobManager accepted it (`tm.jm` is then `jm`); rejects if
 * it refuses or the connection ends first. Later messages on `jm` go to `tm`.
 */
function registerWith(jm: JobManagerConnection, tm: TaskManager, registration: Extract<TmToJm, { type: "register" }>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onClose = (err: Error | null) => reject(new WeirError("WEIR_E_PROTOCOL", `the JobManager closed the connection before registration${err ? `: ${err.message}` : ""}`));
    jm.once("close", onClose);
    jm.on("message", (msg) => {
      if (msg.type === "registered") {
        jm.off("close", onClose);
        tm.jm = jm; // at once: a deploy may follow in the same chunk
        resolve();
      } else if (msg.type === "rejected") reject(new RegistrationRejected("WEIR_E_PROTOCOL", `JobManager rejected registration: ${msg.reason}`));
      else tm.onMessage(jm, msg);
    });
    jm.send(registration);
  });
}

export async function startTaskManager(opts: TaskManagerOptions): Promise<RunningTaskManager> {
  const id = opts.id ?? `tm-${randomBytes(4).toString("hex")}`;
  const log = opts.logger.child({ tmId: id });
  const partitions = new PartitionManager();
  const server = new DataServer(partitions, { host: opts.host, port: opts.dataPort, partitionRequestTimeoutMs: opts.config["network.partition-request-timeout"] });
  const dataAddress = await server.listen();
  const connections = new ConnectionManager();
  const metrics: MetricsServer = await startMetrics({ serviceName: "weir-taskmanager", host: opts.host, port: opts.metricsPort });
  const tm = new TaskManager(id, opts, partitions, connections);
  registerTaskMetrics(metrics, () =>
    [...tm.tasks.values()].map((t) => ({
      labels: { job_id: t.deployment.jobId, vertex: t.deployment.vertexId, task_name: t.name, subtask: String(t.deployment.subtaskIndex) },
      metrics: t.metrics,
    })),
  );
  const registration = { type: "register", tmId: id, dataAddress, metricsUrl: metrics.url, slots: opts.slots, pid: process.pid } as const;
  const timeout = opts.config["taskmanager.registration.timeout"];
  const stopping = new AbortController();

  /** Connect and register until `deadline`; `closed` resolves when that connection ends (heartbeats stopped). */
  const register = async (deadline: number): Promise<{ closed: Promise<Error | null> }> => {
    for (let attempt = 0; ; attempt++) {
      const jm = await connectToJobManager(opts.jobManager, deadline, stopping.signal, log);
      const closed = new Promise<Error | null>((resolve) => jm.once("close", resolve));
      try {
        await registerWith(jm, tm, registration);
      } catch (err) {
        jm.destroy();
        if (err instanceof RegistrationRejected || Date.now() > deadline) throw err;
        log.warn({ attempt, err: (err as Error).message }, "registration did not complete; trying again");
        await sleep(backoffMs(attempt), undefined, { signal: stopping.signal });
        continue;
      }
      const heartbeats = setInterval(() => tm.heartbeat(), opts.config["heartbeat.interval"]);
      return { closed: closed.finally(() => clearInterval(heartbeats)) };
    }
  };

  /**
   * Flink's TaskManager on a lost JobManager: cancel every task, then register again with back-off
   * (a restarted JobManager at the same address redeploys its job here); give up after the timeout.
   */
  const stayRegistered = async (registered: { closed: Promise<Error | null> }): Promise<void> => {
    for (;;) {
      const err = await registered.closed;
      if (stopping.signal.aborted) return;
      const deadline = Date.now() + timeout;
      log.warn({ err: err?.message, timeoutMs: timeout }, "lost the JobManager; canceling all tasks, then registering again");
      if (!(await tm.cancelForLostJobManager(deadline))) {
        throw new WeirError("WEIR_E_PROTOCOL", `tasks ${[...tm.tasks.keys()].join(", ")} did not end within ${timeout} ms after the JobManager was lost`);
      }
      if (stopping.signal.aborted) return;
      registered = await register(deadline);
      log.info({ jobManager: opts.jobManager }, "registered again with the JobManager");
    }
  };

  const first = await register(Date.now() + timeout);
  let giveUp!: () => void;
  const lost = new Promise<void>((resolve) => (giveUp = resolve));
  stayRegistered(first).catch((err: unknown) => {
    if (stopping.signal.aborted) return;
    log.error({ err: describeError(err), timeoutMs: timeout }, "giving up on the JobManager (taskmanager.registration.timeout)");
    tm.cancelAll();
    giveUp();
  });
  return {
    id,
    dataAddress,
    metricsUrl: metrics.url,
    lost,
    async close() {
      stopping.abort();
      tm.cancelAll();
      tm.jm?.close();
      connections.close();
      partitions.releaseAll();
      await server.close();
      await metrics.shutdown();
    },
  };
}
