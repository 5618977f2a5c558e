/**
 * Savepoints: stop-with-savepoint at parallelism 4 on RocksDB, then restore the same savepoint at
 * parallelism 2 on heap state and at 6 on RocksDB (key groups and split positions redistributed);
 * each continuation's committed output, together with what the first run committed, equals the
 * brute-force result of an uninterrupted run. Then: a truncated or corrupt `_metadata`, a missing or
 * corrupt state file, and state of an operator the job no longer has are refused before the job
 * starts from them.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { cpSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readJsonLines, REPO, runWeir, startCluster, tempDir, waitFor, type TestCluster } from "../support/cluster.js";
import { expectExactOutput } from "../support/exactly-once.js";

const EVENTS = 600_000;
const KEYS = 100;
const RATE = 150_000;
const JOB = join(REPO, "test/jobs/exactly-once.ts");

async function withCluster<T>(slots: number, config: string[], fn: (c: TestCluster) => Promise<T>): Promise<T> {
  const c = await startCluster(2, slots, ["restart-strategy.type=none", ...config]);
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

describe("savepoints", () => {
  const savepoints = tempDir("savepoints");
  const firstOut = tempDir("sp-out");
  let savepoint = "";

  beforeAll(async () => {
    savepoint = await withCluster(2, ["state.backend=rocksdb", `state.checkpoints.dir=${pathToFileURL(tempDir("sp-chk")).href}`, "execution.checkpointing.interval=500"], async (c) => {
      const { jobId } = await c.client.submitJob({ module: JOB, args: [String(EVENTS), String(KEYS), firstOut, String(RATE)], parallelism: 4 });
      await waitFor(async () => (await c.client.checkpoints(jobId)).counts.completed >= 2, 60_000, "two checkpoints");
      const { triggerId } = await c.client.stopWithSavepoint(jobId, { dir: pathToFileURL(savepoints).href });
      const location = await c.client.waitForSavepoint(jobId, triggerId, 60_000);
      const d = await c.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 30_000 });
      expect(d.state).toBe("FINISHED");
      return location;
    });
  }, 180_000);

  it("stopped the job part way, with its output committed up to the savepoint", () => {
    const committed = readJsonLines(firstOut).length;
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(EVENTS);
    // Self-contained and relocatable: every file sits inside the savepoint's directory.
    const dir = savepoint.startsWith("file:") ? fileURLToPath(savepoint) : savepoint;
    expect(readdirSync(dir)).toContain("_metadata");
    expect(readFileSync(join(dir, "_metadata"), "utf8")).not.toContain(savepoints);
  });

  for (const [parallelism, backend] of [
    [2, "heap"],
    [6, "rocksdb"],
  ] as const) {
    it(`restores at parallelism ${parallelism} on ${backend} state, from a moved copy, and ends with the uninterrupted result`, async () => {
      const out = tempDir("sp-out");
      cpSync(firstOut, out, { recursive: true });
      const moved = join(tempDir("moved"), "sp");
      cpSync(fileURLToPath(savepoint), moved, { recursive: true });
      await withCluster(3, [`state.backend=${backend}`], async (c) => {
        const { jobId } = await c.client.submitJob({ module: JOB, args: [String(EVENTS), String(KEYS), out], parallelism, savepointPath: moved });
        const d = await c.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 120_000 });
        expect(d.restoredFrom?.path).toContain(moved);
      });
      expectExactOutput(out, EVENTS, KEYS);
    }, 180_000);
  }

  describe("refuses bad snapshots before starting", () => {
    function copy(): string {
      const dir = join(tempDir("bad"), "sp");
      cpSync(fileURLToPath(savepoint), dir, { recursive: true });
      return dir;
    }
    const stateFiles = (dir: string) => readdirSync(dir).filter((f) => f !== "_metadata" && statSync(join(dir, f)).size > 0);

    const cases: [string, (dir: string) => void, RegExp][] = [
      ["a truncated _metadata", (d) => truncateSync(join(d, "_metadata"), Math.floor(statSync(join(d, "_metadata")).size / 2)), /WEIR_E_CORRUPT_CHECKPOINT|truncated/],
      [
        "a corrupt _metadata",
        (d) => {
          const b = readFileSync(join(d, "_metadata"));
          b[b.length - 10] ^= 0x55;
          writeFileSync(join(d, "_metadata"), b);
        },
        /checksum|corrupt/i,
      ],
      ["a missing state file", (d) => rmSync(join(d, stateFiles(d)[0]!)), /missing|does not exist/i],
    ];
    for (const [what, damage, message] of cases) {
      it(`${what}`, async () => {
        const dir = copy();
        damage(dir);
        const r = await runWeir(["run", JOB, "--from-savepoint", dir, "-p", "2", "--", String(EVENTS), String(KEYS), tempDir("never")]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toContain(dir);
      }, 60_000);
    }

    it("a state file with the right size but other bytes", async () => {
      const dir = copy();
      const name = stateFiles(dir)[0]!;
      const f = join(dir, name);
      const b = readFileSync(f);
      b[Math.floor(b.length / 2)] ^= 0xff;
      writeFileSync(f, b);
      const out = tempDir("never");
      const r = await runWeir(["run", JOB, "--from-savepoint", dir, "-p", "2", "--", String(EVENTS), String(KEYS), out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/corrupt: sha256/);
      expect(r.stderr).toContain(name);
      expect(readdirSync(out)).toEqual([]); // no sink committed anything
    }, 60_000);

    it("state of an operator the job no longer has, unless non-restored state is allowed", async () => {
      const job = join(REPO, "test/jobs/exactly-once-without-buckets.ts");
      const refused = await runWeir(["run", job, "--from-savepoint", fileURLToPath(savepoint), "-p", "2", "--", String(EVENTS), String(KEYS), tempDir("never")]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("bucket-counter");
      expect(refused.stderr).toContain("--allow-non-restored-state");
      const out = tempDir("sp-out");
      cpSync(firstOut, out, { recursive: true }); // where the savepoint's transactions were committed
      const allowed = await runWeir(["run", job, "--from-savepoint", fileURLToPath(savepoint), "--allow-non-restored-state", "-p", "2", "--", String(EVENTS), String(KEYS), out], {
        timeoutMs: 120_000,
      });
      expect(allowed.stderr).toMatch(/FINISHED/);
      expect(allowed.code).toBe(0);
    }, 150_000);
  });
});
