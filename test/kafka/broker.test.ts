// The test broker (test/kafka/broker.ts): transactions with read_committed, restarts that keep data and
// address, the listener pods use, and no JVM left behind.
import { readdirSync } from "node:fs";
import { Kafka, logLevel, type Consumer, type KafkaConfig, type LogEntry } from "kafkajs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeKafka, isBrokerProcess, pidAlive, startKafka, type KafkaBroker } from "./broker.js";

let broker: KafkaBroker;
const pids = new Set<number>();

beforeAll(async () => {
  broker = await startKafka({ log: () => {} });
  pids.add(broker.pid);
}, 120_000);

afterAll(async () => {
  if (!broker) return;
  await broker.stop();
  expect([...pids].filter(pidAlive)).toEqual([]);
  expect(brokersOn(broker.dataDir)).toEqual([]);
});

/** Any process still running a broker on `dataDir`, whoever started it. */
function brokersOn(dataDir: string): number[] {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => isBrokerProcess(pid, dataDir));
}

// kafkajs logs retried errors (a coordinator still loading, a restarted broker) at ERROR too: keep them and
// print them only when the test fails.
let kafkajsErrors: string[] = [];
beforeEach(({ onTestFailed }) => {
  kafkajsErrors = [];
  onTestFailed(() => console.error(`kafkajs errors:\n${kafkajsErrors.join("\n")}`));
});
const logCreator = () => ({ namespace, log }: LogEntry) => void kafkajsErrors.push(`${namespace}: ${log.message} ${log.error ?? ""}`);

const client = (extra: Partial<KafkaConfig> = {}) =>
  new Kafka({ clientId: "broker-test", brokers: [broker.bootstrap], logLevel: logLevel.ERROR, logCreator, ...extra });

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = client().admin();
  await admin.connect();
  try {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true })).toBe(true);
  } finally {
    await admin.disconnect();
  }
}

/** Reads `topic` from the beginning with read_committed until `count` values arrived; returns them by partition. */
async function readCommitted(topic: string, count: number): Promise<string[][]> {
  const consumer: Consumer = client().consumer({ groupId: `reader-${topic}-${Date.now()}`, readUncommitted: false });
  const byPartition: string[][] = [[], [], [], []];
  let seen = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          byPartition[partition]!.push(message.value!.toString());
          if (++seen >= count) resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return byPartition;
}

describe("test Kafka broker", () => {
  it("commits one transaction and aborts another; read_committed sees only the committed records", async () => {
    await createTopic("txn", 4);
    const producer = client().producer({ transactionalId: "broker-test-txn", idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const inTxn = async (label: string, end: "commit" | "abort") => {
      const txn = await producer.transaction();
      await txn.send({ topic: "txn", messages: [0, 1, 2, 3].map((p) => ({ partition: p, value: `${label}-${p}` })) });
      await txn[end]();
    };
    await inTxn("first", "commit");
    await inTxn("aborted", "abort");
    await inTxn("last", "commit"); // after the aborted records in every partition: reading it proves they were skipped
    await producer.disconnect();

    expect(await readCommitted("txn", 8)).toEqual([0, 1, 2, 3].map((p) => [`first-${p}`, `last-${p}`]));
  });

  it("rejects a missing topic instead of creating it", async () => {
    const admin = client({ retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      await expect(admin.fetchTopicMetadata({ topics: ["no-such-topic"] })).rejects.toThrow(/does not host this topic/);
    } finally {
      await admin.disconnect();
    }
  });

  it("keeps data and address across a restart and a SIGKILL; a client connected before reconnects", async () => {
    await createTopic("durable", 1);
    const producer = client().producer();
    await producer.connect();
    const { bootstrap, podBootstrap, ports } = broker;
    const send = (value: string) => producer.send({ topic: "durable", messages: [{ value }] });
    await send("before-restart");
    await broker.restart();
    pids.add(broker.pid);
    await send("after-restart");
    await broker.kill();
    await broker.restart();
    pids.add(broker.pid);
    await send("after-kill");
    await producer.disconnect();

    expect({ bootstrap: broker.bootstrap, podBootstrap: broker.podBootstrap, ports: broker.ports }).toEqual({ bootstrap, podBootstrap, ports });
    expect((await readCommitted("durable", 3))[0]).toEqual(["before-restart", "after-restart", "after-kill"]);
  });

  it("advertises 10.88.0.1 on the pods' listener and 127.0.0.1 on the host's", async () => {
    expect(broker.podBootstrap).toBe(`10.88.0.1:${broker.ports.pods}`);
    // A client reaching the pods' port (here through loopback) is told to use the bridge address.
    const viaPods = await describeKafka(`127.0.0.1:${broker.ports.pods}`);
    expect(viaPods.brokers).toEqual([{ nodeId: 1, host: "10.88.0.1", port: broker.ports.pods }]);
    const viaHost = await describeKafka(broker.bootstrap);
    expect(viaHost.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: broker.ports.client }]);
    expect(viaHost.clusterId).toBe(viaPods.clusterId);
  });
});
