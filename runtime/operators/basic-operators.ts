/**
 * Stateless one-input operators and the sink operator. Each processes a whole batch in a loop and
 * emits at most one batch per input batch.
 */
import type { FilterFunction, FlatMapFunction, MapFunction } from "../api/functions.js";
import type { Sink, SinkWriter } from "../api/sink.js";
import type { Batch } from "../common/elements.js";
import { BatchCollector, StreamOperator, type OperatorSnapshot, type SnapshotRequest } from "./operator.js";

export class MapOperator extends StreamOperator {
  constructor(private readonly fn: MapFunction<any, any>) {
    super();
  }
  processBatch(batch: Batch): void {
    const fn = this.fn;
    const vs = batch.values;
    const n = vs.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = fn(vs[i]);
    this.output.emit({ kind: "batch", values: out, timestamps: batch.timestamps });
  }
}

export class FilterOperator extends StreamOperator {
  constructor(private readonly fn: FilterFunction<any>) {
    super();
  }
  processBatch(batch: Batch): void {
    const fn = this.fn;
    const vs = batch.values;
    const ts = batch.timestamps;
    // Sized for the worst case and trimmed after: index writes beat push on this path.
    const outV: unknown[] = new Array(vs.length);
    const outT: number[] | null = ts ? new Array<number>(vs.length).fill(0.5) : null;
    let n = 0;
    for (let i = 0; i < vs.length; i++) {
      if (fn(vs[i])) {
        outV[n] = vs[i];
        if (outT) outT[n] = ts![i]!;
        n++;
      }
    }
    if (n === 0) return;
    outV.length = n;
    if (outT) outT.length = n;
    this.output.emit({ kind: "batch", values: outV, timestamps: outT });
  }
}

export class FlatMapOperator extends StreamOperator {
  private readonly out = new BatchCollector<unknown>();
  constructor(private readonly fn: FlatMapFunction<any, any>) {
    super();
  }
  processBatch(batch: Batch): void {
    const { fn, out } = this;
    const vs = batch.values;
    const ts = batch.timestamps;
    for (let i = 0; i < vs.length; i++) {
      out.currentTimestamp = ts ? ts[i]! : 0;
      const ret = fn(vs[i], out);
      if (ret) for (const r of ret) out.collect(r);
    }
    out.flushTo(this.output, ts !== null);
  }
}

/** Hands batches to a user sink writer; a returned Promise holds the task's input until it settles. */
export class SinkOperator extends StreamOperator {
  private writer!: SinkWriter<unknown>;
  constructor(private readonly sink: Sink<any>) {
    super();
  }
  override async open(): Promise<void> {
    this.writer = await this.sink.createWriter(this.ctx.runtime);
  }
  processBatch(batch: Batch): void | Promise<void> {
    return this.writer.write(batch.values, batch.timestamps);
  }
  /** A writer that writes asynchronously makes what it got before the barrier durable before the ack. */
  override snapshotState(request: SnapshotRequest): (() => Promise<OperatorSnapshot>) | null {
    if (!this.writer.prepareSnapshot) return null;
    const durable = this.writer.prepareSnapshot(request.checkpointId);
    return async () => {
      await durable;
      return { keyed: null, lists: [] };
    };
  }
  /** Sinks end the chain: watermarks stop here. */
  override processWatermark(timestamp: number): void {
    this.currentWatermark = timestamp;
  }
  override async endInput(): Promise<void> {
    await this.writer.flush?.();
  }
  override async close(): Promise<void> {
    await this.writer?.close?.();
  }
}
