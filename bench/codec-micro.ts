/**
 * Serialization micro-benchmark (not a test): ns per record to encode a batch, decode it, and touch
 * each decoded record once (a filter), for the engine's serializer (column-wise batches, see
 * runtime/network/columnar.ts) and for plain msgpackr records (what it used before), on the
 * benchmark's events in batches of 1024.
 *
 *   npx tsx bench/codec-micro.ts
 *
 * Data "clean": every field keeps one representation (small integers, double timestamps).
 * Data "late-doubles": `value` holds small integers at first and doubles later (as `(i * 7919) % 1000`
 * does once `i * 7919` overflows int32), which deprecates the records' hidden class mid-run.
 * Each case runs in a fresh process, since V8's hidden-class state carries over between cases.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodeElement, encodeElement } from "../runtime/network/serializer.js";
import type { Batch } from "../runtime/common/elements.js";
import { Packr } from "msgpackr";
import { enrich, event, keep, type BenchEvent } from "./jobs/events.js";

const records = new Packr({ useRecords: true });
const BATCHES = 4000;
const SIZE = 1024;

const CODECS = {
  engine: {
    encode: (values: BenchEvent[]) => encodeElement({ kind: "batch", values, timestamps: null }),
    decode: (buf: Buffer) => (decodeElement(buf) as Batch<BenchEvent>).values,
  },
  "msgpackr-records": { encode: (values: BenchEvent[]) => records.pack(values), decode: (buf: Buffer) => records.unpack(buf) as BenchEvent[] },
};
type CodecName = keyof typeof CODECS;

function record(i: number, data: string): BenchEvent {
  const e = event(i);
  if (data === "late-doubles") e.value = (i * 7919) % 1000;
  return enrich(e);
}

/** One case, in this process: prints a table row. */
function runCase(codec: CodecName, data: string): void {
  const { encode, decode } = CODECS[codec];
  let encodeMs = 0, decodeMs = 0, accessMs = 0, bytes = 0, kept = 0;
  for (let b = 0; b < BATCHES; b++) {
    const values = Array.from({ length: SIZE }, (_, i) => record(b * SIZE + i, data));
    let t = performance.now();
    const buf = encode(values);
    encodeMs += performance.now() - t;
    bytes += buf.length;
    t = performance.now();
    const decoded = decode(buf);
    decodeMs += performance.now() - t;
    t = performance.now();
    for (let i = 0; i < decoded.length; i++) if (keep(decoded[i]!)) kept++;
    accessMs += performance.now() - t;
  }
  const ns = (ms: number) => ((ms * 1e6) / (BATCHES * SIZE)).toFixed(0);
  const total = encodeMs + decodeMs + accessMs;
  console.log(`| ${codec} | ${data} | ${ns(encodeMs)} | ${ns(decodeMs)} | ${ns(accessMs)} | ${ns(total)} | ${(bytes / BATCHES / SIZE).toFixed(1)} |${kept > 0 ? "" : " (nothing kept?)"}`);
}

const [codec, data] = process.argv.slice(2);
if (codec) {
  runCase(codec as CodecName, data ?? "clean");
} else {
  console.log("| codec | data | encode ns | decode ns | first access ns | total ns | bytes/record |\n|---|---|---:|---:|---:|---:|---:|");
  const self = fileURLToPath(import.meta.url);
  for (const d of ["clean", "late-doubles"]) {
    for (const c of Object.keys(CODECS)) {
      process.stdout.write(execFileSync(process.execPath, [...process.execArgv, self, c, d], { encoding: "utf8" }));
    }
  }
}
