/**
 * The keyed window operator: tumbling, sliding and session windows over event or processing time,
 * with reduce, aggregate or process functions (optionally followed by a ProcessWindowFunction).
 *
 * Tumbling and sliding windows are sliced (runtime/time/slicing.ts): each record updates one slice
 * accumulator, and a window merges its slices when it fires. Sessions live in runtime/time/sessions.ts.
 * Neither registers timers per key: event-time windows fire when a watermark arrives, processing-time
 * windows from one wall-clock callback at the next window end. Results carry timestamp end - 1 and
 * leave as one batch per input batch, watermark or callback, always before the watermark they precede.
 */
import type { KeySelector, OutputTag, ProcessWindowFunction, TimeWindow, WindowContext } from "../api/functions.js";
import type { Batch } from "../common/elements.js";
import { MAX_WATERMARK } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import type { OperatorSpec } from "../graph/stream-graph.js";
import { SessionStore } from "../time/sessions.js";
import { SliceAssigner, SliceStore } from "../time/slicing.js";
import { windowAgg, type WindowAgg } from "../time/window-agg.js";
import { KeyedOperator, preview } from "./keyed-operator.js";
import type { KeyedEntry, OperatorListState } from "../state/snapshot-types.js";
import { RESERVED_PREFIX } from "../state/operator-state.js";

const WINDOW_PROGRESS = `${RESERVED_PREFIX}window-progress`;
import { BatchCollector } from "./operator.js";

/** The graph spec of a window operator. */
export type WindowOperatorSpec = Extract<OperatorSpec, { kind: "window" }>;

/** What both window stores offer the operator. */
interface WindowStore {
  add(key: unknown, ck: CanonicalKey, value: unknown, ts: number, wm: number): boolean;
  advance(wm: number): void;
  nextFireTime(): number;
  readonly size: number;
}

/** The reusable context handed to ProcessWindowFunctions. */
class FiringContext implements WindowContext<unknown> {
  key: unknown = undefined;
  window: TimeWindow = { start: 0, end: 0 };
  constructor(
    readonly currentWatermark: () => number,
    readonly currentProcessingTime: () => number,
    private readonly side: (tagId: string, ts: number) => BatchCollector<unknown>,
  ) {}
  output<X>(tag: OutputTag<X>, value: X): void {
    this.side(tag.id, this.window.end - 1).collect(value);
  }
}

/** Keyed windows; see the module comment. `lateRecordsDropped` is read by metrics. */
export class WindowOperator extends KeyedOperator {
  /** Late records dropped because the operator has no late-data side output. */
  lateRecordsDropped = 0;
  private readonly eventTime: boolean;
  private readonly agg: WindowAgg;
  private readonly windowFn: ProcessWindowFunction<any, any, any> | null;
  private readonly results = new BatchCollector<unknown>();
  private readonly side = new Map<string, BatchCollector<unknown>>();
  private readonly firing = new FiringContext(
    () => this.currentWatermark,
    () => this.ctx.processingTime.now(),
    (tagId, ts) => this.sideCollector(tagId, ts),
  );
  private store!: WindowStore;
  /** Processing time up to which windows have fired; later records are stamped after it. */
  private procHorizon = Number.NEGATIVE_INFINITY;
  private scheduledAt = Number.POSITIVE_INFINITY;
  private cancelScheduled: (() => void) | null = null;

  constructor(
    private readonly spec: WindowOperatorSpec,
    keySelectors: ReadonlyArray<KeySelector<any, unknown> | null>,
  ) {
    super(keySelectors);
    checkSpec(spec);
    this.eventTime = spec.assigner.time === "event";
    this.agg = windowAgg(spec.fn);
    this.windowFn = spec.fn.window;
    this.store = this.createStore();
  }

  override async open(): Promise<void> {
    await super.open();
    await this.windowFn?.open?.(this.ctx.runtime);
    // Processing-time windows restored from a checkpoint need their wall-clock callback.
    if (!this.eventTime && this.store.size > 0) this.scheduleAt(this.store.nextFireTime());
  }

  // ---- checkpoints: window contents are keyed entries "w"; firing progress is union list state ----

  protected override snapshotKeyedEntries(add: (ck: CanonicalKey, entry: KeyedEntry) => void): void {
    const copy = (acc: unknown) => this.agg.copy(acc);
    const s = this.store;
    if (s instanceof SliceStore) for (const e of s.entries()) add(e.ck, ["w", e.key, [e.sliceEnd, copy(e.acc)]]);
    else for (const e of (s as SessionStore).entries()) add(e.ck, ["w", e.key, e.sessions.map(([a, b, acc, f]) => [a, b, copy(acc), f])]);
  }

  protected override restoreKeyedEntry([ns, key, value]: KeyedEntry): boolean {
    if (ns !== "w") return false;
    const s = this.store;
    if (s instanceof SliceStore) {
      const [sliceEnd, acc] = value as [number, unknown];
      s.restoreEntry(key, canonicalKey(key), sliceEnd, acc);
    } else (s as SessionStore).restoreKey(key, canonicalKey(key), value as [number, number, unknown, boolean][]);
    return true;
  }

  protected override snapshotLists(): OperatorListState[] {
    // Every subtask saw the same watermarks before the barrier, so one value serves all after a rescale.
    const fired = this.store instanceof SliceStore ? this.store.firedUpTo : Number.NEGATIVE_INFINITY;
    return [{ name: WINDOW_PROGRESS, mode: "union", items: [{ firedUpTo: Number.isFinite(fired) ? fired : null, procHorizon: Number.isFinite(this.procHorizon) ? this.procHorizon : null }] }];
  }

  protected override restoreLists(lists: readonly OperatorListState[]): void {
    const items = (lists.find((l) => l.name === WINDOW_PROGRESS)?.items ?? []) as { firedUpTo: number | null; procHorizon: number | null }[];
    const max = (xs: (number | null)[]) => xs.reduce<number>((m, x) => (x === null ? m : Math.max(m, x)), Number.NEGATIVE_INFINITY);
    if (this.store instanceof SliceStore) this.store.firedUpTo = max(items.map((i) => i.firedUpTo));
    this.procHorizon = max(items.map((i) => i.procHorizon));
  }

  /** Window contents live in memory on every backend: no state to load first. */
  override processBatch(batch: Batch): void {
    if (batch.values.length > 0) this.markChanged();
    this.processKeyedBatch(batch);
  }

  protected processKeyedBatch(batch: Batch): void {
    if (this.eventTime) this.addEventTime(batch);
    else this.addProcessingTime(batch);
    this.flush();
  }

  /** Fire the event-time windows the watermark completes, emit their results, then forward it. */
  override processWatermark(timestamp: number): void {
    this.currentWatermark = timestamp;
    if (this.eventTime) this.advanceStore(timestamp);
    this.output.emitWatermark(timestamp);
  }

  /** A bounded input ended: processing-time windows still open fire now (event time did at +Infinity). */
  override endInput(): void {
    if (!this.eventTime) this.onProcessingTime(MAX_WATERMARK);
  }

  override async close(): Promise<void> {
    this.cancelTimer();
    await super.close();
    await this.windowFn?.close?.();
  }

  /** Window state held: (slice, key) accumulators for tumbling/sliding, sessions for session windows. */
  get stateSize(): number {
    return this.store.size;
  }

  protected onTimer(): void {
    // Windows fire from watermarks and one wall-clock callback, never from keyed timers.
  }

  /** The collector of side output `tagId`, stamping records with `ts`. */
  private sideCollector(tagId: string, ts: number): BatchCollector<unknown> {
    let c = this.side.get(tagId);
    if (c === undefined) this.side.set(tagId, (c = new BatchCollector()));
    c.currentTimestamp = ts;
    return c;
  }

  private createStore(): WindowStore {
    const a = this.spec.assigner;
    const lateness = this.eventTime ? this.spec.allowedLateness : 0;
    const fire = (key: unknown, window: TimeWindow, acc: unknown) => this.emitWindow(key, window, acc);
    if (a.kind === "session") return new SessionStore(a.gap, this.agg, lateness, fire);
    const slide = a.kind === "sliding" ? a.slide : a.size;
    return new SliceStore(new SliceAssigner(a.size, slide, a.offset), this.agg, lateness, fire);
  }

  private addEventTime(batch: Batch): void {
    const { values, timestamps } = batch;
    if (values.length === 0) return;
    if (timestamps === null) throw this.noTimestamp(values[0], "it has no timestamp");
    const select = this.keySelectors[0]!;
    const store = this.store;
    const wm = this.currentWatermark;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const key = select(v);
      // `key !== key` catches NaN; setCurrentKeyOf then throws the operator's key error.
      if (key === undefined || key !== key) this.setCurrentKeyOf(v, 0);
      const ts = timestamps[i]!;
      // One check catches NaN and ±Infinity, which no window can hold.
      if (!(ts - ts === 0)) throw this.noTimestamp(v, `its timestamp is ${ts}`);
      if (!store.add(key, canonicalKey(key), v, ts, wm)) this.late(v, ts);
    }
  }

  private addProcessingTime(batch: Batch): void {
    const { values } = batch;
    if (values.length === 0) return;
    // A record never joins a window that already fired: time is at least just after the last firing.
    const now = this.ctx.processingTime.now();
    const t = now > this.procHorizon ? now : this.procHorizon + 1;
    const select = this.keySelectors[0]!;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const key = select(v);
      if (key === undefined || key !== key) this.setCurrentKeyOf(v, 0);
      this.store.add(key, canonicalKey(key), v, t, this.procHorizon);
    }
    this.scheduleAt(this.store.nextFireTime());
  }

  private late(value: unknown, ts: number): void {
    const tag = this.spec.lateDataTag;
    if (tag === null) this.lateRecordsDropped++;
    else this.sideCollector(tag, ts).collect(value);
  }

  private emitWindow(key: unknown, window: TimeWindow, acc: unknown): void {
    this.results.currentTimestamp = window.end - 1;
    const result = this.agg.result(acc);
    const fn = this.windowFn;
    if (fn === null) return this.results.collect(result);
    this.firing.key = key;
    this.firing.window = window;
    // A process function sees the whole element list; after reduce/aggregate, the single result.
    fn.process(key, this.firing, this.spec.fn.kind === "process" ? (result as unknown[]) : [result], this.results);
  }

  /** Fire and purge windows up to `time`; firing (session flags) or purging changes the keyed state. */
  private advanceStore(time: number): void {
    const before = this.store.size;
    this.store.advance(time);
    const fired = this.results.values.length > 0 || [...this.side.values()].some((c) => c.values.length > 0);
    if (fired || this.store.size !== before) this.markChanged();
    this.flush();
  }

  private flush(): void {
    this.results.flushTo(this.output, true);
    for (const [tag, c] of this.side) c.flushTo(this.ctx.sideOutput(tag), true);
  }

  private onProcessingTime(now: number): void {
    if (now > this.procHorizon) this.procHorizon = now;
    this.advanceStore(this.procHorizon);
    this.scheduleAt(this.store.nextFireTime());
  }

  /** Have the wall-clock callback run at `at` (+Infinity: nothing left to fire, no callback). */
  private scheduleAt(at: number): void {
    if (at === MAX_WATERMARK) return this.cancelTimer();
    if (at >= this.scheduledAt) return;
    this.cancelTimer();
    this.scheduledAt = at;
    this.cancelScheduled = this.ctx.processingTime.schedule(at, (now) => {
      this.cancelScheduled = null;
      this.scheduledAt = MAX_WATERMARK;
      // Never fire earlier than asked, even if the clock service calls back a little early.
      this.onProcessingTime(Math.max(now, at));
    });
  }

  private cancelTimer(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = null;
    this.scheduledAt = MAX_WATERMARK;
  }

  private noTimestamp(value: unknown, why: string): WeirError {
    return new WeirError(
      "WEIR_E_NO_TIMESTAMP",
      `event-time window "${this.ctx.operatorName}" cannot place record ${preview(value)}: ${why}; ` +
        `set a watermark strategy on the source (env.fromSource(source, watermarks...)) or call ` +
        `assignTimestampsAndWatermarks before the window, or use processing-time windows`,
    );
  }
}

/** Slicing needs whole-millisecond sizes (gcd); lateness must be a non-negative number. */
function checkSpec(spec: WindowOperatorSpec): void {
  const a = spec.assigner;
  const ms = a.kind === "session" ? [] : a.kind === "sliding" ? [a.size, a.slide, a.offset] : [a.size, a.offset];
  if (!ms.every(Number.isSafeInteger)) {
    throw new WeirError("WEIR_E_INVALID_GRAPH", `${a.kind} window sizes, slide and offset must be whole milliseconds, got ${JSON.stringify(a)}`);
  }
  if (!(spec.allowedLateness >= 0)) {
    throw new WeirError("WEIR_E_INVALID_GRAPH", `allowed lateness must be >= 0 ms, got ${spec.allowedLateness}`);
  }
}
