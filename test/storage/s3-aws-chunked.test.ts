/**
 * Regression: since @aws-sdk/client-s3 3.729 uploads default to `aws-chunked` bodies with trailing
 * checksums, which some S3-compatible servers store verbatim as the object's data. versitygw decodes
 * them, so the contract suite cannot see it; this test records the raw PUT a plain HTTP server receives.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import { storageFor } from "../../runtime/state/storage/checkpoint-storage.js";

const received: { method: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    received.push({ method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200, { etag: '"x"' }).end();
  });
});

beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("uploads plain bodies: no aws-chunked encoding, no streaming signature, no checksum trailer", async () => {
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = resolveConfig([`s3.endpoint=${endpoint}`, "s3.access-key=k", "s3.secret-key=s"], {});
  const data = Buffer.from("checkpoint bytes ".repeat(1000));
  await storageFor("s3://bucket/x", config).writeAtomic("s3://bucket/x/_metadata", data);
  const put = received.find((r) => r.method === "PUT")!;
  expect(put.body.equals(data)).toBe(true);
  expect(put.headers["content-encoding"] ?? "").not.toContain("aws-chunked");
  expect(put.headers["x-amz-content-sha256"] ?? "").not.toMatch(/^STREAMING-/);
  expect(put.headers["x-amz-trailer"]).toBeUndefined();
});
