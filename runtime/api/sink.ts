/**
 * The sink contract. A writer receives whole batches; returning a Promise holds further input of the
 * subtask until it settles, which is how a slow external system backpressures the job.
 * Delivery guarantee here: at-least-once within a run, nothing across failures (transactional sinks
 * arrive with checkpoints).
 */
import type { RuntimeContext } from "./functions.js";

export interface SinkWriter<T> {
  write(values: T[], timestamps: number[] | null): void | Promise<void>;
  /** Every input ended (bounded job): make everything written durable. */
  flush?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface Sink<T> {
  readonly name?: string;
  createWriter(ctx: RuntimeContext): SinkWriter<T> | Promise<SinkWriter<T>>;
}
