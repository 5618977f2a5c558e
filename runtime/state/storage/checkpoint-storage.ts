/**
 * Where checkpoint and savepoint files live: one interface over the local file system (`file:///dir`, or a
 * plain absolute path) and S3 (`s3://bucket/prefix`). Every method takes absolute URLs.
 *
 *   const storage = storageFor(config["state.checkpoints.dir"], config);
 *   await storage.writeAtomic(joinUrl(dir, "chk-3", "_metadata"), bytes);
 */
import { WeirError } from "../../common/errors.js";
import type { RuntimeConfig } from "../../config/options.js";
import { FileStorage } from "./internal/file-storage.js";
import { S3Storage, s3ClientSettings } from "./internal/s3-storage.js";
import { parseUrl, SUPPORTED_SCHEMES } from "./internal/urls.js";

export { joinUrl, normalizeUrl, parentUrl, relativeUrl, resolveUrl } from "./internal/urls.js";

/**
 * A file store for checkpoints. URLs name files; "directories" are prefixes (S3 has no real ones), so
 * a directory exists exactly when a file lies below it, and writing a file creates its parents.
 *
 * Errors: a missing file on `read` is `WEIR_E_STATE_FILE_MISSING` naming the URL; a range read past
 * the end of a file is `WEIR_E_CORRUPT_CHECKPOINT` (the file is truncated); any other failure is
 * `WEIR_E_STORAGE` naming the operation and URL, with the underlying error as `cause`.
 */
export interface CheckpointStorage {
  /** Create or replace a file. A reader racing the write may see part of it: use for files nobody reads yet. */
  write(url: string, data: Uint8Array): Promise<void>;
  /** Readers see the old content or the whole new content, never part (file: temp + fsync + rename; s3: a single PUT). */
  writeAtomic(url: string, data: Uint8Array): Promise<void>;
  /** The whole file, or bytes [start, end) of it. */
  read(url: string, range?: { start: number; end: number }): Promise<Buffer>;
  /** The file's size, or null when there is no file at `url`. */
  stat(url: string): Promise<{ size: number } | null>;
  /** Delete a file; a missing file is fine. */
  delete(url: string): Promise<void>;
  /** Delete everything below `dirUrl` (recursively / by prefix); a missing directory is fine. */
  deleteDirectory(dirUrl: string): Promise<void>;
  /** Absolute URLs of all files below `dirUrl` (recursively), sorted; [] when there are none. */
  list(dirUrl: string): Promise<string[]>;
}

const cache = new Map<string, CheckpointStorage>();

/**
 * The storage for a URL's scheme, shared by every caller with the same scheme and S3 settings (one S3
 * client, with its connection pool, per endpoint and credentials). An unknown scheme is `WEIR_E_CONFIG`.
 */
export function storageFor(url: string, config: RuntimeConfig): CheckpointStorage {
  const { scheme, authority } = parseUrl(url);
  if (scheme === "file") return cached("file", () => new FileStorage());
  if (scheme === "s3") {
    if (authority === "") throw new WeirError("WEIR_E_CONFIG", `"${url}" names no bucket (expected s3://bucket/prefix)`);
    const settings = s3ClientSettings(config);
    return cached(`s3 ${JSON.stringify(settings)}`, () => new S3Storage(settings));
  }
  throw new WeirError(
    "WEIR_E_CONFIG",
    `unsupported storage URL "${url}": supported schemes are ${SUPPORTED_SCHEMES.map((s) => `${s}://`).join(", ")} (or a plain absolute path)`,
  );
}

function cached(key: string, make: () => CheckpointStorage): CheckpointStorage {
  let s = cache.get(key);
  if (!s) {
    s = make();
    cache.set(key, s);
  }
  return s;
}
