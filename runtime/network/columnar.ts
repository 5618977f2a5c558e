/**
 * Column-wise encoding of batches whose records are plain objects with the same keys in the same
 * order (the common case): int32 columns and other number columns travel as raw Int32Array /
 * Float64Array bytes, other columns as msgpack arrays. Other batches use msgpackr records.
 *
 * Why: msgpackr's generated record readers build objects from an object literal, whose boilerplate
 * keeps the field representation it first saw; once a field turns from small integers to doubles,
 * every decoded record carries a deprecated hidden class that V8 migrates on first access (~150 ns
 * each, measured in bench/codec-micro.ts), which halved network throughput. Here objects are built
 * as `{}` plus property stores, and numbers skip msgpack's type dispatch: 159 -> 52 ns per record.
 *
 * Per key list, one generated extractor (monomorphic property reads) and one builder are cached.
 * Keys are embedded with JSON.stringify, so no key can inject code.
 */
import { Packr } from "msgpackr";

const plain = new Packr({ useRecords: false });
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const OTHER = 0;
const INT32 = 1;
const FLOAT64 = 2;
/** Bound on cached code per process: shapes beyond it fall back to msgpackr records. */
const MAX_SHAPES = 256;

type Extractor = (values: unknown[]) => { columns: unknown[][]; kinds: Uint8Array } | null;
type Builder = (columns: ArrayLike<unknown>[], n: number) => unknown[];

const extractors = new Map<string, Extractor>();
const builders = new Map<string, Builder>();

function access(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Reads every record into columns and classifies each column; null when a record has other keys. */
function extractorFor(keys: string[]): Extractor | undefined {
  const id = keys.join("\u0000");
  let f = extractors.get(id);
  if (f || extractors.size >= MAX_SHAPES) return f;
  const n = keys.length;
  const checkKeys = keys.map((k, j) => `if (p${j} !== ${JSON.stringify(k)}) return null;`);
  const reads = keys.map(
    (k, j) => `{ const x = r${access(k)}; c${j}[i] = x;
      if (t${j} !== ${OTHER}) { if (typeof x !== "number") t${j} = ${OTHER};
        else if (t${j} === ${INT32} && ((x | 0) !== x || Object.is(x, -0))) t${j} = ${FLOAT64}; } }`,
  );
  const body = `const n = v.length;
    ${keys.map((_, j) => `const c${j} = new Array(n); let t${j} = ${INT32};`).join("\n")}
    for (let i = 0; i < n; i++) {
      const r = v[i];
      if (r === null || typeof r !== "object" || Object.getPrototypeOf(r) !== Object.prototype) return null;
      let count = 0;
      for (const p in r) {
        switch (count++) { ${keys.map((_, j) => `case ${j}: { const p${j} = p; ${checkKeys[j]} break; }`).join(" ")} default: return null; }
      }
      if (count !== ${n}) return null;
      ${reads.join("\n")}
    }
    return { columns: [${keys.map((_, j) => `c${j}`).join(", ")}], kinds: Uint8Array.of(${keys.map((_, j) => `t${j}`).join(", ")}) };`;
  f = new Function("v", body) as Extractor;
  extractors.set(id, f);
  return f;
}

/** Builds n objects from columns with property stores (see the module comment for why). */
function builderFor(keys: string[]): Builder {
  const id = keys.join("\u0000");
  let f = builders.get(id);
  if (!f) {
    const locals = keys.map((_, j) => `const c${j} = c[${j}];`).join(" ");
    const stores = keys.map((k, j) => `r${access(k)} = c${j}[i];`).join(" ");
    f = new Function("c", "n", `${locals} const o = new Array(n); for (let i = 0; i < n; i++) { const r = {}; ${stores} o[i] = r; } return o;`) as Builder;
    if (builders.size < MAX_SHAPES) builders.set(id, f);
  }
  return f;
}

/**
 * Encode `values` column-wise, or return null when they are not same-shaped plain objects.
 * Layout: [u32 header length][msgpack [keys, kinds, other columns]][number columns, raw little endian,
 * in key order: int32 = 4 bytes, float64 = 8 bytes per record].
 */
export function encodeColumns(values: unknown[]): Buffer | null {
  const first = values[0];
  if (first === null || typeof first !== "object" || Object.getPrototypeOf(first) !== Object.prototype) return null;
  const keys = Object.keys(first);
  // An own "__proto__" key would become a prototype assignment in the builder.
  if (keys.length === 0 || keys.includes("__proto__")) return null;
  const extracted = extractorFor(keys)?.(values);
  if (!extracted) return null;
  const { columns, kinds } = extracted;
  const numeric: Buffer[] = [];
  const others: unknown[][] = [];
  columns.forEach((c, j) => {
    if (kinds[j] === INT32) numeric.push(bytesOf(Int32Array.from(c as number[])));
    else if (kinds[j] === FLOAT64) numeric.push(bytesOf(Float64Array.from(c as number[])));
    else others.push(c);
  });
  const header = plain.pack([keys, Array.from(kinds), others]);
  const lengthPrefix = Buffer.allocUnsafe(4);
  lengthPrefix.writeUInt32LE(header.length, 0);
  return Buffer.concat([lengthPrefix, header, ...numeric]);
}

function bytesOf(a: Int32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A typed array over a copy of `bytes` (the copy makes it aligned whatever the frame's offset). */
function numbers(bytes: Buffer, kind: number): Int32Array | Float64Array {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return kind === INT32 ? new Int32Array(copy) : new Float64Array(copy);
}

/** Decode what `encodeColumns` made into `count` records. */
export function decodeColumns(buf: Buffer, count: number): unknown[] {
  const headerLength = buf.readUInt32LE(0);
  const [keys, kinds, others] = plain.unpack(buf.subarray(4, 4 + headerLength)) as [string[], number[], unknown[][]];
  if (!Array.isArray(keys) || !Array.isArray(kinds) || !Array.isArray(others) || kinds.length !== keys.length) {
    throw new Error("malformed columnar batch header");
  }
  let pos = 4 + headerLength;
  let other = 0;
  const columns = kinds.map((kind) => {
    if (kind === OTHER) return others[other++]!;
    const width = (kind === INT32 ? 4 : 8) * count;
    if (pos + width > buf.length) throw new Error("columnar batch truncated");
    const column = numbers(buf.subarray(pos, pos + width), kind);
    pos += width;
    return column;
  });
  if (columns.some((c) => c === undefined || c.length !== count)) throw new Error("malformed columnar batch");
  return builderFor(keys)(columns, count);
}
