/**
 * CheckpointStorage on S3 or an S3-compatible server (`s3://bucket/key`).
 *
 * Bodies are always Buffers and checksums are computed only where the API requires them: since
 * @aws-sdk/client-s3 3.729 the default sends streamed bodies `aws-chunked` with trailing checksums,
 * which several S3-compatible servers store verbatim as object data (silent corruption).
 * A PUT replaces an object atomically, so `writeAtomic` is a plain PUT. The SDK is loaded on first
 * use: processes that only ever use file:// storage do not pay for it.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { RuntimeConfig } from "../../../config/options.js";
import type { CheckpointStorage } from "../checkpoint-storage.js";
import { checkRange, checkRangeLength, fileMissing, storageFailed, type ByteRange } from "./storage-errors.js";
import { formatUrl, parseUrl } from "./urls.js";

/** The S3 client settings that come from config; equal settings share one client. */
export interface S3Settings {
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
  /** null: the SDK's default credential chain (env, profile, IMDS, ...). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
}

/** S3 settings from config (`s3.*`), with AWS_ENDPOINT_URL as the fallback endpoint. */
export function s3ClientSettings(config: RuntimeConfig, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const accessKeyId = config["s3.access-key"];
  return {
    endpoint: config["s3.endpoint"] || env.AWS_ENDPOINT_URL || null,
    region: config["s3.region"],
    forcePathStyle: config["s3.path-style-access"] === "true",
    credentials: accessKeyId ? { accessKeyId, secretAccessKey: config["s3.secret-key"] } : null,
  };
}

interface Location {
  bucket: string;
  key: string;
}

function locate(url: string): Location {
  const u = parseUrl(url);
  if (u.scheme !== "s3" || u.authority === "") throw new TypeError(`S3Storage cannot handle ${url} (expected s3://bucket/key)`);
  return { bucket: u.authority, key: u.path.slice(1) };
}

/** The key prefix of everything below a "directory" ("" for the whole bucket). */
const dirPrefix = (key: string) => (key === "" ? "" : key + "/");

const errorName = (e: unknown) => (e as { name?: string } | null)?.name;
const httpStatus = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
const isNotFound = (e: unknown) => errorName(e) === "NoSuchKey" || errorName(e) === "NotFound";

/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

type Sdk = typeof import("@aws-sdk/client-s3");

/** Objects in S3; one client (and connection pool) per instance. */
export class S3Storage implements CheckpointStorage {
  private connection: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  constructor(private readonly settings: S3Settings) {}

  private connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    const { settings } = this;
    this.connection ??= import("@aws-sdk/client-s3").then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: settings.region,
        forcePathStyle: settings.forcePathStyle,
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
        ...(settings.credentials ? { credentials: settings.credentials } : {}),
      }),
    }));
    return this.connection;
  }

  async write(url: string, data: Uint8Array): Promise<void> {
    const { bucket, key } = locate(url);
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
    } catch (e) {
      throw storageFailed("write", url, e);
    }
  }

  writeAtomic(url: string, data: Uint8Array): Promise<void> {
    return this.write(url, data);
  }

  async read(url: string, range?: ByteRange): Promise<Buffer> {
    const { bucket, key } = locate(url);
    if (range) checkRange(url, range);
    // HTTP ranges are inclusive and cannot be empty: an empty range only checks that the file reaches it.
    if (range && range.end === range.start) return this.readEmptyRange(url, range);
    const { sdk, client } = await this.connect();
    try {
      const res = await client.send(new sdk.GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
      }));
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (range) checkRangeLength(url, range, buf.length);
      return buf;
    } catch (e) {
      if (isNotFound(e)) throw fileMissing(url, e);
      if (range && (errorName(e) === "InvalidRange" || httpStatus(e) === 416)) checkRangeLength(url, range, 0);
      throw storageFailed("read", url, e);
    }
  }

  private async readEmptyRange(url: string, range: ByteRange): Promise<Buffer> {
    const st = await this.stat(url);
    if (!st) throw fileMissing(url);
    if (range.start > st.size) checkRangeLength(url, { start: range.start, end: range.start + 1 }, 0);
    return Buffer.alloc(0);
  }

  async stat(url: string): Promise<{ size: number } | null> {
    const { bucket, key } = locate(url);
    const { sdk, client } = await this.connect();
    try {
      const res = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: res.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e) || httpStatus(e) === 404) return null;
      throw storageFailed("stat", url, e);
    }
  }

  async delete(url: string): Promise<void> {
    const { bucket, key } = locate(url);
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      if (!isNotFound(e)) throw storageFailed("delete", url, e);
    }
  }

  async deleteDirectory(dirUrl: string): Promise<void> {
    const { bucket } = locate(dirUrl);
    const keys = (await this.list(dirUrl)).map((u) => locate(u).key);
    const { sdk, client } = await this.connect();
    try {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key }));
        const res = await client.send(new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
        const failed = res.Errors ?? [];
        if (failed.length > 0) {
          throw new Error(`${failed.length} objects not deleted, e.g. ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ""}`);
        }
      }
    } catch (e) {
      throw storageFailed("delete directory", dirUrl, e);
    }
  }

  async list(dirUrl: string): Promise<string[]> {
    const { bucket, key } = locate(dirUrl);
    const out: string[] = [];
    const { sdk, client } = await this.connect();
    try {
      let token: string | undefined;
      do {
        const res = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: dirPrefix(key), ContinuationToken: token }));
        for (const o of res.Contents ?? []) if (o.Key) out.push(formatUrl({ scheme: "s3", authority: bucket, path: "/" + o.Key }));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw storageFailed("list", dirUrl, e);
    }
    return out.sort();
  }
}
