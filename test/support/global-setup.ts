/**
 * Once before the runtime suites: build the S3 server (versitygw, from Go modules; cached in
 * .cluster/bin) and fetch the Kafka broker's jars (Maven; cached in .cluster/kafka), so that suites
 * starting either in parallel do not each build or fetch it.
 */
import { ensureBuilt } from "../cluster/build.js";
import { ensureKafkaJars } from "../kafka/broker.js";
import { VERSITYGW_MODULE } from "./s3.js";

export default async function setup(): Promise<void> {
  const log = (s: string) => process.stderr.write(s + "\n");
  // Go compiles while Maven downloads: one waits on the CPU, the other on the network.
  await Promise.all([ensureBuilt(VERSITYGW_MODULE, { log }), ensureKafkaJars({ log })]);
}
