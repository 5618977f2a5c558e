/**
 * Helpers for talking to the cluster without vitest: test/cluster/support.ts re-exports them for the
 * suites, bench/operator uses them directly.
 */
import { ApiException } from "@kubernetes/client-node";

/** A failed call as one line: an apiserver error with its code and body, else the message. */
export function errorText(e: unknown): string {
  if (e instanceof ApiException) return `HTTP ${e.code}: ${typeof e.body === "string" ? e.body.slice(0, 300) : JSON.stringify(e.body)}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Call `fn` every `everyMs` until it returns something other than undefined/false; after `timeoutMs`
 * throw naming `what` and the last error `fn` threw.
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${errorText(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** HTTP status of a failed client-node call (ApiException.code), 200 when it succeeded; rethrows anything else. */
export async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
}
