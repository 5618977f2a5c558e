import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import { createRestartStrategy, type RestartDecision } from "../../runtime/jobmanager/restart-strategy.js";

const strategy = (...pairs: string[]) => createRestartStrategy(resolveConfig(pairs, {}));

/** The decisions for failures at the given times. */
function decisions(pairs: string[], times: number[]): RestartDecision[] {
  const s = strategy(...pairs);
  return times.map((t) => s.onFailure(t));
}

const delays = (ds: RestartDecision[]) => ds.map((d) => (d.restart ? d.delayMs : "fail"));

describe("createRestartStrategy", () => {
  it("none (the default) never restarts", () => {
    const s = strategy();
    expect(s.description).toBe("NoRestartBackoffTimeStrategy");
    expect(s.onFailure(0)).toEqual({ restart: false, reason: "Recovery is suppressed by NoRestartBackoffTimeStrategy" });
  });

  it("fixed-delay restarts `attempts` times after `delay`, then suppresses recovery naming its parameters", () => {
    const pairs = ["restart-strategy.type=fixed-delay", "restart-strategy.fixed-delay.attempts=3", "restart-strategy.fixed-delay.delay=1000"];
    const ds = decisions(pairs, [0, 10, 20, 1_000_000]);
    expect(delays(ds)).toEqual([1000, 1000, 1000, "fail"]);
    expect(ds[3]).toEqual({
      restart: false,
      reason:
        "Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3, backoffTimeMS=1000)",
    });
  });

  it("fixed-delay with 0 attempts fails at the first failure", () => {
    expect(delays(decisions(["restart-strategy.type=fixed-delay", "restart-strategy.fixed-delay.attempts=0"], [0]))).toEqual(["fail"]);
  });

  describe("exponential-delay", () => {
    const base = [
      "restart-strategy.type=exponential-delay",
      "restart-strategy.exponential-delay.initial-backoff=100",
      "restart-strategy.exponential-delay.max-backoff=1000",
      "restart-strategy.exponential-delay.backoff-multiplier=2",
      "restart-strategy.exponential-delay.reset-backoff-threshold=10000",
    ];

    it("multiplies the wait up to max-backoff for failures in quick succession", () => {
      const times = [0, 200, 500, 1000, 2000, 3500, 5000];
      expect(delays(decisions(base, times))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    });

    it("starts over at the initial wait after running reset-backoff-threshold without failure", () => {
      // Failure at 1000 waited 400 ms; the job ran from 1400: a failure at 11400 or later resets.
      expect(delays(decisions(base, [0, 500, 1000, 11_399]))).toEqual([100, 200, 400, 800]);
      expect(delays(decisions(base, [0, 500, 1000, 11_400]))).toEqual([100, 200, 400, 100]);
    });

    it("gives up after `attempts` restarts without a reset, and a reset renews the budget", () => {
      const pairs = [...base, "restart-strategy.exponential-delay.attempts=2"];
      expect(delays(decisions(pairs, [0, 10, 20]))).toEqual([100, 200, "fail"]);
      expect(delays(decisions(pairs, [0, 10, 50_000, 50_010]))).toEqual([100, 200, 100, 200]);
      const reason = (decisions(pairs, [0, 1, 2])[2] as { reason: string }).reason;
      expect(reason).toBe(
        "Recovery is suppressed by ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=100, maxBackoffMS=1000, " +
          "backoffMultiplier=2, resetBackoffThresholdMS=10000, attempts=2)",
      );
    });
  });

  describe("failure-rate", () => {
    const pairs = [
      "restart-strategy.type=failure-rate",
      "restart-strategy.failure-rate.max-failures-per-interval=2",
      "restart-strategy.failure-rate.failure-rate-interval=60000",
      "restart-strategy.failure-rate.delay=500",
    ];

    it("restarts while at most max failures fall within the interval", () => {
      expect(delays(decisions(pairs, [0, 30_000, 59_999]))).toEqual([500, 500, "fail"]);
      expect(delays(decisions(pairs, [0, 30_000, 60_000, 89_999]))).toEqual([500, 500, 500, "fail"]);
    });

    it("keeps restarting a job that fails slower than the rate", () => {
      const times = Array.from({ length: 50 }, (_, i) => i * 30_001);
      expect(delays(decisions(pairs, times)).every((d) => d === 500)).toBe(true);
    });

    it("names its parameters when it gives up", () => {
      const ds = decisions(pairs, [0, 1, 2]);
      expect(ds[2]).toEqual({
        restart: false,
        reason:
          "Recovery is suppressed by FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=60000, backoffTimeMS=500, maxFailuresPerInterval=2)",
      });
    });
  });
});
