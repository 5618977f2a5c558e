/**
 * A prototype batch codec for the proposal in bench/README.md ("Where the time goes"), measured by
 * bench/codec-micro.ts; not used by the engine. A batch of plain objects that all have the same own
 * keys is sent column by column: int32 columns and other number columns as raw Int32Array /
 * Float64Array bytes, any other column as a msgpack array. Anything else falls back to msgpackr records.
 *
 * Per key list, one generated extractor (monomorphic property reads) and one generated builder are
 * cached. The builder creates each object as `{}` plus property stores, never as an object literal:
 * a literal's boilerplate keeps the hidden class it first saw, so once a field generalizes (small
 * integers, then a double) every object it creates carries a deprecated map that V8 must migrate on
 * first access (~150 ns each), which is what happens to msgpackr's generated record readers.
 */
import { Packr } from "msgpackr";

const records = new Packr({ useRecords: true });
const plain = new Packr({ useRecords: false });
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

const INT32 = 1;
const FLOAT64 = 2;
const OTHER = 0;

type Extractor = (values: unknown[]) => [unknown[][], Uint8Array] | null;
type Builder = (columns: ArrayLike<unknown>[], n: number) => unknown[];

const extractors = new Map<string, Extractor>();
const builders = new Map<string, Builder>();

/** Reads every key of every record into columns and classifies them; null if a record has other keys. */
function extractor(keys: string[]): Extractor {
  const id = keys.join("\u0000");
  let f = extractors.get(id);
  if (!f) {
    const reads = keys.map((k, j) => {
      const get = IDENTIFIER.test(k) ? `r.${k}` : `r[${JSON.stringify(k)}]`;
      // -0 is a number but not an int32 (Int32Array would lose its sign).
      return `if (!(${JSON.stringify(k)} in r)) return null; { const x = ${get}; cols[${j}][i] = x;
        if (kinds[${j}] !== ${OTHER}) { if (typeof x !== "number") kinds[${j}] = ${OTHER};
          else if (kinds[${j}] === ${INT32} && ((x | 0) !== x || Object.is(x, -0))) kinds[${j}] = ${FLOAT64}; } }`;
    });
    const body = `const n = v.length; const cols = [${keys.map(() => "new Array(n)").join(", ")}];
      const kinds = new Uint8Array(${keys.length}).fill(${INT32});
      for (let i = 0; i < n; i++) { const r = v[i]; let k = 0; for (const _ in r) k++; if (k !== ${keys.length}) return null; ${reads.join("\n")} }
      return [cols, kinds];`;
    f = new Function("v", body) as Extractor;
    extractors.set(id, f);
  }
  return f;
}

/** Builds n objects from columns, with property stores (see the module comment for why). */
function builder(keys: string[]): Builder {
  const id = keys.join("\u0000");
  let f = builders.get(id);
  if (!f) {
    const locals = keys.map((_, j) => `const c${j} = c[${j}];`).join(" ");
    const stores = keys.map((k, j) => `r[${JSON.stringify(k)}] = c${j}[i];`).join(" ");
    f = new Function("c", "n", `${locals} const o = new Array(n); for (let i = 0; i < n; i++) { const r = {}; ${stores} o[i] = r; } return o;`) as Builder;
    builders.set(id, f);
  }
  return f;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

/** Encode a batch's values. */
export function encodeValues(values: unknown[]): Buffer {
  if (values.length === 0 || !values.every(isPlainObject)) return records.pack([0, values]);
  const keys = Object.keys(values[0] as object);
  const extracted = extractor(keys)(values);
  if (extracted === null) return records.pack([0, values]);
  const [cols, kinds] = extracted;
  const parts = cols.map((c, j) => (kinds[j] === INT32 ? Int32Array.from(c as number[]) : kinds[j] === FLOAT64 ? Float64Array.from(c as number[]) : c));
  return plain.pack([1, keys, values.length, parts]);
}

/** Decode what `encodeValues` made. */
export function decodeValues(buf: Buffer): unknown[] {
  const message = plain.unpack(buf) as [0, unknown[]] | [1, string[], number, ArrayLike<unknown>[]];
  if (message[0] === 0) return (records.unpack(buf) as [0, unknown[]])[1];
  const [, keys, n, parts] = message;
  return builder(keys)(parts, n);
}
