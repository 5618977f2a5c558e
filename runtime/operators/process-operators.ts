/**
 * Process-function operators: non-keyed (`process`), keyed (`keyBy().process`, rolling reduce and
 * aggregate) and two-input (`connect().process`, keyed or not). They share one collector per output
 * and one reusable per-record context, so the record path allocates nothing per record.
 */
import type {
  AggregateFunction,
  CoProcessFunction,
  KeyedCoProcessFunction,
  KeyedProcessContext,
  KeyedProcessFunction,
  OnTimerContext,
  OutputTag,
  ProcessContext,
  ProcessFunction,
  ReduceFunction,
  TimerService,
} from "../api/functions.js";
import type { ValueState } from "../api/state.js";
import type { Batch } from "../common/elements.js";
import type { Timer } from "../time/timer-service.js";
import { KeyedOperator } from "./keyed-operator.js";
import { BatchCollector, StreamOperator, type Output } from "./operator.js";

/** Collectors for the main output and each side output, flushed together. */
class Outputs {
  readonly main = new BatchCollector<unknown>();
  private readonly side = new Map<string, BatchCollector<unknown>>();
  timestamped = false;

  sideCollector(tagId: string): BatchCollector<unknown> {
    let c = this.side.get(tagId);
    if (!c) this.side.set(tagId, (c = new BatchCollector()));
    c.currentTimestamp = this.main.currentTimestamp;
    return c;
  }

  /** Emit what was collected; `withTimestamps` false erases event time (processing-time timer output). */
  flush(main: Output, sideOutput: (tagId: string) => Output, withTimestamps = this.timestamped): void {
    this.main.flushTo(main, withTimestamps);
    for (const [tag, c] of this.side) c.flushTo(sideOutput(tag), withTimestamps);
  }
}

/** The per-record context shared by process operators. */
class RecordContext implements ProcessContext {
  ts: number | null = null;
  constructor(
    protected readonly op: { watermark(): number; now(): number },
    protected readonly outs: Outputs,
  ) {}
  timestamp(): number | null {
    return this.ts;
  }
  currentWatermark(): number {
    return this.op.watermark();
  }
  currentProcessingTime(): number {
    return this.op.now();
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.outs.sideCollector(tag.id).collect(value);
  }
}

export class ProcessOperator extends StreamOperator {
  protected readonly outs = new Outputs();
  protected readonly rc = new RecordContext({ watermark: () => this.currentWatermark, now: () => this.ctx.processingTime.now() }, this.outs);

  constructor(private readonly fn: ProcessFunction<any, any> | CoProcessFunction<any, any, any>) {
    super();
  }
  override async open(): Promise<void> {
    await this.fn.open?.(this.ctx.runtime);
  }
  processBatch(batch: Batch, input: number): void {
    const fn = this.fn as any;
    const call: (v: unknown, c: ProcessContext, o: BatchCollector<unknown>) => void =
      "processElement" in fn ? fn.processElement : input === 0 ? fn.processElement1 : fn.processElement2;
    const { values, timestamps } = batch;
    const out = this.outs.main;
    if (timestamps) this.outs.timestamped = true;
    for (let i = 0; i < values.length; i++) {
      const ts = timestamps ? timestamps[i]! : null;
      this.rc.ts = ts;
      out.currentTimestamp = ts ?? 0;
      call.call(fn, values[i], this.rc, out);
    }
    this.outs.flush(this.output, (t) => this.ctx.sideOutput(t));
  }
  override async close(): Promise<void> {
    await this.fn.close?.();
  }
}

/** Context of keyed process functions: the record context plus key and timers. */
class KeyedRecordContext extends RecordContext implements OnTimerContext<unknown>, TimerService {
  domain: "event" | "processing" = "event";
  readonly timerService: TimerService = this;
  constructor(
    private readonly keyed: KeyedFunctionOperator,
    outs: Outputs,
  ) {
    super({ watermark: () => keyed.watermark(), now: () => keyed.now() }, outs);
  }
  getCurrentKey(): unknown {
    return this.keyed.key();
  }
  timeDomain(): "event" | "processing" {
    return this.domain;
  }
  registerEventTimeTimer(t: number): void {
    this.keyed.timerOp("registerEventTimeTimer", t);
  }
  registerProcessingTimeTimer(t: number): void {
    this.keyed.timerOp("registerProcessingTimeTimer", t);
  }
  deleteEventTimeTimer(t: number): void {
    this.keyed.timerOp("deleteEventTimeTimer", t);
  }
  deleteProcessingTimeTimer(t: number): void {
    this.keyed.timerOp("deleteProcessingTimeTimer", t);
  }
}

type KeyedFn = KeyedProcessFunction<any, any, any> | KeyedCoProcessFunction<any, any, any, any>;

/** Runs keyed (co-)process functions: state and timers scoped to the record's key. */
export class KeyedFunctionOperator extends KeyedOperator {
  private readonly outs = new Outputs();
  private readonly rc = new KeyedRecordContext(this, this.outs);
  private flushScheduled = false;

  constructor(
    private readonly fn: KeyedFn,
    keySelectors: ConstructorParameters<typeof KeyedOperator>[0],
  ) {
    super(keySelectors);
  }

  watermark(): number {
    return this.currentWatermark;
  }
  now(): number {
    return this.ctx.processingTime.now();
  }
  key(): unknown {
    return this.currentKey;
  }
  timerOp(op: "registerEventTimeTimer" | "registerProcessingTimeTimer" | "deleteEventTimeTimer" | "deleteProcessingTimeTimer", t: number): void {
    this.timers[op](this.currentKey, t, this.currentCk);
  }

  override async open(): Promise<void> {
    await super.open();
    await this.fn.open?.(this.keyedRuntimeContext());
  }

  processKeyedBatch(batch: Batch, input: number): void {
    const fn = this.fn as any;
    const call: (v: unknown, c: KeyedProcessContext<unknown>, o: BatchCollector<unknown>) => void =
      "processElement" in fn ? fn.processElement : input === 0 ? fn.processElement1 : fn.processElement2;
    const { values, timestamps } = batch;
    const out = this.outs.main;
    if (timestamps) this.outs.timestamped = true;
    this.rc.domain = "event";
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      this.setCurrentKeyOf(v, input);
      const ts = timestamps ? timestamps[i]! : null;
      this.rc.ts = ts;
      out.currentTimestamp = ts ?? 0;
      call.call(fn, v, this.rc, out);
    }
    this.flush();
  }

  protected onTimer(timer: Timer, domain: "event" | "processing"): void {
    if (!this.fn.onTimer) return;
    this.rc.domain = domain;
    this.rc.ts = timer.timestamp;
    this.outs.main.currentTimestamp = timer.timestamp;
    this.fn.onTimer(timer.timestamp, this.rc, this.outs.main);
    // Processing-time timers fire outside any batch: flush once after the current round of timers,
    // without event time (as Flink erases it), so wall-clock times never land in event-time windows.
    if (domain === "processing" && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.outs.flush(this.output, (t) => this.ctx.sideOutput(t), false);
      });
    }
  }

  protected override afterWatermarkTimers(timestamp: number): void {
    this.flush();
    this.output.emitWatermark(timestamp);
  }

  private flush(): void {
    this.outs.flush(this.output, (t) => this.ctx.sideOutput(t));
  }

  override async close(): Promise<void> {
    await super.close();
    await this.fn.close?.();
  }
}

/** Rolling reduce or aggregate per key: emits the updated value for every record. */
export class RollingOperator extends KeyedOperator {
  private acc!: ValueState<unknown>;
  constructor(
    private readonly fn: { kind: "reduce"; reduce: ReduceFunction<any> } | { kind: "aggregate"; aggregate: AggregateFunction<any, any, any> },
    keySelectors: ConstructorParameters<typeof KeyedOperator>[0],
  ) {
    super(keySelectors);
  }
  override open(): void {
    this.acc = this.state.valueState("rolling");
  }
  processKeyedBatch(batch: Batch): void {
    const vs = batch.values;
    const out = new Array(vs.length);
    for (let i = 0; i < vs.length; i++) {
      this.setCurrentKeyOf(vs[i], 0);
      const cur = this.acc.value();
      if (this.fn.kind === "reduce") {
        const next = cur === undefined ? vs[i] : this.fn.reduce(cur, vs[i]);
        this.acc.update(next);
        out[i] = next;
      } else {
        const agg = this.fn.aggregate;
        const next = agg.add(vs[i], cur === undefined ? agg.createAccumulator() : cur);
        this.acc.update(next);
        out[i] = agg.getResult(next);
      }
    }
    this.output.emit({ kind: "batch", values: out, timestamps: batch.timestamps });
  }
  protected onTimer(): void {}
}
