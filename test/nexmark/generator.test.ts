/**
 * The Nexmark generator against the reference's semantics (mix, ids, hot keys, prices, sizes, event
 * time), its determinism, and the source: every event exactly once at any parallelism, and a restore
 * from a snapshot continuing exactly.
 */
import { describe, expect, it } from "vitest";
import type { RuntimeContext, SourceReader, SourceSplit } from "weir";
import { allEvents, eventTimestamp, generateEvent, lastBase0AuctionId, lastBase0PersonId, nexmarkConfig, type NexmarkConfig } from "../../bench/nexmark/generator.js";
import { AUCTION, BID, PERSON, isAuction, isBid, isPerson, type Auction, type Bid, type NexmarkEvent, type Person } from "../../bench/nexmark/model.js";
import { nexmarkSource, nexmarkWatermarks } from "../../bench/nexmark/source.js";

const events = (cfg: NexmarkConfig) => [...allEvents(cfg)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fraction = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length / xs.length;

describe("nexmarkConfig", () => {
  it("has the reference defaults", () => {
    const cfg = nexmarkConfig();
    expect([cfg.tps, cfg.bidderQuirk, cfg.personProportion, cfg.auctionProportion, cfg.bidProportion]).toEqual([10_000, true, 1, 3, 46]);
    expect([cfg.hotAuctionRatio, cfg.hotSellersRatio, cfg.hotBiddersRatio, cfg.numActivePeople, cfg.numInFlightAuctions]).toEqual([2, 4, 4, 1000, 100]);
    expect([cfg.avgPersonByteSize, cfg.avgAuctionByteSize, cfg.avgBidByteSize]).toEqual([200, 500, 100]);
    expect(Object.isFrozen(nexmarkConfig())).toBe(true);
  });

  it.each([
    [{ events: -1 }, /events/],
    [{ events: 1.5 }, /events/],
    [{ tps: 0 }, /tps/],
    [{ seed: Number.NaN }, /seed/],
    [{ hotAuctionRatio: 0 }, /hotAuctionRatio/],
    [{ avgBidByteSize: 1e9 }, /avgBidByteSize/],
    [{ bidderQuirk: "yes" as unknown as boolean }, /bidderQuirk/],
    [{ evnts: 5 } as Partial<NexmarkConfig>, /unknown Nexmark option "evnts"/],
  ])("rejects %j naming the field", (opts, message) => {
    expect(() => nexmarkConfig(opts)).toThrow(message);
  });
});

describe("generateEvent", () => {
  const cfg = nexmarkConfig({ events: 50_000, seed: 42 });
  const all = events(cfg);
  const bids = all.filter(isBid);
  const auctions = all.filter(isAuction);
  const persons = all.filter(isPerson);

  it("mixes persons, auctions and bids 1:3:46 in every block of 50", () => {
    const block = [PERSON, AUCTION, AUCTION, AUCTION, ...Array<number>(46).fill(BID)].join("");
    expect(all.map((e) => e.type).join("")).toBe(block.repeat(all.length / 50));
  });

  it("numbers persons and auctions consecutively from 1000", () => {
    expect(persons.map((p) => p.id)).toEqual(persons.map((_, i) => 1000 + i));
    expect(auctions.map((a) => a.id)).toEqual(auctions.map((_, i) => 1000 + i));
  });

  it("sends half the bids to the hot auction and 3/4 to the hot bidder (+2000 quirk)", () => {
    const hotAuction = (n: number) => Math.floor(lastBase0AuctionId(cfg, n) / 100) * 100 + 1000;
    const hotBidder = (n: number) => Math.floor(lastBase0PersonId(cfg, n) / 100) * 100 + 1 + 2000;
    const numbered = all.map((e, n) => ({ e, n })).filter((x): x is { e: Bid; n: number } => isBid(x.e));
    // A random pick lands on the hot id too, now and then: P(hot) slightly above 1 - 1/ratio.
    expect(Math.abs(fraction(numbered, ({ e, n }) => e.auction === hotAuction(n)) - 0.505)).toBeLessThan(0.015);
    expect(Math.abs(fraction(numbered, ({ e, n }) => e.bidder === hotBidder(n)) - 0.7502)).toBeLessThan(0.015);
    // Every other bid goes to an auction in flight (last 100 + 10 ahead) and a recent bidder.
    const outside = numbered.filter(({ e, n }) => {
      const lastAuction = lastBase0AuctionId(cfg, n) + 1000;
      const people = lastBase0PersonId(cfg, n) + 1;
      const auctionIn = e.auction >= Math.max(lastAuction - 100, 1000) && e.auction <= lastAuction + 10;
      return !auctionIn || e.bidder - 2000 < people - Math.min(people, 1000) || e.bidder - 2000 >= people + 10;
    });
    expect(outside).toEqual([]);
  });

  it("gives 3/4 of the auctions to the hot seller, and categories 10..14", () => {
    const numbered = all.map((e, n) => ({ e, n })).filter((x): x is { e: Auction; n: number } => isAuction(x.e));
    const hotSeller = (n: number) => Math.floor(lastBase0PersonId(cfg, n) / 100) * 100 + 1000;
    expect(Math.abs(fraction(numbered, ({ e, n }) => e.seller === hotSeller(n)) - 0.7502)).toBeLessThan(0.03);
    expect(new Set(auctions.map((a) => a.category))).toEqual(new Set([10, 11, 12, 13, 14]));
  });

  it("without the quirk, bidders are person ids (hot bidder = the second of its batch of 100)", () => {
    const plain = nexmarkConfig({ ...cfg, bidderQuirk: false });
    const bid = generateEvent(plain, 4) as Bid;
    expect(bid.bidder).toBe((generateEvent(cfg, 4) as Bid).bidder - 1000);
    expect(fraction(events({ ...plain, events: 5000 }).filter(isBid), (b) => b.bidder === 1001)).toBeGreaterThan(0.7);
  });

  it("draws prices log-uniformly between 100 and 1e8", () => {
    const prices = [...bids.map((b) => b.price), ...auctions.map((a) => a.initialBid)];
    expect(prices.filter((p) => !(Number.isInteger(p) && p >= 100 && p <= 1e8))).toEqual([]);
    // Each decade of 100 .. 1e8 holds a sixth of the prices.
    for (let d = 0; d < 6; d++) {
      expect(fraction(prices, (p) => p >= 100 * 10 ** d && p < 100 * 10 ** (d + 1))).toBeCloseTo(1 / 6, 1.5);
    }
    expect(auctions.filter((a) => a.reserve - a.initialBid < 100)).toEqual([]);
  });

  it("pads events to average 200 / 500 / 100 bytes with extra", () => {
    const personSize = (p: Person) => 8 + p.name.length + p.emailAddress.length + p.creditCard.length + p.city.length + p.state.length + p.extra.length;
    const auctionSize = (a: Auction) => 48 + a.itemName.length + a.description.length + a.extra.length;
    expect(mean(persons.map(personSize))).toBeGreaterThan(200 * 0.95);
    expect(mean(persons.map(personSize))).toBeLessThan(200 * 1.05);
    expect(mean(auctions.map(auctionSize))).toBeGreaterThan(500 * 0.95);
    expect(mean(auctions.map(auctionSize))).toBeLessThan(500 * 1.05);
    // Bids: 32 bytes of numbers + extra of 54 .. 81 letters (68 ± 20 %).
    const extras = bids.map((b) => b.extra.length);
    expect(Math.min(...extras)).toBe(54);
    expect(Math.max(...extras)).toBe(81);
    expect(mean(extras)).toBeCloseTo(67.5, 0);
    expect(bids.every((b) => /^[a-z]+$/.test(b.extra))).toBe(true);
  });

  it("fills person and bid strings from the reference vocabularies", () => {
    // E-mails: trimmed random words, never starting or ending with a space (and, rarely, empty).
    const word = "([a-z]([a-z ]*[a-z])?)?";
    const email = new RegExp(`^${word}@${word}\\.com$`);
    const odd = persons.filter(
      (p) => !["AZ", "CA", "ID", "OR", "WA", "WY"].includes(p.state) || !/^\d{4} \d{4} \d{4} \d{4}$/.test(p.creditCard) || !email.test(p.emailAddress) || !/^[A-Z][a-z]+ [A-Z][a-z]+$/.test(p.name),
    );
    expect(odd).toEqual([]);
    expect(fraction(bids, (b) => ["Google", "Facebook", "Baidu", "Apple"].includes(b.channel))).toBeCloseTo(0.5, 1);
    const other = bids.filter((b) => b.channel.startsWith("channel-"));
    expect(fraction(other, (b) => b.url.includes("&channel_id="))).toBeCloseTo(0.9, 1);
    const url = /^https:\/\/www\.nexmark\.com\/[a-z_]+\/[a-z_]+\/[a-z_]+\/item\.htm\?query=1(&channel_id=-?\d+)?$/;
    expect(bids.filter((b) => !url.test(b.url))).toEqual([]);
    // One URL per channel, and channel i's id is Java's abs(Integer.reverse(i)).
    const byChannel = new Map(other.map((b) => [b.channel, b.url]));
    expect(other.filter((b) => b.url !== byChannel.get(b.channel))).toEqual([]);
    for (const b of other.filter((b) => b.channel === "channel-2" && b.url.includes("&channel_id="))) expect(b.url).toMatch(/&channel_id=1073741824$/);
  });

  it("times event n at baseTime + floor(n · 1e6 / tps µs) in ms", () => {
    for (const tps of [10_000, 3, 1_000_000, 7_000_000]) {
      const c = nexmarkConfig({ tps, baseTime: 1_000 });
      for (const n of [0, 1, 2, 3, 49, 50, 99_999, 1_234_567, 123_456_789]) {
        expect(generateEvent(c, n).dateTime).toBe(1_000 + Math.floor(Math.floor(n * (1e6 / tps)) / 1000));
        expect(eventTimestamp(c, n)).toBe(generateEvent(c, n).dateTime);
      }
    }
    expect(all.every((e, n) => e.dateTime === cfg.baseTime + Math.floor(n / 10))).toBe(true);
  });

  it("lets auctions run until about 100 auctions later (expires in (dateTime, dateTime + 2·horizon])", () => {
    // 100 auctions = 1666 events = 166 ms at 10 000 events/s.
    const lengths = auctions.map((a) => a.expires - a.dateTime);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(2 * 167);
    expect(mean(lengths)).toBeGreaterThan(150);
    expect(mean(lengths)).toBeLessThan(185);
  });

  it("is a pure function of (config, event number)", () => {
    const json = (es: NexmarkEvent[]) => es.map((e) => JSON.stringify(e));
    expect(json(events(cfg))).toEqual(json(all));
    // Out of order, and after another seed's events, event n is the same.
    const other = nexmarkConfig({ ...cfg, seed: 43 });
    for (const n of [49_999, 17, 4, 0, 12_345]) {
      generateEvent(other, n);
      expect(generateEvent(cfg, n)).toEqual(all[n]);
    }
  });

  it("changes with the seed, keeping ids, kinds and times", () => {
    const other = events(nexmarkConfig({ ...cfg, events: 5000, seed: 43 }));
    const same = all.slice(0, 5000);
    expect(other.map((e) => e.type)).toEqual(same.map((e) => e.type));
    expect(other.map((e) => e.dateTime)).toEqual(same.map((e) => e.dateTime));
    expect(other.filter(isPerson).map((p) => p.id)).toEqual(same.filter(isPerson).map((p) => p.id));
    expect(other.filter((e, i) => JSON.stringify(e) === JSON.stringify(same[i])).length).toBeLessThan(50);
  });

  it("creates each kind with one property order (one hidden class per kind)", () => {
    const shape = (e: NexmarkEvent) => Object.keys(e).join(",");
    for (const kind of [PERSON, AUCTION, BID]) expect(new Set(all.filter((e) => e.type === kind).map(shape)).size).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------
// The source, driven as a task drives it: split i read by subtask i % parallelism.

interface Emitted {
  event: NexmarkEvent;
  ts: number | undefined;
}

class Collect {
  readonly bySplit = new Map<string, Emitted[]>();
  readonly released: string[] = [];
  forSplit(id: string) {
    const list = this.bySplit.get(id) ?? [];
    this.bySplit.set(id, list);
    return { collect: (event: NexmarkEvent, ts?: number) => void list.push({ event, ts }) };
  }
  releaseSplit(id: string): void {
    this.released.push(id);
  }
}

function context(subtaskIndex: number, parallelism: number): RuntimeContext {
  return { jobId: "j", jobName: "nexmark", operatorUid: "source", taskName: "source", subtaskIndex, parallelism, maxParallelism: 128, jobArgs: [] } as unknown as RuntimeContext;
}

function reader(cfg: NexmarkConfig, splits: SourceSplit[], subtask = 0, parallelism = 1): SourceReader<NexmarkEvent> {
  const r = nexmarkSource(cfg).createReader(context(subtask, parallelism));
  r.addSplits(splits);
  return r;
}

/** Poll until "end" (or `polls` polls), `batch` records at a time. */
function run(r: SourceReader<NexmarkEvent>, out: Collect, batch: number, polls = Number.POSITIVE_INFINITY): "more" | "end" {
  for (let i = 0; i < polls; i++) {
    const verdict = r.poll(out, batch);
    if (typeof verdict !== "string") throw new Error("the Nexmark source waited");
    if (verdict === "end") return "end";
  }
  return "more";
}

describe("nexmarkSource", () => {
  const cfg = nexmarkConfig({ events: 2_003, seed: 9, tps: 1_000 });
  const expected = events(cfg);

  it.each([1, 2, 3])("emits every event exactly once at parallelism %i, each split in time order with dateTime as timestamp", (parallelism) => {
    const source = nexmarkSource(cfg);
    expect(source.bounded).toBe(true);
    const splits = source.splits({ parallelism });
    expect(splits).toHaveLength(parallelism);
    const seen = new Array<NexmarkEvent | undefined>(cfg.events);
    for (let s = 0; s < parallelism; s++) {
      const out = new Collect();
      const mine = splits.filter((_, i) => i % parallelism === s);
      expect(run(reader(cfg, mine, s, parallelism), out, 64)).toBe("end");
      expect(mine).toEqual([splits[s]]);
      expect(out.released).toEqual([splits[s]!.id]);
      out.bySplit.get(splits[s]!.id)!.forEach(({ event, ts }, j) => {
        const n = s + j * parallelism;
        expect(seen[n]).toBeUndefined();
        seen[n] = event;
        expect(ts).toBe(event.dateTime);
      });
    }
    expect(seen).toEqual(expected);
  });

  it("continues exactly from a snapshot, also into a reader of another parallelism", () => {
    const source = nexmarkSource(cfg);
    const splits = source.splits({ parallelism: 2 });
    const before = [new Collect(), new Collect()];
    const readers = [0, 1].map((s) => reader(cfg, [splits[s]!], s, 2));
    readers.forEach((r, s) => expect(run(r, before[s]!, 100, 3 + s)).toBe("more"));
    const snapshot = readers.flatMap((r) => r.snapshotState!(1));
    expect(snapshot).toHaveLength(2);
    // JSON-safe positions, as a checkpoint stores them.
    const restored = JSON.parse(JSON.stringify(snapshot)) as SourceSplit[];
    const after = new Collect();
    expect(run(reader(cfg, restored), after, 77)).toBe("end");
    const emitted = (c: Collect, id: string) => (c.bySplit.get(id) ?? []).map((e) => e.event);
    const ids = splits.map((s) => s.id);
    ids.forEach((id, s) => {
      const all = [...emitted(before[s]!, id), ...emitted(after, id)];
      expect(emitted(before[s]!, id)).toHaveLength(100 * (3 + s));
      expect(all).toEqual(expected.filter((_, n) => n % 2 === s));
    });
    // A finished source snapshots nothing to resume.
    const done = reader(cfg, restored);
    run(done, new Collect(), 1000);
    expect(done.snapshotState!(2)).toEqual([]);
  });

  it("names itself and uses the source timestamp with watermarks 4 s behind the highest dateTime", () => {
    expect(nexmarkSource(cfg).name).toBe("Nexmark Source");
    const strategy = nexmarkWatermarks();
    expect(strategy.timestampAssigner).toBeNull();
    // Weir's watermark = highest timestamp - maxOutOfOrderness - 1 = highest - 4000, as the reference DDL.
    expect(strategy.maxOutOfOrderness + 1).toBe(4_000);
  });
});
