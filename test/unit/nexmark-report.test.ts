import { describe, expect, it } from "vitest";
import type { BenchResult } from "../../bench/harness.js";
import { commandLine, DEFAULT_OUT, engineConfig, jobArgs, parseCommandLine, parseDuration, type NexmarkOptions } from "../../bench/nexmark/run-options.js";
import {
  combineHashes,
  compact,
  jsonReport,
  markdownTable,
  niceStep,
  percentile,
  queryBlock,
  summariseQuery,
  svgChart,
  type NexmarkReport,
  type QueryInfo,
} from "../../bench/nexmark/run-report.js";

const KNOWN = ["q0", "q1", "q2", "q5"];

/** The options of a command line that must parse. */
function options(...argv: string[]): NexmarkOptions {
  const parsed = parseCommandLine(argv, KNOWN);
  if (parsed.kind !== "run") throw new Error(`expected options, got: ${parsed.message}`);
  return parsed.options;
}

describe("parseCommandLine", () => {
  it("applies the defaults: 10 M events, parallelism 2, heap, no checkpoints, 1 run", () => {
    expect(options("--query", "q5")).toEqual({
      queries: ["q5"],
      all: false,
      events: 10_000_000,
      parallelism: 2,
      state: "heap",
      checkpointMs: null,
      seed: null,
      tps: null,
      runs: 1,
      out: DEFAULT_OUT,
      config: [],
      profile: false,
    });
    expect(options("--query", "q5", "--profile").profile).toBe(true);
  });

  it("returns frozen options", () => {
    const o = options("--query", "q5");
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.queries)).toBe(true);
  });

  it("accepts a negative seed written --seed=-5", () => {
    expect(options("--query", "q0", "--seed=-5").seed).toBe(-5);
  });

  it("reads every option of the issue's command", () => {
    const o = options("--query", "q5,q0", "--events", "10M", "--parallelism", "3", "--state", "rocksdb", "--checkpoint", "10s", "--seed", "0", "--tps", "100k", "--runs", "3", "--out", "/tmp/x", "--config", "a.b=1", "--config", "c=2");
    expect(o).toMatchObject({ queries: ["q5", "q0"], events: 10_000_000, parallelism: 3, state: "rocksdb", checkpointMs: 10_000, seed: 0, tps: 100_000, runs: 3, out: "/tmp/x", config: ["a.b=1", "c=2"] });
  });

  it("--all selects every known query in registry order", () => {
    expect(options("--all").queries).toEqual(KNOWN);
    expect(options("--all").all).toBe(true);
  });

  it("--help prints the usage with exit code 0", () => {
    const parsed = parseCommandLine(["--help"], KNOWN);
    expect(parsed).toMatchObject({ kind: "usage", exitCode: 0 });
  });

  it.each([
    [[], "either --query or --all"],
    [["--all", "--query", "q0"], "either --query or --all"],
    [["--query", "q3"], "unknown query q3; known: q0, q1, q2, q5"],
    [["--query", "q0,q0"], "named twice"],
    [["--query", "q0", "--state", "memory"], "--state must be heap or rocksdb"],
    [["--query", "q0", "--events", "0"], "--events must be an integer >= 1"],
    [["--query", "q0", "--events", "1e6"], "--events must be an integer"],
    [["--query", "q0", "--parallelism", "-1"], "--parallelism"],
    [["--query", "q0", "--runs", "1.5"], "--runs must be an integer"],
    [["--query", "q0", "--runs", "0"], "--runs must be an integer >= 1"],
    [["--query", "q0", "--seed", "x"], "--seed must be an integer"],
    [["--query", "q0", "--checkpoint", "10"], "--checkpoint: expected a duration"],
    [["--query", "q0", "--config", "novalue"], "--config takes key=value"],
    [["--query", "q0", "--verbose"], "Unknown option '--verbose'"],
    [["--query", "q0", "extra"], "positional"],
  ])("exits 2 with the usage for %j", (argv, message) => {
    const parsed = parseCommandLine(argv, KNOWN);
    expect(parsed.kind).toBe("usage");
    if (parsed.kind !== "usage") return;
    expect(parsed.exitCode).toBe(2);
    expect(parsed.message).toContain(message);
    expect(parsed.message).toContain("Usage: npm run bench:nexmark");
  });
});

describe("parseDuration", () => {
  it.each([
    ["10s", 10_000],
    ["500ms", 500],
    ["1.5s", 1_500],
    ["2m", 120_000],
    ["1min", 60_000],
    ["off", null],
    ["0", null],
  ])("%s -> %s ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["10", "", "s", "-1s", "0s", "0.5ms", "10 h", "ten seconds"])("rejects %j", (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});

describe("what the options make of the engine's configuration and the job's arguments", () => {
  it("sets the state backend and the checkpoint interval before the user's configuration", () => {
    expect(engineConfig({ state: "rocksdb", checkpointMs: 10_000, config: ["state.backend=heap"] })).toEqual([
      "state.backend=rocksdb",
      "execution.checkpointing.interval=10000",
      "state.backend=heap",
    ]);
    expect(engineConfig({ state: "heap", checkpointMs: null, config: [] })).toEqual(["state.backend=heap"]);
  });

  it("passes seed and tps to the job only when given", () => {
    expect(jobArgs("q5", { events: 1000, seed: null, tps: null })).toEqual(["--query", "q5", "--events", "1000"]);
    expect(jobArgs("q5", { events: 1000, seed: 7, tps: 100 })).toEqual(["--query", "q5", "--events", "1000", "--seed", "7", "--tps", "100"]);
  });

  it("quotes the command line for a shell", () => {
    expect(commandLine(["--all", "--config", "a=b c"])).toBe("npm run bench:nexmark -- --all --config 'a=b c'");
  });
});

describe("percentile", () => {
  it("is nearest-rank", () => {
    const xs = [50, 10, 40, 20, 30];
    expect(percentile(xs, 50)).toBe(30);
    expect(percentile(xs, 99)).toBe(50);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 0)).toBe(10);
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });

  it("is null without values", () => {
    expect(percentile([], 50)).toBeNull();
  });
});

describe("combineHashes", () => {
  it("adds the subtasks' hashes mod 2^32, as 8 hex digits", () => {
    expect(combineHashes([{ subtask: 0, time: 1, value: 0xffffffff }, { subtask: 1, time: 1, value: 2 }])).toBe("1");
    expect(combineHashes([{ subtask: 0, time: 1, value: 3_000_000_000 }])).toBe("3000000000");
    expect(combineHashes([])).toBeNull();
  });
});

describe("axis helpers", () => {
  it("rounds steps to 1, 2 or 5 times a power of ten", () => {
    expect(niceStep(1_000_000)).toBe(200_000);
    expect(niceStep(610_000)).toBe(100_000);
    expect(niceStep(70_000)).toBe(10_000);
    expect(niceStep(70_000, 5)).toBe(20_000);
  });

  it("writes compact numbers", () => {
    expect(compact(1_250_000)).toBe("1.3M");
    expect(compact(150_000)).toBe("150k");
    expect(compact(0)).toBe("0");
  });
});

// ---- rendering from fixed results --------------------------------------------------------------

function benchResult(perCore: number, over: Partial<BenchResult> = {}): BenchResult {
  return {
    name: "q",
    description: "",
    events: 1_000_000,
    wallSeconds: 2,
    cpuSeconds: 1_000_000 / perCore,
    cpuSecondsByProcess: { jobmanager: 0.1, "taskmanager-0": 1, "taskmanager-1": 1 },
    peakRssBytesByProcess: { jobmanager: 100e6, "taskmanager-0": 200e6, "taskmanager-1": 250e6 },
    pids: { jobmanager: 1, "taskmanager-0": 2, "taskmanager-1": 3 },
    coresUsed: 1.5,
    atSinks: 1234,
    otherCoresBusy: 0.05,
    eventsPerSecond: 500_000,
    eventsPerSecondPerCore: perCore,
    goalPerCore: 0,
    checkpoints: null,
    config: [],
    parallelism: 2,
    taskmanagers: 2,
    node: "v20.20.0",
    date: "2026-11-21T21:00:00.000Z",
    jobId: "0".repeat(32),
    ...over,
  };
}

const Q0: QueryInfo = { name: "q0", description: "pass-through", goalPerCore: 150_000 };
const Q5: QueryInfo = { name: "q5", description: "hot items", goalPerCore: 20_000 };
const Q9: QueryInfo = { name: "q9", description: "winning bids", goalPerCore: null };
const CHECKPOINTS = { completed: 4, failed: 0, medianDurationMs: 30, maxDurationMs: 90, medianStateBytes: 0, maxAlignmentMs: 0, durationsMs: [30, 10, 90, 20] };

function report(): NexmarkReport {
  return {
    setup: {
      command: "npm run bench:nexmark -- --all --events 1M --checkpoint 10s",
      events: 1_000_000,
      parallelism: 2,
      state: "heap",
      checkpointMs: 10_000,
      seed: 1,
      tps: 10_000,
      runs: 3,
      node: "v20.20.0",
      machine: "2 × Test CPU",
      date: "2026-11-21T21:00:00.000Z",
    },
    outcomes: [
      summariseQuery(Q0, [benchResult(300_000), benchResult(200_000, { checkpoints: CHECKPOINTS }), benchResult(100_000)], ["43981", "43981", "43981"]),
      summariseQuery(Q5, [benchResult(15_000, { checkpoints: CHECKPOINTS })], [null]),
      summariseQuery(Q9, [benchResult(50_000)], ["1"]),
      { kind: "failed", query: { name: "q7", description: "highest bid", goalPerCore: 12_000 }, error: "job ended FAILED: boom | bang\nstack" },
    ],
  };
}

describe("summariseQuery", () => {
  it("takes the run of median events/s per core and derives RSS and checkpoint figures from it", () => {
    const o = report().outcomes[0]!;
    expect(o.kind).toBe("measured");
    if (o.kind !== "measured") return;
    expect(o.run.eventsPerSecondPerCore).toBe(200_000);
    expect(o.perCoreByRun).toEqual([300_000, 200_000, 100_000]);
    expect(o.peakRss).toEqual({ maxBytes: 250e6, totalBytes: 550e6 });
    expect(o.checkpoints).toEqual({ completed: 4, failed: 0, p50Ms: 20, p99Ms: 90, maxMs: 90 });
    expect(o.resultHash).toBe("43981");
  });

  it("shows every distinct hash when runs disagree", () => {
    expect(summariseQuery(Q0, [benchResult(1), benchResult(2)], ["a", "b"]).resultHash).toBe("a / b");
  });
});

describe("markdown report", () => {
  const md = markdownTable(report());

  it("names the setup and the exact command", () => {
    expect(md).toContain("1,000,000 events, heap state, parallelism 2 on 2 TaskManagers (1 slot each), checkpoints every 10 s, median of 3 runs");
    expect(md).toContain("```sh\nnpm run bench:nexmark -- --all --events 1M --checkpoint 10s\n```");
    expect(md).toContain("generator seed 1, 10,000 events per event-time second.");
    expect(md).toContain("2 × Test CPU, Node v20.20.0, 2026-11-21T21:00:00.000Z.");
  });

  it("has one row per query with the figures and the verdict", () => {
    const rows = md.split("\n").filter((l) => /^\| q\d/.test(l));
    expect(rows).toEqual([
      "| q0 | 1,000,000 | 2.00 | 1.50 | 500,000 | 200,000 | 150,000 met | 250 / 550 | 4 | 20 / 90 | 1,234 | 43981 | 0.05 |",
      "| q5 | 1,000,000 | 2.00 | 1.50 | 500,000 | 15,000 | 20,000 **MISSED** | 250 / 550 | 4 | 20 / 90 | 1,234 | – | 0.05 |",
      "| q9 | 1,000,000 | 2.00 | 1.50 | 500,000 | 50,000 | – | 250 / 550 | off | – | 1,234 | 1 | 0.05 |",
      "| q7 | failed: job ended FAILED: boom \\| bang |",
    ]);
  });

  it("does not judge RocksDB runs against the heap goals", () => {
    const r = report();
    r.setup.state = "rocksdb";
    expect(markdownTable(r)).toContain("| 15,000 | 20,000 (heap) |");
  });
});

describe("printed block", () => {
  it("lists every figure of a query", () => {
    const block = queryBlock(report().outcomes[0]!, "heap");
    expect(block.split("\n")).toEqual([
      "q0: pass-through",
      "  events            1,000,000",
      "  wall              2.00 s",
      "  CPU               5.00 s (jobmanager 0.10, taskmanager-0 1.00, taskmanager-1 1.00)",
      "  cores used        1.50",
      "  events/s          500,000",
      "  events/s per core 200,000 (median of 3 runs: 300,000, 200,000, 100,000)",
      "  goal per core     150,000 met",
      "  peak RSS MB       max 250, total 550 (jobmanager 100, taskmanager-0 200, taskmanager-1 250)",
      "  checkpoints       4 completed, 0 failed; end-to-end duration p50 20 ms, p99 90 ms, max 90 ms",
      "  rows at sink      1,234",
      "  result hash       43981",
      "  other load        0.05 cores",
    ]);
  });

  it("says why a query failed", () => {
    expect(queryBlock(report().outcomes[3]!, "heap")).toBe("q7: highest bid\n  FAILED: job ended FAILED: boom | bang\nstack");
  });
});

describe("JSON report", () => {
  it("round-trips the setup and outcomes", () => {
    const r = report();
    expect(JSON.parse(jsonReport(r))).toEqual(JSON.parse(JSON.stringify(r)));
  });
});

describe("SVG chart", () => {
  const svg = svgChart(report());

  it("is one svg element with a bar per measured query and a mark per goal", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const bars = svg.match(/<rect x="48" y="\d+(\.\d+)?" width="[\d.]+" height="16"/g) ?? [];
    expect(bars).toHaveLength(3);
    expect(svg.match(/stroke="#000" stroke-width="2"/g)).toHaveLength(1 + 2); // the legend, q0 and q5 (q9 has no goal, q7 failed)
  });

  it("scales bars to the axis and colours a missed goal", () => {
    // Axis to 200k (the largest value), 520 px: q0 fills it, q5 (15k) is 39 px and red.
    expect(svg).toContain('width="520.0" height="16" fill="#4c78a8"');
    expect(svg).toContain('width="39.0" height="16" fill="#d9534f"');
    expect(svg).toContain(">200k</text>");
  });

  it("labels queries and escapes text", () => {
    expect(svg).toContain(">q7</text>");
    expect(svg).toContain(">failed</text>");
    expect(svg).toContain(">200,000 (goal 150k)</text>");
    expect(svg).not.toMatch(/<text[^>]*>[^<]*&(?!amp;|lt;|gt;|quot;)/);
  });
});
