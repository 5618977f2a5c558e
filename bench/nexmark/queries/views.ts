/**
 * The reference's views (`ddl_views.sql`: `person`, `auction`, `bid` over the one event stream) as
 * typed streams, and the stateless selections over bids (q0, q1, q2) built from one definition.
 * Filtering on `type` first keeps every later step monomorphic.
 */
import type { DataStream } from "weir";
import { BID, isAuction, isBid, isPerson, type Auction, type Bid, type NexmarkEvent, type Person } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";

/** The events `guard` accepts, typed as such (one filter operator named `name`). */
export function where<T extends NexmarkEvent>(events: DataStream<NexmarkEvent>, guard: (e: NexmarkEvent) => e is T, name: string): DataStream<T> {
  return events.filter(guard).name(name) as unknown as DataStream<T>;
}

/** The `bid` view. */
export const bids = (events: DataStream<NexmarkEvent>): DataStream<Bid> => where(events, isBid, "Bids");
/** The `auction` view. */
export const auctions = (events: DataStream<NexmarkEvent>): DataStream<Auction> => where(events, isAuction, "Auctions");
/** The `person` view. */
export const persons = (events: DataStream<NexmarkEvent>): DataStream<Person> => where(events, isPerson, "Persons");

/** A query `SELECT project(B) FROM bid B [WHERE keep(B)]`. */
export interface BidSelection {
  readonly name: string;
  readonly description: string;
  readonly goalPerCore: number | null;
  /** The WHERE clause; absent: every bid. */
  readonly keep?: (b: Bid) => boolean;
  readonly project: (b: Bid) => Row;
}

/**
 * The stateless query of a selection: one filter (the type and `keep` tested together, one pass per
 * batch) and one map, chained with the source; brute force is the same two functions over all events.
 */
export function bidSelection(s: BidSelection): NexmarkQuery {
  const { keep, project } = s;
  const selected = keep ? (e: NexmarkEvent): e is Bid => e.type === BID && keep(e) : isBid;
  return {
    name: s.name,
    description: s.description,
    goalPerCore: s.goalPerCore,
    build: (events) => where(events, selected, `${s.name} Select`).map(project).name(`${s.name} Project`),
    bruteForce(events) {
      const rows: Row[] = [];
      for (const e of events) if (selected(e)) rows.push(project(e));
      return rows;
    },
  };
}
