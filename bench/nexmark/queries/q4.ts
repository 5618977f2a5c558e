/**
 * Query 4, average winning price per category:
 *
 *   SELECT Q.category, AVG(Q.final) FROM (
 *     SELECT MAX(B.price) AS final, A.category FROM auction A, bid B
 *     WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
 *     GROUP BY A.id, A.category) Q
 *   GROUP BY Q.category
 *
 * In Flink a continuously updated aggregate (it does not wait for auctions to close). Here two keyed
 * steps emit upserts:
 * - per auction id, the join and the inner MAX: the auction's times and category and its current
 *   winning price in one value; a bid in range that beats it emits the change (previous -> new). Bids
 *   may come before their auction (another source subtask produced it): they wait in a list until the
 *   auction comes, or until the watermark passes them (an auction starting at or before a bid has come
 *   by then), checked by a timer rounded up to the second.
 * - per category, the outer AVG: the sum and count of the auctions' winning prices, the old price of
 *   an auction replaced by its new one; a new average is emitted when it changed (as Flink's group
 *   aggregate drops unchanged results). AVG of a BIGINT is a BIGINT in Flink (sum / count in long
 *   arithmetic, truncated); prices are positive, so `Math.trunc` is that.
 * The result is the last row per category (`upsertKey`).
 *
 * State cleanup: once the watermark passes an auction's `expires` no bid can join it any more, but the
 * generator keeps bidding on an auction for about one average auction lifetime (the time 100 new
 * auctions take), also after it expired. The auction is therefore kept until `expires` or twice the
 * average lifetime this subtask has seen since `dateTime`, whichever is later, so those bids are
 * rejected by the stored interval rather than waiting as bids of an unknown auction. That choice only
 * affects cost: a bid arriving after the cleanup waits for its own timer and is dropped.
 */
import type {
  Collector,
  KeyedCoProcessFunction,
  KeyedProcessContext,
  KeyedProcessFunction,
  KeyedRuntimeContext,
  ListState,
  OnTimerContext,
  ValueState,
} from "weir";
import { AUCTION, BID, type Auction, type Bid, type NexmarkEvent } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";
import { auctions, bids } from "./views.js";

/** An auction as the join needs it. */
interface Lot {
  readonly id: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly category: number;
}

/** A bid as the join needs it. */
interface Offer {
  readonly auction: number;
  readonly price: number;
  readonly dateTime: number;
}

/** An auction's winning price changed from `previous` (0: it had none; prices are >= 1) to `price`. */
interface WinningPrice {
  readonly category: number;
  readonly previous: number;
  readonly price: number;
}

/** What the join keeps per auction: its interval and category, its winning price, when to drop it. */
interface OpenAuction {
  readonly dateTime: number;
  readonly expires: number;
  readonly category: number;
  /** Highest price of a bid in range so far, 0 before the first. */
  readonly max: number;
  readonly cleanupAt: number;
}

/** Timers of early bids are rounded up to this, so a key's early bids share a few timers. */
const EARLY_TIMER_MS = 1_000;

const inRange = (t: number, a: { dateTime: number; expires: number }): boolean => t >= a.dateTime && t <= a.expires;

/** Per auction id: the auction (once it came), bids that came before it, the winning price. */
class WinningBids implements KeyedCoProcessFunction<number, Lot, Offer, WinningPrice> {
  private auction!: ValueState<OpenAuction>;
  private early!: ListState<readonly [price: number, dateTime: number]>;
  /**
   * Sum and count of the lifetimes (expires - dateTime) of the auctions seen, for the retention. Plain
   * fields, not state: after a restore the estimate starts over, which changes cost, not results.
   */
  private lifetimes = 0;
  private lots = 0;

  open(ctx: KeyedRuntimeContext): void {
    this.auction = ctx.valueState<OpenAuction>("auction");
    this.early = ctx.listState<readonly [number, number]>("early-bids");
  }

  processElement1(lot: Lot, ctx: KeyedProcessContext<number>, out: Collector<WinningPrice>): void {
    let max = 0;
    const early = this.early.get();
    if (early.length > 0) {
      for (const [price, t] of early) if (price > max && inRange(t, lot)) max = price;
      this.early.clear();
    }
    this.lifetimes += lot.expires - lot.dateTime;
    this.lots++;
    const cleanupAt = Math.max(lot.expires, lot.dateTime + Math.ceil((2 * this.lifetimes) / this.lots));
    this.auction.update({ dateTime: lot.dateTime, expires: lot.expires, category: lot.category, max, cleanupAt });
    ctx.timerService.registerEventTimeTimer(cleanupAt);
    if (max > 0) out.collect({ category: lot.category, previous: 0, price: max });
  }

  processElement2(bid: Offer, ctx: KeyedProcessContext<number>, out: Collector<WinningPrice>): void {
    const a = this.auction.value();
    if (a === undefined) {
      this.early.add([bid.price, bid.dateTime]);
      ctx.timerService.registerEventTimeTimer(Math.ceil(bid.dateTime / EARLY_TIMER_MS) * EARLY_TIMER_MS);
      return;
    }
    if (bid.price <= a.max || !inRange(bid.dateTime, a)) return;
    this.auction.update({ ...a, max: bid.price });
    out.collect({ category: a.category, previous: a.max, price: bid.price });
  }

  onTimer(timestamp: number, _ctx: OnTimerContext<number>, _out: Collector<WinningPrice>): void {
    const a = this.auction.value();
    if (a !== undefined) {
      if (timestamp >= a.cleanupAt) this.auction.clear();
      return;
    }
    // No auction yet: it would start after the bids the watermark passed, which can never join it.
    const early = this.early.get();
    const left = early.filter(([, t]) => t > timestamp);
    if (left.length === early.length) return;
    if (left.length === 0) this.early.clear();
    else this.early.update(left);
  }
}

/** Per category: sum and count of its auctions' winning prices, and the average last emitted. */
class CategoryAverage implements KeyedProcessFunction<number, WinningPrice, Row> {
  private totals!: ValueState<readonly [sum: number, count: number, avg: number]>;

  open(ctx: KeyedRuntimeContext): void {
    this.totals = ctx.valueState<readonly [number, number, number]>("totals");
  }

  processElement(w: WinningPrice, _ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    const before = this.totals.value();
    const sum = (before?.[0] ?? 0) + w.price - w.previous;
    const count = (before?.[1] ?? 0) + (w.previous === 0 ? 1 : 0);
    const avg = Math.trunc(sum / count);
    this.totals.update([sum, count, avg]);
    if (before === undefined || before[2] !== avg) out.collect([w.category, avg]);
  }
}

/** Brute force: the join and both aggregates over all events at once. */
function bruteForce(events: Iterable<NexmarkEvent>): Row[] {
  const lots = new Map<number, Auction>();
  const offers: Bid[] = [];
  for (const e of events) {
    if (e.type === AUCTION) lots.set(e.id, e);
    else if (e.type === BID) offers.push(e);
  }
  const winning = new Map<number, number>();
  for (const b of offers) {
    const a = lots.get(b.auction);
    if (a && inRange(b.dateTime, a) && b.price > (winning.get(a.id) ?? 0)) winning.set(a.id, b.price);
  }
  const totals = new Map<number, [sum: number, count: number]>();
  for (const [id, price] of winning) {
    const category = lots.get(id)!.category;
    const t = totals.get(category) ?? [0, 0];
    totals.set(category, [t[0] + price, t[1] + 1]);
  }
  return [...totals].map(([category, [sum, count]]) => [category, Math.trunc(sum / count)]);
}

export const q4: NexmarkQuery = {
  name: "q4",
  description: "average winning price per category (auction-bid join in the auction's interval, max per auction, average per category)",
  goalPerCore: null,
  build(events) {
    const lots = auctions(events)
      .map((a): Lot => ({ id: a.id, dateTime: a.dateTime, expires: a.expires, category: a.category }))
      .name("q4 Narrow Auctions");
    const offers = bids(events)
      .map((b): Offer => ({ auction: b.auction, price: b.price, dateTime: b.dateTime }))
      .name("q4 Narrow Bids");
    return lots
      .connect(offers)
      .keyBy((a) => a.id, (b) => b.auction)
      .process(new WinningBids())
      .uid("q4-winning-bids")
      .name("q4 Winning Bids")
      .keyBy((w) => w.category)
      .process(new CategoryAverage())
      .uid("q4-category-average")
      .name("q4 Category Average");
  },
  bruteForce,
  upsertKey: (row) => String(row[0]),
};
