/**
 * Combines the watermarks and idle statuses of a task's input channels into one watermark and
 * status, as Flink's StatusWatermarkValve does:
 *
 * - output watermark = min over active, aligned channels; emitted only when it advances;
 * - an idle channel does not hold back the minimum; when it becomes active again it is only aligned
 *   (counted) once its watermark is >= the last output, so the output never goes backwards;
 * - all non-ended channels idle -> output status idle (after flushing the max watermark across
 *   channels when the channel that went idle last was the one holding the minimum);
 * - an ended channel never counts again; all channels ended -> +Infinity.
 *
 *   const valve = new StatusWatermarkValve(3, { emitWatermark: (ts) => op.processWatermark(ts), emitStatus });
 *   valve.inputWatermark(1, 1_000); valve.inputStatus(2, true); valve.channelEnded(0);
 */
import { MAX_WATERMARK, MIN_WATERMARK } from "../common/elements.js";

/** Where the valve sends the combined watermark and status. */
export interface ValveOutput {
  emitWatermark(ts: number): void;
  emitStatus(idle: boolean): void;
}

interface ChannelState {
  watermark: number;
  idle: boolean;
  /** Counted in the minimum: active and caught up with the output since it last became active. */
  aligned: boolean;
  ended: boolean;
}

/** The watermark/status combiner of one task's inputs. */
export class StatusWatermarkValve {
  private readonly channels: ChannelState[];
  private lastOutput = MIN_WATERMARK;
  private outputIdle = false;

  constructor(
    numChannels: number,
    private readonly out: ValveOutput,
  ) {
    if (!Number.isInteger(numChannels) || numChannels < 1) throw new RangeError(`a valve needs >= 1 channel, got ${numChannels}`);
    this.channels = Array.from({ length: numChannels }, () => ({ watermark: MIN_WATERMARK, idle: false, aligned: true, ended: false }));
  }

  /** The last watermark the valve emitted. */
  get currentWatermark(): number {
    return this.lastOutput;
  }

  /** Whether the valve's output is idle. */
  get isIdle(): boolean {
    return this.outputIdle;
  }

  /** A watermark arrived on `channel`. Watermarks of idle or ended channels are ignored (as in Flink). */
  inputWatermark(channel: number, ts: number): void {
    const c = this.channel(channel);
    if (c.ended || c.idle || ts <= c.watermark) return;
    c.watermark = ts;
    if (!c.aligned && ts >= this.lastOutput) c.aligned = true;
    this.emitMinOfAligned();
  }

  /** `channel` became idle (`true`) or active again (`false`). */
  inputStatus(channel: number, idle: boolean): void {
    const c = this.channel(channel);
    if (c.ended || c.idle === idle) return;
    if (idle) this.toIdle(c);
    else this.toActive(c);
  }

  /** Nothing more arrives on `channel`: it never holds back the minimum again. */
  channelEnded(channel: number): void {
    const c = this.channel(channel);
    if (c.ended) return;
    c.ended = true;
    c.aligned = false;
    if (this.channels.every((ch) => ch.ended)) {
      if (this.outputIdle) this.setOutputIdle(false);
      this.emit(MAX_WATERMARK);
    } else if (!this.hasActiveChannel()) {
      this.allIdle(c.watermark);
    } else {
      this.emitMinOfAligned();
    }
  }

  private toIdle(c: ChannelState): void {
    c.idle = true;
    c.aligned = false;
    if (!this.hasActiveChannel()) this.allIdle(c.watermark);
    else if (c.watermark === this.lastOutput) this.emitMinOfAligned();
  }

  private toActive(c: ChannelState): void {
    c.idle = false;
    if (c.watermark >= this.lastOutput) c.aligned = true;
    if (this.outputIdle) this.setOutputIdle(false);
  }

  /**
   * No channel can advance any more: flush the highest watermark of the remaining channels if the
   * channel that just stopped was holding the minimum, then go idle.
   */
  private allIdle(lastChannelWatermark: number): void {
    if (lastChannelWatermark === this.lastOutput) {
      let max = MIN_WATERMARK;
      for (const ch of this.channels) if (!ch.ended && ch.watermark > max) max = ch.watermark;
      this.emit(max);
    }
    this.setOutputIdle(true);
  }

  private hasActiveChannel(): boolean {
    for (const ch of this.channels) if (!ch.ended && !ch.idle) return true;
    return false;
  }

  private emitMinOfAligned(): void {
    let min = MAX_WATERMARK;
    let found = false;
    for (const ch of this.channels) {
      if (ch.aligned && !ch.idle && !ch.ended) {
        found = true;
        if (ch.watermark < min) min = ch.watermark;
      }
    }
    if (found) this.emit(min);
  }

  private emit(ts: number): void {
    if (ts <= this.lastOutput) return;
    this.lastOutput = ts;
    this.out.emitWatermark(ts);
  }

  private setOutputIdle(idle: boolean): void {
    if (this.outputIdle === idle) return;
    this.outputIdle = idle;
    this.out.emitStatus(idle);
  }

  private channel(i: number): ChannelState {
    const c = this.channels[i];
    if (c === undefined) throw new RangeError(`valve has ${this.channels.length} channels, got channel ${i}`);
    return c;
  }
}
