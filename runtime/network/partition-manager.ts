/**
 * The ResultPartitions of one TaskManager, by id. Consumers may ask before the producer registered
 * (tasks deploy in any order), so lookups can wait, up to a timeout.
 */
import { WeirError } from "../common/errors.js";
import type { ResultPartition } from "./result-partition.js";

/** Default time a partition request waits for its partition to be registered. */
export const DEFAULT_PARTITION_REQUEST_TIMEOUT_MS = 30_000;

interface Waiter {
  resolve(partition: ResultPartition): void;
}

/** Registry of this TaskManager's partitions. */
export class PartitionManager {
  private readonly partitions = new Map<string, ResultPartition>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Register a partition; released partitions unregister themselves. Throws on a duplicate id. */
  register(partition: ResultPartition): void {
    if (this.partitions.has(partition.id)) {
      throw new WeirError("WEIR_E_PROTOCOL", `partition ${partition.id} is already registered`);
    }
    this.partitions.set(partition.id, partition);
    partition.onRelease(() => this.unregister(partition.id));
    const waiting = this.waiters.get(partition.id);
    this.waiters.delete(partition.id);
    for (const waiter of waiting ?? []) waiter.resolve(partition);
  }

  /** Forget a partition (without releasing it). */
  unregister(id: string): void {
    this.partitions.delete(id);
  }

  /** The partition with `id`, if registered. */
  get(id: string): ResultPartition | undefined {
    return this.partitions.get(id);
  }

  /** Ids of the registered partitions. */
  ids(): string[] {
    return [...this.partitions.keys()];
  }

  /**
   * The partition with `id`, waiting up to `timeoutMs` for it to be registered. Rejects with
   * WEIR_E_NOT_FOUND on timeout and with WEIR_E_CANCELED when `signal` aborts.
   */
  waitFor(id: string, timeoutMs = DEFAULT_PARTITION_REQUEST_TIMEOUT_MS, signal?: AbortSignal): Promise<ResultPartition> {
    const found = this.partitions.get(id);
    if (found !== undefined) return Promise.resolve(found);
    if (signal?.aborted) return Promise.reject(cancelled(id));
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
      };
      const waiter: Waiter = {
        resolve: (partition) => {
          done();
          resolve(partition);
        },
      };
      const onAbort = (): void => {
        done();
        reject(cancelled(id));
      };
      const timer = setTimeout(() => {
        done();
        reject(new WeirError("WEIR_E_NOT_FOUND", `partition ${id} was not registered within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      set.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Release every registered partition (TaskManager shutdown). */
  releaseAll(): void {
    for (const partition of [...this.partitions.values()]) partition.release();
  }
}

function cancelled(id: string): WeirError {
  return new WeirError("WEIR_E_CANCELED", `request for partition ${id} was cancelled`);
}
