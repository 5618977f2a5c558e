/**
 * Every Nexmark query against its brute-force computation, on a real embedded cluster: the job
 * (bench/nexmark/job.ts --collect) at parallelism 2 on 2 TaskManagers of 1 slot, over the same
 * 100 000 generated events, must produce the brute-force result exactly (sorted JSON rows; for
 * upsert queries the last row per key). Stateful queries run once more on RocksDB, and the blackhole
 * sink's count and hash are checked against the brute-force rows of an append-only query.
 *
 * Event-time rate: 2 000 events/s, so the 100 000 events span 50 s of event time: five 10 s tumbling
 * windows, about twenty 10 s hopping windows, sessions that close (10 s gap) and auctions that expire
 * (about 0.8 s on average) many times over. At the V2 rate (100 000/s) the whole run would be 1 s,
 * inside a single window.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rowsHash } from "../../bench/nexmark/blackhole.js";
import { allEvents, nexmarkConfig } from "../../bench/nexmark/generator.js";
import { parseJobArgs } from "../../bench/nexmark/job.js";
import type { NexmarkEvent } from "../../bench/nexmark/model.js";
import type { NexmarkQuery, Row } from "../../bench/nexmark/query.js";
import { QUERIES, queryByName } from "../../bench/nexmark/queries/index.js";
import { REPO, tempDir, useCluster, waitFor, type TestCluster } from "../support/cluster.js";
import { collectedFiles, diffRows, resultOf } from "./support.js";

const EVENTS = 100_000;
const TPS = 2_000;
const SEED = 7;
const PARALLELISM = 2;
/** Stateful queries that also run on RocksDB (those of them the registry has). */
const ROCKSDB_QUERIES = QUERIES.filter((q) => q.name === "q4" || q.name === "q5");
const JOB = join(REPO, "bench/nexmark/job.ts");

const cfg = nexmarkConfig({ events: EVENTS, tps: TPS, seed: SEED });
let events: NexmarkEvent[] | null = null;
/** The generated events, once for the file. */
const allGenerated = (): NexmarkEvent[] => (events ??= [...allEvents(cfg)]);

const jobArgs = (query: NexmarkQuery, extra: string[] = []): string[] => ["--query", query.name, "--events", String(EVENTS), "--seed", String(SEED), "--tps", String(TPS), ...extra];

/** Run `query` to its end on `cluster`, writing rows into a fresh directory; the files' rows. */
async function runCollect(cluster: TestCluster, query: NexmarkQuery): Promise<Map<string, Row[]>> {
  const out = join(tempDir(`nexmark-${query.name}`), "rows");
  const { jobId } = await cluster.client.submitJob({ module: JOB, args: jobArgs(query, ["--collect", out]), parallelism: PARALLELISM });
  await cluster.client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 60_000 });
  return collectedFiles(out);
}

/** The job's result equals brute force (and brute force is not trivially empty). */
function expectBruteForceResult(query: NexmarkQuery, files: Map<string, Row[]>): void {
  const want = query.bruteForce(allGenerated());
  expect(want.length, `${query.name}: brute force found no rows`).toBeGreaterThan(0);
  const diff = diffRows(resultOf(query, files), want);
  expect(diff, `${query.name} differs from brute force:\n${diff}`).toBeNull();
}

describe("Nexmark job arguments and result comparison", () => {
  it("rejects bad arguments with the usage", () => {
    expect(() => parseJobArgs([])).toThrow(/--query is required[\s\S]*Usage:/);
    expect(() => parseJobArgs(["--query", "q99"])).toThrow(/unknown Nexmark query "q99"; known: q0, q1/);
    expect(() => parseJobArgs(["--query", "q0", "--events", "1.5"])).toThrow(/--events must be a non-negative integer/);
    expect(() => parseJobArgs(["--query", "q0", "--tps", "fast"])).toThrow(/--tps must be a positive number/);
    expect(() => parseJobArgs(["--query", "q0", "--bogus"])).toThrow(/Usage:/);
    const a = parseJobArgs(["--query", "q1"]);
    expect([a.query.name, a.config.events, a.config.seed, a.collect]).toEqual(["q1", 10_000_000, 1, null]);
  });

  it("a lost, changed or duplicated row is a difference; order is not", () => {
    const want: Row[] = [[1, "a"], [2, "b"], [2, "b"]];
    expect(diffRows([[2, "b"], [1, "a"], [2, "b"]], want)).toBeNull();
    expect(diffRows([[1, "a"], [2, "b"]], want)).toMatch(/got 2 rows, expected 3: 1 missing, 0 extra/);
    expect(diffRows([[1, "a"], [2, "b"], [2, "c"]], want)).toMatch(/1 missing, 1 extra[\s\S]*\[2,"c"\]/);
    expect(rowsHash([[1, "a"], [2.5, null]])).toBe(rowsHash([[2.5, null], [1, "a"]]));
    expect(rowsHash([[1, "a"]])).not.toBe(rowsHash([[1, "b"]]));
  });

  it("an upsert result is the last row per key of each subtask's file", () => {
    const q4 = queryByName("q4");
    const files = new Map<string, Row[]>([["part-0", [[10, 5], [11, 7], [10, 6]]], ["part-1", [[12, 1]]]]);
    expect(diffRows(resultOf(q4, files), [[10, 6], [11, 7], [12, 1]])).toBeNull();
    files.set("part-1", [[10, 9]]);
    expect(() => resultOf(q4, files)).toThrow(/key 10 was written by two subtasks/);
  });
});

describe(`Nexmark queries against brute force (${EVENTS} events at ${TPS}/s, parallelism ${PARALLELISM}, heap state)`, () => {
  const cluster = useCluster(2, 1);

  for (const query of QUERIES) {
    it(`${query.name}: ${query.description}`, async () => {
      expectBruteForceResult(query, await runCollect(cluster(), query));
    });
  }

  // q1: every row counted and hashed; q4 (an updating table): the hash is the final table's.
  for (const name of ["q1", "q4"]) {
    it(`blackhole sink: its counts and hashes add up to the brute-force result's (${name})`, async () => {
      const query = queryByName(name);
      const from = cluster().stdout().length;
      const { jobId } = await cluster().client.submitJob({ module: JOB, args: jobArgs(query), parallelism: PARALLELISM });
      await cluster().client.waitForJobState(jobId, ["FINISHED"], { timeoutMs: 60_000 });
      const marks = () => cluster().stdout().slice(from);
      await waitFor(() => (marks().match(/^bench-hash /gm) ?? []).length >= PARALLELISM, 10_000, "both subtasks' bench-hash lines");
      const counts = [...marks().matchAll(/^bench-sink (\d+)$/gm)].map((m) => Number(m[1]));
      const hashes = [...marks().matchAll(/^bench-hash (\d+) \d+ (\d+)$/gm)].map((m) => Number(m[2]));
      const want = query.bruteForce(allGenerated());
      const rows = counts.reduce((a, b) => a + b, 0);
      if (query.upsertKey === undefined) expect(rows).toBe(want.length);
      else expect(rows).toBeGreaterThanOrEqual(want.length);
      expect(hashes.reduce((a, b) => (a + b) % 2 ** 32, 0)).toBe(rowsHash(want));
    });
  }
});

describe("Nexmark stateful queries on RocksDB", () => {
  const cluster = useCluster(2, 1, ["state.backend=rocksdb"]);

  for (const query of ROCKSDB_QUERIES) {
    it(`${query.name} gives the brute-force result with RocksDB state`, async () => {
      expectBruteForceResult(query, await runCollect(cluster(), query));
    });
  }
});
