/**
 * LeaseElector: drives the pure decision of election-state.ts against a LeaseClient, on an injected clock.
 *
 * Single use, like client-go's LeaderElector.Run: `run()` campaigns until it acquires the Lease, leads until
 * leadership ends, and resolves; the elector is then done and a new one campaigns for the next term.
 *
 * Guarantees, given `renewDeadline < leaseDuration` and clocks that run at the same rate:
 * - leadership starts only after a write that made this identity the holder succeeded within renewDeadline of
 *   being sent;
 * - leadership ends (the AbortSignal aborts, then onStoppedLeading runs) at the latest `renewDeadline` after the
 *   last successful renew was *sent*, on a timer of its own, even while a request hangs; another candidate can
 *   take over only `leaseDuration` after it saw that renew, which it cannot have seen before it was sent;
 * - it also ends as soon as a read shows another holder, or no Lease at all;
 * - `stop({ release: true })` ends leadership, waits for the leader's work and onStoppedLeading to settle
 *   (at most until the renew deadline), then clears the holder so another candidate takes over at once.
 */
import { type Decision, decide, type Observation, type ObservedLease, releaseRecord } from "./election-state.js";
import { LeaseConflictError } from "./lease-client.js";
import { compileElectorOptions, type ElectorConfig, LeaderElectionError, type LeaseElectorOptions } from "./options.js";

type Phase = "idle" | "campaigning" | "leading" | "done";
type Outcome = "ok" | "wait" | "lost" | "failed";

/** One leadership term: its signal, its renew deadline and what must settle before a release. */
interface Term {
  readonly ctl: AbortController;
  lastRenewAt: number;
  cancelDeadline: () => void;
  ended: boolean;
  graceful: boolean;
  work: Promise<unknown>;
  stopped: Promise<unknown>;
}

/** A single-use leader elector over one Lease. See the module comment for its guarantees. */
export class LeaseElector {
  readonly #c: Readonly<ElectorConfig>;
  readonly #stop = new AbortController();
  #phase: Phase = "idle";
  #run: Promise<void> | undefined;
  #release = false;
  #observation: Observation | undefined;
  #lease: ObservedLease | undefined;
  #reportedLeader = "";
  #lostTo = "";
  #term: Term | undefined;
  /** When the last attempt found the Lease held by another: ms until it expires by our observation. */
  #expiresInMs: number | undefined;

  constructor(options: LeaseElectorOptions) {
    this.#c = compileElectorOptions(options);
  }

  /** True while leading: between onStartedLeading and the end of the term. */
  isLeader(): boolean {
    return this.#phase === "leading";
  }

  /** The holder this elector last observed ("" when none). */
  observedLeader(): string {
    return this.#reportedLeader;
  }

  /** Campaigns, leads, and resolves when leadership ends or the elector is stopped. Callable once. */
  run(): Promise<void> {
    if (this.#run) throw new LeaderElectionError("LeaseElector.run() was already called: an elector is single-use, create a new one per term");
    this.#run = this.#runOnce();
    return this.#run;
  }

  /** Stops campaigning or leading; with `release`, hands the Lease back. Resolves when run() has finished. */
  stop(opts: { release?: boolean } = {}): Promise<void> {
    if (!this.#stop.signal.aborted) this.#release = opts.release ?? false;
    this.#stop.abort(new LeaderElectionError("leader election stopped"));
    if (this.#term) this.#endTerm(this.#term, "stopped", true);
    return this.#run ?? Promise.resolve();
  }

  async #runOnce(): Promise<void> {
    try {
      const acquiredAt = await this.#campaign();
      if (acquiredAt !== undefined) await this.#lead(acquiredAt);
    } finally {
      this.#phase = "done";
    }
  }

  /** Tries every retryPeriod until the Lease is ours; returns when the winning write was sent, or undefined. */
  async #campaign(): Promise<number | undefined> {
    this.#phase = "campaigning";
    const { clock, renewDeadlineMs, retryPeriodMs, log } = this.#c;
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const sentAt = clock.now();
      const outcome = await this.#attempt(false, stop);
      if (outcome === "ok" && stop.aborted) {
        if (this.#release) await this.#releaseLease();
        return undefined;
      }
      if (outcome === "ok" && clock.now() - sentAt < renewDeadlineMs) return sentAt;
      if (outcome === "ok") log.warn({ lease: this.#c.name }, "acquired the Lease too late to lead on it; renewing first");
      // a held Lease is tried again right when it expires, not up to a retry period later
      else await this.#sleep(outcome === "wait" && this.#expiresInMs !== undefined ? Math.min(retryPeriodMs, this.#expiresInMs + 1) : retryPeriodMs, stop);
    }
    return undefined;
  }

  async #lead(since: number): Promise<void> {
    const { clock, retryPeriodMs, log, identity, name } = this.#c;
    const term: Term = {
      ctl: new AbortController(), lastRenewAt: since, cancelDeadline: () => undefined, ended: false, graceful: false,
      work: Promise.resolve(), stopped: Promise.resolve(),
    };
    this.#term = term;
    this.#phase = "leading";
    log.info({ lease: name, identity }, "started leading");
    this.#armDeadline(term);
    term.work = this.#guard("onStartedLeading", () => this.#c.onStartedLeading(term.ctl.signal));
    while (!term.ended) {
      await this.#sleep(retryPeriodMs, term.ctl.signal);
      if (term.ended) break;
      const sentAt = clock.now();
      const outcome = await this.#attempt(true, term.ctl.signal);
      if (term.ended) break;
      if (outcome === "ok") {
        term.lastRenewAt = sentAt;
        this.#armDeadline(term);
      } else if (outcome === "lost") {
        this.#endTerm(term, `the Lease is now held by ${JSON.stringify(this.#lostTo)}`, false);
      }
    }
    if (term.graceful && this.#release) await this.#releaseAfterWork(term);
  }

  /** Ends the term at lastRenewAt + renewDeadline (at once when that has passed). */
  #armDeadline(term: Term): void {
    term.cancelDeadline();
    const left = term.lastRenewAt + this.#c.renewDeadlineMs - this.#c.clock.now();
    const expire = (): void => this.#endTerm(term, `no successful renew within renewDeadline (${this.#c.renewDeadlineMs} ms)`, false);
    if (left <= 0) expire();
    else term.cancelDeadline = this.#c.clock.setTimer(expire, left);
  }

  /** Stops leading now: isLeader() false, the signal aborted, onStoppedLeading called. Idempotent. */
  #endTerm(term: Term, reason: string, graceful: boolean): void {
    if (term.ended) return;
    term.ended = true;
    term.graceful = graceful;
    term.cancelDeadline();
    this.#phase = "done";
    const log = graceful ? this.#c.log.info.bind(this.#c.log) : this.#c.log.warn.bind(this.#c.log);
    log({ lease: this.#c.name, identity: this.#c.identity, reason }, "stopped leading");
    term.ctl.abort(new LeaderElectionError(`leadership of Lease ${this.#c.namespace}/${this.#c.name} ended: ${reason}`));
    term.stopped = this.#guard("onStoppedLeading", () => this.#c.onStoppedLeading());
  }

  /** Releases once the leader's work and onStoppedLeading settled, if they do before the renew deadline. */
  async #releaseAfterWork(term: Term): Promise<void> {
    const budget = term.lastRenewAt + this.#c.renewDeadlineMs - this.#c.clock.now();
    const settled = Promise.allSettled([term.work, term.stopped]).then(() => true);
    if (await this.#within(settled, budget)) await this.#releaseLease();
    else this.#c.log.warn({ lease: this.#c.name }, "not releasing the Lease: the leader's work did not stop before the renew deadline");
  }

  /** Clears the holder (leaseDurationSeconds=1) if the Lease is still ours; a conflict re-reads once. */
  async #releaseLease(): Promise<void> {
    const { client, namespace, name, identity, clock, log } = this.#c;
    const ctl = this.#timeoutController(new AbortController().signal);
    try {
      let lease = this.#lease;
      for (let round = 0; round < 2; round++) {
        if (round > 0) lease = await this.#race(client.get(namespace, name, ctl.signal), ctl.signal);
        if (!lease || lease.record.holderIdentity !== identity) return;
        try {
          this.#lease = await this.#race(client.replace(namespace, name, releaseRecord(lease.record, clock.wallNow()), lease.resourceVersion, ctl.signal), ctl.signal);
          log.info({ lease: name, identity }, "released the Lease");
          return;
        } catch (e) {
          if (!(e instanceof LeaseConflictError)) throw e;
        }
      }
    } catch (e) {
      log.warn({ lease: name, err: String(e) }, "could not release the Lease; others take over when it expires");
    } finally {
      ctl.abort();
    }
  }

  /** One get-decide-write round (a write conflict re-reads and decides once more). Never throws. */
  async #attempt(leading: boolean, signal: AbortSignal): Promise<Outcome> {
    const { client, namespace, name, log } = this.#c;
    const ctl = this.#timeoutController(signal);
    try {
      for (let round = 0; round < 2; round++) {
        const lease = await this.#race(client.get(namespace, name, ctl.signal), ctl.signal);
        const decision = this.#decide(lease, leading);
        if (decision.kind === "wait") {
          this.#expiresInMs = decision.expiresInMs;
          return "wait";
        }
        if (decision.kind === "lost") {
          this.#lostTo = decision.holder;
          return "lost";
        }
        try {
          await this.#write(decision, ctl.signal);
          return "ok";
        } catch (e) {
          if (!(e instanceof LeaseConflictError)) throw e;
          log.debug({ lease: name }, "write conflict: someone else wrote the Lease; re-reading");
        }
      }
      return "failed";
    } catch (e) {
      if (!signal.aborted) log.warn({ lease: name, err: String(e) }, leading ? "renewing the Lease failed" : "acquiring the Lease failed");
      return "failed";
    } finally {
      ctl.abort();
    }
  }

  #decide(lease: ObservedLease | undefined, leading: boolean): Decision {
    const { identity, leaseDurationMs, clock } = this.#c;
    const r = decide({ identity, leaseDurationMs, nowMs: clock.now(), wallMs: clock.wallNow(), leading, lease, observation: this.#observation });
    this.#observation = r.observation;
    this.#lease = lease;
    this.#reportLeader(r.observation?.record.holderIdentity ?? "");
    return r.decision;
  }

  async #write(d: Extract<Decision, { record: unknown }>, signal: AbortSignal): Promise<void> {
    const { client, namespace, name, clock } = this.#c;
    const written = d.kind === "create"
      ? await this.#race(client.create(namespace, name, d.record, signal), signal)
      : await this.#race(client.replace(namespace, name, d.record, d.resourceVersion, signal), signal);
    this.#lease = written;
    this.#observation = { record: written.record, observedAtMs: clock.now() };
    this.#reportLeader(written.record.holderIdentity);
  }

  #reportLeader(holder: string): void {
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === "") return;
    this.#c.log.info({ lease: this.#c.name, leader: holder }, "new leader observed");
    void this.#guard("onNewLeader", () => this.#c.onNewLeader(holder));
  }

  /** Runs a user callback; sync throws and rejections are logged, never propagated. */
  #guard(what: string, fn: () => unknown): Promise<unknown> {
    const logErr = (e: unknown): void => this.#c.log.warn({ err: String(e) }, `${what} failed`);
    try {
      return Promise.resolve(fn()).catch(logErr);
    } catch (e) {
      logErr(e);
      return Promise.resolve();
    }
  }

  /** An AbortController aborted with `parent` or after attemptTimeoutMs; abort() it when done to clear both. */
  #timeoutController(parent: AbortSignal): AbortController {
    const ctl = new AbortController();
    const onParent = (): void => ctl.abort(parent.reason);
    if (parent.aborted) ctl.abort(parent.reason);
    parent.addEventListener("abort", onParent, { once: true });
    const cancel = this.#c.clock.setTimer(() => ctl.abort(new LeaderElectionError("Lease request timed out")), this.#c.attemptTimeoutMs);
    ctl.signal.addEventListener("abort", () => {
      cancel();
      parent.removeEventListener("abort", onParent);
    }, { once: true });
    return ctl;
  }

  /** `p`, or a rejection as soon as `signal` aborts (the request itself may still complete, unobserved). */
  #race<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    p.catch(() => undefined);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** Resolves after `ms` or when `signal` aborts, whichever is first. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        cancel();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const cancel = this.#c.clock.setTimer(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** True if `p` resolves within `ms`, false otherwise. */
  async #within(p: Promise<boolean>, ms: number): Promise<boolean> {
    if (ms <= 0) return false;
    const ctl = new AbortController();
    const timedOut = this.#sleep(ms, ctl.signal).then(() => false);
    try {
      return await Promise.race([p, timedOut]);
    } finally {
      ctl.abort();
    }
  }
}
