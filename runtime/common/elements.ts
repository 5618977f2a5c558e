/**
 * What flows through channels and between chained operators: record batches and in-band events.
 * Records always travel in batches (DESIGN: "batches at every boundary"); events keep their order
 * relative to the batches around them.
 */

/**
 * A batch of records. `timestamps[i]` is the event time of `values[i]` in epoch milliseconds, or the
 * whole array is `null` when the records carry no event time (no watermark strategy upstream).
 * Whoever receives a batch may keep its arrays; a sender never mutates a batch after handing it on.
 */
export interface Batch<T = unknown> {
  readonly kind: "batch";
  readonly values: T[];
  readonly timestamps: number[] | null;
}

/** Event time progress: no record with a timestamp <= `timestamp` is expected any more on this channel. */
export interface WatermarkEvent {
  readonly kind: "watermark";
  readonly timestamp: number;
}

/** The channel became idle (its watermark stops holding back the minimum) or active again. */
export interface StatusEvent {
  readonly kind: "status";
  readonly idle: boolean;
}

/** The producer finished: nothing more will arrive on this channel. */
export interface EndOfPartitionEvent {
  readonly kind: "end";
}

/**
 * A checkpoint barrier: everything before it on a channel belongs to checkpoint `checkpointId`,
 * everything after it to the next. A task snapshots once barrier N arrived on all its open channels.
 */
export interface BarrierEvent {
  readonly kind: "barrier";
  readonly checkpointId: number;
  /** Trigger time, epoch ms. */
  readonly timestamp: number;
  readonly savepoint: boolean;
  /** Stop-with-savepoint: after this barrier tasks wait for completion, commit, and finish. */
  readonly stop: boolean;
  /** Directory URL where tasks write their state files for this checkpoint. */
  readonly targetDir: string;
}

export type StreamEvent = WatermarkEvent | StatusEvent | EndOfPartitionEvent | BarrierEvent;
export type StreamElement = Batch | StreamEvent;

/** The watermark a finished input contributes: it never holds back the minimum again. */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;
/** The watermark before any has been seen. */
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;

/** Build a batch; `timestamps` must be null or as long as `values`. */
export function batchOf<T>(values: T[], timestamps: number[] | null = null): Batch<T> {
  return { kind: "batch", values, timestamps };
}

export const END_OF_PARTITION: EndOfPartitionEvent = Object.freeze({ kind: "end" });
export const STATUS_IDLE: StatusEvent = Object.freeze({ kind: "status", idle: true });
export const STATUS_ACTIVE: StatusEvent = Object.freeze({ kind: "status", idle: false });

export function watermarkEvent(timestamp: number): WatermarkEvent {
  return { kind: "watermark", timestamp };
}
