/**
 * How keyed state is laid out in RocksDB.
 *
 * Row key (bytes):  key group (u16 BE) | state id (u16 BE) | key | [map user key]
 * where a key is encoded prefix-free from its canonical form: 0x01 + float64 BE for numbers,
 * 0x02 + u32 BE byte length + UTF-8 for strings. So all rows of a key group are one contiguous range
 * (a snapshot iterates it), and all rows of one map state of one key share a prefix (prefetch iterates
 * it). Rows sort by key group first, which is what restores into another range need.
 *
 * Row value: msgpack of `[key, stored]`, or `[key, userKey, stored]` for a map entry: the user's key
 * objects travel with the rows because canonical keys do not map back to them.
 */
import type { CanonicalKey } from "../common/keys.js";
import { packValue, unpackValue } from "./codec.js";

/** A write: put `value`, or delete when it is null. */
export interface RowOp {
  key: Buffer;
  value: Buffer | null;
}

const NUMBER = 0x01;
const STRING = 0x02;

function keyLength(ck: CanonicalKey): number {
  return typeof ck === "number" ? 9 : 5 + Buffer.byteLength(ck);
}

function writeKey(buf: Buffer, at: number, ck: CanonicalKey): number {
  if (typeof ck === "number") {
    buf[at] = NUMBER;
    buf.writeDoubleBE(ck === 0 ? 0 : ck, at + 1); // -0 and 0 are one Map key, so one row
    return at + 9;
  }
  buf[at] = STRING;
  const n = buf.write(ck, at + 5, "utf8");
  buf.writeUInt32BE(n, at + 1);
  return at + 5 + n;
}

/** The first two bytes of every row of key group `kg` (also the exclusive end of group kg - 1). */
export function groupPrefix(kg: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(kg, 0);
  return b;
}

/** The row key of a state's value of one key, or (with `uck`) of one entry of a map state. */
export function rowKey(kg: number, stateId: number, ck: CanonicalKey, uck?: CanonicalKey): Buffer {
  const b = Buffer.allocUnsafe(4 + keyLength(ck) + (uck === undefined ? 0 : keyLength(uck)));
  b.writeUInt16BE(kg, 0);
  b.writeUInt16BE(stateId, 2);
  const at = writeKey(b, 4, ck);
  if (uck !== undefined) writeKey(b, at, uck);
  return b;
}

/** Length of the `group | state | key` part of a row key (the prefix shared by a map's entries). */
export function keyPrefixLength(row: Buffer): number {
  return row[4] === NUMBER ? 13 : 9 + row.readUInt32BE(5);
}

/** The exclusive upper bound of all keys starting with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  throw new RangeError("no upper bound of a prefix of 0xff bytes");
}

export const rowGroup = (row: Buffer): number => row.readUInt16BE(0);
export const rowStateId = (row: Buffer): number => row.readUInt16BE(2);

/** Row value of a state's value of one key. */
export function packRow(key: unknown, stored: unknown): Buffer {
  return packValue([key, stored]);
}

/** Row value of one map entry. */
export function packMapRow(key: unknown, userKey: unknown, stored: unknown): Buffer {
  return packValue([key, userKey, stored]);
}

/** `[key, stored]` of a value row, `[key, userKey, stored]` of a map row. */
export function unpackRow(value: Buffer): unknown[] {
  return unpackValue(value) as unknown[];
}
