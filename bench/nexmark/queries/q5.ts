/**
 * Nexmark q5, hot items: in every 10 s window sliding by 2 s, the auctions with the most bids.
 *
 * The SQL (nexmark/nexmark `queries/q5.sql`) counts bids per (auction, HOP window), takes the max
 * count per window, and joins the two on `num >= maxn`: every auction at the window's max is a row
 * (ties all come out), as `(auction, num)`; the window's bounds are not in the output.
 *
 * Plan:
 * 1. Bids become their auction id before the exchange (a number, no allocation, little to ship).
 * 2. keyBy(auction) -> sliding(10 s, 2 s) -> count(): sliced, one counter per (slice, auction).
 *    The window function sees a subtask's auctions of one window one after another (windows fire in
 *    end order), and forwards a count only if it is at least the highest count it has forwarded for
 *    that window so far. A count it drops is below some count of the same window, so it cannot be
 *    the max; a few per window and subtask get through instead of one per (auction, window).
 * 3. keyBy(window end) -> the window's ranking: the max so far and the auctions at it. The counts of
 *    a window carry timestamp end - 1 and come before the watermark that passes it, so an event-time
 *    timer at end - 1 fires once all of them arrived: it emits the auctions and clears the state.
 */
import { count, sliding, type Collector, type KeyedProcessContext, type KeyedProcessFunction, type KeyedRuntimeContext, type ProcessWindowFunction, type ValueState, type WindowContext } from "weir";
import { BID, type NexmarkEvent } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";

const SIZE = 10_000;
const SLIDE = 2_000;

/** An auction's bid count in the window ending at `end`. */
type AuctionCount = readonly [auction: number, num: number, end: number];

/** Forwards the counts of a window that are at least the highest this subtask forwarded for it. */
class RunningLeaders implements ProcessWindowFunction<number, AuctionCount, number> {
  // Only an optimisation, hence not checkpointed: after a restore it starts over and forwards more.
  private end = Number.NaN;
  private max = 0;

  process(auction: number, ctx: WindowContext<number>, counts: Iterable<number>, out: Collector<AuctionCount>): void {
    const end = ctx.window.end;
    if (end !== this.end) {
      this.end = end;
      this.max = 0;
    }
    for (const num of counts) {
      if (num < this.max) continue;
      this.max = num;
      out.collect([auction, num, end]);
    }
  }
}

/** The auctions at a window's highest count so far. */
interface Leaders {
  max: number;
  auctions: number[];
}

/** Keyed by window end: collects the window's leaders and emits them when the window is complete. */
class WindowRanking implements KeyedProcessFunction<number, AuctionCount, Row> {
  private leaders!: ValueState<Leaders>;

  open(ctx: KeyedRuntimeContext): void {
    this.leaders = ctx.valueState<Leaders>("leaders");
  }

  processElement([auction, num, end]: AuctionCount, ctx: KeyedProcessContext<number>, _out: Collector<Row>): void {
    const cur = this.leaders.value();
    if (cur === undefined) {
      ctx.timerService.registerEventTimeTimer(end - 1);
      this.leaders.update({ max: num, auctions: [auction] });
    } else if (num >= cur.max) {
      if (num === cur.max) cur.auctions.push(auction);
      else {
        cur.max = num;
        cur.auctions = [auction];
      }
      this.leaders.update(cur);
    }
  }

  onTimer(_timestamp: number, _ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    const cur = this.leaders.value();
    if (cur !== undefined) for (const auction of cur.auctions) out.collect([auction, cur.max]);
    this.leaders.clear();
  }
}

/** Every (auction, num) at its window's max, by counting each bid into the 5 windows that hold it. */
function bruteForce(events: Iterable<NexmarkEvent>): Row[] {
  const byWindow = new Map<number, Map<number, number>>(); // window start -> auction -> bids
  for (const e of events) {
    if (e.type !== BID) continue;
    // HOP windows [start, start + SIZE) with start a multiple of SLIDE, start <= dateTime.
    for (let start = Math.floor(e.dateTime / SLIDE) * SLIDE; start > e.dateTime - SIZE; start -= SLIDE) {
      let counts = byWindow.get(start);
      if (counts === undefined) byWindow.set(start, (counts = new Map()));
      counts.set(e.auction, (counts.get(e.auction) ?? 0) + 1);
    }
  }
  const rows: Row[] = [];
  for (const counts of byWindow.values()) {
    let maxn = 0;
    for (const num of counts.values()) maxn = Math.max(maxn, num);
    for (const [auction, num] of counts) if (num >= maxn) rows.push([auction, num]);
  }
  return rows;
}

/** Nexmark q5 (see the module comment). */
export const q5: NexmarkQuery = {
  name: "q5",
  description: "hot items: the auctions with the most bids per 10 s window sliding by 2 s (ties all)",
  goalPerCore: 75_000,
  build: (events) =>
    events
      .flatMap<number>((e, out) => {
        if (e.type === BID) out.collect(e.auction);
      })
      .name("q5 bid auctions")
      .keyBy((auction) => auction)
      .window(sliding(SIZE, SLIDE))
      .aggregate(count<number>(), new RunningLeaders())
      .uid("q5-counts")
      .name("q5 bids per auction and window")
      .keyBy((c) => c[2])
      .process(new WindowRanking())
      .uid("q5-ranking")
      .name("q5 hottest per window"),
  bruteForce,
};
