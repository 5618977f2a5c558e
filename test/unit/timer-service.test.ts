import { describe, expect, it } from "vitest";
import { InternalTimerService } from "../../runtime/time/timer-service.js";
import { ManualClock } from "../support/operator-harness.js";

/** A timer service on a manual clock that records what fires, as "domain key@time". */
function service(time = 0) {
  const clock = new ManualClock(time);
  const fired: string[] = [];
  const timers = new InternalTimerService(clock, (t, domain) => fired.push(`${domain} ${String(t.key)}@${t.timestamp}`));
  return { clock, fired, timers };
}

/** A deterministic shuffle (LCG) so the test does not depend on Math.random. */
function shuffled(n: number, seed = 7): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe("InternalTimerService: event time", () => {
  it("fires timers up to and including the watermark, each once", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.registerEventTimeTimer("a", 20);
    timers.advanceWatermark(9);
    expect(fired).toEqual([]);
    timers.advanceWatermark(10);
    expect(fired).toEqual(["event a@10"]);
    timers.advanceWatermark(15);
    timers.advanceWatermark(25);
    expect(fired).toEqual(["event a@10", "event a@20"]);
    expect(timers.size).toBe(0);
    expect(timers.currentWatermark()).toBe(25);
  });

  it("fires many timers in timestamp order whatever the registration order", () => {
    const { timers, fired } = service();
    const order = shuffled(2_000);
    for (const t of order) timers.registerEventTimeTimer(`k${t % 13}`, t * 3);
    expect(timers.size).toBe(2_000);
    timers.advanceWatermark(3_000);
    const times = fired.map((f) => Number(f.split("@")[1]));
    expect(times).toEqual(Array.from({ length: 1_001 }, (_, i) => i * 3));
    timers.advanceWatermark(Number.POSITIVE_INFINITY);
    expect(fired).toHaveLength(2_000);
    const all = fired.map((f) => Number(f.split("@")[1]));
    expect(all).toEqual([...all].sort((a, b) => a - b));
  });

  it("registers a (key, time) pair once but keeps different keys and times apart", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 5);
    timers.registerEventTimeTimer("a", 5);
    timers.registerEventTimeTimer("b", 5);
    timers.registerEventTimeTimer("a", 6);
    expect(timers.size).toBe(3);
    timers.advanceWatermark(10);
    expect(fired.sort()).toEqual(["event a@5", "event a@6", "event b@5"]);
  });

  it("keeps the number key 1 and the string key '1' apart", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer(1, 5);
    timers.registerEventTimeTimer("1", 5);
    timers.deleteEventTimeTimer("1", 5);
    timers.advanceWatermark(5);
    expect(fired).toEqual(["event 1@5"]);
  });

  it("treats equal object keys as one key", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer({ u: 1, r: "eu" }, 5);
    timers.registerEventTimeTimer({ r: "eu", u: 1 }, 5);
    timers.advanceWatermark(5);
    expect(fired).toHaveLength(1);
  });

  it("a deleted timer does not fire", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.registerEventTimeTimer("b", 10);
    timers.deleteEventTimeTimer("a", 10);
    expect(timers.size).toBe(1);
    timers.advanceWatermark(100);
    expect(fired).toEqual(["event b@10"]);
  });

  it("deleting a timer that does not exist changes nothing", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.deleteEventTimeTimer("a", 11);
    timers.deleteEventTimeTimer("zzz", 10);
    timers.advanceWatermark(100);
    expect(fired).toEqual(["event a@10"]);
  });

  it("a timer deleted and registered again fires exactly once", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.deleteEventTimeTimer("a", 10);
    timers.registerEventTimeTimer("a", 10);
    timers.deleteEventTimeTimer("a", 10);
    timers.registerEventTimeTimer("a", 10);
    expect(timers.size).toBe(1);
    timers.advanceWatermark(10);
    expect(fired).toEqual(["event a@10"]);
    timers.advanceWatermark(1_000);
    expect(fired).toEqual(["event a@10"]);
  });

  it("a timer deleted, re-registered and deleted again does not fire", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.deleteEventTimeTimer("a", 10);
    timers.registerEventTimeTimer("a", 10);
    timers.deleteEventTimeTimer("a", 10);
    timers.advanceWatermark(100);
    expect(fired).toEqual([]);
    expect(timers.size).toBe(0);
  });

  it("a timer may be registered again after it fired, and fires again", () => {
    const { timers, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.advanceWatermark(10);
    timers.registerEventTimeTimer("a", 10);
    timers.advanceWatermark(10);
    expect(fired).toEqual(["event a@10", "event a@10"]);
  });

  it("lazy deletion of many timers keeps the order of the rest", () => {
    const { timers, fired } = service();
    for (const t of shuffled(500, 3)) timers.registerEventTimeTimer("k", t);
    for (let t = 0; t < 500; t += 2) timers.deleteEventTimeTimer("k", t);
    for (let t = 0; t < 100; t += 4) timers.registerEventTimeTimer("k", t);
    timers.advanceWatermark(Number.POSITIVE_INFINITY);
    const expected = [...Array.from({ length: 25 }, (_, i) => i * 4), ...Array.from({ length: 250 }, (_, i) => i * 2 + 1)].sort((a, b) => a - b);
    expect(fired.map((f) => Number(f.split("@")[1]))).toEqual(expected);
  });

  it("fires a timer registered during firing when it is within the watermark", () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const timers: InternalTimerService = new InternalTimerService(clock, (t) => {
      fired.push(t.timestamp);
      if (t.timestamp < 5) timers.registerEventTimeTimer(t.key, t.timestamp + 1);
      if (t.timestamp === 5) timers.registerEventTimeTimer(t.key, 100);
    });
    timers.registerEventTimeTimer("a", 1);
    timers.advanceWatermark(50);
    expect(fired).toEqual([1, 2, 3, 4, 5]);
    expect(timers.size).toBe(1);
  });

  it("timers sharing a timestamp fire in registration order, and one registered there while it fires joins them", () => {
    const { timers, fired } = service();
    const svc = timers;
    for (const k of ["c", "a", "b"]) svc.registerEventTimeTimer(k, 50);
    svc.registerEventTimeTimer("z", 40);
    svc.deleteEventTimeTimer("a", 50);
    svc.registerEventTimeTimer("a", 50); // re-registered: now last
    expect(svc.size).toBe(4);
    const late = new InternalTimerService(service().clock, (t) => {
      fired.push(`late ${String(t.key)}@${t.timestamp}`);
      if (t.key === "x") late.registerEventTimeTimer("y", 50);
    });
    late.registerEventTimeTimer("x", 50);
    svc.advanceWatermark(50);
    late.advanceWatermark(50);
    expect(fired).toEqual(["event z@40", "event c@50", "event b@50", "event a@50", "late x@50", "late y@50"]);
    expect(svc.size + late.size).toBe(0);
  });

  it("event-time timers ignore the wall clock", () => {
    const { timers, fired, clock } = service();
    timers.registerEventTimeTimer("a", 10);
    clock.advanceTo(1_000_000);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});

describe("InternalTimerService: processing time", () => {
  it("schedules one wall-clock callback for the earliest timer", () => {
    const { timers, clock } = service();
    timers.registerProcessingTimeTimer("a", 300);
    timers.registerProcessingTimeTimer("b", 200);
    timers.registerProcessingTimeTimer("c", 400);
    expect(clock.pending).toBe(1);
  });

  it("fires timers in time order as the clock advances", () => {
    const { timers, clock, fired } = service();
    timers.registerProcessingTimeTimer("a", 300);
    timers.registerProcessingTimeTimer("b", 100);
    timers.registerProcessingTimeTimer("c", 200);
    clock.advanceTo(150);
    expect(fired).toEqual(["processing b@100"]);
    clock.advanceTo(1_000);
    expect(fired).toEqual(["processing b@100", "processing c@200", "processing a@300"]);
    expect(clock.pending).toBe(0);
  });

  it("reschedules when a timer earlier than the scheduled one is added", () => {
    const { timers, clock, fired } = service();
    timers.registerProcessingTimeTimer("late", 1_000);
    timers.registerProcessingTimeTimer("early", 10);
    expect(clock.pending).toBe(1);
    clock.advanceTo(10);
    expect(fired).toEqual(["processing early@10"]);
    clock.advanceTo(999);
    expect(fired).toEqual(["processing early@10"]);
    clock.advanceTo(1_000);
    expect(fired).toEqual(["processing early@10", "processing late@1000"]);
  });

  it("does not reschedule for a later timer", () => {
    const { timers, clock, fired } = service();
    timers.registerProcessingTimeTimer("a", 10);
    timers.registerProcessingTimeTimer("b", 20);
    timers.registerProcessingTimeTimer("a", 10);
    expect(clock.pending).toBe(1);
    clock.advanceTo(20);
    expect(fired).toEqual(["processing a@10", "processing b@20"]);
  });

  it("fires everything due at once when the clock jumps, each once", () => {
    const { timers, clock, fired } = service();
    for (const t of shuffled(100, 11)) timers.registerProcessingTimeTimer(`k${t % 3}`, 1_000 + t);
    clock.advanceTo(5_000);
    expect(fired.map((f) => Number(f.split("@")[1]))).toEqual(Array.from({ length: 100 }, (_, i) => 1_000 + i));
    expect(timers.size).toBe(0);
  });

  it("a deleted earliest timer does not fire and the next one still does", () => {
    const { timers, clock, fired } = service();
    timers.registerProcessingTimeTimer("a", 10);
    timers.registerProcessingTimeTimer("b", 20);
    timers.deleteProcessingTimeTimer("a", 10);
    clock.advanceTo(15);
    expect(fired).toEqual([]);
    clock.advanceTo(20);
    expect(fired).toEqual(["processing b@20"]);
    expect(clock.pending).toBe(0);
  });

  it("a processing-time timer deleted and registered again fires once", () => {
    const { timers, clock, fired } = service();
    timers.registerProcessingTimeTimer("a", 10);
    timers.deleteProcessingTimeTimer("a", 10);
    timers.registerProcessingTimeTimer("a", 10);
    clock.advanceTo(100);
    expect(fired).toEqual(["processing a@10"]);
  });

  it("a timer registered while firing is scheduled (and fires) too", () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const timers: InternalTimerService = new InternalTimerService(clock, (t) => {
      fired.push(t.timestamp);
      if (t.timestamp < 300) timers.registerProcessingTimeTimer(t.key, t.timestamp + 100);
    });
    timers.registerProcessingTimeTimer("a", 100);
    clock.advanceTo(250);
    expect(fired).toEqual([100, 200]);
    expect(clock.pending).toBe(1);
    clock.advanceTo(1_000);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.pending).toBe(0);
  });

  it("a timer in the past fires at the next clock step", () => {
    const { timers, clock, fired } = service(1_000);
    timers.registerProcessingTimeTimer("a", 5);
    clock.advanceTo(1_000);
    expect(fired).toEqual(["processing a@5"]);
  });

  it("dispose() cancels the wall-clock callback", () => {
    const { timers, clock, fired } = service();
    timers.registerProcessingTimeTimer("a", 10);
    timers.dispose();
    expect(clock.pending).toBe(0);
    clock.advanceTo(100);
    expect(fired).toEqual([]);
  });

  it("event-time and processing-time timers of the same key and time are independent", () => {
    const { timers, clock, fired } = service();
    timers.registerEventTimeTimer("a", 10);
    timers.registerProcessingTimeTimer("a", 10);
    expect(timers.size).toBe(2);
    timers.deleteEventTimeTimer("a", 10);
    clock.advanceTo(10);
    timers.advanceWatermark(10);
    expect(fired).toEqual(["processing a@10"]);
  });
});
