/**
 * A file sink writing one JSON line per record into `<directory>/part-<subtask>`. Appends through a
 * write stream and honours its backpressure; `flush` at the end of a bounded job closes the file so
 * every line is on disk when the job reports FINISHED. Across failures it is at-least-once; the
 * transactional variant below is exactly-once with checkpoints.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import * as fsp from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Sink, SinkWriter, TransactionalSink, TransactionalSinkWriter } from "../api/sink.js";
import { WeirError } from "../common/errors.js";
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

/** What commits one finished part file: its hidden in-progress name and the name it becomes. */
export interface PartFileCommittable {
  pending: string;
  final: string;
}

/**
 * An exactly-once file sink (with checkpoints): each subtask writes into a hidden in-progress file
 * `.part-<subtask>-<id>.inprogress`; at a barrier the file is closed and fsynced, and when the
 * checkpoint completes it is renamed to `part-<subtask>-<checkpoint>-<id>`. Readers that skip names
 * starting with "." see only committed output. Renaming is idempotent: a commit repeated after a
 * failure finds the final file already there.
 */
export function transactionalFileSink<T>(directory: string, opts: FileSinkOptions<T> = {}): TransactionalSink<T, PartFileCommittable> {
  const format = opts.format ?? formatRecord;
  return {
    name: "Transactional File Sink",
    transactional: true,
    createWriter(ctx) {
      mkdirSync(directory, { recursive: true });
      return new PartFileWriter(directory, ctx.subtaskIndex, format);
    },
    createCommitter: () => ({ commit: (committables) => commitPartFiles(directory, committables) }),
  };
}

class PartFileWriter<T> implements TransactionalSinkWriter<T, PartFileCommittable> {
  /** The open part file; `written` settles when everything handed to it is written. */
  private current: { name: string; handle: Promise<FileHandle>; written: Promise<void> } | null = null;

  constructor(
    private readonly directory: string,
    private readonly subtask: number,
    private readonly format: (value: T) => string,
  ) {}

  /** One write per batch; the task holds its input until it is done (the sink's backpressure). */
  write(values: T[]): Promise<void> {
    let text = "";
    for (const v of values) text += this.format(v) + "\n";
    const part = (this.current ??= this.open());
    part.written = part.written.then(async () => void (await (await part.handle).write(text)));
    return part.written;
  }

  private open(): NonNullable<PartFileWriter<T>["current"]> {
    const name = `.part-${this.subtask}-${randomBytes(6).toString("hex")}.inprogress`;
    const handle = fsp.open(join(this.directory, name), "w");
    return { name, handle, written: handle.then(() => undefined) };
  }

  async prepareCommit(checkpointId: number): Promise<PartFileCommittable[]> {
    const part = this.current;
    this.current = null; // later writes open a new part file
    if (!part) return [];
    await closeDurably(part);
    const id = part.name.slice(`.part-${this.subtask}-`.length, -".inprogress".length);
    const cp = checkpointId === Number.MAX_SAFE_INTEGER ? "end" : String(checkpointId);
    return [{ pending: part.name, final: `part-${this.subtask}-${cp}-${id}` }];
  }

  async close(): Promise<void> {
    // An uncommitted part stays hidden; the next attempt's checkpoint does not reference it.
    const part = this.current;
    this.current = null;
    if (part) await closeDurably(part).catch(() => {});
  }
}

async function closeDurably(part: { handle: Promise<FileHandle>; written: Promise<void> }): Promise<void> {
  await part.written;
  const handle = await part.handle;
  await handle.sync();
  await handle.close();
}

async function commitPartFiles(directory: string, committables: PartFileCommittable[]): Promise<void> {
  for (const c of committables) {
    try {
      await fsp.rename(join(directory, c.pending), join(directory, c.final));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // Committed before a failure: the final file is there. Otherwise the data is gone.
      const done = await fsp.stat(join(directory, c.final)).then(() => true, () => false);
      if (!done) {
        throw new WeirError("WEIR_E_COMMIT", `cannot commit ${c.final} in ${directory}: neither it nor its in-progress file ${c.pending} exists`);
      }
    }
  }
  if (committables.length > 0) {
    // Make the renames durable.
    const dir = await fsp.open(directory, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
