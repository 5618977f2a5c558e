/** The errors both storage implementations raise, so file:// and s3:// fail the same way. */
import { WeirError } from "../../../common/errors.js";

/** A byte range, end exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The file at `url` does not exist. */
export function fileMissing(url: string, cause?: unknown): WeirError {
  return new WeirError("WEIR_E_STATE_FILE_MISSING", `state file ${url} does not exist`, { cause });
}

/** An operation failed for a reason other than a missing file; wraps the cause with the URL. */
export function storageFailed(op: string, url: string, cause: unknown): WeirError {
  if (cause instanceof WeirError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new WeirError("WEIR_E_STORAGE", `${op} ${url} failed: ${detail}`, { cause });
}

/** Refuse a malformed range before any I/O (a caller bug, not a storage failure). */
export function checkRange(url: string, range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`read ${url}: invalid byte range [${start}, ${end})`);
  }
}

/** A range read that came back short means the file ends inside the range: the file is truncated. */
export function checkRangeLength(url: string, range: ByteRange, got: number): void {
  if (got !== range.end - range.start) {
    throw new WeirError(
      "WEIR_E_CORRUPT_CHECKPOINT",
      `${url}: byte range [${range.start}, ${range.end}) lies beyond the end of the file (got ${got} bytes); the file is truncated`,
    );
  }
}
