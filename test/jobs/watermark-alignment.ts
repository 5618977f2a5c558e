/**
 * Test job for watermark alignment. Args: `<output-dir> <mode>`, mode `splits` (the generator pauses
 * its fast split), `whole` (the same sources behind readers without `pauseOrResumeSplits`, paused as a
 * whole) or `off` (no alignment). Two bounded, paced generator sources in one alignment group: "slow"
 * advances event time by SLOW.stepMs per record, "fast" by FAST.stepMs, so unaligned "fast" runs far
 * ahead. Both feed one file sink with records `{ src, ts, at }`, `at` being when the record was
 * generated (ms, one clock: both sources run in the same TaskManager at parallelism 1).
 */
import { type Source, type StreamEnvironment, fileSink, generatorSource, watermarks } from "weir";

export interface Rec {
  src: "slow" | "fast";
  ts: number;
  at: number;
}

export const SLOW = { count: 16_000, ratePerSecond: 2_000, stepMs: 5 };
export const FAST = { count: 300, ratePerSecond: 100, stepMs: 200 };
export const MAX_DRIFT_MS = 1_000;
export const UPDATE_INTERVAL_MS = 50;

const now = () => performance.timeOrigin + performance.now();

function paced(src: Rec["src"], opts: typeof SLOW): Source<Rec, any> {
  return generatorSource<Rec>({
    count: opts.count,
    ratePerSecond: opts.ratePerSecond,
    splits: 1,
    generate: (i) => ({ src, ts: i * opts.stepMs, at: now() }),
    timestamp: (_i, r) => r.ts,
  });
}

/** The same source, its reader without split-level pausing. */
function withoutSplitPausing<T>(source: Source<T, any>): Source<T, any> {
  return {
    ...source,
    createReader: (ctx) => {
      const r = source.createReader(ctx);
      return { addSplits: (s) => r.addSplits(s), poll: (out, n) => r.poll(out, n), snapshotState: () => r.snapshotState!() };
    },
  };
}

export default (env: StreamEnvironment, args: string[]) => {
  const [out, mode] = args as [string, "splits" | "whole" | "off"];
  const base = watermarks.monotonic<Rec>();
  const strategy = mode === "off" ? base : base.withWatermarkAlignment("test-group", MAX_DRIFT_MS, UPDATE_INTERVAL_MS);
  const source = (src: Rec["src"], opts: typeof SLOW) => (mode === "whole" ? withoutSplitPausing(paced(src, opts)) : paced(src, opts));
  const slow = env.fromSource(source("slow", SLOW), strategy, "Slow").uid("slow");
  const fast = env.fromSource(source("fast", FAST), strategy, "Fast").uid("fast");
  slow.union(fast).sinkTo(fileSink<Rec>(out)).uid("sink");
};
