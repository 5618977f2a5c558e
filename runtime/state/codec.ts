/**
 * The one msgpack codec of state values, shared by key-group files and RocksDB rows so both hold the
 * same bytes for the same value.
 *
 * msgpackr with `structuredClone: true`: Maps, Sets, Dates, undefined, bigint and shared/cyclic
 * references round-trip (state values are arbitrary user objects, and MapState's canonical form holds
 * user keys), for ~35% more packing time than plain records on small entries. Records (msgpackr's
 * object-shape extension) stay on; their definitions are embedded in each packed buffer, so every
 * buffer decodes on its own.
 */
import { Packr } from "msgpackr";

const packr = new Packr({ structuredClone: true });

/** Encode a state value (or an array of entries). */
export function packValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decode what {@link packValue} wrote; throws on malformed input. */
export function unpackValue(data: Buffer | Uint8Array): unknown {
  return packr.unpack(data);
}
