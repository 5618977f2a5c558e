/**
 * Test job for snapshots in which a whole branch had finished. Args: `<events> <keys> <output-dir>
 * [ratePerSecond]`. Two generators of keys feed one rolling count per key (lines `["c", key, n]`)
 * into the transactional file sink: "events" (`<events>` records, paced) and "quick" (`QUICK_PER_KEY`
 * records per key, unpaced), which finishes at once, so every later snapshot records its task
 * ("Quick -> Map", uids "quick" and "quick-count") as fully finished.
 */
import { type StreamEnvironment, transactionalFileSink } from "weir";
import { keyOf } from "./exactly-once.js";

export const QUICK_PER_KEY = 10;

const toCount = (key: string): unknown[] => ["c", key, 1];

export default (env: StreamEnvironment, args: string[]) => {
  const [events, keys, outDir, rate] = args;
  if (!events || !keys || !outDir) throw new Error("usage: <events> <keys> <output-dir> [ratePerSecond]");
  const k = Number(keys);
  const quick = env
    .fromGenerator({ generate: (i) => keyOf(i, k), count: k * QUICK_PER_KEY })
    .name("Quick")
    .uid("quick")
    .map(toCount)
    .uid("quick-count");
  env
    .fromGenerator({ generate: (i) => keyOf(i, k), count: Number(events), ...(rate ? { ratePerSecond: Number(rate) } : {}) })
    .uid("events")
    .map(toCount)
    .uid("to-count")
    .union(quick)
    .keyBy((r) => r[1] as string)
    .reduce((a, b) => ["c", a[1], (a[2] as number) + (b[2] as number)])
    .uid("rolling-count")
    .sinkTo(transactionalFileSink<unknown[]>(outDir))
    .uid("sink");
};
