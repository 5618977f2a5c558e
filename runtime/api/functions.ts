/**
 * The function contracts user code implements. Every contract is a plain object (or class instance)
 * with methods; `open`/`close` are optional lifecycle hooks run once per subtask.
 */
import type {
  AggregatingState,
  ListState,
  MapState,
  OperatorStateStore,
  ReducingState,
  StateOptions,
  ValueState,
  ValueStateOptions,
} from "./state.js";

/** Receives the records a function emits. */
export interface Collector<T> {
  collect(value: T): void;
}

/** Tags a side output. Create one per side stream and share it between the producer and `getSideOutput`. */
export class OutputTag<T> {
  /** Phantom field so that tags of different element types do not mix. */
  declare readonly __type?: T;
  constructor(readonly id: string) {
    if (!id) throw new TypeError("OutputTag needs a non-empty id");
  }
}

/**
 * Metrics a function or connector reports for its subtask, exported with the task's labels (job_id,
 * vertex, task_name, subtask) plus the given ones. Values are read at each scrape; each registration
 * returns a function that removes the series.
 */
export interface MetricGroup {
  /** A gauge (`read` returning null reports no value now). `name` must be a Prometheus metric name. */
  gauge(name: string, description: string, labels: Readonly<Record<string, string>>, read: () => number | null): () => void;
  /** A cumulative counter (name it `*_total`). */
  counter(name: string, description: string, labels: Readonly<Record<string, string>>, read: () => number): () => void;
}

/** What a function learns about the subtask it runs in. */
export interface RuntimeContext {
  /** The running job's id: new for every submission (an operator deployment, a `weir run`), kept across failovers. */
  readonly jobId: string;
  /** The job's name, stable across submissions and upgrades. */
  readonly jobName: string;
  /** The operator's uid: the stable identity that maps its state in savepoints. */
  readonly operatorUid: string;
  readonly taskName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** The job's arguments, as passed after `--` on `weir run`. */
  readonly jobArgs: readonly string[];
  /**
   * Non-keyed list state of this operator subtask, checkpointed with it: `listState` items are spread
   * over the subtasks on a rescale, `unionListState` items go to every subtask. Items must be JSON-safe.
   * Declare in `open` (or when a source reader / sink writer is created).
   */
  readonly operatorState: OperatorStateStore;
  /** Metrics of this subtask, exported by its TaskManager (absent where nothing exports them, e.g. unit tests). */
  readonly metrics?: MetricGroup;
}

/**
 * Runtime context of keyed functions: declares keyed state, scoped to the current key when used.
 *
 *   this.count = ctx.valueState("count", { defaultValue: 0, ttl: { ttlMs: 3_600_000 } });
 *   this.avg = ctx.aggregatingState("avg", avg((e: Event) => e.price));
 */
export interface KeyedRuntimeContext extends RuntimeContext {
  /**
   * A value per key. `defaultValue` is what `value()` returns for a key without one; it is shared by
   * all keys, so use an immutable value (a number, a string) and `update` with new objects. The second
   * argument is read as options when it is a plain object with only `defaultValue` and/or `ttl` keys;
   * anything else is the default value itself (the form `valueState(name, 0)`).
   */
  valueState<T>(name: string, options?: ValueStateOptions<T>): ValueState<T>;
  valueState<T>(name: string, defaultValue?: T): ValueState<T>;
  listState<T>(name: string, options?: StateOptions): ListState<T>;
  mapState<K, V>(name: string, options?: StateOptions): MapState<K, V>;
  reducingState<T>(name: string, reduce: ReduceFunction<T>, options?: StateOptions): ReducingState<T>;
  aggregatingState<IN, ACC, OUT>(name: string, aggregate: AggregateFunction<IN, ACC, OUT>, options?: StateOptions): AggregatingState<IN, OUT>;
}

/** Optional lifecycle hooks every rich function may have. */
export interface RichFunction<C extends RuntimeContext = RuntimeContext> {
  open?(ctx: C): void | Promise<void>;
  close?(): void | Promise<void>;
}

export type MapFunction<I, O> = (value: I) => O;
export type FilterFunction<I> = (value: I) => boolean;
/** Emits zero or more records per input, through the collector or by returning an iterable. */
export type FlatMapFunction<I, O> = (value: I, out: Collector<O>) => void | Iterable<O>;
export type KeySelector<T, K> = (value: T) => K;
export type ReduceFunction<T> = (a: T, b: T) => T;

/** Incremental aggregation: `merge` combines partial accumulators (window slices, sessions). */
export interface AggregateFunction<I, ACC, O> {
  createAccumulator(): ACC;
  add(value: I, acc: ACC): ACC;
  merge(a: ACC, b: ACC): ACC;
  getResult(acc: ACC): O;
}

/** Registers and deletes timers for the current key. */
export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}

/** Per-record context of process functions. */
export interface ProcessContext {
  /** Event time of the current record, or null when the stream has no timestamps. */
  timestamp(): number | null;
  currentWatermark(): number;
  currentProcessingTime(): number;
  /** Emit to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface KeyedProcessContext<K> extends ProcessContext {
  readonly timerService: TimerService;
  getCurrentKey(): K;
}

export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  timeDomain(): "event" | "processing";
}

/** Processes each record of a non-keyed stream, with side outputs. */
export interface ProcessFunction<I, O> extends RichFunction {
  processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
}

/** Processes each record of a keyed stream, with keyed state and timers. */
export interface KeyedProcessFunction<K, I, O> extends RichFunction<KeyedRuntimeContext> {
  processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** Processes two connected streams in one function; state is shared between the two inputs. */
export interface CoProcessFunction<I1, I2, O> extends RichFunction {
  processElement1(value: I1, ctx: ProcessContext, out: Collector<O>): void;
  processElement2(value: I2, ctx: ProcessContext, out: Collector<O>): void;
}

/** Two connected keyed streams (keyed the same way), with keyed state and timers. */
export interface KeyedCoProcessFunction<K, I1, I2, O> extends RichFunction<KeyedRuntimeContext> {
  processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** A time window [start, end); `maxTimestamp` = end - 1 is the last event time it holds. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** What a window function learns about the window it evaluates. */
export interface WindowContext<K> {
  readonly key: K;
  readonly window: TimeWindow;
  currentWatermark(): number;
  currentProcessingTime(): number;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Evaluates a window over all of its elements (or over the pre-aggregated result of the window). */
export interface ProcessWindowFunction<IN, OUT, K> extends RichFunction {
  process(key: K, ctx: WindowContext<K>, elements: Iterable<IN>, out: Collector<OUT>): void;
}
