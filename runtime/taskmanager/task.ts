/**
 * One subtask of a vertex running on a TaskManager: its operator chain, input gate and record writers,
 * and the loop that moves batches. The loop runs in time slices on the process's event loop; it stops
 * pulling input while any output lacks credit (backpressure), while a sink's write is pending, or when
 * no input is available, and resumes on the matching callback. Time is accounted as busy,
 * backpressured or idle accordingly.
 */
import type { RuntimeContext } from "../api/functions.js";
import { END_OF_PARTITION, type BarrierEvent, type StreamElement, type StreamEvent } from "../common/elements.js";
import { describeError, WeirError } from "../common/errors.js";
import { keyGroupRangeFor } from "../common/keys.js";
import type { RuntimeConfig } from "../config/options.js";
import type { JobVertex } from "../graph/job-graph.js";
import type { CheckpointAck, CheckpointTrigger, TaskDeployment } from "../jobmanager/control-protocol.js";
import type { TaskState } from "../jobmanager/rest-types.js";
import type { OperatorContext, OperatorSnapshot, ProcessingTimeService } from "../operators/operator.js";
import type { KeyedStateHandle, OperatorListState, OperatorSubtaskState } from "../state/snapshot-types.js";
import { TaskIoMetrics } from "../metrics/task-io-metrics.js";
import { StatusWatermarkValve } from "../time/watermark-valve.js";
import { buildChain, operatorOf, sideOutputOf, tagOperator, type Chain, type ChainWriter } from "./chain.js";
import { SourceDriver } from "./source-driver.js";
import { BarrierAligner, mergeSubtaskStates, persistOperatorSnapshot, stateInitContext } from "./task-checkpointing.js";
import { DefaultOperatorStateStore, RESERVED_PREFIX, userLists } from "../state/operator-state.js";

/** The writer operations the task loop needs beyond the chain's. */
export interface TaskWriter extends ChainWriter {
  flush(): void;
  outputQueueLength(): number;
  isWritable(): boolean;
  onWritable(cb: () => void): void;
}

/** The input gate operations the task loop needs. */
export interface TaskGate {
  readonly numberOfChannels: number;
  poll(): { channel: number; input: number; element: StreamElement } | undefined;
  queuedBatches(): number;
  onAvailable(cb: () => void): void;
  isChannelFinished(index: number): boolean;
  unblock(index: number): void;
  unblockAll(): void;
}

/**
 * Where a task reports its part of checkpoints. A task acknowledges or declines every checkpoint it
 * took part in before it reports FINISHED, so the JobManager may take a FINISHED report of a task it
 * still waits for as "finished before this checkpoint" (see CheckpointCoordinator.taskFinished).
 */
export interface CheckpointReporter {
  ack(checkpointId: number, ack: CheckpointAck): void;
  decline(checkpointId: number, reason: string): void;
}

/** Where a source task with watermark alignment reports its watermark (the JobManager aggregates them). */
export interface WatermarkReporter {
  reportWatermark(watermark: number | "idle"): void;
}

const NO_WATERMARK_REPORTS: WatermarkReporter = { reportWatermark: () => {} };

/** The name of the source's split positions in its operator state. */
const SPLITS_STATE = `${RESERVED_PREFIX}splits`;

export interface TaskIo {
  writers: Map<number, TaskWriter>;
  gate: TaskGate | null;
  /** Release partitions and channels (after finishing: once consumers have read everything). */
  release(afterConsumed: boolean): void;
}

export class Task {
  state: TaskState = "DEPLOYING";
  readonly metrics = new TaskIoMetrics();
  readonly name: string;
  private readonly chain: Chain;
  private readonly source: SourceDriver | null = null;
  private readonly valve: StatusWatermarkValve | null = null;
  private readonly aligner: BarrierAligner | null = null;
  /** Set by a stop-with-savepoint barrier: wait for its completion, then finish without ending input. */
  private stopCheckpoint: number | null = null;
  /**
   * Every operator of this task had finished in the snapshot it restores (FLIP-147): the task runs no
   * operator, it only ends its outputs once its inputs (from tasks finished likewise) ended.
   */
  private readonly finishedOnRestore: boolean;
  /** Asynchronous snapshot phases not yet acknowledged or declined; the task finishes after them. */
  private readonly snapshotsInFlight = new Set<Promise<void>>();
  private readonly mailbox: (() => void)[] = [];
  /**
   * Per operator uid: the keyed state file of its last checkpoint (not savepoint) snapshot, and whether
   * that checkpoint completed. Only then may an unchanged operator refer to the file again.
   */
  private readonly keyedFiles = new Map<string, { checkpointId: number; handle: KeyedStateHandle | null; completed: boolean }>();
  /** Per operator uid, the id of its last checkpoint (not savepoint) snapshot. */
  private readonly lastSnapshot = new Map<string, number>();
  /** User-declared operator list state, per operator uid. */
  private readonly operatorStores = new Map<string, DefaultOperatorStateStore>();
  /** Pending timeouts and intervals (clearTimeout clears both in Node). */
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private pending: Promise<void> | null = null;
  private scheduled = false;
  private inputEnded = false;
  private done!: { resolve: () => void; reject: (e: unknown) => void };
  readonly finished: Promise<void>;

  constructor(
    readonly deployment: TaskDeployment,
    private readonly vertex: JobVertex,
    private readonly io: TaskIo,
    private readonly config: RuntimeConfig,
    private readonly onState: (state: TaskState, failure?: string) => void,
    private readonly reporter: CheckpointReporter,
    private readonly watermarkReporter: WatermarkReporter = NO_WATERMARK_REPORTS,
  ) {
    this.name = `${vertex.name} (${deployment.subtaskIndex + 1}/${vertex.parallelism})`;
    this.finished = new Promise((resolve, reject) => (this.done = { resolve, reject }));
    this.finished.catch(() => {});
    this.chain = buildChain(vertex, io.writers, {
      block: (p) => this.block(p),
      countOut: (n) => (this.metrics.recordsOut += n),
    });
    this.metrics.outputQueueLength = () => {
      let n = 0;
      for (const w of io.writers.values()) n += w.outputQueueLength();
      return n;
    };
    const gate = io.gate;
    if (gate) this.metrics.inputQueueLength = () => gate.queuedBatches();
    const head = vertex.operators[0]!;
    this.finishedOnRestore = deployment.restore?.finished === true;
    // A source finished in its snapshot gets no reader: nothing is left to read, its code does not run again.
    if (head.node.spec.kind === "source" && !this.finishedOnRestore) {
      // Restored with state for this source: exactly the splits in it (possibly none); else fresh splits.
      const restoredSource = deployment.restore?.operators[head.uid];
      const restoredSplits = restoredSource ? (restoredSource.lists.find((l) => l.name === SPLITS_STATE)?.items ?? []) : undefined;
      this.source = new SourceDriver(
        head.node.name,
        head.node.spec.source,
        head.node.spec.watermarks,
        this.runtimeContext(vertex.maxParallelism, head.uid, head.node.name),
        this.chain.headOutput,
        (idle) => this.broadcastEvent({ kind: "status", idle }),
        () => this.idleClock(),
        (restoredSplits as { id: string }[] | undefined) ?? null,
      );
    } else if (io.gate) {
      this.aligner = new BarrierAligner(io.gate);
      this.valve = new StatusWatermarkValve(io.gate.numberOfChannels, {
        emitWatermark: (ts) => {
          this.metrics.currentInputWatermark = ts;
          this.chain.headInputs[0]!.emitWatermark(ts);
        },
        emitStatus: (idle) => this.broadcastEvent({ kind: "status", idle }),
      });
    }
  }

  /** Open the operators (last first, so a chain's downstream is ready), then start the loop. */
  async start(): Promise<void> {
    if (this.finishedOnRestore) return this.startFinished();
    try {
      // All state is restored (and verified) before any operator opens: a bad snapshot fails the task
      // before a sink commits anything or a record moves.
      for (let i = this.chain.operators.length - 1; i >= 0; i--) {
        const { operator, name, nodeId } = this.chain.operators[i]!;
        const rn = this.vertex.operators.find((o) => o.node.id === nodeId)!;
        const ctx = this.operatorContext(name, rn.uid, rn.maxParallelism, nodeId);
        operator.setup(ctx, this.chain.outputs.get(nodeId)!.main);
        try {
          await operator.initializeState(stateInitContext(this.deployment.restore?.operators[rn.uid], ctx.keyGroupRange, this.config));
        } catch (err) {
          throw tagOperator(err, name);
        }
      }
      for (let i = this.chain.operators.length - 1; i >= 0; i--) {
        const { operator, name } = this.chain.operators[i]!;
        try {
          await operator.open();
        } catch (err) {
          throw tagOperator(err, name);
        }
      }
      if (this.isTerminal()) return;
      this.setState("RUNNING");
      this.metrics.markIdle(performance.now());
      if (this.source) {
        this.every(this.config["pipeline.auto-watermark-interval"], () => {
          if (this.stopCheckpoint === null) this.source!.onPeriodicEmit(this.idleClock());
        });
        this.startAlignmentReports(this.source);
      }
      this.every(this.config["execution.buffer-timeout"], () => this.flushWriters());
      this.scheduleRun();
    } catch (err) {
      this.fail(err);
    }
  }

  /** A task finished in its snapshot: no operator opens; it ends its outputs once its inputs ended. */
  private startFinished(): void {
    if (this.isTerminal()) return;
    this.setState("RUNNING");
    this.metrics.markIdle(performance.now());
    this.inputEnded = this.io.gate === null;
    this.scheduleRun();
  }

  /**
   * The clock split idleness is measured on: wall time minus time spent backpressured, so a source
   * stalled by its downstream does not declare its splits idle and let the watermark run ahead of them.
   */
  private idleClock(): number {
    return Date.now() - this.metrics.timeTotals(performance.now()).backpressured;
  }

  /** Stop processing and release everything; reports CANCELED. */
  cancel(): void {
    if (this.isTerminal()) return;
    this.setState("CANCELING");
    this.stopTimers();
    void this.closeOperators().finally(() => {
      this.io.release(false);
      this.setState("CANCELED");
      this.done.resolve();
    });
  }

  private runtimeContext(maxParallelism: number, uid: string, operatorName: string): RuntimeContext {
    return {
      jobId: this.deployment.jobId,
      jobName: this.deployment.jobName,
      operatorUid: uid,
      taskName: this.name,
      subtaskIndex: this.deployment.subtaskIndex,
      parallelism: this.vertex.parallelism,
      maxParallelism,
      jobArgs: this.deployment.args,
      operatorState: this.operatorStore(uid, operatorName),
      metrics: this.metrics.group,
    };
  }

  /** The operator's user list state, restored from the deployment's snapshot on first use. */
  private operatorStore(uid: string, operatorName: string): DefaultOperatorStateStore {
    let store = this.operatorStores.get(uid);
    if (!store) {
      store = new DefaultOperatorStateStore(operatorName);
      store.restore(userLists(this.deployment.restore?.operators[uid]?.lists ?? []));
      this.operatorStores.set(uid, store);
    }
    return store;
  }

  private operatorContext(name: string, uid: string, maxParallelism: number, nodeId: number): OperatorContext {
    return {
      runtime: this.runtimeContext(maxParallelism, uid, name),
      operatorName: name,
      uid,
      keyGroupRange: keyGroupRangeFor(this.deployment.subtaskIndex, this.vertex.parallelism, maxParallelism),
      processingTime: this.processingTime,
      sideOutput: (tag) => sideOutputOf(this.chain.outputs, nodeId, tag),
      stateBackend: { kind: this.config["state.backend"], localDir: this.config["state.backend.rocksdb.localdir"] },
      block: (p) => this.block(p),
    };
  }

  /** Timer callbacks run through the mailbox, between batches, never during a pending sink write. */
  private readonly processingTime: ProcessingTimeService = {
    now: () => Date.now(),
    schedule: (at, callback) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.mail(() => callback(Date.now()));
      }, Math.max(0, at - Date.now()));
      this.timers.add(t);
      return () => {
        clearTimeout(t);
        this.timers.delete(t);
      };
    },
  };

  /** Run `fn` through the mailbox every `ms` until the task ends. */
  private every(ms: number, fn: () => void): void {
    this.timers.add(setInterval(() => this.mail(fn), ms));
  }

  private mail(fn: () => void): void {
    if (this.isTerminal()) return;
    this.mailbox.push(fn);
    this.scheduleRun();
  }

  private block(p: Promise<void>): void {
    this.pending = this.pending ? this.pending.then(() => p) : p;
  }

  private scheduleRun(): void {
    if (this.scheduled || this.pending || this.state !== "RUNNING") return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runSlice();
    });
  }

  private waitFor(p: Promise<void>): void {
    this.pending = p;
    p.then(
      () => {
        if (this.pending === p) this.pending = null;
        this.scheduleRun();
      },
      (err) => this.fail(err),
    );
  }

  /** Process input until the time slice ends or something blocks. */
  private runSlice(): void {
    if (this.state !== "RUNNING") return;
    const m = this.metrics;
    const start = performance.now();
    m.markBusy(start);
    const deadline = start + this.config["task.time-slice"];
    try {
      for (;;) {
        while (this.mailbox.length > 0 && !this.pending) this.mailbox.shift()!();
        if (this.pending) return this.waitFor(this.pending);
        // After a stop-with-savepoint barrier nothing more is processed: wait for its completion (mail).
        if (this.stopCheckpoint !== null) return this.goIdle();
        if (this.inputEnded && this.stopCheckpoint === null) return void this.finish();
        if (!this.writersWritable()) return this.awaitCredit();
        if (!(this.source ? this.pollSource() : this.pollGate())) return;
        if (this.pending) continue;
        if (performance.now() >= deadline) return this.scheduleRun();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** One reader poll; false when the loop must stop (waiting for data, or paused by alignment). */
  private pollSource(): boolean {
    // Paused by watermark alignment: the announcement that resumes it comes as mail, like every trigger.
    if (this.source!.paused) {
      this.goIdle();
      return false;
    }
    const r = this.source!.poll(this.config["network.batch-size"]);
    this.metrics.recordsIn += this.source!.lastCount;
    if (r === "more") return true;
    if (r === "end") {
      this.source!.finish();
      this.inputEnded = true;
      return true;
    }
    this.goIdle();
    r.then(() => this.scheduleRun(), (err) => this.fail(err));
    // The poll may have emitted records before it had to wait, and a sink may be writing them: wait for
    // that too, else `pending` would stay set and no slice (nor mail) would ever run again.
    if (this.pending) this.waitFor(this.pending);
    return false;
  }

  /** Handle one element from the gate; false when no input is available. */
  private pollGate(): boolean {
    const gate = this.io.gate!;
    const next = gate.poll();
    if (!next) {
      this.goIdle();
      gate.onAvailable(() => this.scheduleRun());
      return false;
    }
    if (this.finishedOnRestore) return this.drainFinished(next.channel, next.element);
    const el = next.element;
    const valve = this.valve!;
    switch (el.kind) {
      case "batch":
        this.metrics.recordsIn += el.values.length;
        this.chain.headInputs[next.input]!.emit(el);
        break;
      case "watermark":
        valve.inputWatermark(next.channel, el.timestamp);
        break;
      case "status":
        valve.inputStatus(next.channel, el.idle);
        break;
      case "end": {
        valve.channelEnded(next.channel);
        if (++this.endedChannels === gate.numberOfChannels) this.inputEnded = true;
        const aligned = this.aligner!.onChannelEnded(performance.now());
        if (aligned) this.performCheckpoint(aligned.barrier, aligned.alignmentMs);
        break;
      }
      case "barrier": {
        const aligned = this.aligner!.onBarrier(next.channel, el, performance.now());
        if (aligned) this.performCheckpoint(aligned.barrier, aligned.alignmentMs);
        break;
      }
    }
    return true;
  }
  private endedChannels = 0;

  /** A task finished in its snapshot waits for its inputs, from tasks finished likewise, to end. */
  private drainFinished(channel: number, el: StreamElement): boolean {
    const gate = this.io.gate!;
    if (el.kind === "batch") {
      throw new WeirError(
        "WEIR_E_STATE_MISMATCH",
        `task "${this.name}" had finished in the snapshot it restores (${this.deployment.restore?.source}) but received records on input channel ${channel}`,
      );
    }
    if (el.kind === "barrier") gate.unblock(channel);
    else if (el.kind === "end" && ++this.endedChannels === gate.numberOfChannels) this.inputEnded = true;
    return true;
  }

  private goIdle(): void {
    this.flushWriters();
    this.metrics.markIdle(performance.now());
  }

  /** Wait for the first full writer to drain; the next slice re-checks all writers. */
  private awaitCredit(): void {
    this.flushWriters();
    this.metrics.markBackpressured(performance.now());
    for (const w of this.io.writers.values()) {
      if (!w.isWritable()) return w.onWritable(() => this.scheduleRun());
    }
    this.scheduleRun();
  }

  private writersWritable(): boolean {
    for (const w of this.io.writers.values()) if (!w.isWritable()) return false;
    return true;
  }

  private flushWriters(): void {
    for (const w of this.io.writers.values()) w.flush();
  }

  private broadcastEvent(ev: StreamEvent): void {
    for (const w of this.io.writers.values()) w.broadcastEvent(ev);
  }

  // ---- watermark alignment -------------------------------------------------------------------

  /** Report the source's watermark every update interval, and show the alignment in the metrics. */
  private startAlignmentReports(source: SourceDriver): void {
    if (!source.alignment) return;
    const group = this.metrics.group;
    group.gauge("weir_source_watermark_max_allowed", "Watermark alignment: the latest watermark the group lets this source subtask reach (epoch ms; absent while unlimited)", {}, () => source.maxAllowedWatermark);
    group.gauge("weir_source_paused_splits", "Watermark alignment: splits of this source subtask paused for running ahead of the group", {}, () => source.pausedSplits);
    this.every(source.alignment.updateIntervalMs, () => {
      const watermark = source.alignmentReport();
      if (watermark !== undefined) this.watermarkReporter.reportWatermark(watermark);
    });
  }

  /** JobManager -> source task: the alignment group's `maxAllowed` watermark (+Infinity: no limit). */
  onWatermarkAlignment(maxAllowed: number): void {
    this.mail(() => this.source?.onAlignment(maxAllowed));
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  /**
   * JobManager -> a task without running upstream tasks: a source injects a barrier between polls; a
   * task whose upstream tasks all finished takes the checkpoint once all its channels ended (at once
   * if they have). A task that finishes before this mail runs never takes part: the JobManager
   * records it as finished in this checkpoint.
   */
  triggerCheckpoint(trigger: CheckpointTrigger): void {
    this.mail(() => {
      if (this.finishedOnRestore) return;
      const barrier: BarrierEvent = {
        kind: "barrier",
        checkpointId: trigger.checkpointId,
        timestamp: trigger.timestamp,
        savepoint: trigger.kind === "savepoint",
        stop: trigger.stop !== undefined,
        targetDir: trigger.targetDir,
      };
      if (!this.source) {
        const aligned = this.aligner?.onTrigger(barrier, performance.now());
        if (aligned) this.performCheckpoint(aligned.barrier, aligned.alignmentMs);
        return;
      }
      if (trigger.stop?.drain) this.source.finish(); // the final watermark fires every window first
      this.performCheckpoint(barrier, 0);
    });
  }

  /**
   * Take this task's part of a checkpoint: the synchronous phase of every operator (and the source's
   * split positions), then the barrier goes downstream, then the asynchronous phase writes the state
   * and acknowledges while processing goes on.
   */
  private performCheckpoint(barrier: BarrierEvent, alignmentMs: number): void {
    const id = barrier.checkpointId;
    const start = performance.now();
    const phases: { uid: string; run: () => Promise<OperatorSnapshot> }[] = [];
    try {
      if (this.source) {
        const splits = this.source.snapshotSplits(id);
        if (splits === null) {
          this.broadcastEvent(barrier);
          return this.reporter.decline(id, `source "${this.source.name}" cannot take part in checkpoints: its reader has no snapshotState()`);
        }
        const lists: OperatorListState[] = [{ name: SPLITS_STATE, mode: "split", items: splits }];
        phases.push({ uid: this.vertex.operators[0]!.uid, run: async () => ({ keyed: null, lists }) });
      }
      for (const [uid, store] of this.operatorStores) {
        if (store.isEmpty) continue;
        const lists = store.snapshot();
        phases.push({ uid, run: async () => ({ keyed: null, lists }) });
      }
      for (const { operator, name, nodeId } of this.chain.operators) {
        const uid = this.uidOf(nodeId);
        const last = this.keyedFiles.get(uid);
        const mayReuseKeyed = !barrier.savepoint && last !== undefined && last.completed && last.checkpointId === this.lastSnapshot.get(uid);
        try {
          const run = operator.snapshotState({ checkpointId: id, timestamp: barrier.timestamp, savepoint: barrier.savepoint, mayReuseKeyed });
          if (!barrier.savepoint) this.lastSnapshot.set(uid, id);
          if (run) phases.push({ uid, run });
        } catch (err) {
          throw tagOperator(err, name);
        }
      }
    } catch (err) {
      // A failing synchronous phase fails the task, as in Flink.
      return this.fail(err);
    }
    this.broadcastEvent(barrier);
    this.flushWriters();
    if (barrier.stop) this.stopCheckpoint = id;
    const syncMs = performance.now() - start;
    const asyncStart = performance.now();
    const reported = this.persistSnapshots(barrier, phases).then(
      ({ operators, bytes }) => {
        if (this.isTerminal()) return;
        this.reporter.ack(id, { operators, stats: { alignmentMs, syncMs, asyncMs: performance.now() - asyncStart, bytes } });
      },
      (err) => {
        if (!this.isTerminal()) this.reporter.decline(id, `Task "${this.name}": ${describeError(err)}`);
      },
    );
    this.snapshotsInFlight.add(reported);
    void reported.finally(() => this.snapshotsInFlight.delete(reported));
  }

  private async persistSnapshots(barrier: BarrierEvent, phases: { uid: string; run: () => Promise<OperatorSnapshot> }[]) {
    const operators: Record<string, OperatorSubtaskState> = {};
    let bytes = 0;
    const where = { targetDir: barrier.targetDir, subtask: this.deployment.subtaskIndex, checkpointId: barrier.checkpointId };
    const results = await Promise.all(
      phases.map(async (p) => {
        const snapshot = await p.run();
        const previous = this.keyedFiles.get(p.uid)?.handle ?? null;
        const persisted = await persistOperatorSnapshot(snapshot, { ...where, uid: p.uid }, previous, this.config);
        if (!barrier.savepoint && (snapshot.keyed !== null || this.keyedFiles.has(p.uid))) {
          this.keyedFiles.set(p.uid, { checkpointId: barrier.checkpointId, handle: persisted.state.keyed, completed: false });
        }
        return { uid: p.uid, ...persisted };
      }),
    );
    for (const r of results) {
      const prev = operators[r.uid];
      operators[r.uid] = prev ? mergeSubtaskStates(prev, r.state) : r.state;
      bytes += r.bytes;
    }
    return { operators, bytes };
  }

  private uidOf(nodeId: number): string {
    return this.vertex.operators.find((o) => o.node.id === nodeId)!.uid;
  }

  /** Checkpoint `checkpointId` completed: operators commit (in the mailbox, holding input meanwhile). */
  notifyCheckpointComplete(checkpointId: number): void {
    this.mail(() => {
      for (const f of this.keyedFiles.values()) if (f.checkpointId === checkpointId) f.completed = true;
      const stop = this.stopCheckpoint !== null && checkpointId >= this.stopCheckpoint;
      const commit = (async () => {
        try {
          await this.source?.notifyCheckpointComplete(checkpointId);
        } catch (err) {
          throw tagOperator(err, this.source!.name);
        }
        for (const { operator, name } of this.chain.operators) {
          try {
            await operator.notifyCheckpointComplete(checkpointId);
          } catch (err) {
            throw tagOperator(err, name);
          }
        }
      })();
      if (stop) commit.then(() => this.finishAfterStop(), (err) => this.fail(err));
      else this.block(commit);
    });
  }

  /** Checkpoint `checkpointId` was aborted: drop its alignment; a stopped source resumes. */
  notifyCheckpointAborted(checkpointId: number): void {
    this.mail(() => {
      this.aligner?.abandon(checkpointId);
      if (this.stopCheckpoint === checkpointId) this.stopCheckpoint = null;
    });
  }

  /** After stop-with-savepoint: end downstream channels and close, without ending the operators' input. */
  private async finishAfterStop(): Promise<void> {
    if (this.isTerminal()) return;
    this.scheduled = true; // no more slices
    this.stopTimers();
    while (this.pending) await this.pending; // operators' work still in flight
    this.broadcastEvent(END_OF_PARTITION);
    this.flushWriters();
    await this.closeOperators();
    this.metrics.markIdle(performance.now());
    this.setState("FINISHED");
    this.io.release(true);
    this.done.resolve();
  }

  /**
   * All input ended: end each operator in order, flush, signal the end downstream, close. Snapshots
   * still in their asynchronous phase complete first: operators end their input after them (a sink
   * commits at its end what they prepared), and the task acknowledges or declines every checkpoint it
   * took part in before it reports FINISHED. No slice runs meanwhile, so no new snapshot starts.
   */
  private async finish(): Promise<void> {
    this.inputEnded = false;
    this.scheduled = true; // no more slices
    try {
      while (this.snapshotsInFlight.size > 0) await Promise.allSettled([...this.snapshotsInFlight]);
      if (!this.finishedOnRestore && !this.isTerminal()) await this.endOperatorsInput();
      if (this.isTerminal()) return; // canceled while ending its input
      this.stopTimers();
      this.broadcastEvent(END_OF_PARTITION);
      this.flushWriters();
      await this.closeOperators(true);
      this.metrics.markIdle(performance.now());
      this.setState("FINISHED");
      this.io.release(true);
      this.done.resolve();
    } catch (err) {
      this.fail(err);
    }
  }

  private async endOperatorsInput(): Promise<void> {
    for (const { operator, name } of this.chain.operators) {
      try {
        await operator.endInput();
        if (this.pending) await this.pending;
      } catch (err) {
        throw tagOperator(err, name);
      }
    }
  }

  private async closeOperators(rethrow = false): Promise<void> {
    if (this.finishedOnRestore) return; // never opened
    for (const { operator, name } of this.chain.operators) {
      try {
        await operator.close();
      } catch (err) {
        if (rethrow) throw tagOperator(err, name);
      }
    }
    try {
      await this.source?.close();
    } catch (err) {
      if (rethrow) throw tagOperator(err, this.source!.name);
    }
  }

  fail(err: unknown): void {
    if (this.isTerminal()) return;
    this.stopTimers();
    const op = operatorOf(err);
    const failure = `Task "${this.name}"${op ? ` failed in operator "${op}"` : " failed"}: ${describeError(err)}`;
    this.state = "FAILED";
    void this.closeOperators().finally(() => this.io.release(false));
    this.onState("FAILED", failure);
    this.done.reject(new WeirError("WEIR_E_TASK_FAILED", failure, { cause: err }));
  }

  private setState(state: TaskState): void {
    this.state = state;
    this.onState(state);
  }

  private isTerminal(): boolean {
    return this.state === "FINISHED" || this.state === "FAILED" || this.state === "CANCELED" || this.state === "CANCELING";
  }

  private stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.mailbox.length = 0;
  }
}

