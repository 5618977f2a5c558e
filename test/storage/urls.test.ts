import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../runtime/config/options.js";
import {
  joinUrl,
  normalizeUrl,
  parentUrl,
  relativeUrl,
  resolveUrl,
  storageFor,
} from "../../runtime/state/storage/checkpoint-storage.js";
import { s3ClientSettings } from "../../runtime/state/storage/internal/s3-storage.js";
import { thrownWeirError } from "./fixtures.js";

const config = resolveConfig([], {});

const configError = (f: () => unknown) => thrownWeirError(f, "WEIR_E_CONFIG");

describe("storage URLs", () => {
  it("normalizes plain absolute paths to file URLs and removes ., .., repeated and trailing slashes", () => {
    expect(normalizeUrl("/tmp/x/")).toBe("file:///tmp/x");
    expect(normalizeUrl("file:///tmp//a/./b/../c")).toBe("file:///tmp/a/c");
    expect(normalizeUrl("file://localhost/tmp/x")).toBe("file:///tmp/x");
    expect(normalizeUrl("s3://bucket/pre//fix/")).toBe("s3://bucket/pre/fix");
    expect(normalizeUrl("s3://bucket")).toBe("s3://bucket/");
  });

  it("joins names (which may contain slashes) and takes parents", () => {
    expect(joinUrl("s3://b/root", "job", "chk-3", "_metadata")).toBe("s3://b/root/job/chk-3/_metadata");
    expect(joinUrl("/data/", "shared/x")).toBe("file:///data/shared/x");
    expect(parentUrl("s3://b/root/chk-1/_metadata")).toBe("s3://b/root/chk-1");
    expect(parentUrl("s3://b/top")).toBe("s3://b/");
  });

  it("relativeUrl and resolveUrl are inverses within one file system or bucket", () => {
    const dir = "s3://b/root/job/chk-7";
    for (const target of ["s3://b/root/job/shared/f1", "s3://b/root/job/chk-7/op.state", "s3://b/elsewhere/x"]) {
      const rel = relativeUrl(dir, target);
      expect(rel).not.toContain("://");
      expect(resolveUrl(dir, rel)).toBe(target);
    }
    expect(relativeUrl(dir, "s3://b/root/job/shared/f1")).toBe("../shared/f1");
  });

  it("keeps a URL on another bucket or scheme absolute", () => {
    expect(relativeUrl("s3://b/root", "s3://other/f")).toBe("s3://other/f");
    expect(relativeUrl("s3://b/root", "/local/f")).toBe("file:///local/f");
    expect(resolveUrl("s3://b/root", "s3://other/f")).toBe("s3://other/f");
  });

  it("refuses relative paths, file URLs naming a host, and unknown schemes (naming the supported ones)", () => {
    expect(configError(() => normalizeUrl("relative/dir")).message).toContain("relative/dir");
    expect(configError(() => normalizeUrl("file://server/share")).message).toContain("file:///path");
    expect(configError(() => storageFor("s3:///no-bucket", config)).message).toContain("names no bucket");
    const err = configError(() => storageFor("hdfs://nn/checkpoints", config));
    expect(err.message).toContain("hdfs://nn/checkpoints");
    expect(err.message).toContain("file://, s3://");
  });

  it("shares one storage per scheme and S3 settings", () => {
    expect(storageFor("/a", config)).toBe(storageFor("file:///b", config));
    const s3a = storageFor("s3://x/a", config);
    expect(storageFor("s3://y/b", config)).toBe(s3a);
    expect(storageFor("s3://x/a", resolveConfig(["s3.endpoint=http://127.0.0.1:1"], {}))).not.toBe(s3a);
  });
});

describe("S3 settings", () => {
  it("take the endpoint from config, else AWS_ENDPOINT_URL, and credentials only when configured", () => {
    expect(s3ClientSettings(config, { AWS_ENDPOINT_URL: "http://env:9000" })).toEqual({
      endpoint: "http://env:9000",
      region: "us-east-1",
      forcePathStyle: true,
      credentials: null,
    });
    const explicit = resolveConfig(["s3.endpoint=http://cfg:9000", "s3.access-key=ak", "s3.secret-key=sk", "s3.path-style-access=false"], {});
    expect(s3ClientSettings(explicit, { AWS_ENDPOINT_URL: "http://env:9000" })).toEqual({
      endpoint: "http://cfg:9000",
      region: "us-east-1",
      forcePathStyle: false,
      credentials: { accessKeyId: "ak", secretAccessKey: "sk" },
    });
  });
});
