/**
 * A real broker for one test file: started before its tests, stopped after them, with a kafkajs client
 * and a connected admin (kafkajs logging off).
 *
 *   const k = useKafka("source-test");
 *   it("...", async () => { await createTopic(k().admin, "clicks", 4); ... k().broker.bootstrap ... });
 */
import { afterAll, beforeAll } from "vitest";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { startKafka, type KafkaBroker, type KafkaOptions } from "./broker.js";

export interface KafkaFixture {
  broker: KafkaBroker;
  kafka: Kafka;
  admin: Admin;
}

/** Start a broker before the file's tests and stop it after them; read it through the getter. */
export function useKafka(clientId: string, opts: KafkaOptions = {}): () => KafkaFixture {
  let fixture: KafkaFixture | undefined;
  let broker: KafkaBroker | undefined;
  beforeAll(async () => {
    broker = await startKafka(opts);
    const kafka = new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    fixture = { broker, kafka, admin };
  }, 120_000);
  afterAll(async () => {
    await fixture?.admin.disconnect();
    await broker?.stop();
  });
  return () => fixture!;
}

/** Create a topic and wait until its partitions have leaders. */
export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
}
