/** The `_metadata` encoding as a pure function: framing, relative URLs and structural validation. */
import { describe, expect, it } from "vitest";
import { decodeMetadata, encodeMetadata, fileRefsOf, sha256Hex } from "../../runtime/state/storage/metadata.js";
import type { CheckpointMetadata } from "../../runtime/state/snapshot-types.js";
import { snapshot, thrownWeirError } from "./fixtures.js";

const URL = "s3://bucket/root/job/chk-4/_metadata";
const ref = (url: string, data = "data") => ({ url, size: data.length, sha256: sha256Hex(Buffer.from(data)) });

/** Frame an arbitrary body the way encodeMetadata does, so only the structure check can fail. */
function framed(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  return Buffer.concat([Buffer.from(`weir-snapshot v1 sha256=${sha256Hex(json)} length=${json.length}\n`), json]);
}

const corruptReason = (bytes: Buffer) =>
  thrownWeirError(() => decodeMetadata(bytes, URL), "WEIR_E_CORRUPT_CHECKPOINT", URL).message;

describe("_metadata encoding", () => {
  const meta = snapshot(4, [
    { uid: "a", files: [ref("s3://bucket/root/job/shared/f0"), ref("s3://bucket/root/job/chk-4/own")] },
    { uid: "b", files: [ref("s3://other-bucket/f")] },
  ]);

  it("starts with a header naming format, version, checksum and body length", () => {
    const bytes = encodeMetadata(meta, URL);
    const nl = bytes.indexOf(0x0a);
    const body = bytes.subarray(nl + 1);
    expect(bytes.subarray(0, nl).toString()).toBe(`weir-snapshot v1 sha256=${sha256Hex(body)} length=${body.length}`);
  });

  it("stores URLs relative to the _metadata directory, absolute only across buckets, and restores them", () => {
    const bytes = encodeMetadata(meta, URL);
    const body = JSON.parse(bytes.subarray(bytes.indexOf(0x0a) + 1).toString()) as CheckpointMetadata;
    const urls = body.operators.flatMap((o) => o.subtasks.map((s) => s.keyed!.file.url));
    expect(urls).toEqual(["../shared/f0", "own", "s3://other-bucket/f"]);
    expect(decodeMetadata(bytes, URL)).toEqual(meta);
  });

  it.each<[string, (m: any) => void, string]>([
    ["a wrong format", (m) => (m.format = "flink"), '$.format: expected one of "weir-snapshot"'],
    ["a newer body version", (m) => (m.version = 2), "$.version"],
    ["a missing jobId", (m) => delete m.jobId, "$.jobId: expected a string"],
    ["a negative checkpoint id", (m) => (m.checkpointId = -1), "$.checkpointId: expected an integer >= 0"],
    ["duplicate uids", (m) => (m.operators[1].uid = "a"), "$.operators[1].uid"],
    ["subtasks not matching parallelism", (m) => (m.operators[0].parallelism = 3), "$.operators[0].subtasks: expected 3 entries"],
    ["a bad hash", (m) => (m.operators[0].subtasks[0].keyed.file.sha256 = "xyz"), "keyed.file.sha256: expected 64 lowercase hex digits"],
    ["decreasing offsets", (m) => (m.operators[0].subtasks[0].keyed.offsets = [0, 3, 2, 4, 4]), "keyed.offsets[2]: expected an integer >= 3"],
    ["key groups beyond max parallelism", (m) => (m.operators[0].subtasks[1].keyed.keyGroupStart = 6), "key groups within 0..7"],
    ["offsets beyond the file", (m) => (m.operators[0].subtasks[0].keyed.offsets = [0, 0, 0, 0, 99]), "offsets within the file's 4 bytes"],
    ["an unknown list mode", (m) => (m.operators[0].subtasks[0].lists = [{ name: "l", mode: "broadcast", items: [] }]), "lists[0].mode"],
    ["a finished flag other than true", (m) => Object.assign(m.operators[1].subtasks[0], { keyed: null, finished: false }), "subtasks[0].finished: expected true"],
    ["a finished subtask with keyed state", (m) => (m.operators[0].subtasks[0].finished = true), "subtasks[0].keyed: expected null for a finished subtask"],
    ["a finished subtask with lists", (m) => Object.assign(m.operators[1].subtasks[0], { keyed: null, finished: true, lists: [{ name: "l", mode: "split", items: [] }] }), "subtasks[0].lists: expected no lists"],
  ])("refuses %s, naming the field", (_what, mutate, fragment) => {
    const body = structuredClone(meta) as any;
    mutate(body);
    const msg = corruptReason(framed(body));
    expect(msg).toContain("invalid structure");
    expect(msg).toContain(fragment);
  });

  it("keeps the subtasks that had finished", () => {
    const withFinished = structuredClone(meta);
    withFinished.operators[1]!.subtasks[0] = { keyed: null, lists: [], finished: true };
    expect(decodeMetadata(encodeMetadata(withFinished, URL), URL).operators[1]!.subtasks).toEqual([{ keyed: null, lists: [], finished: true }]);
  });

  it("encodes a snapshot without raw state byte for byte as before raw state existed, and decodes it without a raw field", () => {
    const old: CheckpointMetadata = {
      format: "weir-snapshot", version: 1, kind: "checkpoint", jobId: "j", jobName: "n", checkpointId: 3, timestamp: 5,
      operators: [{ uid: "a", name: "A", parallelism: 2, maxParallelism: 4, subtasks: [
        { keyed: { file: { url: "file:///r/j/chk-3/a-0.kg", size: 4, sha256: "0".repeat(64) }, keyGroupStart: 0, offsets: [0, 2, 4] }, lists: [{ name: "l", mode: "split", items: [1] }] },
        { keyed: null, lists: [], finished: true },
      ] }],
    };
    const url = "file:///r/j/chk-3/_metadata";
    const bytes = encodeMetadata(old, url);
    // Written by the encoder before raw state existed.
    expect(bytes.toString()).toBe(
      "weir-snapshot v1 sha256=53f274d2af3a145b6fc6b0bc95c5d29101f2f525436904f3a2035fd4496d4f4e length=449\n" +
        '{"format":"weir-snapshot","version":1,"kind":"checkpoint","jobId":"j","jobName":"n","checkpointId":3,"timestamp":5,"operators":[{"uid":"a","name":"A",' +
        '"parallelism":2,"maxParallelism":4,"subtasks":[{"keyed":{"file":{"url":"a-0.kg","size":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},' +
        '"keyGroupStart":0,"offsets":[0,2,4]},"lists":[{"name":"l","mode":"split","items":[1]}]},{"keyed":null,"lists":[],"finished":true}]}]}',
    );
    const decoded = decodeMetadata(bytes, url);
    expect(decoded).toEqual(old);
    for (const st of decoded.operators[0]!.subtasks) expect("raw" in st).toBe(false);
  });

  it("stores raw state file URLs like keyed ones: relative, absolute only across buckets", () => {
    const withRaw = structuredClone(meta);
    withRaw.operators[0]!.subtasks[1]!.raw = [ref("s3://bucket/root/job/chk-4/a-1-0.raw"), ref("s3://other-bucket/a-1-1.raw", "")];
    withRaw.operators[1]!.subtasks[0] = { keyed: null, lists: [], raw: [ref("s3://bucket/root/job/shared/b-0.raw")] };
    const bytes = encodeMetadata(withRaw, URL);
    const body = JSON.parse(bytes.subarray(bytes.indexOf(0x0a) + 1).toString()) as CheckpointMetadata;
    expect(body.operators.flatMap((o) => o.subtasks.flatMap((s) => (s.raw ?? []).map((r) => r.url)))).toEqual(["a-1-0.raw", "s3://other-bucket/a-1-1.raw", "../shared/b-0.raw"]);
    expect(decodeMetadata(bytes, URL)).toEqual(withRaw);
    expect(fileRefsOf(withRaw).map((r) => [r.uid, r.subtask, r.ref.url.split("/").pop()])).toEqual([
      ["a", 0, "f0"], ["a", 1, "own"], ["a", 1, "a-1-0.raw"], ["a", 1, "a-1-1.raw"], ["b", 0, "b-0.raw"],
    ]);
  });

  it.each<[string, (st: any) => void, string]>([
    ["raw state that is not an array", (st) => (st.raw = { url: "x" }), "subtasks[0].raw: expected an array"],
    ["a raw file with a bad hash", (st) => (st.raw = [{ url: "x", size: 1, sha256: "nope" }]), "subtasks[0].raw[0].sha256: expected 64 lowercase hex digits"],
    ["a raw file without a URL", (st) => (st.raw = [{ url: "", size: 1, sha256: "0".repeat(64) }]), "subtasks[0].raw[0].url: expected a non-empty URL"],
    ["a finished subtask with raw state", (st) => Object.assign(st, { keyed: null, finished: true, raw: [{ url: "x", size: 1, sha256: "0".repeat(64) }] }), "subtasks[0].raw: expected no raw state for a finished subtask"],
  ])("refuses %s, naming the field", (_what, mutate, fragment) => {
    const body = structuredClone(meta) as any;
    mutate(body.operators[0].subtasks[0]);
    expect(corruptReason(framed(body))).toContain(fragment);
  });

  it("refuses a body that is not JSON", () => {
    const json = Buffer.from("{not json");
    const bytes = Buffer.concat([Buffer.from(`weir-snapshot v1 sha256=${sha256Hex(json)} length=${json.length}\n`), json]);
    expect(corruptReason(bytes)).toContain("not valid JSON");
  });
});
