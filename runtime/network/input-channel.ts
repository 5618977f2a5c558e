/**
 * What an InputGate reads from: a local channel (same process) or a remote one (TCP).
 */
import type { StreamElement } from "../common/elements.js";
import type { WeirError } from "../common/errors.js";

/** How a channel tells its gate about data and failure. Calls are synchronous and must only schedule. */
export interface ChannelListener {
  /** Data became available after the channel was found empty (or before the first poll). */
  onAvailable(): void;
  /** The channel failed; nothing more will arrive on it. */
  onError(error: WeirError): void;
}

/** One input of a consumer subtask: the stream of one producer subpartition. */
export interface InputChannel {
  /** Names the partition, subpartition and (for remote channels) the TaskManager address, for errors. */
  readonly description: string;
  /** Request the subpartition. Called once; data and errors are reported to `listener` from then on. */
  start(listener: ChannelListener): void;
  /** Batches waiting to be polled (the input queue length metric). */
  queuedBatches(): number;
  /** The next element, or undefined when none is available right now. Never throws. */
  poll(): StreamElement | undefined;
  /** Stop consuming (task cancelled or finished); frees the channel's resources. Idempotent. */
  release(): void;
}
