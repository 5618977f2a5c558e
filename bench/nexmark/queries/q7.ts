/**
 * Nexmark q7, highest bid: the bids at the highest price of each 10 s tumbling window.
 *
 * The SQL (nexmark/nexmark `queries/q7.sql`) computes MAX(price) per TUMBLE window with its
 * window_end, and joins every bid on `B.price = maxprice AND B.dateTime BETWEEN window_end - 10 s
 * AND window_end`. BETWEEN includes both ends, so a bid at exactly a window's end, which belongs to
 * the next window, also joins the window it ends (when its price is that window's max), and may come
 * out twice. Columns follow the SQL's SELECT, `B.auction, B.price, B.bidder, B.dateTime, B.extra`,
 * although the sink names its columns `auction, bidder, price, ...`: price comes before bidder.
 *
 * Plan:
 * 1. Chained to the source, each subtask keeps a running max per window and drops every bid below
 *    it: such a bid cannot be at the window's max. A bid is forwarded, as a candidate of its own
 *    window (its price counts toward the max), and, at exactly a window's end, of that window too
 *    (joins only). Few bids per window and subtask get through.
 * 2. keyBy(window end) -> the window's max, the counted bids at it and the end bids at or above it.
 *    An event-time timer at the window's end fires once every bid up to that time (the end bids
 *    included) arrived: it emits the bids at the max and clears the state. A window without any
 *    counted bid does not exist in the SQL and emits nothing.
 */
import type { Collector, KeyedProcessContext, KeyedProcessFunction, KeyedRuntimeContext, ProcessContext, ProcessFunction, ValueState } from "weir";
import { BID, type Bid, type NexmarkEvent } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";

const SIZE = 10_000;

/**
 * A bid that may be at the max of the window ending at `end`. `counted`: the bid is in the window
 * and its price counts toward the max; otherwise the bid is at exactly `end` and only joins.
 */
interface Candidate {
  readonly end: number;
  readonly bid: Bid;
  readonly counted: boolean;
}

/** Forwards the bids at or above this subtask's running max of their window. */
class RunningMaxFilter implements ProcessFunction<NexmarkEvent, Candidate> {
  // Only an optimisation, hence not checkpointed: a bid is dropped only below a bid already sent on,
  // and after a restore the map starts empty and lets more through.
  private readonly maxByEnd = new Map<number, number>();

  processElement(e: NexmarkEvent, ctx: ProcessContext, out: Collector<Candidate>): void {
    if (e.type !== BID) return;
    const t = e.dateTime;
    const end = Math.floor(t / SIZE) * SIZE + SIZE;
    if (e.price >= (this.maxByEnd.get(end) ?? this.firstOf(end, ctx.currentWatermark()))) {
      this.maxByEnd.set(end, e.price);
      out.collect({ end, bid: e, counted: true });
    }
    if (end - SIZE === t && e.price >= (this.maxByEnd.get(t) ?? Number.NEGATIVE_INFINITY)) {
      out.collect({ end: t, bid: e, counted: false });
    }
  }

  /** A window not seen yet: forget the windows the watermark has passed; nothing to beat yet. */
  private firstOf(end: number, watermark: number): number {
    for (const e of this.maxByEnd.keys()) if (e <= watermark) this.maxByEnd.delete(e);
    return Number.NEGATIVE_INFINITY;
  }
}

/** A window's highest price so far, its bids at that price, and the bids at its end that may join. */
interface WindowTop {
  max: number;
  top: Bid[];
  atEnd: Bid[];
}

const row = (b: Bid): Row => [b.auction, b.price, b.bidder, b.dateTime, b.extra];

/** Keyed by window end: joins the window's bids at its max once the window is complete. */
class MaxJoin implements KeyedProcessFunction<number, Candidate, Row> {
  private window!: ValueState<WindowTop>;

  open(ctx: KeyedRuntimeContext): void {
    this.window = ctx.valueState<WindowTop>("top");
  }

  processElement({ end, bid, counted }: Candidate, ctx: KeyedProcessContext<number>, _out: Collector<Row>): void {
    let w = this.window.value();
    if (w === undefined) {
      w = { max: Number.NEGATIVE_INFINITY, top: [], atEnd: [] };
      ctx.timerService.registerEventTimeTimer(end);
    }
    // A bid below the max so far can never join (a new window's max is -Infinity).
    if (bid.price < w.max) return;
    if (!counted) w.atEnd.push(bid);
    else if (bid.price === w.max) w.top.push(bid);
    else {
      w.max = bid.price;
      w.top = [bid];
    }
    this.window.update(w);
  }

  onTimer(_timestamp: number, _ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    const w = this.window.value();
    this.window.clear();
    if (w === undefined) return;
    for (const b of w.top) if (b.price === w.max) out.collect(row(b));
    for (const b of w.atEnd) if (b.price === w.max) out.collect(row(b));
  }
}

/** Max per window, then every bid against every window end within [dateTime, dateTime + 10 s]. */
function bruteForce(events: Iterable<NexmarkEvent>): Row[] {
  const bids: Bid[] = [];
  const maxByEnd = new Map<number, number>();
  for (const e of events) {
    if (e.type !== BID) continue;
    bids.push(e);
    const end = Math.floor(e.dateTime / SIZE) * SIZE + SIZE;
    maxByEnd.set(end, Math.max(maxByEnd.get(end) ?? Number.NEGATIVE_INFINITY, e.price));
  }
  const rows: Row[] = [];
  for (const b of bids) {
    // window_end - 10 s <= dateTime <= window_end, window ends being multiples of SIZE.
    for (let end = Math.ceil(b.dateTime / SIZE) * SIZE; end <= b.dateTime + SIZE; end += SIZE) {
      if (maxByEnd.get(end) === b.price) rows.push(row(b));
    }
  }
  return rows;
}

/** Nexmark q7 (see the module comment). */
export const q7: NexmarkQuery = {
  name: "q7",
  description: "highest bid: the bids at the max price of each 10 s tumbling window (columns auction, price, bidder, dateTime, extra)",
  goalPerCore: 25_000,
  build: (events) =>
    events
      .process(new RunningMaxFilter())
      .name("q7 running max per window")
      .keyBy((c) => c.end)
      .process(new MaxJoin())
      .uid("q7-max-join")
      .name("q7 bids at the window max"),
  bruteForce,
};
