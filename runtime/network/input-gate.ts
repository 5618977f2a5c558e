/**
 * The input side of a consumer subtask: its channels, each feeding operator input 0 or 1.
 *
 * Channels with data wait in a ring of channel indexes (each at most once); `poll()` takes one element
 * from the head channel and moves that channel to the tail, so channels are served round robin.
 *
 * The task's contract:
 *   - call `poll()` until it returns undefined, then wait for the `onAvailable` callback;
 *   - `poll()` throws the first channel error (a WeirError naming the channel and, for remote ones,
 *     the TaskManager address); `onAvailable` also fires on error so a waiting task wakes up;
 *   - an end-of-partition element comes out of `poll()` like any other, after which the channel is
 *     finished; `isFinished()` says all are;
 *   - a checkpoint barrier blocks its channel as it comes out of `poll()`: nothing more is read from
 *     that channel (its data waits upstream, holding credits) until the task calls `unblock`/`unblockAll`
 *     once the barrier is aligned, or discarded.
 */
import type { StreamElement } from "../common/elements.js";
import type { WeirError } from "../common/errors.js";
import type { InputChannel } from "./input-channel.js";

/** A channel and the operator input it feeds. */
export interface GateChannel {
  readonly channel: InputChannel;
  /** Operator input index: 0, or 1 for the second input of a two-input operator. */
  readonly input: number;
}

/** One element taken from the gate. */
export interface GateElement {
  /** Index of the channel in the gate. */
  readonly channel: number;
  /** Operator input the channel feeds. */
  readonly input: number;
  readonly element: StreamElement;
}

/** Round-robin reader over the input channels of one subtask. */
export class InputGate {
  private readonly channels: readonly InputChannel[];
  private readonly inputs: Int32Array;
  private readonly finished: Uint8Array;
  private readonly queued: Uint8Array;
  private readonly blocked: Uint8Array;
  /** Ring of indexes of channels that may have data; never holds an index twice, so it never grows. */
  private readonly ring: Int32Array;
  private ringHead = 0;
  private ringCount = 0;
  private finishedCount = 0;
  private failure: WeirError | null = null;
  private availableListener: (() => void) | null = null;
  private errorListener: ((error: WeirError) => void) | null = null;
  private started = false;

  constructor(channels: readonly GateChannel[]) {
    this.channels = channels.map((c) => c.channel);
    this.inputs = Int32Array.from(channels, (c) => c.input);
    this.finished = new Uint8Array(channels.length);
    this.queued = new Uint8Array(channels.length);
    this.blocked = new Uint8Array(channels.length);
    this.ring = new Int32Array(channels.length);
  }

  /** Number of channels. */
  get numberOfChannels(): number {
    return this.channels.length;
  }

  /** The first channel error, if any. */
  get error(): WeirError | null {
    return this.failure;
  }

  /** Start all channels (partition requests go out now). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.channels.forEach((channel, index) =>
      channel.start({
        onAvailable: () => this.channelAvailable(index),
        onError: (error) => this.channelFailed(error),
      }),
    );
  }

  /** The next element round robin across channels, or undefined if none has data. Throws a channel error. */
  poll(): GateElement | undefined {
    if (this.failure !== null) throw this.failure;
    while (this.ringCount > 0) {
      const index = this.ring[this.ringHead]!;
      this.ringHead = this.ringHead + 1 === this.ring.length ? 0 : this.ringHead + 1;
      this.ringCount--;
      const element = this.channels[index]!.poll();
      if (element === undefined) {
        this.queued[index] = 0;
        continue;
      }
      if (element.kind === "end") this.channelFinished(index);
      else if (element.kind === "barrier") {
        this.queued[index] = 0;
        this.blocked[index] = 1;
      } else this.enqueue(index); // more may follow; an empty poll later drops it
      return { channel: index, input: this.inputs[index]!, element };
    }
    return undefined;
  }

  /** Resume reading a channel blocked by a barrier. */
  unblock(index: number): void {
    if (this.blocked[index] === 0) return;
    this.blocked[index] = 0;
    // It may hold data already; an empty poll drops it from the ring again.
    this.channelAvailable(index);
  }

  unblockAll(): void {
    for (let i = 0; i < this.channels.length; i++) this.unblock(i);
  }

  isBlocked(index: number): boolean {
    return this.blocked[index] === 1;
  }

  /** Call `listener` whenever the gate goes from no data to data (and on the first error). */
  onAvailable(listener: () => void): void {
    this.availableListener = listener;
  }

  /** Call `listener` once, with the first channel error. */
  onError(listener: (error: WeirError) => void): void {
    this.errorListener = listener;
  }

  /** True once every channel delivered its end-of-partition. */
  isFinished(): boolean {
    return this.finishedCount === this.channels.length;
  }

  /** True once channel `index` delivered its end-of-partition. */
  isChannelFinished(index: number): boolean {
    return this.finished[index] === 1;
  }

  /** Channels feeding operator input `input` that have not ended yet. */
  unfinishedChannels(input: number): number {
    let count = 0;
    for (let i = 0; i < this.channels.length; i++) if (this.inputs[i] === input && this.finished[i] === 0) count++;
    return count;
  }

  /** Batches waiting in all channels (the input queue length metric). */
  queuedBatches(): number {
    let n = 0;
    for (const c of this.channels) n += c.queuedBatches();
    return n;
  }

  /** Release every channel (cancels remote requests). */
  release(): void {
    for (const channel of this.channels) channel.release();
  }

  private channelAvailable(index: number): void {
    if (this.queued[index] === 1 || this.finished[index] === 1 || this.blocked[index] === 1) return;
    const wasEmpty = this.ringCount === 0;
    this.enqueue(index);
    if (wasEmpty) this.availableListener?.();
  }

  private enqueue(index: number): void {
    this.queued[index] = 1;
    let tail = this.ringHead + this.ringCount;
    if (tail >= this.ring.length) tail -= this.ring.length;
    this.ring[tail] = index;
    this.ringCount++;
  }

  private channelFinished(index: number): void {
    this.queued[index] = 0;
    this.finished[index] = 1;
    this.finishedCount++;
    this.channels[index]!.release();
  }

  private channelFailed(error: WeirError): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.errorListener?.(error);
    this.availableListener?.();
  }
}
