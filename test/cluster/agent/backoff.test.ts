import { describe, expect, it } from "vitest";
import { backoffDelay, KUBELET_BACKOFF, nextFailureCount, shouldRestart } from "./internal/backoff.js";

describe("restart back-off", () => {
  it("doubles from 10 s and caps at 5 minutes like the kubelet", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, KUBELET_BACKOFF) / 1000);
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
  });
  it("has no delay before any failure", () => expect(backoffDelay(0, KUBELET_BACKOFF)).toBe(0));
  it("uses a configurable base", () => {
    const cfg = { baseMs: 100, capMs: 1000, resetAfterMs: 5000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, cfg))).toEqual([100, 200, 400, 800, 1000]);
  });
  it("starts over after a long run", () => {
    expect(nextFailureCount(5, 1000, KUBELET_BACKOFF)).toBe(6);
    expect(nextFailureCount(5, 600_000, KUBELET_BACKOFF)).toBe(1);
  });
  it.each([
    ["Always", 0, true], ["Always", 1, true], [undefined, 0, true],
    ["OnFailure", 0, false], ["OnFailure", 2, true],
    ["Never", 0, false], ["Never", 1, false],
  ] as const)("restartPolicy %s, exit %d -> restart %s", (policy, code, want) => {
    expect(shouldRestart(policy, code)).toBe(want);
  });
});
