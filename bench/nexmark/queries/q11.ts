/**
 * Nexmark q11, user sessions: the number of bids of each bidder per session, a session ending after
 * 10 s without a bid of that bidder.
 *
 * The SQL (nexmark/nexmark `queries/q11.sql`) groups bids by bidder and SESSION(dateTime, 10 s) and
 * writes `(bidder, bid_count, starttime, endtime)` with SESSION_START = the session's first bid time
 * and SESSION_END = its last bid time + 10 s (the session window [first, last + gap)). As in Flink's
 * session windows, bids exactly 10 s apart are in one session: a bid's window [t, t + gap) touching
 * the session merges with it.
 *
 * Plan: bids become their bidder id before the exchange (a number: nothing else is shipped), then
 * keyBy(bidder) -> session(10 s) -> count(), with a window function that adds the session's bounds.
 */
import { count, session, type Collector, type ProcessWindowFunction, type WindowContext } from "weir";
import { BID, type NexmarkEvent } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";

const GAP = 10_000;

/** Turns a session's count into the query's row. */
const sessionRow: ProcessWindowFunction<number, Row, number> = {
  process(bidder: number, ctx: WindowContext<number>, counts: Iterable<number>, out: Collector<Row>): void {
    for (const n of counts) out.collect([bidder, n, ctx.window.start, ctx.window.end]);
  },
};

/** Each bidder's bid times in order, cut where the next bid is more than the gap after the last. */
function bruteForce(events: Iterable<NexmarkEvent>): Row[] {
  const times = new Map<number, number[]>();
  for (const e of events) {
    if (e.type !== BID) continue;
    const ts = times.get(e.bidder);
    if (ts === undefined) times.set(e.bidder, [e.dateTime]);
    else ts.push(e.dateTime);
  }
  const rows: Row[] = [];
  for (const [bidder, ts] of times) {
    ts.sort((a, b) => a - b);
    let first = 0;
    for (let i = 1; i <= ts.length; i++) {
      if (i < ts.length && ts[i]! - ts[i - 1]! <= GAP) continue;
      rows.push([bidder, i - first, ts[first], ts[i - 1]! + GAP]);
      first = i;
    }
  }
  return rows;
}

/** Nexmark q11 (see the module comment). */
export const q11: NexmarkQuery = {
  name: "q11",
  description: "user sessions: bids per bidder per session with a 10 s gap, with the session's start and end",
  goalPerCore: 40_000,
  build: (events) =>
    events
      .flatMap<number>((e, out) => {
        if (e.type === BID) out.collect(e.bidder);
      })
      .name("q11 bidders")
      .keyBy((bidder) => bidder)
      .window(session(GAP))
      .aggregate(count<number>(), sessionRow)
      .uid("q11-sessions")
      .name("q11 bids per session"),
  bruteForce,
};
