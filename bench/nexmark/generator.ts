/**
 * The Nexmark event generator, a TypeScript port of the reference's semantics (nexmark/nexmark,
 * `nexmark-flink/.../generator/`: `GeneratorConfig`, `NexmarkGenerator`, `model/PersonGenerator`,
 * `AuctionGenerator`, `BidGenerator`, `PriceGenerator`, `StringsGenerator`, `LongGenerator`, and the
 * defaults of `NexmarkConfiguration`).
 *
 *   const cfg = nexmarkConfig({ events: 1_000_000, tps: 100_000, seed: 7 });
 *   generateEvent(cfg, 12);            // the 13th event: always the same Bid for this config
 *   for (const e of allEvents(cfg)) …  // events 0 .. events-1, in event-number order
 *
 * Event `n` is a pure function of (cfg, n): its kind from `n % 50` (by default 1 person, 3 auctions,
 * 46 bids), its ids from `n` (persons and auctions numbered from 1000), its random fields from a
 * small PRNG seeded with (seed, n) (the reference, too, derives everything but the randomness from
 * the event id), and its time `baseTime + floor(floor(n · 1e6 / tps) / 1000)` ms. Hot keys, the price law,
 * the auction horizon, the channel/URL table, field sizes and the +2000 bidder quirk (`bidderQuirk`)
 * follow the reference.
 *
 * Deliberate deviations (each keeps results independent of source parallelism or makes runs
 * reproducible):
 * - Seeded: the reference's `Random`/`SplittableRandom` is unseeded, so its runs differ; here one
 *   sfc32 stream per event, seeded from (seed, n), so any subtask can generate any event.
 * - Parallel timelines: the reference splits the ids into N contiguous ranges, one per generator,
 *   each starting at `baseTime` with N times the spacing, so an event's time (and its auction's
 *   horizon) depends on N. Here event `n` always has the time it has with N = 1, and the source
 *   stripes the ids (subtask i of N reads n ≡ i mod N): the N splits still advance through event time
 *   together at `tps` events per event-time second in total, as the reference's do.
 * - Numbering: the reference's SQL source starts at event id 2 and event number 1
 *   (`GeneratorConfig(conf, 1, numEvents, 1)`), so it never emits person 1000 or auction 1000 and its
 *   first event is an auction at baseTime + spacing. Here event 0 is person 1000 at `baseTime`.
 * - `baseTime` defaults to a fixed instant (2025-01-01T00:00:00Z) instead of the wall clock.
 * - Strings are substrings of two shared 1 MiB random pools (built once per seed): `extra` from
 *   lowercase letters (the reference's `nextExactString` also yields 'H'..'`' from negative
 *   remainders), names, descriptions, e-mails and URL parts from letters with a space 1 time in 13
 *   (as `nextString`), trimmed. Lengths follow the reference exactly.
 * - The channel table (10 000 `channel-i` URLs, 9 in 10 with `&channel_id=`) and the 4 hot URLs are
 *   drawn from the seed, not from an unseeded `Random` at first use.
 * - Out-of-order groups, rate shapes and extended-bid mode (unused by the Flink SQL suite) are absent.
 */
import { AUCTION, BID, PERSON, type Auction, type Bid, type NexmarkEvent, type Person } from "./model.js";

/** Generator options; `nexmarkConfig` fills in the reference defaults and validates them. */
export interface NexmarkConfig {
  /** Events to generate, in total over all source subtasks (default 1 000 000). */
  readonly events: number;
  /** Seed of every random field (default 0); the same seed gives the same events. */
  readonly seed: number;
  /** The reference's `firstEventRate`: events per second of *event time* (default 10 000); not an emission rate. */
  readonly tps: number;
  /** Epoch ms of event 0 (default 2025-01-01T00:00:00Z). */
  readonly baseTime: number;
  /** The reference's `BidGenerator` adds FIRST_PERSON_ID twice: bidder = base0 + 2000 (default true). */
  readonly bidderQuirk: boolean;
  /** Event mix per `personProportion + auctionProportion + bidProportion` events (default 1 : 3 : 46). */
  readonly personProportion: number;
  readonly auctionProportion: number;
  readonly bidProportion: number;
  /** A bid goes to the hot auction with probability 1 - 1/ratio (default 2). */
  readonly hotAuctionRatio: number;
  /** An auction's seller is the hot seller with probability 1 - 1/ratio (default 4). */
  readonly hotSellersRatio: number;
  /** A bid's bidder is the hot bidder with probability 1 - 1/ratio (default 4). */
  readonly hotBiddersRatio: number;
  /** Other bidders and sellers are drawn among the last this many people, + 10 ahead (default 1000). */
  readonly numActivePeople: number;
  /** Other auctions are drawn among the last this many, + 10 ahead; also sets auction lengths (default 100). */
  readonly numInFlightAuctions: number;
  /** Average size in bytes of each kind, reached by padding `extra` (defaults 200, 500, 100). */
  readonly avgPersonByteSize: number;
  readonly avgAuctionByteSize: number;
  readonly avgBidByteSize: number;
}

const DEFAULTS: NexmarkConfig = {
  events: 1_000_000,
  seed: 0,
  tps: 10_000,
  baseTime: Date.UTC(2025, 0, 1),
  bidderQuirk: true,
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
};

/** Event numbers at and above this are reserved for the per-seed tables' random streams. */
const MAX_EVENTS = 2 ** 52;
/** The largest average size accepted: `extra` is cut from a pool of POOL_SIZE characters. */
const MAX_AVG_SIZE = 65_536;

/** Integer options and their lower bounds (`events` and `seed` are checked on their own). */
const MINIMUMS: Partial<Record<keyof NexmarkConfig, number>> = {
  personProportion: 1,
  auctionProportion: 1,
  bidProportion: 1,
  hotAuctionRatio: 1,
  hotSellersRatio: 1,
  hotBiddersRatio: 1,
  numActivePeople: 1,
  numInFlightAuctions: 1,
  avgPersonByteSize: 0,
  avgAuctionByteSize: 0,
  avgBidByteSize: 0,
};

/** Reference defaults + `opts`, validated (an Error names the first bad field), frozen. */
export function nexmarkConfig(opts: Partial<NexmarkConfig> = {}): NexmarkConfig {
  for (const key of Object.keys(opts)) {
    if (!(key in DEFAULTS)) throw new Error(`unknown Nexmark option "${key}" (known: ${Object.keys(DEFAULTS).join(", ")})`);
  }
  const cfg: NexmarkConfig = { ...DEFAULTS, ...stripUndefined(opts) };
  const fail = (field: string, want: string, got: unknown) => new Error(`Nexmark option ${field} must be ${want}, got ${String(got)}`);
  if (!(Number.isSafeInteger(cfg.events) && cfg.events >= 0 && cfg.events < MAX_EVENTS)) throw fail("events", `an integer in [0, 2^52)`, cfg.events);
  if (!Number.isSafeInteger(cfg.seed)) throw fail("seed", "a safe integer", cfg.seed);
  if (!(typeof cfg.tps === "number" && cfg.tps > 0 && Number.isFinite(cfg.tps))) throw fail("tps", "a finite number > 0", cfg.tps);
  if (!Number.isSafeInteger(cfg.baseTime)) throw fail("baseTime", "an integer (epoch ms)", cfg.baseTime);
  if (typeof cfg.bidderQuirk !== "boolean") throw fail("bidderQuirk", "a boolean", cfg.bidderQuirk);
  for (const [field, min] of Object.entries(MINIMUMS)) {
    const v = cfg[field as keyof NexmarkConfig];
    const max = field.startsWith("avg") ? MAX_AVG_SIZE : 1_000_000_000;
    if (!(Number.isSafeInteger(v) && (v as number) >= min! && (v as number) <= max)) throw fail(field, `an integer in [${min}, ${max}]`, v);
  }
  return Object.freeze(cfg);
}

function stripUndefined(opts: Partial<NexmarkConfig>): Partial<NexmarkConfig> {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
}

// ---------------------------------------------------------------------------------------------------
// Randomness: sfc32 (Chris Doty-Humphrey's small fast counting generator, 128-bit state in four int32
// words), reseeded per event from (seed, event number) through a 32-bit finaliser. One shared instance:
// generation is synchronous, so events never interleave.

const TWO_POW_32 = 4_294_967_296;
const INV_2_32 = 1 / TWO_POW_32;
const INV_2_53 = 1 / 2 ** 53;

/** Wellons' lowbias32: a bijective 32-bit mixer. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

class Rng {
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  seedLo = 0;
  seedHi = 0;

  setSeed(seed: number): void {
    this.seedLo = mix32((seed % TWO_POW_32 | 0) ^ 0x9e3779b9);
    this.seedHi = mix32(Math.floor(seed / TWO_POW_32) ^ 0x85ebca6b);
  }

  /** Start the stream of event `n` (of the current seed). */
  reset(n: number): void {
    const lo = n % TWO_POW_32 | 0;
    const a = mix32(lo ^ this.seedLo);
    const b = mix32(((n / TWO_POW_32) | 0) ^ this.seedHi ^ mix32(lo));
    this.s0 = a;
    this.s1 = b;
    this.s2 = mix32(a ^ b ^ 0x6a09e667);
    this.s3 = 1;
    for (let i = 0; i < 4; i++) this.next32();
  }

  /** A uniform 32-bit integer, as a non-negative number. */
  next32(): number {
    const t = (((this.s0 + this.s1) | 0) + this.s3) | 0;
    this.s3 = (this.s3 + 1) | 0;
    this.s0 = this.s1 ^ (this.s1 >>> 9);
    this.s1 = (this.s2 + (this.s2 << 3)) | 0;
    this.s2 = (((this.s2 << 21) | (this.s2 >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, bound) (bound ≥ 1), like `nextInt`/`LongGenerator.nextLong`. */
  nextInt(bound: number): number {
    return Math.floor(this.next32() * INV_2_32 * bound);
  }

  /** Uniform in [0, 1) with 53 bits, like `nextDouble`. */
  nextDouble(): number {
    return (this.next32() * 2_097_152 + (this.next32() >>> 11)) * INV_2_53;
  }
}

const rng = new Rng();

// ---------------------------------------------------------------------------------------------------
// Fixed vocabularies (PersonGenerator, BidGenerator) and the per-seed string tables.

const US_STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
const FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
/** "First Last" for every pair, indexed first * LAST_NAMES.length + last. */
const FULL_NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`));
/** "0000" .. "9999": the groups of a credit card number. */
const DIGITS4 = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"));
const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];
const CHANNELS = 10_000;

const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
/** People and auctions that may be referenced before they are created. */
const ID_LEAD = 10;
/** Hot sellers, bidders and auctions are the first (bidders: second) of each batch of 100. */
const HOT_BATCH = 100;
const MIN_STRING_LENGTH = 3;
const POOL_SIZE = 1 << 20;

interface Tables {
  readonly seed: number;
  /** Lowercase letters: `extra`. */
  readonly letters: string;
  /** Letters with a space 1 time in 13: names, descriptions, e-mails, URL parts. */
  readonly text: string;
  readonly channelNames: readonly string[];
  readonly channelUrls: readonly string[];
  readonly hotUrls: readonly string[];
}

/** The current seed's tables; a placeholder (seed NaN matches no seed) until the first event. */
let tables: Tables = { seed: Number.NaN, letters: "", text: "", channelNames: [], channelUrls: [], hotUrls: [] };

/** Make `seed` current: its PRNG key, and its string tables (rebuilt only when the seed changes). */
function useSeed(seed: number): Tables {
  if (tables.seed !== seed) {
    rng.setSeed(seed);
    tables = buildTables(seed);
  }
  return tables;
}

function buildTables(seed: number): Tables {
  rng.reset(MAX_EVENTS);
  const letters = pool((r) => 97 + r.nextInt(26));
  const text = pool((r) => (r.nextInt(13) === 0 ? 32 : 97 + r.nextInt(26)));
  const baseUrl = () => {
    const part = () => randomText(text, 5).replaceAll(" ", "_");
    return `https://www.nexmark.com/${part()}/${part()}/${part()}/item.htm?query=1`;
  };
  const hotUrls = HOT_CHANNELS.map(baseUrl);
  const channelNames: string[] = [];
  const channelUrls: string[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const url = baseUrl();
    channelNames.push(`channel-${i}`);
    channelUrls.push(rng.nextInt(10) > 0 ? `${url}&channel_id=${javaAbs(reverseBits(i))}` : url);
  }
  return { seed, letters, text, channelNames, channelUrls, hotUrls };
}

function pool(char: (r: Rng) => number): string {
  const bytes = Buffer.allocUnsafe(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) bytes[i] = char(rng);
  return bytes.toString("latin1");
}

/** Java's Integer.reverse. */
function reverseBits(x: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++, x >>>= 1) r = (r << 1) | (x & 1);
  return r | 0;
}

/** Java's Math.abs on an int: Integer.MIN_VALUE stays negative. */
function javaAbs(x: number): number {
  return x === -2147483648 ? x : Math.abs(x);
}

/** StringsGenerator.nextString before trimming: a piece of `text` of length in [3, maxLength). */
function randomText(text: string, maxLength: number): string {
  const len = MIN_STRING_LENGTH + rng.nextInt(maxLength - MIN_STRING_LENGTH);
  const at = rng.nextInt(POOL_SIZE - len);
  return text.substring(at, at + len);
}

/** StringsGenerator.nextString: random words of length in [3, maxLength), trimmed. */
function nextString(maxLength: number): string {
  return randomText(tables.text, maxLength).trim();
}

/** StringsGenerator.nextExtra: letters padding `currentSize` to `averageSize` on average (±20 %). */
function nextExtra(currentSize: number, averageSize: number): string {
  if (currentSize > averageSize) return "";
  const want = averageSize - currentSize;
  const delta = Math.round(want * 0.2);
  const size = want - delta + (delta === 0 ? 0 : rng.nextInt(2 * delta));
  const at = rng.nextInt(POOL_SIZE - size + 1);
  return tables.letters.substring(at, at + size);
}

/** 100 · 10^(k / PRICE_STEPS) for k in [0, 6 · PRICE_STEPS]: nextPrice without Math.pow (a quarter of the cost). */
const PRICE_STEPS = 4096;
const PRICE_TABLE = Float64Array.from({ length: 6 * PRICE_STEPS + 1 }, (_, k) => 100 * 10 ** (k / PRICE_STEPS));
const PRICE_STEP_LN = Math.LN10 / PRICE_STEPS;

/**
 * PriceGenerator.nextPrice, round(10^(6u) · 100), log-uniform in [100, 1e8]: a table entry times a
 * cubic for exp of the rest (relative error < 1e-14; equal to Math.pow's result in 10^7 of 10^7 draws).
 */
function nextPrice(): number {
  const y = rng.nextDouble() * 6 * PRICE_STEPS;
  const k = Math.floor(y);
  const x = (y - k) * PRICE_STEP_LN;
  return Math.round(PRICE_TABLE[k]! * (1 + x * (1 + x * (0.5 + x / 6))));
}

// ---------------------------------------------------------------------------------------------------
// Ids (PersonGenerator / AuctionGenerator), all base 0 (without FIRST_*_ID) and functions of the event id.

function totalProportion(cfg: NexmarkConfig): number {
  return cfg.personProportion + cfg.auctionProportion + cfg.bidProportion;
}

/** The last person created at or before event `id` (the new one for a person event). */
export function lastBase0PersonId(cfg: NexmarkConfig, id: number): number {
  const total = totalProportion(cfg);
  const offset = id % total;
  return Math.floor(id / total) * cfg.personProportion + Math.min(offset, cfg.personProportion - 1);
}

/** The last auction created at or before event `id` (the new one for an auction event; -1 before any). */
export function lastBase0AuctionId(cfg: NexmarkConfig, id: number): number {
  const total = totalProportion(cfg);
  const { personProportion: p, auctionProportion: a } = cfg;
  const epoch = Math.floor(id / total);
  const offset = id % total;
  if (offset < p) return (epoch - 1) * a + a - 1;
  if (offset >= p + a) return epoch * a + a - 1;
  return epoch * a + offset - p;
}

/** A random active person, or one of the next ID_LEAD not yet created. */
function nextBase0PersonId(cfg: NexmarkConfig, id: number): number {
  const numPeople = lastBase0PersonId(cfg, id) + 1;
  const active = Math.min(numPeople, cfg.numActivePeople);
  return numPeople - active + rng.nextInt(active + ID_LEAD);
}

/** A random auction among those likely in flight, or one of the next ID_LEAD. */
function nextBase0AuctionId(cfg: NexmarkConfig, id: number): number {
  const max = lastBase0AuctionId(cfg, id);
  const min = Math.max(max - cfg.numInFlightAuctions, 0);
  return min + rng.nextInt(max - min + 1 + ID_LEAD);
}

// ---------------------------------------------------------------------------------------------------
// Events.

/** Event time of event `n` (GeneratorConfig.timestampForEvent with one generator). */
export function eventTimestamp(cfg: NexmarkConfig, n: number): number {
  const us = Math.floor(n * (1_000_000 / cfg.tps));
  return cfg.baseTime + (us - (us % 1000)) / 1000;
}

function nextPerson(cfg: NexmarkConfig, n: number, dateTime: number): Person {
  const id = lastBase0PersonId(cfg, n) + FIRST_PERSON_ID;
  const name = FULL_NAMES[rng.nextInt(FIRST_NAMES.length) * LAST_NAMES.length + rng.nextInt(LAST_NAMES.length)]!;
  const emailAddress = `${nextString(7)}@${nextString(5)}.com`;
  const creditCard = `${DIGITS4[rng.nextInt(10_000)]} ${DIGITS4[rng.nextInt(10_000)]} ${DIGITS4[rng.nextInt(10_000)]} ${DIGITS4[rng.nextInt(10_000)]}`;
  const city = US_CITIES[rng.nextInt(US_CITIES.length)]!;
  const state = US_STATES[rng.nextInt(US_STATES.length)]!;
  const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
  const extra = nextExtra(size, cfg.avgPersonByteSize);
  return { type: PERSON, id, name, emailAddress, creditCard, city, state, dateTime, extra };
}

function nextAuction(cfg: NexmarkConfig, n: number, dateTime: number): Auction {
  const id = lastBase0AuctionId(cfg, n) + FIRST_AUCTION_ID;
  const hotSeller = rng.nextInt(cfg.hotSellersRatio) > 0;
  const seller = (hotSeller ? hotId(lastBase0PersonId(cfg, n), 0) : nextBase0PersonId(cfg, n)) + FIRST_PERSON_ID;
  const category = FIRST_CATEGORY_ID + rng.nextInt(NUM_CATEGORIES);
  const initialBid = nextPrice();
  // Auctions last on average until numInFlightAuctions more auctions have been created.
  const ahead = Math.floor((cfg.numInFlightAuctions * totalProportion(cfg)) / cfg.auctionProportion);
  const horizon = eventTimestamp(cfg, n + ahead) - dateTime;
  const expires = dateTime + 1 + rng.nextInt(Math.max(horizon * 2, 1));
  const itemName = nextString(20);
  const description = nextString(100);
  const reserve = initialBid + nextPrice();
  const extra = nextExtra(8 + itemName.length + description.length + 40, cfg.avgAuctionByteSize);
  return { type: AUCTION, id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra };
}

function nextBid(cfg: NexmarkConfig, n: number, dateTime: number): Bid {
  const hotAuction = rng.nextInt(cfg.hotAuctionRatio) > 0;
  const auction = (hotAuction ? hotId(lastBase0AuctionId(cfg, n), 0) : nextBase0AuctionId(cfg, n)) + FIRST_AUCTION_ID;
  const hotBidder = rng.nextInt(cfg.hotBiddersRatio) > 0;
  const base0Bidder = hotBidder ? hotId(lastBase0PersonId(cfg, n), 1) : nextBase0PersonId(cfg, n);
  const bidder = base0Bidder + FIRST_PERSON_ID + (cfg.bidderQuirk ? FIRST_PERSON_ID : 0);
  const price = nextPrice();
  const t = tables;
  let channel: string;
  let url: string;
  if (rng.nextInt(2) > 0) {
    const i = rng.nextInt(HOT_CHANNELS.length);
    channel = HOT_CHANNELS[i]!;
    url = t.hotUrls[i]!;
  } else {
    const i = rng.nextInt(CHANNELS);
    channel = t.channelNames[i]!;
    url = t.channelUrls[i]!;
  }
  const extra = nextExtra(32, cfg.avgBidByteSize);
  return { type: BID, auction, bidder, price, channel, url, dateTime, extra };
}

/** The hot id of the batch of HOT_BATCH containing `last`: its first (+ `which`). */
function hotId(last: number, which: number): number {
  return Math.floor(last / HOT_BATCH) * HOT_BATCH + which;
}

/**
 * Event number `n` (0-based, global over all source subtasks): the same object content whatever
 * generated it before, whatever the parallelism. `n` must be a non-negative integer (normally below
 * `cfg.events`).
 */
export function generateEvent(cfg: NexmarkConfig, n: number): NexmarkEvent {
  useSeed(cfg.seed);
  rng.reset(n);
  const dateTime = eventTimestamp(cfg, n);
  const offset = n % totalProportion(cfg);
  if (offset < cfg.personProportion) return nextPerson(cfg, n, dateTime);
  if (offset < cfg.personProportion + cfg.auctionProportion) return nextAuction(cfg, n, dateTime);
  return nextBid(cfg, n, dateTime);
}

/** Events 0 .. cfg.events - 1, in event-number order (for brute-force checks). */
export function* allEvents(cfg: NexmarkConfig): Generator<NexmarkEvent> {
  for (let n = 0; n < cfg.events; n++) yield generateEvent(cfg, n);
}
