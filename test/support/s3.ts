/**
 * A real S3-compatible server for tests: versitygw (Apache-2.0) with its posix backend, built from the Go
 * module in test/s3/ into .cluster/bin/versitygw by test/cluster/build.ts (rebuilt only when test/s3/go.mod
 * or go.sum change; a cold build takes a few minutes, so a suite that starts one needs a long hook timeout).
 *
 *   const s3 = await startS3Server({ dir: tempDir("s3") });
 *   // s3:// URLs in bucket s3.bucket, with config s3.endpoint=s3.endpoint, s3.access-key=..., s3.secret-key=...
 *   await s3.stop();
 *
 * The server listens on 127.0.0.1 at a free port, keeps objects in <dir>/data, their metadata in a sidecar
 * directory <dir>/meta (no user xattrs needed from the file system) and its IAM in <dir>/iam; its log is
 * <dir>/versitygw.log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { waitFor } from "../../runtime/cli/embedded-cluster.js";
import { ensureBuilt, type GoModule } from "../cluster/build.js";
import { freePort } from "../cluster/cluster.js";
import { bin, REPO_ROOT } from "../cluster/paths.js";

/** The versitygw module; `versitygw --version` reports the version go.mod pins. */
export const VERSITYGW_MODULE: GoModule = {
  dir: "test/s3",
  binaries: { versitygw: "github.com/versity/versitygw/cmd/versitygw" },
  ldflags: (dir) => {
    const m = /^\s*github\.com\/versity\/versitygw (v\S+)/m.exec(readFileSync(join(REPO_ROOT, dir, "go.mod"), "utf8"));
    return m ? `-s -w -X main.Version=${m[1]}` : "-s -w";
  },
};

/** A running server and what a client needs to use it. */
export interface S3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** A bucket created at start. */
  bucket: string;
  /** Config pairs for Weir (`key=value`) pointing s3:// storage at this server. */
  configPairs: string[];
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

const ACCESS_KEY = "weir-test";
const SECRET_KEY = "weir-test-secret";
const REGION = "us-east-1";

/** Build versitygw if needed, start it in `dir` and create `bucket`. */
export async function startS3Server(opts: { dir: string; bucket?: string; log?: (s: string) => void }): Promise<S3Server> {
  await ensureBuilt(VERSITYGW_MODULE, { log: opts.log ?? ((s) => process.stderr.write(s + "\n")) });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawnServer(opts.dir, port);
  try {
    await waitUntilAnswering(child, endpoint, opts.dir);
    const bucket = opts.bucket ?? "weir-test";
    await createBucket(endpoint, bucket);
    return {
      endpoint,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      bucket,
      configPairs: [`s3.endpoint=${endpoint}`, `s3.access-key=${ACCESS_KEY}`, `s3.secret-key=${SECRET_KEY}`,
        `s3.region=${REGION}`, "s3.path-style-access=true"],
      stop: () => stopProcess(child),
    };
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
}

async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  const client = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

function spawnServer(dir: string, port: number): ChildProcess {
  const [iam, meta, data] = ["iam", "meta", "data"].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [iam, meta, data]) mkdirSync(d, { recursive: true });
  const logFd = openSync(join(dir, "versitygw.log"), "a");
  const args = ["--port", `127.0.0.1:${port}`, "--iam-dir", iam, "posix", "--sidecar", meta, data];
  const child = spawn(bin("versitygw"), args, {
    env: { ...process.env, ROOT_ACCESS_KEY: ACCESS_KEY, ROOT_SECRET_KEY: SECRET_KEY },
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  return child;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Any HTTP answer (even 403 to an unsigned request) means it is serving; an exit means it never will. */
async function waitUntilAnswering(child: ChildProcess, endpoint: string, dir: string): Promise<void> {
  const log = join(dir, "versitygw.log");
  await waitFor(async () => exited(child) || Boolean(await fetch(endpoint, { signal: AbortSignal.timeout(1_000) })),
    30_000, `versitygw at ${endpoint} (log: ${log})`);
  if (exited(child)) throw new Error(`versitygw exited (${child.exitCode ?? child.signalCode}); see ${log}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
