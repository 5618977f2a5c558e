/**
 * Base of operators on keyed streams: extracts keys, scopes state to the current key and runs the
 * operator's timers. Subclasses implement `processBatch` with `setCurrentKeyOf(record)` and `onTimer`.
 */
import type { KeyedRuntimeContext, KeySelector } from "../api/functions.js";
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import { WeirError } from "../common/errors.js";
import { HeapKeyedStateBackend } from "../state/heap-keyed-state.js";
import { InternalTimerService, type Timer } from "../time/timer-service.js";
import { StreamOperator } from "./operator.js";

export abstract class KeyedOperator extends StreamOperator {
  protected state!: HeapKeyedStateBackend;
  protected timers!: InternalTimerService;
  /** The key of the record or timer being processed. */
  protected currentKey: unknown = undefined;
  protected currentCk: CanonicalKey = "";

  constructor(protected readonly keySelectors: ReadonlyArray<KeySelector<any, unknown> | null>) {
    super();
  }

  override open(): void | Promise<void> {
    this.state = new HeapKeyedStateBackend(this.ctx.operatorName);
    this.timers = new InternalTimerService(this.ctx.processingTime, (t, domain) => {
      this.setCurrentKey(t.key, t.ck);
      this.onTimer(t, domain);
    });
  }

  /** A runtime context that also declares keyed state, for user functions' `open`. */
  protected keyedRuntimeContext(): KeyedRuntimeContext {
    const s = this.state;
    return {
      ...this.ctx.runtime,
      valueState: (name, d) => s.valueState(name, d),
      listState: (name) => s.listState(name),
      mapState: (name) => s.mapState(name),
    };
  }

  protected setCurrentKey(key: unknown, ck: CanonicalKey = canonicalKey(key)): void {
    this.currentKey = key;
    this.currentCk = ck;
    this.state.setCurrentKey(ck);
  }

  /** Extract and set the key of a record arriving on `input`; an undefined key is an error naming the operator. */
  protected setCurrentKeyOf(value: unknown, input: number): void {
    const key = this.keySelectors[input]!(value);
    if (key === undefined || (typeof key === "number" && Number.isNaN(key))) {
      throw new WeirError(
        "WEIR_E_KEY_UNDEFINED",
        `the key selector of "${this.ctx.operatorName}" returned ${String(key)} for record ${preview(value)}; keys must be defined`,
      );
    }
    this.setCurrentKey(key);
  }

  override processWatermark(timestamp: number): void {
    // Timers see the watermark that fires them (as in Flink), then it is forwarded.
    this.currentWatermark = timestamp;
    this.timers.advanceWatermark(timestamp);
    super.processWatermark(timestamp);
  }

  /** A timer of the current key fired. */
  protected abstract onTimer(timer: Timer, domain: "event" | "processing"): void;

  override close(): void | Promise<void> {
    this.timers?.dispose();
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
