/**
 * Golden tests of tumbling, sliding and session windows on a real cluster: out-of-order input over
 * several splits plus one idle split that never ends, at parallelism 1 and 4 (on 2 TaskManager
 * processes), compared with an independent brute-force computation over the same records.
 *
 * The idle split holds back the watermark until the idleness timeout excludes it; each active split
 * ends with a sentinel far in the future so every real window fires while the job still runs.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WindowAssigner } from "../../runtime/api/windows.js";
import { session, sliding, tumbling } from "../../runtime/api/windows.js";
import { bruteForceWindows, sortWindowResults } from "../support/brute-force-windows.js";
import { prng, readJsonLines, REPO, useCluster, tempDir, waitFor } from "../support/cluster.js";
import type { GoldenInput, GoldenRecord } from "../jobs/windows-golden.js";

const BOUND = 2_000;
const SENTINEL = "~sentinel";

/** Four active splits of out-of-order records (disorder < BOUND) with quiet gaps, one idle split. */
function makeInput(assigner: WindowAssigner, seed: number): GoldenInput {
  const rand = prng(seed);
  const splits: GoldenRecord[][] = [];
  for (let s = 0; s < 4; s++) {
    const rows: GoldenRecord[] = [];
    for (let j = 0; j < 1_200; j++) {
      const base = j * 20 + Math.floor(j / 200) * 1_000; // a 1 s pause every 200 records breaks sessions
      rows.push({ key: `k${Math.floor(rand() * 12)}`, ts: base + Math.floor(rand() * (BOUND / 2)), value: 1 + Math.floor(rand() * 100) });
    }
    splits.push(rows);
  }
  const maxTs = Math.max(...splits.flat().map((r) => r.ts));
  for (const rows of splits) rows.push({ key: SENTINEL, ts: maxTs + 100_000, value: 0 });
  splits.push([{ key: "k0", ts: 5, value: 7 }]); // the idle split: one early record, then silence
  return { assigner, bound: BOUND, idleTimeout: 1_000, splits, openSplits: [4] };
}

interface Row {
  key: string;
  start: number;
  end: number;
  count: number;
  sum: number;
}

function expected(input: GoldenInput) {
  const records = input.splits.flat().filter((r) => r.key !== SENTINEL).map((r) => ({ key: r.key, ts: r.ts, value: r.value }));
  return bruteForceWindows(records, input.assigner, (values: number[]) => ({ count: values.length, sum: values.reduce((a, b) => a + b, 0) }));
}

const cases: [string, WindowAssigner][] = [
  ["tumbling", tumbling(5_000)],
  ["sliding", sliding(6_000, 2_000)],
  ["session", session(150)],
];

describe("windows against brute force (real cluster, idle split)", () => {
  const cluster = useCluster(2, 2);

  for (const [name, assigner] of cases) {
    it(`${name}: parallelism 1 and 4 both equal the brute-force result`, async () => {
      const input = makeInput(assigner, name.length * 7919);
      const want = expected(input);
      expect(want.length).toBeGreaterThan(20);
      const dir = tempDir(`golden-${name}`);
      const inputPath = join(dir, "input.json");
      writeFileSync(inputPath, JSON.stringify(input));
      for (const parallelism of [1, 4]) {
        const out = join(dir, `out-p${parallelism}`);
        const { jobId } = await cluster().client.submitJob({ module: join(REPO, "test/jobs/windows-golden.ts"), args: [inputPath, out], parallelism });
        // The job never ends (the idle split stays open): wait for every window, then cancel.
        await waitFor(async () => {
          const d = await cluster().client.jobDetail(jobId);
          if (d.state !== "RUNNING") throw new Error(`job ${d.state}: ${d.failure?.cause}`);
          return readJsonLines(out).length >= want.length;
        }, 60_000, `${want.length} ${name} window results at parallelism ${parallelism}`, 200).catch(async (err) => {
          const d = await cluster().client.jobDetail(jobId);
          if (d.failure) throw new Error(d.failure.cause);
          throw err;
        });
        await cluster().client.cancelJob(jobId);
        await cluster().client.waitForJobState(jobId, ["CANCELED"]);
        const got = sortWindowResults(readJsonLines<Row>(out).map((r) => ({ key: r.key, start: r.start, end: r.end, result: { count: r.count, sum: r.sum } })));
        expect(got).toEqual(want);
      }
    });
  }
});
