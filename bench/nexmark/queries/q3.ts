/**
 * Query 3, local item suggestion: who sells in category 10 from Oregon, Idaho or California, and which
 * auctions (`auction A JOIN person P ON A.seller = P.id WHERE A.category = 10 AND P.state IN ('OR',
 * 'ID', 'CA')` -> name, city, state, auction id).
 *
 * A regular (unbounded) inner join, as in Flink: both sides are filtered and narrowed before the
 * shuffle, then meet keyed by person id. A seller is kept for good (a later auction may name them);
 * an auction that arrives before its seller waits in a list until the seller comes, and is emitted
 * then, so each match is emitted exactly once whichever side comes first. Auctions whose seller lives
 * in another state wait forever, as they would in Flink (the seller never passes the filter).
 */
import type { Collector, KeyedCoProcessFunction, KeyedProcessContext, KeyedRuntimeContext, ListState, ValueState } from "weir";
import { AUCTION, PERSON, type Auction, type NexmarkEvent, type Person } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";
import { where } from "./views.js";

/** A person from one of the three states, narrowed to what the result needs. */
interface Seller {
  readonly id: number;
  readonly name: string;
  readonly city: string;
  readonly state: string;
}

/** A category-10 auction, narrowed to the join key and the result's column. */
interface Listing {
  readonly id: number;
  readonly seller: number;
}

const CATEGORY = 10;
const isLocal = (state: string): boolean => state === "OR" || state === "ID" || state === "CA";
const isSeller = (e: NexmarkEvent): e is Person => e.type === PERSON && isLocal(e.state);
const isListing = (e: NexmarkEvent): e is Auction => e.type === AUCTION && e.category === CATEGORY;
const row = (p: Seller, auction: number): Row => [p.name, p.city, p.state, auction];

/** The join: per person id, the seller (once seen) and the auctions waiting for them. */
class LocalItemJoin implements KeyedCoProcessFunction<number, Seller, Listing, Row> {
  private seller!: ValueState<Seller>;
  private waiting!: ListState<number>;

  open(ctx: KeyedRuntimeContext): void {
    this.seller = ctx.valueState<Seller>("seller");
    this.waiting = ctx.listState<number>("waiting-auctions");
  }

  processElement1(p: Seller, _ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    this.seller.update(p);
    const waiting = this.waiting.get();
    if (waiting.length === 0) return;
    for (const auction of waiting) out.collect(row(p, auction));
    this.waiting.clear();
  }

  processElement2(a: Listing, _ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    const p = this.seller.value();
    if (p === undefined) this.waiting.add(a.id);
    else out.collect(row(p, a.id));
  }
}

export const q3: NexmarkQuery = {
  name: "q3",
  description: "local item suggestion: sellers in OR/ID/CA joined with their category-10 auctions",
  goalPerCore: null,
  build(events) {
    const sellers = where(events, isSeller, "q3 Local Sellers")
      .map((p): Seller => ({ id: p.id, name: p.name, city: p.city, state: p.state }))
      .name("q3 Narrow Sellers");
    const listings = where(events, isListing, "q3 Category 10")
      .map((a): Listing => ({ id: a.id, seller: a.seller }))
      .name("q3 Narrow Auctions");
    return sellers
      .connect(listings)
      .keyBy((p) => p.id, (a) => a.seller)
      .process(new LocalItemJoin())
      .uid("q3-join")
      .name("q3 Join");
  },
  bruteForce(events) {
    const sellers = new Map<number, Person>();
    const listings: Auction[] = [];
    for (const e of events) {
      if (isSeller(e)) sellers.set(e.id, e);
      else if (isListing(e)) listings.push(e);
    }
    const rows: Row[] = [];
    for (const a of listings) {
      const p = sellers.get(a.seller);
      if (p) rows.push(row(p, a.id));
    }
    return rows;
  },
};
