/**
 * Base of operators on keyed streams: extracts keys, scopes state to the current key, runs the
 * operator's timers, and snapshots/restores keyed state, timers and what subclasses add (window
 * contents) by key group. Subclasses implement `processKeyedBatch` with `setCurrentKeyOf(record)`
 * and `onTimer`.
 *
 * With a backend that loads state asynchronously (RocksDB), each batch goes: prefetch the state of
 * the batch's keys, process synchronously, write back; timers likewise prefetch their keys before
 * firing. The work is chained so batches, watermarks and timers keep their order, and the task's
 * input is held (`ctx.block`) until it is done.
 */
import type { KeyedRuntimeContext, KeySelector } from "../api/functions.js";
import { canonicalKey, keyGroupOf, type CanonicalKey } from "../common/keys.js";
import type { Batch } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { createKeyedStateBackend, type KeyedStateBackend } from "../state/keyed-backend.js";
import type { KeyedEntry, OperatorListState } from "../state/snapshot-types.js";
import { InternalTimerService, type Timer } from "../time/timer-service.js";
import { StreamOperator, type OperatorSnapshot, type SnapshotRequest, type StateInitContext } from "./operator.js";

const TIMER_NS = { event: "t:event", processing: "t:processing" } as const;

export abstract class KeyedOperator extends StreamOperator {
  protected state!: KeyedStateBackend;
  protected timers!: InternalTimerService;
  /** The key of the record or timer being processed. */
  protected currentKey: unknown = undefined;
  protected currentCk: CanonicalKey = "";
  /** True when state must be loaded before use (RocksDB). */
  private asyncState = false;
  /** Whether keyed state, timers or window contents may have changed since the last checkpoint's snapshot. */
  private changed = true;
  /** The last piece of asynchronous work; later work chains behind it. */
  private tail: Promise<void> | null = null;

  constructor(protected readonly keySelectors: ReadonlyArray<KeySelector<any, unknown> | null>) {
    super();
  }

  override async initializeState(init: StateInitContext): Promise<void> {
    const kind = this.ctx.stateBackend.kind;
    this.state = createKeyedStateBackend(kind, {
      operatorName: this.ctx.operatorName,
      uid: this.ctx.uid,
      keyGroupRange: this.ctx.keyGroupRange,
      maxParallelism: this.ctx.runtime.maxParallelism,
      ...(this.ctx.stateBackend.localDir ? { localDir: this.ctx.stateBackend.localDir } : {}),
    });
    this.asyncState = kind === "rocksdb";
    this.timers = new InternalTimerService(
      this.ctx.processingTime,
      (t, domain) => {
        this.changed = true;
        this.setCurrentKey(t.key, t.ck);
        this.onTimer(t, domain);
      },
      this.asyncState ? (now) => this.ctx.block(this.chain(() => this.fireProcessingTimersAsync(now))) : null,
    );
    if (!init.isRestored) return;
    const others = await this.state.restore(await init.keyedEntries());
    for (const entry of others) {
      const [ns, key, value] = entry;
      if (ns === TIMER_NS.event || ns === TIMER_NS.processing) {
        this.timers.restore(key, canonicalKey(key), value as number, ns === TIMER_NS.event ? "event" : "processing");
      } else if (!this.restoreKeyedEntry(entry)) {
        throw new WeirError("WEIR_E_STATE_MISMATCH", `operator "${this.ctx.operatorName}" (uid ${this.ctx.uid}) cannot restore keyed state "${ns}" from the snapshot`);
      }
    }
    this.restoreLists(init.lists);
  }

  // ---- hooks for subclasses' own state ----

  /** Add the subclass's keyed entries (copies: they are encoded after processing went on). */
  protected snapshotKeyedEntries(_add: (ck: CanonicalKey, entry: KeyedEntry) => void): void {}

  /** Take back one entry written by `snapshotKeyedEntries`; false if it is not the subclass's. */
  protected restoreKeyedEntry(_entry: KeyedEntry): boolean {
    return false;
  }

  protected snapshotLists(): OperatorListState[] {
    return [];
  }

  protected restoreLists(_lists: readonly OperatorListState[]): void {}

  /** Records or timers may have changed keyed state (subclasses that bypass `processBatch` call it). */
  protected markChanged(): void {
    this.changed = true;
  }

  override snapshotState(request: SnapshotRequest): () => Promise<OperatorSnapshot> {
    const unchanged = !this.changed;
    // Savepoints are self-contained and do not count as "the previous checkpoint".
    if (!request.savepoint) this.changed = false;
    if (unchanged && request.mayReuseKeyed) {
      const lists = this.snapshotLists();
      return async () => ({ keyed: "unchanged", lists });
    }
    const maxParallelism = this.ctx.runtime.maxParallelism;
    const byGroup = new Map<number, KeyedEntry[]>();
    const add = (ck: CanonicalKey, entry: KeyedEntry) => {
      const kg = keyGroupOf(ck, maxParallelism);
      const list = byGroup.get(kg);
      if (list) list.push(entry);
      else byGroup.set(kg, [entry]);
    };
    for (const [t, domain] of this.timers.timers()) add(t.ck, [TIMER_NS[domain], t.key, t.timestamp]);
    this.snapshotKeyedEntries(add);
    const lists = this.snapshotLists();
    const write = this.state.snapshot((kg) => byGroup.get(kg));
    return async () => ({ keyed: await write(), lists });
  }

  /** A runtime context that also declares keyed state, for user functions' `open`. */
  protected keyedRuntimeContext(): KeyedRuntimeContext {
    const s = this.state;
    return {
      ...this.ctx.runtime,
      valueState: (name: string, d?: unknown) => s.valueState(name, d),
      listState: (name, o) => s.listState(name, o),
      mapState: (name, o) => s.mapState(name, o),
      reducingState: (name, reduce, o) => s.reducingState(name, reduce, o),
      aggregatingState: (name, agg, o) => s.aggregatingState(name, agg, o),
    };
  }

  protected setCurrentKey(key: unknown, ck: CanonicalKey = canonicalKey(key)): void {
    this.currentKey = key;
    this.currentCk = ck;
    this.state.setCurrentKey(ck, key);
  }

  /** Extract and set the key of a record arriving on `input`; an undefined key is an error naming the operator. */
  protected setCurrentKeyOf(value: unknown, input: number): void {
    this.setCurrentKey(this.keyOf(value, input));
  }

  private keyOf(value: unknown, input: number): unknown {
    const key = this.keySelectors[input]!(value);
    if (key === undefined || (typeof key === "number" && Number.isNaN(key))) {
      throw new WeirError(
        "WEIR_E_KEY_UNDEFINED",
        `the key selector of "${this.ctx.operatorName}" returned ${String(key)} for record ${preview(value)}; keys must be defined`,
      );
    }
    return key;
  }

  /** Process a batch whose keys' state is loaded. */
  protected abstract processKeyedBatch(batch: Batch, input: number): void;

  processBatch(batch: Batch, input: number): void | Promise<void> {
    if (batch.values.length > 0) this.changed = true;
    if (!this.asyncState) return this.processKeyedBatch(batch, input);
    return this.chain(async () => {
      const keys = batch.values.map((v) => {
        const key = this.keyOf(v, input);
        return [canonicalKey(key), key] as const;
      });
      await this.state.prefetch(keys);
      this.processKeyedBatch(batch, input);
      await this.state.flush();
    });
  }

  override processWatermark(timestamp: number): void {
    // Timers see the watermark that fires them (as in Flink), then it is forwarded.
    if (!this.asyncState) {
      this.currentWatermark = timestamp;
      this.timers.advanceWatermark(timestamp);
      return this.afterWatermarkTimers(timestamp);
    }
    this.ctx.block(
      this.chain(async () => {
        this.currentWatermark = timestamp;
        this.timers.setWatermark(timestamp);
        await this.fireDueAsync("event", timestamp);
        this.afterWatermarkTimers(timestamp);
      }),
    );
  }

  /** The watermark's timers fired: emit what they produced, then forward the watermark. */
  protected afterWatermarkTimers(timestamp: number): void {
    this.output.emitWatermark(timestamp);
  }

  /** Fire due timers in rounds: take them, load their keys' state, fire, write back (timers may add due timers). */
  private async fireDueAsync(domain: "event" | "processing", upTo: number): Promise<void> {
    for (let due = this.timers.takeDue(domain, upTo); due.length > 0; due = this.timers.takeDue(domain, upTo)) {
      await this.state.prefetch(due.map((t) => [t.ck, t.key] as const));
      this.timers.fire(due, domain);
      await this.state.flush();
    }
  }

  private async fireProcessingTimersAsync(now: number): Promise<void> {
    await this.fireDueAsync("processing", now);
    this.timers.rescheduleProcessingTime();
  }

  /** Run `work` after everything chained before it. */
  private chain(work: () => Promise<void>): Promise<void> {
    const run = this.tail ? this.tail.then(work) : work();
    const tail = run.finally(() => {
      if (this.tail === tail) this.tail = null;
    });
    this.tail = tail;
    tail.catch(() => {}); // the task sees the failure through the Promise it was given
    return run;
  }

  /** A timer of the current key fired. */
  protected abstract onTimer(timer: Timer, domain: "event" | "processing"): void;

  override async close(): Promise<void> {
    this.timers?.dispose();
    await this.tail?.catch(() => {});
    await this.state?.dispose();
  }
}

/** A short, safe rendering of a record for error messages. */
export function preview(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 120 ? s.slice(0, 117) + "..." : s;
}
