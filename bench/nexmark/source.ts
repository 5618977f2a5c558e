/**
 * The Nexmark source: a bounded Weir source of `cfg.events` generated events, and its watermark
 * strategy (the reference DDL's `WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND`).
 *
 *   env.fromSource(nexmarkSource(cfg), nexmarkWatermarks())
 *
 * Built on the generator connector (`generatorSource`): split i of N (N = the source's parallelism)
 * emits events i, i + N, i + 2N, …, each `generateEvent(cfg, n)` with `dateTime` as its source
 * timestamp, and checkpoints its next event number, so a restore continues exactly where the
 * snapshot was taken, at any parallelism. Like the reference's N generators on parallel timelines,
 * the N splits advance through event time together, at `cfg.tps` events per event-time second in
 * total; unlike the reference, an event's content and time do not depend on N (see `generator.ts`).
 * Events are emitted as fast as downstream takes them (the reference's `maxEmitSpeed`).
 */
import { generatorSource, watermarks, type Source, type SourceSplit, type WatermarkStrategy } from "weir";
import { generateEvent, type NexmarkConfig } from "./generator.js";
import type { NexmarkEvent } from "./model.js";

/** Watermarks trail the highest `dateTime` seen by this much (ms), as in the reference DDL. */
export const WATERMARK_DELAY_MS = 4_000;

/** A bounded source of events 0 .. cfg.events - 1, striped over the source's subtasks. */
export function nexmarkSource(cfg: NexmarkConfig): Source<NexmarkEvent, SourceSplit> {
  const source = generatorSource<NexmarkEvent>({
    count: cfg.events,
    generate: (n) => generateEvent(cfg, n),
    timestamp: (_n, event) => event.dateTime,
  });
  return { ...source, name: "Nexmark Source" };
}

/**
 * Event time from the source timestamp (`dateTime`); watermark = highest `dateTime` - 4 s, the value
 * of the reference's SQL expression (Weir's bounded strategy subtracts 1 ms more than its argument,
 * hence 3 999). Each split's events are in time order, so no event is ever late: the delay only
 * holds back window firing, as in Flink.
 */
export function nexmarkWatermarks(): WatermarkStrategy<NexmarkEvent> {
  return watermarks.boundedOutOfOrder<NexmarkEvent>(WATERMARK_DELAY_MS - 1);
}
