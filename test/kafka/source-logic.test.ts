/**
 * The Kafka source's pure logic, without a broker: partition ownership, discovery and restore
 * bookkeeping across rescales, start offsets, options, codecs and the fetch buffer.
 */
import { describe, expect, it } from "vitest";
import { javaStringHash, PartitionBook, partitionOwner, type TopicPartition } from "../../runtime/connectors/kafka/assignment.js";
import { FetchBuffer, type FetchedMessage } from "../../runtime/connectors/kafka/fetch-buffer.js";
import { compileStart, startOffset, startSpecFor } from "../../runtime/connectors/kafka/offsets.js";
import { codecs, compileDeserializer } from "../../runtime/connectors/kafka/serde.js";
import { compileSourceOptions, kafkaSource } from "../../runtime/connectors/kafka/source.js";
import { redistributeLists } from "../../runtime/state/operator-state.js";
import { WeirError } from "../../runtime/common/errors.js";

describe("partition ownership", () => {
  it("hashes topic names like Java's String.hashCode", () => {
    expect(javaStringHash("")).toBe(0);
    expect(javaStringHash("hello")).toBe(99162322);
    expect(javaStringHash("Hello World")).toBe(-862545276);
  });

  it("spreads a topic's partitions round robin over the subtasks, from a topic-dependent start", () => {
    for (const n of [1, 2, 3, 5]) {
      const owners = Array.from({ length: n }, (_, p) => partitionOwner("clicks", p, n));
      expect(new Set(owners).size).toBe(n);
      for (let p = 0; p < 4 * n; p++) expect(partitionOwner("clicks", p, n)).toBe((owners[0]! + p) % n);
    }
    // Flink: ((hash * 31) & 0x7fffffff) % n
    expect(partitionOwner("hello", 0, 7)).toBe(((Math.imul(99162322, 31) & 0x7fffffff) % 7));
  });
});

/** Simulates the reader's bookkeeping across checkpoints, restores at other parallelisms, and discoveries. */
class Job {
  books: PartitionBook[] = [];
  /** Per subtask: partitions it reads (its splits). */
  reading: TopicPartition[][] = [];
  readonly finished = new Set<string>();
  readonly readBy = new Map<string, number[]>();

  constructor(private parallelism: number) {
    this.books = Array.from({ length: parallelism }, (_, i) => new PartitionBook(i, parallelism, []));
    this.reading = this.books.map(() => []);
  }

  discover(partitions: TopicPartition[]): void {
    this.books.forEach((b, i) => {
      for (const tp of b.claim(partitions)) {
        this.reading[i]!.push(tp);
        const id = `${tp.topic}-${tp.partition}`;
        this.readBy.set(id, [...(this.readBy.get(id) ?? []), i]);
      }
    });
  }

  /** A bounded partition reached its end: no longer a split, but still known. */
  finish(id: string): void {
    this.finished.add(id);
    this.reading = this.reading.map((l) => l.filter((tp) => `${tp.topic}-${tp.partition}` !== id));
  }

  /** Snapshot every subtask, restore at `parallelism` (the runtime's round robin for splits, union for known). */
  rescale(parallelism: number): void {
    const lists = this.books.map((b, i) => [
      { name: "splits", mode: "split" as const, items: this.reading[i]! },
      { name: "known", mode: "union" as const, items: b.knownEntries() },
    ]);
    const restored = redistributeLists(lists, parallelism);
    this.parallelism = parallelism;
    this.books = restored.map((ls, i) => {
      const book = new PartitionBook(i, parallelism, ls.find((l) => l.name === "known")!.items as TopicPartition[]);
      for (const tp of ls.find((l) => l.name === "splits")!.items as TopicPartition[]) book.adopt(tp);
      return book;
    });
    this.reading = restored.map((ls) => [...(ls.find((l) => l.name === "splits")!.items as TopicPartition[])]);
  }

  /** Every partition is read by exactly one subtask now, or finished and read by none. */
  expectExactlyOnce(all: TopicPartition[]): void {
    const holders = new Map<string, number>();
    this.reading.forEach((l) => l.forEach((tp) => holders.set(`${tp.topic}-${tp.partition}`, (holders.get(`${tp.topic}-${tp.partition}`) ?? 0) + 1)));
    for (const tp of all) {
      const id = `${tp.topic}-${tp.partition}`;
      expect(holders.get(id) ?? 0, id).toBe(this.finished.has(id) ? 0 : 1);
      expect(this.readBy.get(id), `${id} claimed once`).toHaveLength(1);
    }
  }
}

const parts = (topic: string, from: number, to: number): TopicPartition[] => Array.from({ length: to - from }, (_, i) => ({ topic, partition: from + i }));

describe("PartitionBook", () => {
  it("a fresh subtask claims exactly the partitions it owns; claiming again takes nothing", () => {
    const book = new PartitionBook(1, 2, []);
    expect(book.freshStart).toBe(true);
    const claimed = book.claim(parts("t", 0, 4));
    expect(claimed.map((tp) => partitionOwner("t", tp.partition, 2))).toEqual([1, 1]);
    expect(book.claim(parts("t", 0, 4))).toEqual([]);
    expect(book.freshStart).toBe(false);
  });

  it("a restored subtask reads what it was restored with and claims only partitions unknown at the checkpoint", () => {
    const known = parts("t", 0, 4);
    const book = new PartitionBook(0, 3, known);
    book.adopt({ topic: "t", partition: 3 });
    expect(book.freshStart).toBe(false);
    expect(book.has("t", 3)).toBe(true);
    const claimed = book.claim(parts("t", 0, 9));
    expect(claimed.every((tp) => tp.partition >= 4 && partitionOwner("t", tp.partition, 3) === 0)).toBe(true);
  });

  it("reads every partition exactly once across rescales 2 -> 3 -> 1 with discoveries and finished partitions", () => {
    const job = new Job(2);
    job.discover([...parts("a", 0, 4), ...parts("b", 0, 3)]);
    job.finish("b-1");
    job.expectExactlyOnce([...parts("a", 0, 4), ...parts("b", 0, 3)]);
    job.rescale(3);
    job.discover([...parts("a", 0, 6), ...parts("b", 0, 3), ...parts("c", 0, 2)]);
    job.finish("a-0");
    job.expectExactlyOnce([...parts("a", 0, 6), ...parts("b", 0, 3), ...parts("c", 0, 2)]);
    job.rescale(1);
    job.discover([...parts("a", 0, 8), ...parts("b", 0, 3), ...parts("c", 0, 2)]);
    job.expectExactlyOnce([...parts("a", 0, 8), ...parts("b", 0, 3), ...parts("c", 0, 2)]);
    // Finished partitions stay known through further restores (carried by their owner).
    job.rescale(2);
    job.discover([...parts("a", 0, 8), ...parts("b", 0, 3), ...parts("c", 0, 2)]);
    job.expectExactlyOnce([...parts("a", 0, 8), ...parts("b", 0, 3), ...parts("c", 0, 2)]);
  });
});

describe("start offsets", () => {
  const bounds = { low: 10, high: 100 };

  it("resolves each kind of start inside the log", () => {
    expect(startOffset({ kind: "earliest" }, bounds)).toBe(10);
    expect(startOffset({ kind: "latest" }, bounds)).toBe(100);
    expect(startOffset({ kind: "timestamp", timestamp: 5 }, bounds, { byTimestamp: 42 })).toBe(42);
    expect(startOffset({ kind: "timestamp", timestamp: 5 }, bounds, { byTimestamp: -1 })).toBe(100);
    expect(startOffset({ kind: "committed", fallback: "earliest" }, bounds, { committed: 55 })).toBe(55);
    expect(startOffset({ kind: "committed", fallback: "earliest" }, bounds, { committed: -1 })).toBe(10);
    expect(startOffset({ kind: "committed", fallback: "latest" }, bounds, {})).toBe(100);
    expect(startOffset({ kind: "offset", offset: 3, fallback: "earliest" }, bounds)).toBe(10);
    expect(startOffset({ kind: "offset", offset: 300, fallback: "earliest" }, bounds)).toBe(100);
    expect(startOffset({ kind: "offset", offset: 30, fallback: "earliest" }, bounds)).toBe(30);
  });

  it("gives explicit offsets to the listed partitions and the fallback to the others", () => {
    const start = compileStart({ offsets: { t: { 0: 5, 2: 7 } }, fallback: "latest" }, undefined, "startingOffsets");
    expect(startSpecFor(start, "t", 0)).toEqual({ kind: "offset", offset: 5, fallback: "latest" });
    expect(startSpecFor(start, "t", 1)).toEqual({ kind: "latest" });
    expect(startSpecFor(start, "u", 2)).toEqual({ kind: "latest" });
    expect(startSpecFor(compileStart(undefined, undefined, "s"), "t", 0)).toEqual({ kind: "earliest" });
    expect(startSpecFor(compileStart("committed", "g", "s"), "t", 0)).toEqual({ kind: "committed", fallback: "earliest" });
    expect(startSpecFor(compileStart({ committed: "latest" }, "g", "s"), "t", 0)).toEqual({ kind: "committed", fallback: "latest" });
    expect(startSpecFor(compileStart({ timestamp: 1000 }, undefined, "s"), "t", 0)).toEqual({ kind: "timestamp", timestamp: 1000 });
  });

  it("rejects bad starting offsets naming the field", () => {
    expect(() => compileStart("committed", undefined, "startingOffsets")).toThrow(/startingOffsets uses committed offsets, which needs a groupId/);
    expect(() => compileStart({ offsets: { t: { 0: -1 } } }, undefined, "startingOffsets")).toThrow(/startingOffsets.offsets.t.0 is -1/);
    expect(() => compileStart({ timestamp: Number.NaN }, undefined, "startingOffsets")).toThrow(/timestamp/);
    expect(() => compileStart("newest" as never, undefined, "startingOffsets")).toThrow(/expected "earliest", "latest"/);
  });
});

describe("kafkaSource options", () => {
  it("compiles defaults into a frozen config", () => {
    const cfg = compileSourceOptions({ brokers: "a:1, b:2", topics: "t" });
    expect(cfg.client.brokers).toEqual(["a:1", "b:2"]);
    expect(cfg).toMatchObject({ topics: ["t"], bounded: false, groupId: null, commitOffsets: false, discoveryIntervalMs: 30_000, readUncommitted: false });
    expect(cfg.deserializer.name).toBe("json");
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(compileSourceOptions({ brokers: ["a:1"], topics: "t", groupId: "g" }).commitOffsets).toBe(true);
  });

  it("rejects bad options with WEIR_E_CONFIG naming the field", () => {
    const bad = (opts: object, re: RegExp) => {
      let err: unknown;
      try {
        kafkaSource({ brokers: "a:1", ...opts } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe("WEIR_E_CONFIG");
      expect((err as WeirError).message).toMatch(re);
    };
    bad({}, /exactly one of topics and topicPattern/);
    bad({ topics: "t", topicPattern: /t/ }, /exactly one of topics and topicPattern/);
    bad({ topics: "bad topic" }, /"bad topic" is not a Kafka topic name/);
    bad({ topics: "t", brokers: "" }, /brokers is empty/);
    bad({ topics: "t", brokers: "nohost" }, /broker "nohost" is not a "host:port" address/);
    bad({ topics: "t", partitionDiscoveryIntervalMs: -1 }, /partitionDiscoveryIntervalMs/);
    bad({ topics: "t", bufferRecords: 0 }, /bufferRecords must be a positive integer/);
    bad({ topics: "t", deserializer: "avro" }, /deserializer is "avro"/);
  });

  it("has no splits up front: readers discover partitions", () => {
    expect(kafkaSource({ brokers: "a:1", topics: "t", bounded: true })).toMatchObject({ bounded: true, name: "Kafka Source" });
    expect(kafkaSource({ brokers: "a:1", topics: "t" }).splits({ parallelism: 3 })).toEqual([]);
  });
});

describe("codecs and deserializers", () => {
  it("decode and encode strings, JSON and bytes; tombstones are null", () => {
    expect(codecs.string().decode(Buffer.from("héllo"))).toBe("héllo");
    expect(codecs.json<{ a: number }>().decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(codecs.json().encode({ a: [1] })?.toString()).toBe('{"a":[1]}');
    const b = Buffer.from([1, 2]);
    expect(codecs.bytes().decode(b)).toBe(b);
    for (const c of [codecs.string(), codecs.json(), codecs.bytes()]) expect(c.decode(null)).toBeNull();
    expect(() => codecs.json().decode(Buffer.from("{nope"))).toThrow(SyntaxError);
  });

  it("compiles a name, a codec or a record deserializer", () => {
    expect(compileDeserializer("string", "d")).toMatchObject({ kind: "value", name: "string" });
    const custom = { deserialize: () => 1 };
    expect(compileDeserializer(custom, "d")).toEqual({ kind: "record", name: "custom", record: custom });
    expect(compileDeserializer({ name: "mine", encode: () => null, decode: () => 2 }, "d")).toMatchObject({ kind: "value", name: "mine" });
  });
});

describe("FetchBuffer", () => {
  const msgs = (from: number, n: number): FetchedMessage[] =>
    Array.from({ length: n }, (_, i) => ({ offset: String(from + i), timestamp: "0", key: null, value: null }));

  it("counts records as chunks are pushed, taken and shifted", () => {
    const buf = new FetchBuffer<string>(10);
    buf.push("p0", msgs(0, 6), 1, 6, 6);
    buf.push("p1", [], 0, 0, 9); // an empty chunk: only moves p1's position
    expect(buf.buffered).toBe(5);
    const c = buf.peek()!;
    c.i += 2;
    buf.consumed(2);
    expect(buf.buffered).toBe(3);
    buf.shift();
    expect(buf.buffered).toBe(0);
    expect(buf.peek()).toMatchObject({ p: "p1", end: 9 });
    buf.shift();
    expect(buf.isEmpty).toBe(true);
  });

  it("holds a fetch while full until records are taken, and wakes the reader on data", async () => {
    const buf = new FetchBuffer<string>(4);
    const data = buf.whenData();
    buf.push("p", msgs(0, 5), 0, 5, 5);
    await data;
    expect(buf.isFull).toBe(true);
    let released = false;
    const space = buf.whenSpace(60_000).then(() => (released = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(released).toBe(false);
    buf.peek()!.i = 5;
    buf.consumed(5);
    buf.releaseSpace();
    await space;
    expect(released).toBe(true);
    buf.remove((p) => p === "p");
    expect(buf.isEmpty).toBe(true);
  });

  it("fails a waiting reader", async () => {
    const buf = new FetchBuffer<string>(4);
    const data = buf.whenData();
    buf.fail(new Error("boom"));
    await expect(data).rejects.toThrow("boom");
  });
});
