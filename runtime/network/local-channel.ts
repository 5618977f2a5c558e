/**
 * An input channel whose producer runs in the same TaskManager: it reads the Subpartition directly,
 * so elements are neither copied nor serialized.
 */
import type { StreamElement } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import type { ChannelListener, InputChannel } from "./input-channel.js";
import { DEFAULT_PARTITION_REQUEST_TIMEOUT_MS, type PartitionManager } from "./partition-manager.js";
import type { ResultPartition } from "./result-partition.js";
import type { Subpartition, SubpartitionConsumer } from "./subpartition.js";

/** How to build a LocalInputChannel. */
export interface LocalChannelOptions {
  readonly partitionId: string;
  readonly subpartition: number;
  /** How long to wait for the producer to register its partition; default 30 s. */
  readonly requestTimeoutMs?: number;
}

/** Reads one subpartition of a partition registered in this TaskManager's PartitionManager. */
export class LocalInputChannel implements InputChannel, SubpartitionConsumer {
  readonly description: string;
  private source: Subpartition | null = null;
  private listener: ChannelListener | null = null;
  private readonly abort = new AbortController();
  private released = false;

  constructor(
    private readonly partitions: PartitionManager,
    private readonly options: LocalChannelOptions,
  ) {
    this.description = `local partition ${options.partitionId} subpartition ${options.subpartition}`;
  }

  /** Attach to the subpartition now if registered, else when it is (or fail after the timeout). */
  start(listener: ChannelListener): void {
    this.listener = listener;
    const found = this.partitions.get(this.options.partitionId);
    if (found !== undefined) {
      this.attach(found);
      return;
    }
    const timeout = this.options.requestTimeoutMs ?? DEFAULT_PARTITION_REQUEST_TIMEOUT_MS;
    this.partitions.waitFor(this.options.partitionId, timeout, this.abort.signal).then(
      (partition) => this.attach(partition),
      (err: WeirError) => this.fail(err),
    );
  }

  poll(): StreamElement | undefined {
    return this.source?.poll();
  }

  queuedBatches(): number {
    return this.source?.queuedBatches ?? 0;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.abort.abort();
    this.source?.releaseConsumer(this);
    this.source = null;
  }

  /** @internal SubpartitionConsumer */
  onDataAvailable(): void {
    this.listener?.onAvailable();
  }

  /** @internal SubpartitionConsumer */
  onFailure(error: WeirError): void {
    this.fail(error);
  }

  private attach(partition: ResultPartition): void {
    if (this.released) return;
    const sub = partition.subpartitions[this.options.subpartition];
    if (sub === undefined) {
      this.fail(new WeirError("WEIR_E_NOT_FOUND", `${this.description}: partition has ${partition.numberOfSubpartitions} subpartitions`));
      return;
    }
    this.source = sub;
    try {
      sub.setConsumer(this); // announces already queued data itself
    } catch (err) {
      this.source = null;
      this.fail(err as WeirError);
    }
  }

  private fail(error: WeirError): void {
    if (this.released || error.code === "WEIR_E_CANCELED") return;
    this.listener?.onError(new WeirError(error.code, `${this.description}: ${error.message}`, { cause: error }));
  }
}
