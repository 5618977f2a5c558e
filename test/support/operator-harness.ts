/**
 * Drive a single operator in a unit test: a fake OperatorContext whose wall clock the test controls,
 * and outputs that record everything emitted, in order.
 *
 *   const h = await harness(new WindowOperator(spec, [(r) => r.key]));
 *   h.op.processBatch(batchOf([a, b], [1, 2]), 0);
 *   h.op.processWatermark(10);
 *   expect(h.out.records()).toEqual([...]);
 *   h.clock.advanceTo(60_000);                 // runs due processing-time callbacks
 */
import type { Batch } from "../../runtime/common/elements.js";
import type { OperatorContext, Output, ProcessingTimeService, StateInitContext, StreamOperator } from "../../runtime/operators/operator.js";
import { DefaultOperatorStateStore } from "../../runtime/state/operator-state.js";

/** A processing-time service driven by the test: callbacks run only inside `advanceTo`. */
export class ManualClock implements ProcessingTimeService {
  private tasks: Array<{ at: number; seq: number; cb: (now: number) => void; live: boolean }> = [];
  private seq = 0;

  constructor(public time = 0) {}

  now(): number {
    return this.time;
  }

  schedule(at: number, callback: (now: number) => void): () => void {
    const task = { at, seq: this.seq++, cb: callback, live: true };
    this.tasks.push(task);
    return () => {
      task.live = false;
    };
  }

  /** Move the clock to `t`, running every callback due by then in time order (including ones scheduled meanwhile). */
  advanceTo(t: number): void {
    for (;;) {
      this.tasks = this.tasks.filter((x) => x.live);
      const due = this.tasks.filter((x) => x.at <= t).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.live = false;
      this.time = Math.max(this.time, due.at);
      due.cb(this.time);
    }
    this.time = Math.max(this.time, t);
  }

  /** Number of callbacks still scheduled. */
  get pending(): number {
    return this.tasks.filter((x) => x.live).length;
  }
}

/** One emitted record with its timestamp. */
export interface Emitted<T = unknown> {
  value: T;
  ts: number | null;
}

/** An Output that keeps every batch and watermark in arrival order. */
export class CollectingOutput implements Output {
  readonly events: Array<{ kind: "batch"; batch: Batch } | { kind: "watermark"; ts: number }> = [];

  emit(batch: Batch): void {
    this.events.push({ kind: "batch", batch });
  }

  emitWatermark(ts: number): void {
    this.events.push({ kind: "watermark", ts });
  }

  /** Every record emitted so far, flattened. */
  records<T = unknown>(): Emitted<T>[] {
    const out: Emitted<T>[] = [];
    for (const e of this.events) {
      if (e.kind !== "batch") continue;
      e.batch.values.forEach((v, i) => out.push({ value: v as T, ts: e.batch.timestamps?.[i] ?? null }));
    }
    return out;
  }

  /** Record values only. */
  values<T = unknown>(): T[] {
    return this.records<T>().map((r) => r.value);
  }

  /** The watermarks emitted, in order. */
  watermarks(): number[] {
    return this.events.flatMap((e) => (e.kind === "watermark" ? [e.ts] : []));
  }

  clear(): void {
    this.events.length = 0;
  }
}

/** An operator under test, its clock, and its main and side outputs. */
export interface Harness<O extends StreamOperator> {
  op: O;
  clock: ManualClock;
  out: CollectingOutput;
  /** The side output of `tagId` (created on first use by the operator or the test). */
  side(tagId: string): CollectingOutput;
  ctx: OperatorContext;
}

/** Set up and open `op` with a fake context named `name`. */
export async function harness<O extends StreamOperator>(
  op: O,
  opts: { name?: string; time?: number; restore?: StateInitContext } = {},
): Promise<Harness<O>> {
  const clock = new ManualClock(opts.time ?? 0);
  const out = new CollectingOutput();
  const sides = new Map<string, CollectingOutput>();
  const side = (tagId: string): CollectingOutput => {
    let s = sides.get(tagId);
    if (s === undefined) sides.set(tagId, (s = new CollectingOutput()));
    return s;
  };
  const ctx: OperatorContext = {
    runtime: { jobId: "job", jobName: "test", operatorUid: opts.name ?? "test-op", taskName: opts.name ?? "test-op", subtaskIndex: 0, parallelism: 1, maxParallelism: 128, jobArgs: [], operatorState: new DefaultOperatorStateStore("test") },
    operatorName: opts.name ?? "test-op",
    uid: "test-op-uid",
    keyGroupRange: { start: 0, end: 127 },
    processingTime: clock,
    sideOutput: side,
    stateBackend: { kind: "heap", localDir: "" },
    block: () => {
      throw new Error("the heap backend never blocks");
    },
  };
  op.setup(ctx, out);
  await op.initializeState(opts.restore ?? { isRestored: false, lists: [], keyedEntries: async () => [], rawState: async () => [] });
  await op.open();
  return { op, clock, out, side, ctx };
}
