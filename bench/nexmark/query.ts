/**
 * What a Nexmark query is to the suite: a DataStream program over the event stream, an independent
 * brute-force computation of the same result, and the figures it is judged by.
 *
 * Rows are arrays in the column order of the reference SQL (nexmark/nexmark `queries/qN.sql`), so
 * that the blackhole sink can hash them and the correctness check can compare them as
 * `JSON.stringify(row)`. Numbers must therefore come out identical on both sides (compute decimals
 * the same way, e.g. q1's price as an exact string or a value rounded to 3 decimals).
 */
import type { DataStream, StreamEnvironment } from "weir";
import type { NexmarkEvent } from "./model.js";

export type Row = readonly unknown[];

export interface NexmarkQuery {
  /** "q0" ... "q11". */
  readonly name: string;
  /** One line: what the query computes (shown in reports). */
  readonly description: string;
  /** Events/s per core the issue asks for with heap state, or null when it sets none. */
  readonly goalPerCore: number | null;
  /**
   * The query over `events`: every Nexmark event in generation order per source subtask, with event
   * timestamps (`dateTime`) and watermarks 4 s behind already assigned by the source.
   */
  build(events: DataStream<NexmarkEvent>, env: StreamEnvironment): DataStream<Row>;
  /** The same result computed directly, single-threaded, over all events in event-number order. */
  bruteForce(events: Iterable<NexmarkEvent>): Row[];
  /**
   * For queries whose SQL result is an updating table (q4: a continuously updated aggregate): the
   * primary key of a row. The stream then emits upserts, and its result is the last row per key;
   * absent for append-only queries, whose result is every row emitted.
   */
  readonly upsertKey?: (row: Row) => string;
}
