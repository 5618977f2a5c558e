import { describe, expect, it } from "vitest";
import type { Message } from "kafkajs";
import { appendMessages, decodeChunk, encodeChunk, serializeBatch, type KafkaRecordSerializer } from "../../runtime/connectors/kafka/sink-records.js";

interface Row {
  id: number;
  tag: string | null;
}

const serializer: KafkaRecordSerializer<Row> = {
  key: (r) => (r.id % 2 === 0 ? `k${r.id}` : null),
  value: (r) => JSON.stringify(r),
  headers: (r) => (r.tag === null ? null : { tag: r.tag }),
};
const rows: Row[] = [
  { id: 0, tag: "a" },
  { id: 1, tag: null },
  { id: 2, tag: "b" },
];

describe("Kafka sink records", () => {
  it("the at-least-once path (straight to messages) and the exactly-once path (tuples in a chunk) give the same messages", () => {
    const timestamps = [1_795_000_000_000.7, Number.NaN, 1_795_000_000_002];
    const direct: Message[] = [{ value: "earlier" }];
    appendMessages(serializer, rows, timestamps, direct);
    expect(direct).toEqual([
      { value: "earlier" },
      { key: "k0", value: '{"id":0,"tag":"a"}', headers: { tag: "a" }, timestamp: "1795000000000" },
      // A timestamp that is not finite is left to Kafka (the send time).
      { key: null, value: '{"id":1,"tag":null}' },
      { key: "k2", value: '{"id":2,"tag":"b"}', headers: { tag: "b" }, timestamp: "1795000000002" },
    ]);
    expect(decodeChunk(encodeChunk(serializeBatch(serializer, rows, timestamps)))).toEqual(direct.slice(1));
  });

  it("stamps records with the serializer's timestamp, else the event time, else none", () => {
    const own = { ...serializer, timestamp: (r: Row, eventTime: number | undefined) => (eventTime ?? 0) + r.id };
    const out: Message[] = [];
    appendMessages(own, rows.slice(0, 2), [100, 200], out);
    appendMessages(serializer, rows.slice(0, 1), null, out);
    expect(out.map((m) => m.timestamp)).toEqual(["100", "201", undefined]);
  });
});
