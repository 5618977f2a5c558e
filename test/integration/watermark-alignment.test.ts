/**
 * Watermark alignment on real processes (test/jobs/watermark-alignment.ts): a slow and a fast source
 * in one alignment group. Aligned, the fast source's records never lead the slow source's event time
 * (as emitted so far) by more than the max drift plus one poll of the fast source, once the first
 * announcement reached it (before that, like Flink, it reads freely); unaligned, it runs far ahead.
 * Paused sources still take part in checkpoints. Assertions are on event time in the output only.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readJsonLines, REPO, tempDir, useCluster } from "../support/cluster.js";
import { FAST, MAX_DRIFT_MS, SLOW, type Rec } from "../jobs/watermark-alignment.js";

const BATCH = 16;
/** A resumed split may emit one poll's worth of records (here the whole batch) before it is paused again. */
const BOUND_MS = MAX_DRIFT_MS + BATCH * FAST.stepMs;
const JOB = join(REPO, "test/jobs/watermark-alignment.ts");

/** Per fast record, in generation order: how far its event time leads the slow source's latest so far. */
function fastLeads(records: Rec[]): number[] {
  const sorted = [...records].sort((a, b) => a.at - b.at);
  let slowMax = Number.NEGATIVE_INFINITY;
  const leads: number[] = [];
  for (const r of sorted) {
    if (r.src === "slow") slowMax = Math.max(slowMax, r.ts);
    else if (slowMax > Number.NEGATIVE_INFINITY) leads.push(r.ts - slowMax);
  }
  return leads;
}

describe("watermark alignment across two sources", () => {
  const cluster = useCluster(1, 1, [
    `network.batch-size=${BATCH}`,
    "execution.checkpointing.interval=300",
    `state.checkpoints.dir=${pathToFileURL(tempDir("wma-chk")).href}`,
  ]);

  async function run(mode: "splits" | "whole" | "off"): Promise<{ leads: number[]; checkpoints: number }> {
    const out = tempDir(`wma-${mode}`);
    const c = cluster();
    const { jobId } = await c.client.submitJob({ module: JOB, args: [out, mode], parallelism: 1 });
    const done = await c.client.waitForJobState(jobId, ["FINISHED", "FAILED", "CANCELED"], { timeoutMs: 60_000 });
    expect(done.state, JSON.stringify(done.failure)).toBe("FINISHED");
    const records = readJsonLines<Rec>(out);
    expect(records.filter((r) => r.src === "fast")).toHaveLength(FAST.count);
    expect(records.filter((r) => r.src === "slow")).toHaveLength(SLOW.count);
    return { leads: fastLeads(records), checkpoints: (await c.client.checkpoints(jobId)).counts.completed };
  }

  /** Leads above the bound happen only before alignment engaged: in the first half of the fast records. */
  function expectAligned(leads: number[]): void {
    const lastViolation = leads.findLastIndex((l) => l > BOUND_MS);
    expect(lastViolation, `fast record ${lastViolation} leads by ${leads[lastViolation]} ms`).toBeLessThan(leads.length / 2);
    expect(Math.max(...leads.slice(leads.length / 2))).toBeLessThanOrEqual(BOUND_MS);
  }

  it("pauses the fast split (split-level pausing) and keeps checkpointing", async () => {
    const { leads, checkpoints } = await run("splits");
    expectAligned(leads);
    expect(checkpoints).toBeGreaterThanOrEqual(2);
  });

  it("pauses a reader without pauseOrResumeSplits as a whole and keeps checkpointing", async () => {
    const { leads, checkpoints } = await run("whole");
    expectAligned(leads);
    expect(checkpoints).toBeGreaterThanOrEqual(2);
  });

  it("without alignment the fast source runs far ahead", async () => {
    const { leads } = await run("off");
    expect(Math.max(...leads)).toBeGreaterThan(3 * BOUND_MS);
    expect(leads.at(-1)!).toBeGreaterThan(BOUND_MS);
  });
});
