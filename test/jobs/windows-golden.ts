/**
 * Test job: keyed windows over pre-generated out-of-order input with an idle split. Args:
 * `<input.json> <output-dir>`; the input file names the assigner, the watermark bound, the idle
 * timeout and the records of each split (see test/integration/golden-windows.test.ts).
 */
import { readFileSync } from "node:fs";
import { type StreamEnvironment, type WindowAssigner, fileSink, splitSource, watermarks } from "weir";

export interface GoldenRecord {
  key: string;
  ts: number;
  value: number;
}

export interface GoldenInput {
  assigner: WindowAssigner;
  bound: number;
  idleTimeout: number;
  splits: GoldenRecord[][];
  /** Splits kept open after their data: they go idle instead of ending. */
  openSplits: number[];
}

export default (env: StreamEnvironment, args: string[]) => {
  const [inputPath, outDir] = args;
  if (!inputPath || !outDir) throw new Error("usage: windows-golden <input.json> <output-dir>");
  const input = JSON.parse(readFileSync(inputPath, "utf8")) as GoldenInput;
  env
    .fromSource(
      splitSource(input.splits, { keepOpen: input.openSplits }),
      watermarks.boundedOutOfOrder<GoldenRecord>(input.bound).withTimestampAssigner((r) => r.ts).withIdleness(input.idleTimeout),
    )
    .keyBy((r) => r.key)
    .window(input.assigner)
    .aggregate(
      {
        createAccumulator: () => ({ count: 0, sum: 0 }),
        add: (r: GoldenRecord, acc) => ({ count: acc.count + 1, sum: acc.sum + r.value }),
        merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
        getResult: (acc) => acc,
      },
      {
        process(key, ctx, results, out) {
          for (const r of results) out.collect({ key, start: ctx.window.start, end: ctx.window.end, count: r.count, sum: r.sum });
        },
      },
    )
    .sinkTo(fileSink(outDir));
};
