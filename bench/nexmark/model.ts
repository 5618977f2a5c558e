/**
 * The Nexmark data model (nexmark/nexmark, `ddl_gen.sql`): one stream of events, each a Person, an
 * Auction or a Bid. Events are flat objects tagged by `type` (0, 1, 2 as the reference's
 * `event_type`), one allocation per event, so that queries filter and narrow them without unwrapping.
 * Times (`dateTime`, `expires`) are epoch milliseconds, ids and prices integers (safe in a double up
 * to 2^53, far beyond any run).
 */

export const PERSON = 0;
export const AUCTION = 1;
export const BID = 2;

export interface Person {
  readonly type: typeof PERSON;
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

export interface Auction {
  readonly type: typeof AUCTION;
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  readonly category: number;
  readonly extra: string;
}

export interface Bid {
  readonly type: typeof BID;
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

export type NexmarkEvent = Person | Auction | Bid;

export const isPerson = (e: NexmarkEvent): e is Person => e.type === PERSON;
export const isAuction = (e: NexmarkEvent): e is Auction => e.type === AUCTION;
export const isBid = (e: NexmarkEvent): e is Bid => e.type === BID;
