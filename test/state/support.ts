/**
 * Drives keyed state backends the way the engine does: prefetch the keys of a batch, run user code
 * with each key set, flush. Backends made here are disposed after each test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach } from "vitest";
import { canonicalKey, type KeyGroupRange } from "../../runtime/common/keys.js";
import { createKeyedStateBackend, type KeyedBackendOptions, type KeyedStateBackend } from "../../runtime/state/keyed-backend.js";

export const KINDS = ["heap", "rocksdb"] as const;
export type BackendKind = (typeof KINDS)[number];

export const FULL_RANGE: KeyGroupRange = { start: 0, end: 127 };

const localDir = mkdtempSync(join(tmpdir(), "weir-state-test-"));
const open: KeyedStateBackend[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.dispose()));
});
afterAll(() => rmSync(localDir, { recursive: true, force: true }));

/** A fake processing-time clock. */
export class FakeClock {
  constructor(public t = 1_000_000) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function backend(kind: BackendKind, opts: Partial<KeyedBackendOptions> = {}): KeyedStateBackend {
  const b = createKeyedStateBackend(kind, {
    operatorName: "counter",
    uid: "counter-uid",
    keyGroupRange: FULL_RANGE,
    maxParallelism: 128,
    localDir,
    ...opts,
  });
  open.push(b);
  return b;
}

/** Run `fn` for each key, as one batch: prefetch, process, flush. Returns what `fn` returned per key. */
export async function batch<R>(b: KeyedStateBackend, keys: readonly unknown[], fn: (key: unknown) => R): Promise<R[]> {
  const pairs = keys.map((k) => [canonicalKey(k), k] as const);
  const loading = b.prefetch(pairs);
  if (loading) await loading;
  const out = pairs.map(([ck, k]) => {
    b.setCurrentKey(ck, k);
    return fn(k);
  });
  const writing = b.flush();
  if (writing) await writing;
  return out;
}

/** Run `fn` with one key set, as a batch of one record. */
export async function as<R>(b: KeyedStateBackend, key: unknown, fn: () => R): Promise<R> {
  return (await batch(b, [key], fn))[0]!;
}
