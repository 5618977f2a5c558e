/**
 * The TaskManager process: registers its slots with the JobManager, runs the tasks deployed to it,
 * serves its partitions to remote consumers, and reports task states and (each heartbeat) task metrics.
 * Losing the JobManager cancels every task and ends the process (its pod restarts it).
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
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
  /** Resolves when the JobManager connection is lost. */
  readonly lost: Promise<void>;
  close(): Promise<void>;
}

/** How long a starting TaskManager keeps trying to reach its JobManager. */
const CONNECT_DEADLINE_MS = 60_000;

class TaskManager {
  readonly tasks = new Map<string, Task>();
  /** Executions canceled while still being deployed (loading the job module). */
  private readonly canceledEarly = new Set<string>();

  constructor(
    readonly id: string,
    private readonly opts: TaskManagerOptions,
    private readonly partitions: PartitionManager,
    private readonly connections: ConnectionManager,
    private readonly jm: JsonSocket<JmToTm, TmToJm>,
  ) {}

  onMessage(msg: JmToTm): void {
    switch (msg.type) {
      case "deploy":
        void this.deploy(msg.task);
        break;
      case "cancel": {
        const task = this.tasks.get(msg.executionId);
        if (task) task.cancel();
        else this.canceledEarly.add(msg.executionId);
        break;
      }
      case "triggerCheckpoint": {
        const task = this.tasks.get(msg.executionId);
        if (task) task.triggerCheckpoint(msg.trigger);
        else this.jm.send({ type: "declineCheckpoint", executionId: msg.executionId, checkpointId: msg.trigger.checkpointId, reason: `task ${msg.executionId} is not running on TaskManager ${this.id}` });
        break;
      }
      case "checkpointComplete":
        for (const id of msg.executionIds) this.tasks.get(id)?.notifyCheckpointComplete(msg.checkpointId);
        break;
      case "checkpointAborted":
        for (const id of msg.executionIds) this.tasks.get(id)?.notifyCheckpointAborted(msg.checkpointId);
        break;
      default:
        break;
    }
  }

  private report(executionId: string, state: TaskState, failure?: string): void {
    this.jm.send({ type: "taskState", executionId, state, ...(failure ? { failure } : {}) });
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

  private async deploy(d: TaskDeployment): Promise<void> {
    try {
      const { jobGraph } = await this.buildGraph(d);
      if (this.canceledEarly.delete(d.executionId)) return this.report(d.executionId, "CANCELED");
      const vertex = jobGraph.vertices.find((v) => v.id === d.vertexId);
      if (!vertex) {
        throw new WeirError("WEIR_E_JOB_BUILD", `job module ${d.module} built a different graph here: no vertex ${d.vertexId}; job modules must build the same graph in every process`);
      }
      const io = wireTaskIo(d, jobGraph, this.id, this.partitions, this.connections, this.opts.config);
      const task = new Task(d, vertex, io, this.opts.config, (state, failure) => this.report(d.executionId, state, failure), {
        ack: (checkpointId, ack) => this.jm.send({ type: "ackCheckpoint", executionId: d.executionId, checkpointId, ack }),
        decline: (checkpointId, reason) => this.jm.send({ type: "declineCheckpoint", executionId: d.executionId, checkpointId, reason }),
      });
      this.tasks.set(d.executionId, task);
      io.onFailure((err) => task.fail(err));
      io.start();
      this.opts.logger.info({ task: task.name, executionId: d.executionId }, "task deployed");
      await task.start();
    } catch (err) {
      this.report(d.executionId, "FAILED", `Task deployment of ${d.executionId} failed on TaskManager ${this.id}: ${describeError(err)}`);
    }
  }

  heartbeat(): void {
    const now = performance.now();
    const tasks = [...this.tasks.entries()].map(([executionId, t]) => ({ executionId, metrics: t.metrics.sample(now) }));
    this.jm.send({ type: "heartbeat", tmId: this.id, tasks });
  }

  cancelAll(): void {
    for (const t of this.tasks.values()) t.cancel();
  }
}

/** Connect to the JobManager, retrying while it starts. */
async function connectToJobManager(address: string, log: Logger): Promise<JsonSocket<JmToTm, TmToJm>> {
  const { host, port } = parseAddress(address);
  const deadline = Date.now() + CONNECT_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const socket = await new Promise<import("node:net").Socket>((resolve, reject) => {
        const s = connect({ host, port }, () => resolve(s));
        s.once("error", reject);
      });
      return new JsonSocket<JmToTm, TmToJm>(socket);
    } catch (err) {
      if (Date.now() > deadline) throw new WeirError("WEIR_E_PROTOCOL", `cannot reach the JobManager at ${address}: ${(err as Error).message}`);
      log.warn({ attempt, err: (err as Error).message }, "JobManager not reachable yet");
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}

export async function startTaskManager(opts: TaskManagerOptions): Promise<RunningTaskManager> {
  const id = opts.id ?? `tm-${randomBytes(4).toString("hex")}`;
  const log = opts.logger.child({ tmId: id });
  const partitions = new PartitionManager();
  const server = new DataServer(partitions, { host: opts.host, port: opts.dataPort, partitionRequestTimeoutMs: opts.config["network.partition-request-timeout"] });
  const dataAddress = await server.listen();
  const connections = new ConnectionManager();
  const metrics: MetricsServer = await startMetrics({ serviceName: "weir-taskmanager", host: opts.host, port: opts.metricsPort });
  const jm = await connectToJobManager(opts.jobManager, log);
  const tm = new TaskManager(id, opts, partitions, connections, jm);
  registerTaskMetrics(metrics, () =>
    [...tm.tasks.values()].map((t) => ({
      labels: { job_id: t.deployment.jobId, vertex: t.deployment.vertexId, task_name: t.name, subtask: String(t.deployment.subtaskIndex) },
      metrics: t.metrics,
    })),
  );
  let resolveLost!: () => void;
  const lost = new Promise<void>((r) => (resolveLost = r));
  const registered = new Promise<void>((resolve, reject) => {
    jm.on("message", (msg) => {
      if (msg.type === "registered") resolve();
      else if (msg.type === "rejected") reject(new WeirError("WEIR_E_PROTOCOL", `JobManager rejected registration: ${msg.reason}`));
      else tm.onMessage(msg);
    });
  });
  const heartbeats: { timer?: ReturnType<typeof setInterval> } = {};
  jm.on("close", (err) => {
    clearInterval(heartbeats.timer);
    log.warn({ err: err?.message }, "lost the JobManager; canceling all tasks");
    tm.cancelAll();
    resolveLost();
  });
  jm.send({ type: "register", tmId: id, dataAddress, metricsUrl: metrics.url, slots: opts.slots, pid: process.pid });
  await registered;
  heartbeats.timer = setInterval(() => tm.heartbeat(), opts.config["heartbeat.interval"]);
  return {
    id,
    dataAddress,
    metricsUrl: metrics.url,
    lost,
    async close() {
      clearInterval(heartbeats.timer);
      tm.cancelAll();
      jm.close();
      connections.close();
      partitions.releaseAll();
      await server.close();
      await metrics.shutdown();
    },
  };
}
