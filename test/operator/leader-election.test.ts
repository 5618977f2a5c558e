// Leader election: the pure decision table, and LeaseElector on a fake Lease API and fake time.
import { describe, expect, it } from "vitest";
import {
  type Clock, decide, type DecideInput, formatMicroTime, type LeaderElectionRecord, LeaseConflictError, type LeaseClient,
  LeaseElector, type LeaseElectorOptions, type ObservedLease, compileElectorOptions,
} from "../../operator/leader/index.js";
import { prng } from "../support/prng.js";

const NS = "weir-system";
const NAME = "weir-operator";

// ---------------------------------------------------------------------------------------------- fake time

/** Manual time: timers run in order as advance() moves the clock, with pending promises settled in between. */
class FakeTime {
  t = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  afterEach: () => void = () => undefined;

  clock(wallOffsetMs = 0): Clock {
    return {
      now: () => this.t,
      wallNow: () => 1_700_000_000_000 + wallOffsetMs + this.t,
      setTimer: (fn, ms) => this.setTimer(fn, ms),
    };
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.#seq++;
    this.#timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.#timers.delete(id);
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await settle();
      this.afterEach();
    }
    this.t = end;
    await settle();
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

// ---------------------------------------------------------------------------------------------- fake Lease API

/** One Lease in memory with resourceVersions; per-caller faults (delay, failure, hang) are injected by `fault`. */
class FakeLeaseApi {
  lease: ObservedLease | undefined;
  #rv = 0;
  writes: LeaderElectionRecord[] = [];

  constructor(readonly time: FakeTime) {}

  put(record: LeaderElectionRecord): ObservedLease {
    this.lease = { record, resourceVersion: String(++this.#rv) };
    this.writes.push(record);
    return this.lease;
  }

  /** A client for one caller; `fault()` decides each call's fate. */
  client(fault: () => { delayMs: number; outcome: "ok" | "error" | "hang" } = () => ({ delayMs: 0, outcome: "ok" })): LeaseClient {
    const call = <T>(op: () => T, signal: AbortSignal): Promise<T> => {
      const f = fault();
      return new Promise<T>((resolve, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        if (f.outcome === "hang") return;
        this.time.setTimer(() => {
          if (f.outcome === "error") return reject(new Error("connection reset"));
          // the server applies the call halfway through the delay; the answer arrives at the end
          let result: T;
          try {
            result = op();
          } catch (e) {
            this.time.setTimer(() => reject(e), f.delayMs / 2);
            return;
          }
          this.time.setTimer(() => resolve(result), f.delayMs / 2);
        }, f.delayMs / 2);
      });
    };
    return {
      get: (_ns, _name, signal) => call(() => this.lease, signal),
      create: (ns, name, record, signal) => call(() => {
        if (this.lease) throw new LeaseConflictError(ns, name, "already exists");
        return this.put(record);
      }, signal),
      replace: (ns, name, record, rv, signal) => call(() => {
        if (!this.lease || this.lease.resourceVersion !== rv) throw new LeaseConflictError(ns, name, `stale resourceVersion ${rv}`);
        return this.put(record);
      }, signal),
    };
  }
}

// ---------------------------------------------------------------------------------------------- helpers

const rec = (holderIdentity: string, leaseTransitions = 0, renewTime = "2024-01-01T00:00:00.000000Z"): LeaderElectionRecord => ({
  holderIdentity, leaseDurationSeconds: 15, acquireTime: "2024-01-01T00:00:00.000000Z", renewTime, leaseTransitions,
});

const input = (over: Partial<DecideInput>): DecideInput => ({
  identity: "a", leaseDurationMs: 15_000, nowMs: 0, wallMs: Date.UTC(2024, 0, 1, 0, 1), leading: false, lease: undefined,
  observation: undefined, ...over,
});

interface Harness {
  elector: LeaseElector;
  events: string[];
  signal: () => AbortSignal | undefined;
  done: Promise<void>;
}

function startElector(time: FakeTime, client: LeaseClient, identity: string, over: Partial<LeaseElectorOptions> = {}): Harness {
  const events: string[] = [];
  let signal: AbortSignal | undefined;
  const elector = new LeaseElector({
    client, namespace: NS, name: NAME, identity, clock: time.clock(),
    onStartedLeading: (s) => {
      signal = s;
      events.push(`started@${time.t}`);
    },
    onStoppedLeading: () => void events.push(`stopped@${time.t}`),
    ...over,
  });
  return { elector, events, signal: () => signal, done: elector.run() };
}

// ---------------------------------------------------------------------------------------------- the decision

describe("decide (pure)", () => {
  it("creates the Lease when there is none, with transitions 0 and MicroTime timestamps", () => {
    const { decision } = decide(input({}));
    expect(decision).toEqual({
      kind: "create",
      record: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2024-01-01T00:01:00.000000Z", renewTime: "2024-01-01T00:01:00.000000Z", leaseTransitions: 0 },
    });
    expect(formatMicroTime(Date.UTC(2024, 1, 2, 3, 4, 5, 67))).toBe("2024-02-02T03:04:05.067000Z");
  });

  it("acquires a released Lease (empty holder) at once and counts a transition", () => {
    const { decision } = decide(input({ lease: { record: rec("", 3), resourceVersion: "7" } }));
    expect(decision).toMatchObject({ kind: "acquire", resourceVersion: "7", record: { holderIdentity: "a", leaseTransitions: 4 } });
  });

  it("waits on a live Lease held by another, however old its remote renewTime", () => {
    const lease = { record: rec("b", 0, "1999-01-01T00:00:00.000000Z"), resourceVersion: "1" };
    const { decision, observation } = decide(input({ lease, nowMs: 1_000 }));
    expect(decision).toEqual({ kind: "wait", holder: "b", expiresInMs: 15_000 });
    expect(observation).toEqual({ record: lease.record, observedAtMs: 1_000 });
  });

  it("takes over only after the record stayed unchanged for leaseDuration on the local clock", () => {
    const lease = { record: rec("b", 2), resourceVersion: "1" };
    const first = decide(input({ lease, nowMs: 1_000 }));
    const almost = decide(input({ lease, nowMs: 15_999, observation: first.observation }));
    expect(almost.decision).toMatchObject({ kind: "wait", expiresInMs: 1 });
    const expired = decide(input({ lease, nowMs: 16_000, observation: almost.observation }));
    expect(expired.decision).toMatchObject({ kind: "acquire", record: { holderIdentity: "a", leaseTransitions: 3 } });
  });

  it("restarts the expiry clock whenever the record changes", () => {
    const first = decide(input({ lease: { record: rec("b"), resourceVersion: "1" }, nowMs: 0 }));
    const renewed = { record: rec("b", 0, "2024-01-01T00:00:10.000000Z"), resourceVersion: "2" };
    const later = decide(input({ lease: renewed, nowMs: 14_000, observation: first.observation }));
    expect(later.observation?.observedAtMs).toBe(14_000);
    expect(decide(input({ lease: renewed, nowMs: 20_000, observation: later.observation })).decision.kind).toBe("wait");
  });

  it("renews its own Lease keeping acquireTime and transitions", () => {
    const lease = { record: rec("a", 5), resourceVersion: "9" };
    const { decision } = decide(input({ lease, leading: true }));
    expect(decision).toEqual({
      kind: "renew", resourceVersion: "9",
      record: { ...lease.record, renewTime: "2024-01-01T00:01:00.000000Z" },
    });
  });

  it("a leader that sees another holder, an empty holder or no Lease has lost", () => {
    expect(decide(input({ leading: true, lease: { record: rec("b"), resourceVersion: "1" } })).decision).toEqual({ kind: "lost", holder: "b" });
    expect(decide(input({ leading: true, lease: { record: rec(""), resourceVersion: "1" } })).decision).toEqual({ kind: "lost", holder: "" });
    expect(decide(input({ leading: true })).decision).toEqual({ kind: "lost", holder: "" });
  });

  it("validates the timings and names the field", () => {
    const base = { client: new FakeLeaseApi(new FakeTime()).client(), namespace: NS, name: NAME, identity: "a", onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    expect(compileElectorOptions(base)).toMatchObject({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    expect(() => compileElectorOptions({ ...base, renewDeadlineMs: 15_000 })).toThrow(/leaseDurationMs \(15000\) must be greater than renewDeadlineMs/);
    expect(() => compileElectorOptions({ ...base, retryPeriodMs: 10_000 })).toThrow(/renewDeadlineMs \(10000\) must be greater than retryPeriodMs/);
    expect(() => compileElectorOptions({ ...base, identity: "" })).toThrow(/identity must be a non-empty string/);
  });
});

// ---------------------------------------------------------------------------------------------- the elector

describe("LeaseElector", () => {
  it("acquires an absent Lease, renews it every retryPeriod and reports itself as leader", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    const leaders: string[] = [];
    const a = startElector(time, api.client(), "a", { onNewLeader: (id) => leaders.push(id) });
    await time.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(["started@0"]);
    expect(leaders).toEqual(["a"]);
    await time.advance(10_000);
    expect(api.writes).toHaveLength(6); // create + a renew every 2 s
    expect(api.lease?.record).toMatchObject({ holderIdentity: "a", leaseTransitions: 0, renewTime: "2023-11-14T22:13:30.000000Z" });
    expect(a.signal()?.aborted).toBe(false);
    expect(() => a.elector.run()).toThrow(/single-use/);
  });

  it("does not acquire a live Lease; takes it over after leaseDuration without change, counting a transition", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    api.put(rec("crashed", 4));
    const b = startElector(time, api.client(), "b");
    await time.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.observedLeader()).toBe("crashed");
    await time.advance(2_000); // first read at 0 -> expired at 15 s -> the attempt scheduled for the expiry takes over
    expect(b.events).toEqual(["started@15001"]);
    expect(api.lease?.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 5 });
  });

  it("keeps waiting while the holder renews, whatever its clock says", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    const a = startElector(time, api.client(), "a");
    await time.advance(0);
    const b = startElector(time, api.client(), "b", { clock: time.clock(-3_600_000) }); // an hour behind
    await time.advance(60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.events).toEqual([]);
  });

  it("on a write conflict re-reads, and never has two leaders", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    api.put(rec("", 1));
    // both read the released Lease, then both write against the same resourceVersion: one gets 409
    const a = startElector(time, api.client(() => ({ delayMs: 100, outcome: "ok" })), "a");
    const b = startElector(time, api.client(() => ({ delayMs: 100, outcome: "ok" })), "b");
    await time.advance(1_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    const [winner, loser] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(loser.elector.observedLeader()).toBe(api.lease?.record.holderIdentity);
    expect(api.lease?.record).toMatchObject({ holderIdentity: winner === a ? "a" : "b", leaseTransitions: 2 });
  });

  it("stops leading when renews fail past renewDeadline, before the Lease could expire for others", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    let partitioned = false;
    const a = startElector(time, api.client(() => ({ delayMs: 10, outcome: partitioned ? "hang" : "ok" })), "a");
    await time.advance(4_100); // acquired by the write sent at 0 (leading at 20), renews sent at 2020 and 4040
    const lastRenewSent = 4_040;
    partitioned = true;
    const b = startElector(time, api.client(), "b");
    await time.advance(30_000);
    const stoppedAt = Number(a.events[1]?.split("@")[1]);
    const startedB = Number(b.events[0]?.split("@")[1]);
    expect(a.events[0]).toBe("started@20");
    expect(stoppedAt).toBe(lastRenewSent + 10_000);
    expect(a.signal()?.aborted).toBe(true);
    expect(stoppedAt).toBeLessThan(lastRenewSent + 15_000);
    expect(startedB).toBeGreaterThanOrEqual(lastRenewSent + 15_000);
    await a.done; // the term is over: run() resolved
  });

  it("stops leading at once when a read shows another holder", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    const a = startElector(time, api.client(), "a");
    await time.advance(1_000);
    api.put({ ...api.lease!.record, holderIdentity: "intruder" });
    await time.advance(1_000);
    expect(a.events).toEqual(["started@0", "stopped@2000"]);
    await a.done;
  });

  it("stop({ release: true }) waits for the leader's work, clears the holder, and the other takes over at the next retry", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    const order: string[] = [];
    const a = startElector(time, api.client(), "a", {
      onStartedLeading: (signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => {
        time.setTimer(() => {
          order.push("work stopped");
          resolve();
        }, 300);
      })),
      onStoppedLeading: () => void order.push("onStoppedLeading"),
    });
    await time.advance(0);
    const b = startElector(time, api.client(), "b");
    await time.advance(5_000);
    const stopped = a.elector.stop({ release: true });
    await time.advance(200);
    expect(api.lease?.record.holderIdentity).toBe("a"); // the work is still stopping
    await time.advance(200);
    await stopped;
    expect(order).toEqual(["onStoppedLeading", "work stopped"]);
    expect(api.lease?.record).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 0 });
    await time.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(api.lease?.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  });

  it("stop() without release leaves the Lease to expire; a fresh elector of the same identity renews it", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    const a = startElector(time, api.client(), "a");
    await time.advance(1_000);
    await Promise.all([a.elector.stop(), time.advance(0)]);
    expect(a.events).toEqual(["started@0", "stopped@1000"]);
    expect(api.lease?.record.holderIdentity).toBe("a");
    const again = startElector(time, api.client(), "a");
    await time.advance(0);
    expect(again.elector.isLeader()).toBe(true);
    expect(api.lease?.record.leaseTransitions).toBe(0);
  });

  it("counts leaseTransitions across takeovers and releases", async () => {
    const time = new FakeTime();
    const api = new FakeLeaseApi(time);
    const ids = ["a", "b", "c"];
    for (let i = 0; i < 6; i++) {
      const h = startElector(time, api.client(), ids[i % 3]!);
      await time.advance(20_000);
      expect(h.elector.isLeader()).toBe(true);
      await Promise.all([h.elector.stop({ release: i % 2 === 0 }), time.advance(0)]);
    }
    // created by a (0), then each new holder or re-acquire after a release counts one
    expect(api.lease?.record.leaseTransitions).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------- randomized safety


describe("two electors on one Lease under random latency, failures and partitions", () => {
  for (const seed of [1, 7, 42, 1234, 99_991]) {
    it(`never has two leaders at any instant (seed ${seed})`, async () => {
      const rand = prng(seed);
      const time = new FakeTime();
      const api = new FakeLeaseApi(time);
      const ids = ["a", "b"];
      const partitionedUntil: Record<string, number> = { a: 0, b: 0 };
      const current: Record<string, LeaseElector> = {};
      let starts = 0;
      let violations = 0;
      const leading = (): number => ids.filter((id) => current[id]?.isLeader()).length;
      const spawn = (id: string): void => {
        const fault = () => {
          if (time.t < partitionedUntil[id]!) return { delayMs: 0, outcome: "hang" as const };
          const r = rand();
          return { delayMs: Math.floor(rand() * 1_500), outcome: r < 0.1 ? "error" as const : r < 0.13 ? "hang" as const : "ok" as const };
        };
        const elector = new LeaseElector({
          client: api.client(fault), namespace: NS, name: NAME, identity: id, clock: time.clock(rand() * 1e7 - 5e6),
          leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000,
          onStartedLeading: () => {
            starts++;
            if (leading() > 1) violations++;
          },
          onStoppedLeading: () => undefined,
        });
        current[id] = elector;
        void elector.run().then(() => {
          if (current[id] === elector) spawn(id); // a fresh elector per term
        });
      };
      time.afterEach = () => {
        if (leading() > 1) violations++;
      };
      ids.forEach(spawn);
      for (let step = 0; step < 200; step++) {
        const r = rand();
        const id = ids[Math.floor(rand() * 2)]!;
        if (r < 0.08) partitionedUntil[id] = time.t + rand() * 20_000;
        else if (r < 0.12) void current[id]!.stop({ release: rand() < 0.5 });
        await time.advance(Math.floor(rand() * 3_000));
      }
      expect(violations).toBe(0);
      expect(starts).toBeGreaterThan(3); // leadership did move around
    });
  }
});
