/**
 * Restart strategies (Flink's `RestartBackoffTimeStrategy`): after a job failure, whether to restart
 * it from its latest checkpoint and after how long.
 *
 *   const strategy = createRestartStrategy(config);
 *   const decision = strategy.onFailure(Date.now());
 *   if (decision.restart) setTimeout(restart, decision.delayMs);
 *   else fail(decision.reason); // "Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy(...)"
 *
 * Pure: each strategy only keeps counters and failure times and reads the time it is given, so tests
 * drive it with plain numbers. One instance per job, for the job's whole life (restarts included).
 */
import type { RuntimeConfig } from "../config/options.js";

/** What to do after a failure. */
export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

/** A restart strategy of one job. */
export interface RestartStrategy {
  /** Record a failure at `now` (epoch ms) and decide. Every call counts as one failure. */
  onFailure(now: number): RestartDecision;
  /** Flink-style name and parameters, e.g. `FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3, backoffTimeMS=1000)`. */
  readonly description: string;
}

/** The strategy `restart-strategy.type` selects, with its `restart-strategy.<type>.*` parameters. */
export function createRestartStrategy(config: RuntimeConfig): RestartStrategy {
  switch (config["restart-strategy.type"]) {
    case "none":
      return noRestart();
    case "fixed-delay":
      return fixedDelay(config["restart-strategy.fixed-delay.attempts"], config["restart-strategy.fixed-delay.delay"]);
    case "exponential-delay":
      return exponentialDelay({
        initialMs: config["restart-strategy.exponential-delay.initial-backoff"],
        maxMs: config["restart-strategy.exponential-delay.max-backoff"],
        multiplier: config["restart-strategy.exponential-delay.backoff-multiplier"],
        resetThresholdMs: config["restart-strategy.exponential-delay.reset-backoff-threshold"],
        attempts: config["restart-strategy.exponential-delay.attempts"],
      });
    case "failure-rate":
      return failureRate(
        config["restart-strategy.failure-rate.max-failures-per-interval"],
        config["restart-strategy.failure-rate.failure-rate-interval"],
        config["restart-strategy.failure-rate.delay"],
      );
  }
}

/** Flink's wording, so operators who know Flink recognise it. */
function suppressed(description: string): RestartDecision {
  return { restart: false, reason: `Recovery is suppressed by ${description}` };
}

function noRestart(): RestartStrategy {
  const description = "NoRestartBackoffTimeStrategy";
  return { description, onFailure: () => suppressed(description) };
}

/** Restart after `delayMs`, at most `attempts` times over the job's life. */
function fixedDelay(attempts: number, delayMs: number): RestartStrategy {
  const description = `FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=${attempts}, backoffTimeMS=${delayMs})`;
  let failures = 0;
  return {
    description,
    onFailure: () => (++failures <= attempts ? { restart: true, delayMs } : suppressed(description)),
  };
}

interface ExponentialOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  resetThresholdMs: number;
  attempts: number;
}

/**
 * Waits initial, initial x multiplier, ... up to max. A job that ran `resetThresholdMs` without
 * failing since its last restart (the last failure plus the wait before it) starts over at the
 * initial wait with a fresh attempt budget, as Flink does: only failures in quick succession back off.
 */
function exponentialDelay(o: ExponentialOptions): RestartStrategy {
  const description =
    `ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=${o.initialMs}, maxBackoffMS=${o.maxMs}, ` +
    `backoffMultiplier=${o.multiplier}, resetBackoffThresholdMS=${o.resetThresholdMs}, attempts=${o.attempts})`;
  let attempts = 0;
  let backoffMs = 0;
  let lastFailure: number | null = null;
  return {
    description,
    onFailure(now) {
      const ranLongEnough = lastFailure !== null && now - lastFailure >= o.resetThresholdMs + backoffMs;
      if (lastFailure === null || ranLongEnough) {
        attempts = 0;
        backoffMs = Math.min(o.initialMs, o.maxMs);
      } else {
        backoffMs = Math.min(backoffMs * o.multiplier, o.maxMs);
      }
      lastFailure = now;
      return ++attempts <= o.attempts ? { restart: true, delayMs: backoffMs } : suppressed(description);
    },
  };
}

/** Restart after `delayMs` unless more than `maxFailures` failures fell within the last `intervalMs`. */
function failureRate(maxFailures: number, intervalMs: number, delayMs: number): RestartStrategy {
  const description =
    `FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=${intervalMs}, backoffTimeMS=${delayMs}, ` +
    `maxFailuresPerInterval=${maxFailures})`;
  // Bounded: never more than maxFailures + 1 entries survive the trim below.
  const failures: number[] = [];
  return {
    description,
    onFailure(now) {
      failures.push(now);
      while (failures.length > 0 && now - failures[0]! >= intervalMs) failures.shift();
      if (failures.length > maxFailures + 1) failures.shift();
      return failures.length <= maxFailures ? { restart: true, delayMs } : suppressed(description);
    },
  };
}
