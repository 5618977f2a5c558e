/**
 * Nexmark q8, monitor new users: the people who entered the system and created an auction in the
 * same 10 s tumbling window.
 *
 * The SQL (nexmark/nexmark `queries/q8.sql`) groups persons by (id, name, TUMBLE window) and
 * auctions by (seller, TUMBLE window), and joins them on `P.id = A.seller` and equal window bounds:
 * one row `(id, name, starttime)` per person group whose window has an auction of that seller, however
 * many auctions there are.
 *
 * Plan: persons become `[id, name]` and auctions their seller before the exchange (the rest of the
 * events is not shipped); the two are connected and keyed by person id / seller. Per key, a slot
 * per window holds the names seen and whether an auction was: a row comes out as soon as a window
 * has both (no need to wait for the window's end), each (id, name, window) once. The slot is dropped
 * by an event-time timer at the window's last millisecond, after which its records would be late.
 */
import type { Collector, KeyedCoProcessFunction, KeyedProcessContext, KeyedRuntimeContext, ValueState } from "weir";
import { AUCTION, PERSON, type NexmarkEvent } from "../model.js";
import type { NexmarkQuery, Row } from "../query.js";

const SIZE = 10_000;

/** The part of a person the query reads. */
type PersonName = readonly [id: number, name: string];

/** One key's activity in the window starting at `start`. */
interface Slot {
  readonly start: number;
  /** Names of the persons with this id in the window (one, unless an id comes back renamed). */
  readonly names: string[];
  auction: boolean;
}

/** Keyed by person id = seller: joins each window's persons with its auctions. */
class NewUsers implements KeyedCoProcessFunction<number, PersonName, number, Row> {
  /** The key's windows not complete yet (rarely more than two). */
  private slots!: ValueState<Slot[]>;

  open(ctx: KeyedRuntimeContext): void {
    this.slots = ctx.valueState<Slot[]>("slots");
  }

  processElement1([id, name]: PersonName, ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    const slots = this.slots.value() ?? [];
    const slot = this.slotAt(slots, ctx);
    if (slot.names.includes(name)) return;
    slot.names.push(name);
    if (slot.auction) out.collect([id, name, slot.start]);
    this.slots.update(slots);
  }

  processElement2(seller: number, ctx: KeyedProcessContext<number>, out: Collector<Row>): void {
    const slots = this.slots.value() ?? [];
    const slot = this.slotAt(slots, ctx);
    if (slot.auction) return;
    slot.auction = true;
    for (const name of slot.names) out.collect([seller, name, slot.start]);
    this.slots.update(slots);
  }

  onTimer(timestamp: number): void {
    const live = (this.slots.value() ?? []).filter((s) => s.start + SIZE - 1 > timestamp);
    if (live.length > 0) this.slots.update(live);
    else this.slots.clear();
  }

  /** The slot of the current record's window, added (with its timer) when new. */
  private slotAt(slots: Slot[], ctx: KeyedProcessContext<number>): Slot {
    const start = Math.floor(ctx.timestamp()! / SIZE) * SIZE;
    let slot = slots.find((s) => s.start === start);
    if (slot === undefined) {
      slots.push((slot = { start, names: [], auction: false }));
      ctx.timerService.registerEventTimeTimer(start + SIZE - 1);
    }
    return slot;
  }
}

/** The two GROUP BYs as sets, then the join as a lookup. */
function bruteForce(events: Iterable<NexmarkEvent>): Row[] {
  const persons = new Map<string, Row>(); // GROUP BY id, name, window
  const sellers = new Set<string>(); // GROUP BY seller, window
  for (const e of events) {
    const start = Math.floor(e.dateTime / SIZE) * SIZE;
    if (e.type === PERSON) persons.set(JSON.stringify([e.id, e.name, start]), [e.id, e.name, start]);
    else if (e.type === AUCTION) sellers.add(`${e.seller}@${start}`);
  }
  return [...persons.values()].filter(([id, , start]) => sellers.has(`${id}@${start}`));
}

/** Nexmark q8 (see the module comment). */
export const q8: NexmarkQuery = {
  name: "q8",
  description: "monitor new users: persons who created an auction in the 10 s tumbling window they joined in",
  goalPerCore: 150_000,
  build: (events) => {
    const persons = events
      .flatMap<PersonName>((e, out) => {
        if (e.type === PERSON) out.collect([e.id, e.name]);
      })
      .name("q8 persons");
    const sellers = events
      .flatMap<number>((e, out) => {
        if (e.type === AUCTION) out.collect(e.seller);
      })
      .name("q8 auction sellers");
    return persons
      .connect(sellers)
      .keyBy(
        (p) => p[0],
        (seller) => seller,
      )
      .process(new NewUsers())
      .uid("q8-join")
      .name("q8 persons with auctions per window");
  },
  bruteForce,
};
