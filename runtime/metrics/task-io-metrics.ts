/**
 * Per-task I/O counters and the busy / backpressured / idle time accounting of Flink's
 * `TaskIOMetricGroup`, kept as plain fields so the record path pays only an increment.
 *
 *   const io = new TaskIoMetrics();
 *   io.markBusy(performance.now());          // a batch arrived
 *   io.recordsIn += batch.length;
 *   io.markBackpressured(performance.now()); // push() returned false: waiting for credit
 *   io.markIdle(performance.now());          // nothing to read
 *   setInterval(() => io.sample(performance.now()), 1000); // one sampler, owned by the task
 *
 * Exporters (Prometheus, the JobManager's heartbeat) read `lastSample` and the counters; they never
 * call `sample()` themselves, so the per-second rates are not reset by whoever reads them.
 */
import type { TaskMetrics } from "../jobmanager/rest-types.js";
import { TaskMetricGroup } from "./task-metric-group.js";

/** The state a task's time is accounted to. */
export type TaskTimeState = "busy" | "idle" | "backpressured";

/** Cumulative milliseconds spent in each state. */
export interface TaskTimeTotals {
  busy: number;
  idle: number;
  backpressured: number;
}

interface SamplePoint {
  time: number;
  recordsIn: number;
  recordsOut: number;
  idle: number;
  backpressured: number;
}

const MS_PER_SECOND = 1000;

/** Clamp a per-second figure into 0..1000 ms. */
function clampMs(value: number): number {
  return Math.min(MS_PER_SECOND, Math.max(0, value));
}

/** A watermark that is not a finite time (none yet, or end of input) is reported as null. */
function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

/**
 * The I/O metrics of one subtask. Times are monotonic milliseconds (`performance.now()`) passed in
 * by the caller, so tests can drive the clock explicitly. Not thread-safe; owned by one task.
 */
export class TaskIoMetrics {
  /** Records read by the task (incremented by the task). */
  recordsIn = 0;
  /** Records emitted by the task (incremented by the task). */
  recordsOut = 0;
  /** The task's current input watermark (epoch ms); ±Infinity or null mean "none" / "end of input". */
  currentInputWatermark: number | null = null;
  /** Batches queued in the task's input channels; set by the task. */
  inputQueueLength: () => number = () => 0;
  /** Batches queued in the task's output subpartitions; set by the task. */
  outputQueueLength: () => number = () => 0;
  /** The most recent result of `sample()`, or null before the first; what exporters read. */
  lastSample: TaskMetrics | null = null;
  /** Metrics the task's functions and connectors registered (`RuntimeContext.metrics`). */
  readonly group = new TaskMetricGroup();

  private state: TaskTimeState;
  private stateSince: number;
  private readonly totals: TaskTimeTotals = { busy: 0, idle: 0, backpressured: 0 };
  private previous: SamplePoint;

  /**
   * @param now monotonic time the accounting starts at (default `performance.now()`)
   * @param initialState the state the task is in until the first `mark*` call (idle: waiting for input)
   */
  constructor(now: number = performance.now(), initialState: TaskTimeState = "idle") {
    this.state = initialState;
    this.stateSince = now;
    this.previous = { time: now, recordsIn: 0, recordsOut: 0, idle: 0, backpressured: 0 };
  }

  /** The state time is currently accounted to. */
  get currentState(): TaskTimeState {
    return this.state;
  }

  /** The task started processing input. */
  markBusy(now: number): void {
    this.switchTo("busy", now);
  }

  /** The task is waiting for input. */
  markIdle(now: number): void {
    this.switchTo("idle", now);
  }

  /** The task is waiting for output credit (backpressure from downstream). */
  markBackpressured(now: number): void {
    this.switchTo("backpressured", now);
  }

  /** Cumulative milliseconds per state up to `now`, including the time in the current state. */
  timeTotals(now: number): TaskTimeTotals {
    this.flush(now);
    return { ...this.totals };
  }

  /**
   * Rates since the previous sample: records per second and ms per second in each state, each clamped
   * to 0..1000, with busy = 1000 - min(idle + backpressured, 1000) as in Flink. Stores the result in
   * `lastSample`. Call it from one place only (e.g. once a second from the task), since each call
   * starts a new rate window. A call with no time elapsed returns the previous sample unchanged.
   *
   * @param now monotonic ms (`performance.now()`)
   * @param wallClock epoch ms the watermark lag is measured against
   */
  sample(now: number, wallClock: number = Date.now()): TaskMetrics {
    const elapsed = now - this.previous.time;
    if (elapsed <= 0 && this.lastSample !== null) return this.lastSample;
    this.flush(now);
    const current = this.point(now);
    const sample = this.build(current, Math.max(elapsed, 0), wallClock);
    this.previous = current;
    this.lastSample = sample;
    return sample;
  }

  private switchTo(next: TaskTimeState, now: number): void {
    if (next === this.state) return;
    this.flush(now);
    this.state = next;
  }

  /** Account the time since `stateSince` to the current state. */
  private flush(now: number): void {
    const elapsed = now - this.stateSince;
    if (elapsed > 0) {
      this.totals[this.state] += elapsed;
      this.stateSince = now;
    }
  }

  private point(now: number): SamplePoint {
    const { idle, backpressured } = this.totals;
    return { time: now, recordsIn: this.recordsIn, recordsOut: this.recordsOut, idle, backpressured };
  }

  private build(current: SamplePoint, elapsed: number, wallClock: number): TaskMetrics {
    const perSecond = (delta: number): number => (elapsed > 0 ? (delta * MS_PER_SECOND) / elapsed : 0);
    const idle = clampMs(perSecond(current.idle - this.previous.idle));
    const backPressured = clampMs(perSecond(current.backpressured - this.previous.backpressured));
    const watermark = finiteOrNull(this.currentInputWatermark);
    return {
      recordsIn: current.recordsIn,
      recordsOut: current.recordsOut,
      recordsInPerSecond: Math.max(0, perSecond(current.recordsIn - this.previous.recordsIn)),
      recordsOutPerSecond: Math.max(0, perSecond(current.recordsOut - this.previous.recordsOut)),
      busyTimeMsPerSecond: elapsed > 0 ? MS_PER_SECOND - Math.min(idle + backPressured, MS_PER_SECOND) : 0,
      backPressuredTimeMsPerSecond: backPressured,
      idleTimeMsPerSecond: idle,
      currentInputWatermark: watermark,
      watermarkLagMs: watermark === null ? null : wallClock - watermark,
      outputQueueLength: this.outputQueueLength(),
      inputQueueLength: this.inputQueueLength(),
    };
  }
}
