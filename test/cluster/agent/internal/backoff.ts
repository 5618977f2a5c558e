/**
 * Container restart back-off, as the kubelet does it: the delay before restart n (0-based) is
 * `base * 2^n`, capped at `cap`; a container that ran for at least `resetAfterMs` restarts at once
 * and its back-off starts over.
 */

/** Back-off settings in milliseconds. */
export interface BackoffConfig {
  readonly baseMs: number;
  readonly capMs: number;
  /** A run at least this long resets the back-off (the kubelet uses 10 minutes). */
  readonly resetAfterMs: number;
}

/** The kubelet's values: 10 s doubling, capped at 5 minutes, reset after 10 minutes of running. */
export const KUBELET_BACKOFF: BackoffConfig = Object.freeze({ baseMs: 10_000, capMs: 300_000, resetAfterMs: 600_000 });

/** Delay before the restart that follows `consecutiveFailures` short runs (1 = first restart). */
export function backoffDelay(consecutiveFailures: number, cfg: BackoffConfig): number {
  if (consecutiveFailures <= 0) return 0;
  const exp = Math.min(consecutiveFailures - 1, 30);
  return Math.min(cfg.baseMs * 2 ** exp, cfg.capMs);
}

/** The next count of consecutive short runs after a run of `ranForMs`. */
export function nextFailureCount(previous: number, ranForMs: number, cfg: BackoffConfig): number {
  return ranForMs >= cfg.resetAfterMs ? 1 : previous + 1;
}

/** Whether a container that exited with `exitCode` is restarted under `restartPolicy`. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  switch (restartPolicy ?? "Always") {
    case "Never":
      return false;
    case "OnFailure":
      return exitCode !== 0;
    default:
      return true;
  }
}
