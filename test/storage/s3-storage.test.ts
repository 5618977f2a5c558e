/**
 * The storage contract against a real S3-compatible server (versitygw, test/support/s3.ts), through
 * the same @aws-sdk/client-s3 settings Weir uses in production.
 *
 * beforeAll may build versitygw first: about 70 s from empty Go caches on 2 cores, seconds when
 * test/s3/go.mod is unchanged (the binary is cached in .cluster/bin). The 15 min hook timeout leaves
 * room for a slow module proxy.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import { storageFor } from "../../runtime/state/storage/checkpoint-storage.js";
import { tempDir } from "../support/cluster.js";
import { startS3Server, type S3Server } from "../support/s3.js";
import { describeStorageContract } from "./storage-contract.js";

const COLD_BUILD_TIMEOUT_MS = 15 * 60_000;

const dir = tempDir("s3-storage");
let server: S3Server | undefined;

beforeAll(async () => {
  server = await startS3Server({ dir });
}, COLD_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describeStorageContract("s3://", () => {
  if (!server) throw new Error("the S3 server did not start (see beforeAll)");
  const base = `s3://${server.bucket}/checkpoints`;
  return { storage: storageFor(base, resolveConfig(server.configPairs, {})), base };
});
