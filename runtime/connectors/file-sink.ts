/**
 * A file sink writing one JSON line per record into `<directory>/part-<subtask>`. Appends through a
 * write stream and honours its backpressure; `flush` at the end of a bounded job closes the file so
 * every line is on disk when the job reports FINISHED. (The transactional, checkpoint-committed file
 * sink arrives with the state issue.)
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { Sink, SinkWriter } from "../api/sink.js";
import { formatRecord } from "./print.js";

export interface FileSinkOptions<T> {
  /** Line format (default: strings as they are, other values as JSON). */
  format?: (value: T) => string;
}

export function fileSink<T>(directory: string, opts: FileSinkOptions<T> = {}): Sink<T> {
  const format = opts.format ?? formatRecord;
  return {
    name: "File Sink",
    createWriter(ctx): SinkWriter<T> {
      mkdirSync(directory, { recursive: true });
      const stream: WriteStream = createWriteStream(join(directory, `part-${ctx.subtaskIndex}`), { flags: "a" });
      const failed = new Promise<never>((_, reject) => stream.once("error", reject));
      failed.catch(() => {});
      const ended = () =>
        new Promise<void>((resolve, reject) => {
          stream.once("error", reject);
          stream.end(resolve);
        });
      return {
        write(values) {
          let text = "";
          for (const v of values) text += format(v) + "\n";
          if (stream.write(text)) return;
          return Promise.race([new Promise<void>((resolve) => stream.once("drain", resolve)), failed]);
        },
        flush: () => (stream.closed || stream.writableEnded ? undefined : ended()),
        close: () => (stream.closed || stream.writableEnded ? undefined : ended()),
      };
    },
  };
}
