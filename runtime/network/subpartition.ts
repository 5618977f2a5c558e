/**
 * The queue between a producer subtask and one consumer subtask. Bounded in batches: the producer asks
 * `isFull()` before it produces more (add itself always accepts, so one input batch never has to be
 * split across a wait), and is told through `onSpaceAvailable` when the consumer made room. Events do
 * not count against the capacity but keep their place between batches.
 */
import type { StreamElement } from "../common/elements.js";
import { WeirError } from "../common/errors.js";
import { RingQueue } from "./ring-queue.js";

/** Default capacity of a subpartition, in batches. */
export const DEFAULT_SUBPARTITION_CAPACITY = 4;

/** The (single) consumer of a subpartition: a local channel or a remote sender. */
export interface SubpartitionConsumer {
  /** The queue went from empty to non-empty: poll until it returns undefined. Must not poll re-entrantly. */
  onDataAvailable(): void;
  /** The partition failed or was released before this consumer read its end. */
  onFailure(error: WeirError): void;
}

/** Hooks of the owning ResultPartition. */
export interface SubpartitionOwner {
  /** The consumer read the end-of-partition event. */
  subpartitionConsumed(index: number): void;
  /** The consumer went away (connection lost) before reading the end. */
  consumerLost(index: number, error: WeirError): void;
}

/** A bounded FIFO of StreamElements with one consumer. */
export class Subpartition {
  private readonly queue = new RingQueue<StreamElement>();
  private batches = 0;
  private consumer: SubpartitionConsumer | null = null;
  private spaceListener: (() => void) | null = null;
  private failure: WeirError | null = null;
  private endAdded = false;
  private endConsumed = false;

  constructor(
    readonly partitionId: string,
    readonly index: number,
    readonly capacity: number,
    private readonly owner: SubpartitionOwner,
  ) {}

  /** Queue an element. Always accepts; consecutive queued watermarks collapse to the newest. */
  add(element: StreamElement): void {
    if (this.failure !== null) return; // consumers already got the failure; drop silently
    if (this.endAdded) throw new WeirError("WEIR_E_PROTOCOL", `${this.describe()}: element added after end of partition`);
    if (element.kind === "batch") this.batches++;
    else if (element.kind === "end") this.endAdded = true;
    else if (element.kind === "watermark" && this.queue.peekLast()?.kind === "watermark") {
      this.queue.replaceLast(element);
      return;
    }
    this.queue.push(element);
    if (this.queue.length === 1) this.consumer?.onDataAvailable();
  }

  /** True while the queued batches reach the capacity: the producer should stop producing. */
  isFull(): boolean {
    return this.batches >= this.capacity;
  }

  /** Batches queued (the output queue length, and the backlog announced to a remote consumer). */
  get queuedBatches(): number {
    return this.batches;
  }

  /** Elements queued, events included. */
  get queuedElements(): number {
    return this.queue.length;
  }

  /** True while a consumer (local channel or remote sender) is attached. */
  get hasConsumer(): boolean {
    return this.consumer !== null;
  }

  /** True once the consumer has taken the end-of-partition event. */
  get isConsumed(): boolean {
    return this.endConsumed;
  }

  /** The next element without taking it (a remote sender checks whether it costs credit). */
  peek(): StreamElement | undefined {
    return this.failure === null ? this.queue.peek() : undefined;
  }

  /** Take the next element, or undefined when empty or failed. */
  poll(): StreamElement | undefined {
    if (this.failure !== null) return undefined;
    const element = this.queue.shift();
    if (element === undefined) return undefined;
    if (element.kind === "batch") {
      if (this.batches-- === this.capacity) this.spaceListener?.();
    } else if (element.kind === "end") {
      this.endConsumed = true;
      this.owner.subpartitionConsumed(this.index);
    }
    return element;
  }

  /** Attach the one consumer. Throws if another consumer is attached or the subpartition failed. */
  setConsumer(consumer: SubpartitionConsumer): void {
    if (this.failure !== null) throw this.failure;
    if (this.consumer !== null) {
      throw new WeirError("WEIR_E_PROTOCOL", `${this.describe()} is already being consumed`);
    }
    this.consumer = consumer;
    if (this.queue.length > 0) consumer.onDataAvailable();
  }

  /** Detach the consumer (cancelled request); a new one may attach and continue where it stopped. */
  releaseConsumer(consumer: SubpartitionConsumer): void {
    if (this.consumer === consumer) this.consumer = null;
  }

  /** The consumer was lost before reading the end: detach it and tell the partition. */
  consumerLost(consumer: SubpartitionConsumer, error: WeirError): void {
    if (this.consumer !== consumer) return;
    this.consumer = null;
    if (!this.endConsumed) this.owner.consumerLost(this.index, error);
  }

  /** The producer side listener for "a full queue has room again". One listener (the RecordWriter). */
  onSpaceAvailable(listener: () => void): void {
    this.spaceListener = listener;
  }

  /** Drop queued data and tell the consumer, unless it already read the end. */
  fail(error: WeirError): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.queue.clear();
    this.batches = 0;
    if (!this.endConsumed) this.consumer?.onFailure(error);
    this.consumer = null;
  }

  /** A readable name for errors. */
  describe(): string {
    return `partition ${this.partitionId} subpartition ${this.index}`;
  }
}
