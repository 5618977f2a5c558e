/**
 * Length-prefixed frames and the data protocol's messages.
 *
 * Frame: [u32 BE body length][body], body = [u8 message type][fields]. Messages:
 *   PartitionRequest  consumer -> producer  [u32 receiverId][u32 subpartition][u32 credit][utf8 partitionId]
 *   Data              producer -> consumer  [u32 receiverId][u32 backlog][serialized StreamElement]
 *   AddCredit         consumer -> producer  [u32 n][n x (u32 receiverId, u32 credit)]
 *   CancelRequest     consumer -> producer  [u32 receiverId]
 *   ErrorResponse     producer -> consumer  [u32 receiverId][utf8 JSON {code, message}]
 * `receiverId` is chosen by the consumer side and is unique per connection. An ErrorResponse with
 * receiverId CONNECTION_ERROR concerns the whole connection.
 */
import type { StreamElement } from "../common/elements.js";
import { WeirError, type WeirErrorCode } from "../common/errors.js";
import { encodeElement } from "./serializer.js";

/** Message type bytes. */
export const MessageType = {
  PartitionRequest: 1,
  Data: 2,
  AddCredit: 3,
  CancelRequest: 4,
  ErrorResponse: 5,
} as const;

/** ErrorResponse receiver id meaning "the whole connection". */
export const CONNECTION_ERROR = 0xffffffff;
/** Idle time before TCP keepalive probes start on data connections (notices peers gone without a FIN). */
export const KEEPALIVE_MS = 10_000;
/** Frames larger than this are a protocol error rather than an allocation. */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;

const LENGTH_BYTES = 4;
const DATA_HEADER_BYTES = LENGTH_BYTES + 1 + 4 + 4;

/** A decoded protocol message. Data payloads stay encoded until the receiving channel decodes them. */
export type Message =
  | { kind: "partitionRequest"; receiverId: number; partitionId: string; subpartition: number; credit: number }
  | { kind: "data"; receiverId: number; backlog: number; payload: Buffer }
  | { kind: "addCredit"; grants: CreditGrant[] }
  | { kind: "cancelRequest"; receiverId: number }
  | { kind: "errorResponse"; receiverId: number; code: WeirErrorCode; message: string };

/** Credit returned to one sender. */
export interface CreditGrant {
  readonly receiverId: number;
  readonly credit: number;
}

/** One Data frame: the element is serialized straight behind the header, in a single buffer. */
export function encodeData(receiverId: number, backlog: number, element: StreamElement): Buffer {
  const out = encodeElement(element, DATA_HEADER_BYTES);
  out.writeUInt32BE(out.length - LENGTH_BYTES, 0);
  out[LENGTH_BYTES] = MessageType.Data;
  out.writeUInt32BE(receiverId, 5);
  out.writeUInt32BE(backlog, 9);
  return out;
}

/** A PartitionRequest frame. */
export function encodePartitionRequest(receiverId: number, partitionId: string, subpartition: number, credit: number): Buffer {
  const id = Buffer.from(partitionId, "utf8");
  const out = frame(MessageType.PartitionRequest, 12 + id.length);
  out.writeUInt32BE(receiverId, 5);
  out.writeUInt32BE(subpartition, 9);
  out.writeUInt32BE(credit, 13);
  id.copy(out, 17);
  return out;
}

/** One AddCredit frame for any number of receivers. */
export function encodeAddCredit(grants: readonly CreditGrant[]): Buffer {
  const out = frame(MessageType.AddCredit, 4 + grants.length * 8);
  out.writeUInt32BE(grants.length, 5);
  let pos = 9;
  for (const g of grants) {
    out.writeUInt32BE(g.receiverId, pos);
    out.writeUInt32BE(g.credit, pos + 4);
    pos += 8;
  }
  return out;
}

/** A CancelRequest frame. */
export function encodeCancelRequest(receiverId: number): Buffer {
  const out = frame(MessageType.CancelRequest, 4);
  out.writeUInt32BE(receiverId, 5);
  return out;
}

/** An ErrorResponse frame; the code travels so the consumer raises the same WeirError code. */
export function encodeErrorResponse(receiverId: number, code: WeirErrorCode, message: string): Buffer {
  const text = Buffer.from(JSON.stringify({ code, message }), "utf8");
  const out = frame(MessageType.ErrorResponse, 4 + text.length);
  out.writeUInt32BE(receiverId, 5);
  text.copy(out, 9);
  return out;
}

function frame(type: number, fieldBytes: number): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_BYTES + 1 + fieldBytes);
  out.writeUInt32BE(1 + fieldBytes, 0);
  out[LENGTH_BYTES] = type;
  return out;
}

/** Parse a frame body (as delivered by FrameDecoder). Throws WEIR_E_PROTOCOL on malformed input. */
export function decodeMessage(body: Buffer): Message {
  need(body, 5);
  const receiverId = body.readUInt32BE(1);
  switch (body[0]) {
    case MessageType.Data:
      need(body, 9);
      return { kind: "data", receiverId, backlog: body.readUInt32BE(5), payload: body.subarray(9) };
    case MessageType.PartitionRequest:
      need(body, 13);
      return {
        kind: "partitionRequest",
        receiverId,
        subpartition: body.readUInt32BE(5),
        credit: body.readUInt32BE(9),
        partitionId: body.toString("utf8", 13),
      };
    case MessageType.AddCredit:
      return { kind: "addCredit", grants: decodeGrants(body) };
    case MessageType.CancelRequest:
      return { kind: "cancelRequest", receiverId };
    case MessageType.ErrorResponse:
      return { kind: "errorResponse", receiverId, ...decodeError(body.toString("utf8", 5)) };
    default:
      throw new WeirError("WEIR_E_PROTOCOL", `unknown message type ${body[0]}`);
  }
}

function decodeGrants(body: Buffer): CreditGrant[] {
  const n = body.readUInt32BE(1);
  need(body, 5 + n * 8);
  const grants: CreditGrant[] = [];
  for (let i = 0, pos = 5; i < n; i++, pos += 8) {
    grants.push({ receiverId: body.readUInt32BE(pos), credit: body.readUInt32BE(pos + 4) });
  }
  return grants;
}

function decodeError(json: string): { code: WeirErrorCode; message: string } {
  try {
    const parsed = JSON.parse(json) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === "string" && typeof parsed.message === "string") {
      return { code: parsed.code as WeirErrorCode, message: parsed.message };
    }
  } catch {
    // fall through: report the raw text
  }
  return { code: "WEIR_E_PROTOCOL", message: json };
}

function need(body: Buffer, bytes: number): void {
  if (body.length < bytes) {
    throw new WeirError("WEIR_E_PROTOCOL", `message type ${body[0]} truncated: ${body.length} bytes, expected ${bytes}`);
  }
}

/**
 * Splits a byte stream into frame bodies. Chunks may split or coalesce frames arbitrarily. A body that
 * lies within one chunk is handed out as a view (no copy); one spanning chunks is copied once, when
 * complete, so every byte is copied at most once whatever the chunking.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being assembled, or -1 while its length prefix is incomplete. */
  private bodyLength = -1;

  constructor(
    private readonly onFrame: (body: Buffer) => void,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feed the next chunk; calls `onFrame` for each complete frame, in order. */
  push(chunk: Buffer): void {
    if (this.buffered === 0 && this.bodyLength < 0) chunk = this.drainChunk(chunk);
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drainBuffered();
  }

  /** Fast path: frames wholly inside `chunk`; returns the incomplete rest. */
  private drainChunk(chunk: Buffer): Buffer {
    let pos = 0;
    while (chunk.length - pos >= LENGTH_BYTES) {
      const length = this.checkLength(chunk.readUInt32BE(pos));
      if (chunk.length - pos - LENGTH_BYTES < length) break;
      this.onFrame(chunk.subarray(pos + LENGTH_BYTES, pos + LENGTH_BYTES + length));
      pos += LENGTH_BYTES + length;
    }
    return pos === 0 ? chunk : chunk.subarray(pos);
  }

  private drainBuffered(): void {
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < LENGTH_BYTES) return;
        this.bodyLength = this.checkLength(this.take(LENGTH_BYTES).readUInt32BE(0));
      }
      if (this.buffered < this.bodyLength) return;
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      this.onFrame(body);
      if (this.chunks.length === 1) {
        // back on the fast path for the rest of the current chunk
        const rest = this.chunks.pop()!;
        this.buffered = 0;
        this.push(rest);
        return;
      }
    }
  }

  /** Remove `n` buffered bytes: a view when they lie in the first chunk, else one copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) return this.chunks.shift()!;
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }

  private checkLength(length: number): number {
    if (length < 1 || length > this.maxFrameBytes) {
      throw new WeirError("WEIR_E_PROTOCOL", `frame length ${length} outside 1..${this.maxFrameBytes}`);
    }
    return length;
  }
}
