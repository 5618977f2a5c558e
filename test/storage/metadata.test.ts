/** The `_metadata` encoding as a pure function: framing, relative URLs and structural validation. */
import { describe, expect, it } from "vitest";
import { decodeMetadata, encodeMetadata, sha256Hex } from "../../runtime/state/storage/metadata.js";
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

  it("refuses a body that is not JSON", () => {
    const json = Buffer.from("{not json");
    const bytes = Buffer.concat([Buffer.from(`weir-snapshot v1 sha256=${sha256Hex(json)} length=${json.length}\n`), json]);
    expect(corruptReason(bytes)).toContain("not valid JSON");
  });
});
