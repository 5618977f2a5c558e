/**
 * Helpers for integration tests on a real embedded cluster (JobManager and TaskManager processes from
 * bin/weir.js, built into dist/ by `npm test` before vitest runs).
 */
import { mkdtempSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawn } from "node:child_process";
import { startEmbeddedCluster, waitFor, WEIR_BIN, type EmbeddedCluster } from "../../runtime/cli/embedded-cluster.js";
import { Writable } from "node:stream";
import { afterAll, beforeAll } from "vitest";

export { waitFor, WEIR_BIN };

export const REPO = resolve(WEIR_BIN, "../..");

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `weir-${prefix}-`));
}

/** Start a cluster whose TaskManagers' stdout is captured (not mixed into the test output). */
export async function startCluster(taskmanagers: number, slots: number, config: string[] = []): Promise<EmbeddedCluster & { stdout: () => string }> {
  let out = "";
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const c = await startEmbeddedCluster({ taskmanagers, slots, config, logDir: tempDir("logs"), stdout });
  return Object.assign(c, { stdout: () => out });
}

export type TestCluster = Awaited<ReturnType<typeof startCluster>>;

/** Start a cluster before the tests of the enclosing suite and stop it after them; read it through the getter. */
export function useCluster(taskmanagers: number, slots: number, config: string[] = []): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(taskmanagers, slots, config);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => cluster!;
}

/** All JSON lines written by a file sink into `dir` (every part file). */
export function readJsonLines<T = unknown>(dir: string): T[] {
  if (!existsSync(dir)) return [];
  const out: T[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.startsWith("part-")) continue;
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) if (line) out.push(JSON.parse(line) as T);
  }
  return out;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the `weir` CLI to completion. */
export function runWeir(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [WEIR_BIN, ...args], { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`weir ${args.join(" ")} timed out; stderr:\n${stderr}`));
    }, opts.timeoutMs ?? 90_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export { prng } from "./prng.js";
