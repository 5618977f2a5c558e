/**
 * Test job for exactly-once under failures. Args: `<events> <keys> <output-dir> [ratePerSecond]`.
 *
 * A seeded generator of keyed events (event i: key `k<h(i) % keys>`, time i ms) feeds two keyed
 * pipelines into one transactional file sink:
 *   - a rolling count per key: lines `["c", key, n]`, n = 1..(events of the key);
 *   - a keyed process function that counts a key's events per 1000 ms bucket in MapState and emits
 *     `["b", key, bucket, count]` from an event-time timer at the bucket's end.
 * Both outputs are deterministic as multisets whatever the interleaving of the splits, so a run with
 * crashes must commit exactly what a brute-force computation gives (test/integration/exactly-once).
 */
import {
  type Collector,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type MapState,
  type OnTimerContext,
  type StreamEnvironment,
  transactionalFileSink,
  watermarks,
} from "weir";

export interface Event {
  key: string;
  ts: number;
}

export const BUCKET_MS = 1000;

/** Deterministic key of event i (a multiplicative hash, so keys interleave). */
export function keyOf(i: number, keys: number): string {
  return `k${(Math.imul(i + 1, 0x9e3779b1) >>> 0) % keys}`;
}

class BucketCounter implements KeyedProcessFunction<string, Event, unknown[]> {
  private buckets!: MapState<number, number>;
  open(ctx: KeyedRuntimeContext): void {
    this.buckets = ctx.mapState<number, number>("buckets");
  }
  processElement(e: Event, ctx: KeyedProcessContext<string>): void {
    const bucket = Math.floor(e.ts / BUCKET_MS);
    const n = this.buckets.get(bucket);
    this.buckets.put(bucket, (n ?? 0) + 1);
    if (n === undefined) ctx.timerService.registerEventTimeTimer((bucket + 1) * BUCKET_MS - 1);
  }
  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<unknown[]>): void {
    const bucket = Math.floor(ts / BUCKET_MS);
    out.collect(["b", ctx.getCurrentKey(), bucket, this.buckets.get(bucket)]);
    this.buckets.remove(bucket);
  }
}

/** Parse the job's arguments and build the source and the rolling count (shared with exactly-once-without-buckets). */
export function rollingCounts(env: StreamEnvironment, args: string[]) {
  const [events, keys, outDir, rate] = args;
  if (!events || !keys || !outDir) throw new Error("usage: <events> <keys> <output-dir> [ratePerSecond]");
  const k = Number(keys);
  const events$ = env
    .fromGenerator<Event>(
      { generate: (i) => ({ key: keyOf(i, k), ts: i }), count: Number(events), ...(rate ? { ratePerSecond: Number(rate) } : {}) },
      watermarks.boundedOutOfOrder<Event>(0).withTimestampAssigner((e) => e.ts),
    )
    .uid("events");
  const rolling = events$
    .map((e): unknown[] => ["c", e.key, 1])
    .uid("to-count")
    .keyBy((r) => r[1] as string)
    .reduce((a, b) => ["c", a[1], (a[2] as number) + (b[2] as number)])
    .uid("rolling-count");
  return { events$, rolling, sink: transactionalFileSink<unknown[]>(outDir) };
}

export default (env: StreamEnvironment, args: string[]) => {
  const { events$, rolling, sink } = rollingCounts(env, args);
  const buckets = events$.keyBy((e) => e.key).process(new BucketCounter()).uid("bucket-counter");
  rolling.union(buckets).sinkTo(sink).uid("sink");
};
