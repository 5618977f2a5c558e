/**
 * The `_metadata` file of a checkpoint or savepoint: a header line that lets a reader detect truncation
 * and corruption, then the JSON of CheckpointMetadata with every state file URL relative to the
 * `_metadata` directory (so a savepoint directory can be moved or copied to another bucket):
 *
 *   weir-snapshot v1 sha256=<hex of the body> length=<body bytes>\n
 *   {"format":"weir-snapshot","version":1,...,"file":{"url":"../shared/3f2a...","size":1234,...}}
 *
 * A file outside the `_metadata`'s file system/bucket keeps its absolute URL. In memory (acks, the
 * result of `readMetadata`) every URL is absolute.
 */
import { createHash } from "node:crypto";
import { WeirError } from "../../common/errors.js";
import type { CheckpointMetadata, OperatorSubtaskState, StateFileRef } from "../snapshot-types.js";
import type { CheckpointStorage } from "./checkpoint-storage.js";
import { mapLimit, STORAGE_CONCURRENCY } from "./internal/map-limit.js";
import { baseName, joinUrl, normalizeUrl, parentUrl, relativeUrl, resolveUrl } from "./internal/urls.js";
import { InvalidMetadata, validateMetadata } from "./internal/validate-metadata.js";

/** The name of the metadata file in a checkpoint or savepoint directory. */
export const METADATA_FILE = "_metadata";

const MAGIC = "weir-snapshot";
const VERSION = 1;
const HEADER_RE = /^weir-snapshot v1 sha256=([0-9a-f]{64}) length=(\d+)$/;
/** A header line is far shorter; a file without a newline in this many bytes has no header. */
const MAX_HEADER = 256;

/** Hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The state files one operator subtask references: its keyed file, then its raw state files. */
export function subtaskFileRefs(st: OperatorSubtaskState): StateFileRef[] {
  return [...(st.keyed ? [st.keyed.file] : []), ...(st.raw ?? [])];
}

/** Every state file a snapshot references (keyed and raw), with the operator and subtask that reference it. */
export function fileRefsOf(meta: CheckpointMetadata): { uid: string; subtask: number; ref: StateFileRef }[] {
  return meta.operators.flatMap((op) =>
    op.subtasks.flatMap((st, subtask) => subtaskFileRefs(st).map((ref) => ({ uid: op.uid, subtask, ref }))));
}

/** A copy of `meta` with every StateFileRef's url (keyed and raw) mapped by `f`. */
export function mapFileRefs(meta: CheckpointMetadata, f: (url: string) => string): CheckpointMetadata {
  const mapRef = (ref: StateFileRef): StateFileRef => ({ ...ref, url: f(ref.url) });
  const mapSubtask = (st: OperatorSubtaskState): OperatorSubtaskState => ({
    ...st,
    ...(st.keyed ? { keyed: { ...st.keyed, file: mapRef(st.keyed.file) } } : {}),
    ...(st.raw ? { raw: st.raw.map(mapRef) } : {}),
  });
  return { ...meta, operators: meta.operators.map((op) => ({ ...op, subtasks: op.subtasks.map(mapSubtask) })) };
}

/** The bytes of `_metadata` at `metadataUrl` (which determines the relative URLs). */
export function encodeMetadata(meta: CheckpointMetadata, metadataUrl: string): Buffer {
  const dir = parentUrl(metadataUrl);
  const body = Buffer.from(JSON.stringify(mapFileRefs(meta, (url) => relativeUrl(dir, url))), "utf8");
  const header = `${MAGIC} v${VERSION} sha256=${sha256Hex(body)} length=${body.length}\n`;
  return Buffer.concat([Buffer.from(header, "utf8"), body]);
}

function corrupt(metadataUrl: string, reason: string, cause?: unknown): WeirError {
  return new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `cannot restore from ${metadataUrl}: ${reason}`, { cause });
}

/** The body of a framed `_metadata` after the header checks: magic, version, length, checksum. */
function unframe(bytes: Buffer, metadataUrl: string): Buffer {
  if (bytes.length === 0) throw corrupt(metadataUrl, "_metadata is empty");
  const nl = bytes.subarray(0, MAX_HEADER).indexOf(0x0a);
  const head = bytes.subarray(0, nl < 0 ? MAX_HEADER : nl).toString("utf8");
  const fail = (reason: string) => corrupt(metadataUrl, reason);
  if (!head.startsWith(MAGIC + " ")) throw fail(`unknown format: not a Weir snapshot (starts with ${JSON.stringify(head.slice(0, 20))})`);
  if (nl < 0) throw fail("_metadata is truncated: its header line is incomplete");
  const version = /^weir-snapshot v(\S+)/.exec(head)?.[1];
  if (version !== String(VERSION)) throw fail(`unsupported snapshot version v${version} (this Weir reads v${VERSION})`);
  const m = HEADER_RE.exec(head);
  if (!m) throw fail(`malformed header line ${JSON.stringify(head.slice(0, 120))}`);
  const body = bytes.subarray(nl + 1);
  const declared = Number(m[2]);
  if (body.length < declared) throw fail(`_metadata is truncated: ${body.length} of ${declared} body bytes`);
  if (body.length > declared) throw fail(`_metadata has ${body.length - declared} bytes beyond its declared length ${declared}`);
  if (sha256Hex(body) !== m[1]) throw fail("checksum mismatch: the _metadata body does not match its sha256 (corrupted)");
  return body;
}

/** Parse and validate `_metadata` bytes; state file URLs come back absolute. Errors: WEIR_E_CORRUPT_CHECKPOINT. */
export function decodeMetadata(bytes: Buffer, metadataUrl: string): CheckpointMetadata {
  const body = unframe(bytes, metadataUrl);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw corrupt(metadataUrl, `the body is not valid JSON (${(e as Error).message})`, e);
  }
  let meta: CheckpointMetadata;
  try {
    meta = validateMetadata(parsed);
  } catch (e) {
    if (!(e instanceof InvalidMetadata)) throw e;
    throw corrupt(metadataUrl, `invalid structure: ${e.message}`, e);
  }
  const dir = parentUrl(metadataUrl);
  return mapFileRefs(meta, (rel) => resolveUrl(dir, rel));
}

/** Write `_metadata` atomically (a reader never sees half of it); returns the bytes written. */
export async function writeMetadata(storage: CheckpointStorage, metadataUrl: string, meta: CheckpointMetadata): Promise<number> {
  const bytes = encodeMetadata(meta, metadataUrl);
  await storage.writeAtomic(metadataUrl, bytes);
  return bytes.length;
}

/** The `_metadata` URL for a path given by a user: the file itself, or the directory holding it. */
export function metadataUrlOf(pathOrUrl: string): string {
  return baseName(pathOrUrl) === METADATA_FILE ? normalizeUrl(pathOrUrl) : joinUrl(pathOrUrl, METADATA_FILE);
}

/**
 * Read a snapshot from its `_metadata` file or directory. Refuses (WEIR_E_CORRUPT_CHECKPOINT, naming
 * the URL and the failed check) a missing, empty, truncated, corrupt, foreign or invalid `_metadata`.
 */
export async function readMetadata(
  storage: CheckpointStorage,
  pathOrUrl: string,
): Promise<{ meta: CheckpointMetadata; metadataUrl: string }> {
  const metadataUrl = metadataUrlOf(pathOrUrl);
  let bytes: Buffer;
  try {
    bytes = await storage.read(metadataUrl);
  } catch (e) {
    if (e instanceof WeirError && e.code === "WEIR_E_STATE_FILE_MISSING") {
      throw corrupt(metadataUrl, "_metadata does not exist (not a completed checkpoint or savepoint)", e);
    }
    throw e;
  }
  return { meta: decodeMetadata(bytes, metadataUrl), metadataUrl };
}

/**
 * Check that every state file of `meta` exists with its recorded size (hashes are checked when a task
 * reads a file, see `readVerified`). Throws WEIR_E_STATE_FILE_MISSING when a file is missing, else
 * WEIR_E_CORRUPT_CHECKPOINT for a wrong size; the message lists every problem with operator uid,
 * subtask and URL.
 */
export async function verifyStateFiles(storage: CheckpointStorage, meta: CheckpointMetadata): Promise<void> {
  const refs = fileRefsOf(meta);
  const problems = await mapLimit(refs, STORAGE_CONCURRENCY, async ({ uid, subtask, ref }) => {
    const where = `operator "${uid}" subtask ${subtask}: state file ${ref.url}`;
    const st = await storage.stat(ref.url);
    if (!st) return { missing: true, text: `${where} does not exist` };
    if (st.size !== ref.size) return { missing: false, text: `${where} has ${st.size} bytes, _metadata records ${ref.size}` };
    return null;
  });
  const found = problems.filter((p) => p !== null);
  if (found.length === 0) return;
  const shown = found.slice(0, 10).map((p) => p.text);
  if (found.length > 10) shown.push(`... and ${found.length - 10} more`);
  const code = found.some((p) => p.missing) ? "WEIR_E_STATE_FILE_MISSING" : "WEIR_E_CORRUPT_CHECKPOINT";
  throw new WeirError(code, `checkpoint ${meta.checkpointId} of job ${meta.jobId} is incomplete:\n  ${shown.join("\n  ")}`);
}

/** Read a whole state file and check its size and SHA-256 against `ref` (WEIR_E_CORRUPT_CHECKPOINT on mismatch). */
export async function readVerified(storage: CheckpointStorage, ref: StateFileRef): Promise<Buffer> {
  const data = await storage.read(ref.url);
  if (data.length !== ref.size) {
    throw new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `state file ${ref.url} has ${data.length} bytes, expected ${ref.size}`);
  }
  const actual = sha256Hex(data);
  if (actual !== ref.sha256) {
    throw new WeirError("WEIR_E_CORRUPT_CHECKPOINT", `state file ${ref.url} is corrupt: sha256 ${actual}, expected ${ref.sha256}`);
  }
  return data;
}
