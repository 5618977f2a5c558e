/**
 * The examples run through the real `weir run` CLI and produce what an independent computation over
 * the same generated input says; word count gives the same result at parallelism 1 and at 4 on two
 * TaskManager processes.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { line } from "../../examples/wordcount.js";
import { click, SESSION_GAP, type SessionSummary } from "../../examples/session-timeout.js";
import { reading, type Reading } from "../../examples/windowed-aggregation.js";
import { sliding } from "../../runtime/api/windows.js";
import { bruteForceWindows } from "../support/brute-force-windows.js";
import { readJsonLines, runWeir, tempDir } from "../support/cluster.js";

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe("examples", () => {
  it("wordcount: parallelism 4 on 2 TaskManagers equals parallelism 1 and the brute-force count", async () => {
    const lines = 30_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < lines; i++) {
      const windowEnd = (Math.floor((i * 10) / 10_000) + 1) * 10_000;
      for (const w of line(i).split(" ")) counts.set(`${w}|${windowEnd}`, (counts.get(`${w}|${windowEnd}`) ?? 0) + 1);
    }
    const want = [...counts].map(([k, count]) => ({ word: k.split("|")[0], windowEnd: Number(k.split("|")[1]), count })).sort(byJson);
    const dir = tempDir("wordcount");
    for (const [p, m] of [[1, 1], [4, 2]]) {
      const out = join(dir, `p${p}`);
      const r = await runWeir(["run", "examples/wordcount.ts", "-p", String(p), "-m", String(m), "--", "--lines", String(lines), "--out", out]);
      expect(r.stderr).toMatch(/FINISHED/);
      expect(r.code).toBe(0);
      expect(readJsonLines(out).sort(byJson)).toEqual(want);
    }
  });

  it("session-timeout: event-time timers close every session", async () => {
    const clicks = 10_000;
    const perUser = new Map<string, number[]>();
    for (let i = 0; i < clicks; i++) {
      const c = click(i);
      perUser.set(c.user, [...(perUser.get(c.user) ?? []), c.ts]);
    }
    const want: SessionSummary[] = [];
    for (const [user, tss] of perUser) {
      tss.sort((a, b) => a - b);
      let cur: SessionSummary | null = null;
      for (const ts of tss) {
        if (cur && ts < cur.end + SESSION_GAP) {
          cur.end = ts;
          cur.clicks++;
        } else {
          if (cur) want.push(cur);
          cur = { user, start: ts, end: ts, clicks: 1 };
        }
      }
      if (cur) want.push(cur);
    }
    const out = tempDir("sessions");
    const r = await runWeir(["run", "examples/session-timeout.ts", "-p", "2", "--", "--clicks", String(clicks), "--out", out]);
    expect(r.code).toBe(0);
    expect(readJsonLines<SessionSummary>(out).sort(byJson)).toEqual(want.sort(byJson));
  });

  it("windowed-aggregation: sliding averages over on-time readings, late readings in the side output", async () => {
    const n = 20_000;
    const out = tempDir("averages");
    const r = await runWeir(["run", "examples/windowed-aggregation.ts", "-p", "2", "--", "--readings", String(n), "--out", out]);
    expect(r.code).toBe(0);
    const late = readJsonLines<{ late: Reading }>(join(out, "late")).map((l) => l.late);
    // Whatever the watermark declared late is absent from the averages, and nothing else is.
    const lateIds = new Map<string, number>();
    for (const l of late) lateIds.set(JSON.stringify(l), (lateIds.get(JSON.stringify(l)) ?? 0) + 1);
    const onTime: { key: string; ts: number; value: number }[] = [];
    for (let i = 0; i < n; i++) {
      const rd = reading(i);
      const id = JSON.stringify(rd);
      if ((lateIds.get(id) ?? 0) > 0) lateIds.set(id, lateIds.get(id)! - 1);
      else onTime.push({ key: rd.sensor, ts: rd.ts, value: rd.value });
    }
    expect([...lateIds.values()].every((c) => c === 0)).toBe(true);
    // Only the deliberately very late readings (every 997th, 20 s behind) can ever be late.
    for (const l of late) expect(l.ts).toBeLessThan(Math.max(...onTime.map((o) => o.ts)) - 10_000);
    const want = bruteForceWindows(onTime, sliding(10_000, 2_000), (vs: number[]) => Math.round((vs.reduce((a, b) => a + b, 0) / vs.length) * 100) / 100)
      .map((w) => ({ sensor: w.key, start: w.start, end: w.end, avg: w.result }))
      .sort(byJson);
    expect(readJsonLines(join(out, "averages")).sort(byJson)).toEqual(want);
  });
});
