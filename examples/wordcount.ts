/**
 * Word count over a generated text stream: lines of random words, split into words, counted per word
 * in tumbling event-time windows of 10 s (each line is 10 ms of event time).
 *
 *   weir run examples/wordcount.ts --parallelism 2 -- --lines 200000
 *   weir run examples/wordcount.ts -- --lines 1000 --out /tmp/wc     # JSON lines into /tmp/wc/part-*
 *   weir run examples/wordcount.ts -- --endless --rate 1000           # a stream that never ends, 1000 lines/s
 */
import { type StreamEnvironment, count, fileSink, tumbling, watermarks } from "weir";
import { parseArgs } from "node:util";

const WORDS = ["stream", "river", "weir", "flow", "water", "bank", "current", "lock", "dam", "ripple", "eddy", "spring", "delta", "source", "sink", "tide"];

/** Line i: a deterministic pseudo-random sequence of 3..8 words. */
export function line(i: number): string {
  let x = (i * 2654435761) >>> 0;
  const n = 3 + (x % 6);
  const words: string[] = [];
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x ^ (x >>> 15), 2246822519) + k) >>> 0;
    words.push(WORDS[x % WORDS.length]!);
  }
  return words.join(" ");
}

export default (env: StreamEnvironment, args: string[]) => {
  const { values } = parseArgs({
    args,
    options: { lines: { type: "string", default: "100000" }, endless: { type: "boolean", default: false }, rate: { type: "string" }, out: { type: "string" } },
  });
  const lines = Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0) throw new Error(`--lines must be a non-negative integer, got ${values.lines}`);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0)) throw new Error(`--rate must be a positive number of lines per second, got ${values.rate}`);
  env.setJobName("wordcount");
  const counts = env
    .fromGenerator(
      { ...(values.endless ? {} : { count: lines }), ...(rate ? { ratePerSecond: rate } : {}), generate: (i) => ({ ts: i * 10, text: line(i) }) },
      watermarks.monotonic<{ ts: number; text: string }>().withTimestampAssigner((l) => l.ts),
    )
    .name("Lines")
    .flatMap<string>((l, out) => {
      for (const w of l.text.split(" ")) out.collect(w);
    })
    .name("Split words")
    .keyBy((w) => w)
    .window(tumbling(10_000))
    .aggregate(count<string>(), {
      process(word, ctx, results, out) {
        for (const n of results) out.collect({ word, windowEnd: ctx.window.end, count: n });
      },
    })
    .name("Count per word")
    .uid("word-counts");
  if (values.out) counts.sinkTo(fileSink(values.out)).name("Counts file");
  else counts.print();
};
