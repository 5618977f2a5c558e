/**
 * The key-group file of one operator subtask's keyed state (see snapshot-types.ts): consecutive
 * blocks, block g holding the msgpack-encoded `KeyedEntry[]` of key group `keyGroupStart + g`, an
 * empty group being a zero-length block. `offsets` (length = groups + 1) are absolute byte offsets
 * into the file, so a restore decodes only the blocks of its own key groups.
 *
 * Entries of declared keyed state (namespaces from state-spec.ts) hold the backend-independent value:
 *   value state:                  the value
 *   list state:                   the array
 *   map state:                    array of [userKey, value] pairs (the whole map of the key)
 *   reducing/aggregating state:   the accumulator
 * With TTL each value (for maps: each pair's value) is wrapped `{ v, t }`, t = last update, epoch ms.
 *
 *   const file = encodeKeyGroupFile(0, 127, (kg) => entriesOf(kg));
 *   for (const [ns, key, value] of decodeKeyGroupBlocks(file.data, file, { start: 0, end: 63 })) ...
 */
import { WeirError } from "../common/errors.js";
import type { KeyGroupRange } from "../common/keys.js";
import { packValue, unpackValue } from "./codec.js";
import type { KeyedEntry } from "./snapshot-types.js";

/** An encoded key-group file and where its blocks are. */
export interface EncodedKeyGroups {
  data: Buffer;
  keyGroupStart: number;
  offsets: number[];
}

const EMPTY = Buffer.alloc(0);

/** Encode the entries of one key group: zero bytes when there are none. */
export function encodeBlock(entries: readonly KeyedEntry[] | undefined): Buffer {
  return entries === undefined || entries.length === 0 ? EMPTY : packValue(entries);
}

/** Concatenate the blocks of consecutive key groups from `keyGroupStart`. */
export function assembleKeyGroupFile(keyGroupStart: number, blocks: readonly Buffer[]): EncodedKeyGroups {
  const offsets = [0];
  for (const b of blocks) offsets.push(offsets[offsets.length - 1]! + b.length);
  return { data: Buffer.concat(blocks), keyGroupStart, offsets };
}

/** Encode key groups `start..end` (inclusive), the entries of group kg being `blockOf(kg)`. */
export function encodeKeyGroupFile(start: number, end: number, blockOf: (kg: number) => readonly KeyedEntry[] | undefined): EncodedKeyGroups {
  const blocks: Buffer[] = [];
  for (let kg = start; kg <= end; kg++) blocks.push(encodeBlock(blockOf(kg)));
  return assembleKeyGroupFile(start, blocks);
}

/**
 * The entries of the blocks of `handle` that lie inside `range`, decoded lazily block by block.
 * Throws WEIR_E_CORRUPT_STATE when `data` is shorter than the blocks it should hold or a block does
 * not decode to an entry array.
 */
export function* decodeKeyGroupBlocks(
  data: Buffer,
  handle: { keyGroupStart: number; offsets: readonly number[] },
  range: KeyGroupRange,
): Iterable<KeyedEntry> {
  const { keyGroupStart, offsets } = handle;
  const last = offsets[offsets.length - 1] ?? 0;
  if (data.length < last) corrupt(`the file has ${data.length} bytes, its blocks end at ${last}`);
  const first = Math.max(range.start, keyGroupStart);
  const end = Math.min(range.end, keyGroupStart + offsets.length - 2);
  for (let kg = first; kg <= end; kg++) {
    const from = offsets[kg - keyGroupStart]!;
    const to = offsets[kg - keyGroupStart + 1]!;
    if (to > from) yield* decodeBlock(data.subarray(from, to), kg);
  }
}

function decodeBlock(block: Buffer, kg: number): KeyedEntry[] {
  let entries: unknown;
  try {
    entries = unpackValue(block);
  } catch (err) {
    corrupt(`the block of key group ${kg} does not decode`, err);
  }
  if (!Array.isArray(entries) || !entries.every(isEntry)) corrupt(`the block of key group ${kg} is not a list of entries`);
  return entries as KeyedEntry[];
}

function isEntry(e: unknown): boolean {
  return Array.isArray(e) && e.length === 3 && typeof e[0] === "string";
}

function corrupt(message: string, cause?: unknown): never {
  throw new WeirError("WEIR_E_CORRUPT_STATE", `corrupt key-group state: ${message}`, { cause });
}
