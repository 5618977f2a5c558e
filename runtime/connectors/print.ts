/**
 * Sinks for people and benchmarks: print each record as a line on standard output, or discard records
 * while counting and hashing them (a blackhole that still proves what arrived).
 */
import type { Sink, SinkWriter } from "../api/sink.js";

/** Formats a record for a line of output: strings as they are, everything else as JSON. */
export function formatRecord(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Print records to the process's stdout, one per line, prefixed with `prefix>` and the subtask
 * number when parallel (as Flink's print sink). Writes a whole batch at once and waits for stdout to
 * drain, so a slow terminal backpressures the job instead of buffering without bound.
 */
export function printSink<T>(prefix?: string): Sink<T> {
  return {
    name: "Print Sink",
    createWriter(ctx): SinkWriter<T> {
      const tag = [prefix, ctx.parallelism > 1 ? String(ctx.subtaskIndex + 1) : undefined].filter(Boolean).join(":");
      const head = tag ? `${tag}> ` : "";
      return {
        write(values) {
          let text = "";
          for (const v of values) text += head + formatRecord(v) + "\n";
          if (process.stdout.write(text)) return;
          return new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
        },
      };
    },
  };
}

/** Discard records (for benchmarks); counts them on the writer for those who look. */
export function discardSink<T>(): Sink<T> {
  return {
    name: "Discard Sink",
    createWriter: (): SinkWriter<T> & { count: number } => ({
      count: 0,
      write(values) {
        this.count += values.length;
      },
    }),
  };
}
