/** Which part of a snapshot each subtask restores, at the same and at other parallelisms. */
import { describe, expect, it } from "vitest";
import { keyGroupRangeFor } from "../../runtime/common/keys.js";
import { assignRestore, checkStateMatches, finishedVertices, isFullyFinished, type RestoreVertex } from "../../runtime/state/restore-assignment.js";
import type { CheckpointMetadata, KeyedStateHandle, OperatorStateMeta } from "../../runtime/state/snapshot-types.js";
import { thrownWeirError } from "./fixtures.js";

const MAX = 8;

/** Old subtask i of `parallelism` holds its key-group range in file `f<i>`, each block 10 bytes. */
function keyedOperator(uid: string, parallelism: number): OperatorStateMeta {
  return {
    uid,
    name: `${uid} name`,
    parallelism,
    maxParallelism: MAX,
    subtasks: Array.from({ length: parallelism }, (_, i) => {
      const { start, end } = keyGroupRangeFor(i, parallelism, MAX);
      const groups = end - start + 1;
      const offsets = Array.from({ length: groups + 1 }, (_, g) => g * 10);
      return {
        keyed: { file: { url: `s3://b/f${i}`, size: groups * 10, sha256: "0".repeat(64) }, keyGroupStart: start, offsets },
        lists: [
          { name: "splits", mode: "split" as const, items: [`s${i}a`, `s${i}b`] },
          { name: "everywhere", mode: "union" as const, items: [`u${i}`] },
        ],
      };
    }),
  };
}

const meta = (...operators: OperatorStateMeta[]): CheckpointMetadata => ({
  format: "weir-snapshot",
  version: 1,
  kind: "savepoint",
  jobId: "j",
  jobName: "restore-test",
  checkpointId: 5,
  timestamp: 0,
  operators,
});

/** The key groups a handle holds, each as [group, byteStart, byteEnd, url]. */
const groupsOf = (hs: KeyedStateHandle[]) =>
  hs.flatMap((h) => h.offsets.slice(0, -1).map((o, g) => [h.keyGroupStart + g, o, h.offsets[g + 1]!, h.file.url] as const));

describe("assignRestore", () => {
  const snap = meta(keyedOperator("win", 2));

  it("gives each subtask its own state back at the same parallelism", () => {
    const r = assignRestore(snap, { uid: "win", parallelism: 2, maxParallelism: MAX }, 1)!;
    expect(r.keyed).toEqual([snap.operators[0]!.subtasks[1]!.keyed]);
    expect(r.lists).toEqual([
      { name: "splits", mode: "split", items: ["s0b", "s1b"] },
      { name: "everywhere", mode: "union", items: ["u0", "u1"] },
    ]);
  });

  it.each([1, 3, 4, 8])("covers every key group exactly once at parallelism %i, with the old byte ranges", (p) => {
    const all = Array.from({ length: p }, (_, i) => {
      const r = assignRestore(snap, { uid: "win", parallelism: p, maxParallelism: MAX }, i)!;
      const { start, end } = keyGroupRangeFor(i, p, MAX);
      const groups = groupsOf(r.keyed);
      for (const [g] of groups) expect(g >= start && g <= end, `group ${g} outside ${start}..${end}`).toBe(true);
      return groups;
    }).flat();
    // Old subtask 0 held groups 0..3 in f0, subtask 1 groups 4..7 in f1, 10 bytes per group.
    expect(all.sort((a, b) => a[0] - b[0])).toEqual(
      Array.from({ length: MAX }, (_, g) => [g, (g % 4) * 10, (g % 4) * 10 + 10, `s3://b/f${g < 4 ? 0 : 1}`]),
    );
  });

  it("deals split items round robin in old subtask order and gives union items to everyone", () => {
    const lists = [0, 1, 2].map((i) => assignRestore(snap, { uid: "win", parallelism: 3, maxParallelism: MAX }, i)!.lists);
    expect(lists.map((l) => l[0]!.items)).toEqual([["s0a", "s1b"], ["s0b"], ["s1a"]]);
    for (const l of lists) expect(l[1]).toEqual({ name: "everywhere", mode: "union", items: ["u0", "u1"] });
  });

  it("returns null for an operator without state in the snapshot", () => {
    expect(assignRestore(snap, { uid: "new-op", parallelism: 1, maxParallelism: MAX }, 0)).toBeNull();
  });

  it("refuses a changed max parallelism, naming old and new", () => {
    thrownWeirError(() => assignRestore(snap, { uid: "win", parallelism: 2, maxParallelism: 16 }, 0), "WEIR_E_STATE_MISMATCH",
      "max parallelism cannot change", "snapshot 8, job 16");
  });
});

/** A non-keyed operator whose old subtask i holds `counts[i]` raw files `r<i>.<n>` (finished: none). */
function rawOperator(uid: string, counts: (number | "finished")[]): OperatorStateMeta {
  const file = (name: string) => ({ url: `s3://b/${name}`, size: 1, sha256: "0".repeat(64) });
  return {
    uid,
    name: `${uid} name`,
    parallelism: counts.length,
    maxParallelism: MAX,
    subtasks: counts.map((n, i) =>
      n === "finished"
        ? { keyed: null, lists: [], finished: true as const }
        : { keyed: null, lists: [], ...(n > 0 ? { raw: Array.from({ length: n }, (_, k) => file(`r${i}.${k}`)) } : {}) },
    ),
  };
}

/** The raw file names each of `parallelism` new subtasks restores. */
const rawAt = (snap: CheckpointMetadata, uid: string, parallelism: number) =>
  Array.from({ length: parallelism }, (_, i) => (assignRestore(snap, { uid, parallelism, maxParallelism: MAX }, i)!.raw ?? []).map((f) => f.url.slice(7)));

describe("assignRestore, raw state", () => {
  it("gives each subtask its own files at the same parallelism, where round robin would not", () => {
    const snap = meta(rawOperator("wal", [3, 0, 1]));
    expect(rawAt(snap, "wal", 3)).toEqual([["r0.0", "r0.1", "r0.2"], [], ["r2.0"]]);
  });

  it.each<[(number | "finished")[], number, string[][]]>([
    [[2, 2], 3, [["r0.0", "r1.1"], ["r0.1"], ["r1.0"]]],
    [[2, 1, 2], 2, [["r0.0", "r1.0", "r2.1"], ["r0.1", "r2.0"]]],
    [[1, 1, 1], 1, [["r0.0", "r1.0", "r2.0"]]],
    [[1, "finished", 2], 2, [["r0.0", "r2.1"], ["r2.0"]]],
    [[1], 4, [["r0.0"], [], [], []]],
  ])("deals the files of %j round robin in old subtask order at parallelism %i", (counts, p, expected) => {
    const assigned = rawAt(meta(rawOperator("wal", counts)), "wal", p);
    expect(assigned).toEqual(expected);
  });

  it.each([
    [2, 3],
    [3, 2],
    [4, 7],
    [5, 1],
  ])("restores every file exactly once from parallelism %i to %i", (from, to) => {
    const counts = Array.from({ length: from }, (_, i) => (i * 7) % 4);
    const all = rawAt(meta(rawOperator("wal", counts)), "wal", from).flat();
    expect(all).toHaveLength(counts.reduce((a, b) => a + b, 0));
    expect(rawAt(meta(rawOperator("wal", counts)), "wal", to).flat().sort()).toEqual(all.sort());
  });

  it("omits the field for subtasks without raw files", () => {
    const snap = meta(rawOperator("wal", [0, 1]), keyedOperator("win", 2));
    expect(assignRestore(snap, { uid: "wal", parallelism: 2, maxParallelism: MAX }, 0)).toEqual({ keyed: [], lists: [] });
    expect("raw" in assignRestore(snap, { uid: "win", parallelism: 3, maxParallelism: MAX }, 1)!).toBe(false);
  });
});

describe("checkStateMatches", () => {
  const snap = meta(keyedOperator("source", 1), keyedOperator("dropped", 1));

  it("refuses state of operators the job lacks, naming uid and operator and the flag that skips it", () => {
    thrownWeirError(() => checkStateMatches(snap, [{ uid: "source", name: "src" }], false), "WEIR_E_STATE_MISMATCH",
      '"dropped" (operator "dropped name")', "--allow-non-restored-state");
  });

  it("skips that state with allowNonRestoredState, and accepts new operators without state", () => {
    expect(checkStateMatches(snap, [{ uid: "source", name: "src" }, { uid: "new", name: "n" }], true)).toEqual(["dropped"]);
    expect(checkStateMatches(snap, [{ uid: "source", name: "a" }, { uid: "dropped", name: "b" }], false)).toEqual([]);
  });
});

/** A source of `parallelism` subtasks: those in `finished` had finished, the others hold one split each. */
function sourceOperator(uid: string, parallelism: number, finished: number[]): OperatorStateMeta {
  return {
    uid,
    name: `${uid} name`,
    parallelism,
    maxParallelism: MAX,
    subtasks: Array.from({ length: parallelism }, (_, i) =>
      finished.includes(i)
        ? { keyed: null, lists: [], finished: true as const }
        : { keyed: null, lists: [{ name: "weir.splits", mode: "split" as const, items: [{ id: `gen-${i}`, next: 100 + i }] }] },
    ),
  };
}

describe("restoring a snapshot taken after some tasks finished", () => {
  it("gives the splits of the running subtasks only, at any parallelism: finished subtasks' splits are done", () => {
    const snap = meta(sourceOperator("events", 4, [1, 3]));
    for (const p of [1, 2, 3, 4, 6]) {
      const splits = Array.from({ length: p }, (_, i) => assignRestore(snap, { uid: "events", parallelism: p, maxParallelism: MAX }, i)!.lists.flatMap((l) => l.items));
      expect(splits.flat().map((s) => (s as { id: string }).id).sort()).toEqual(["gen-0", "gen-2"]);
    }
  });

  it("restores every subtask of a fully finished operator without state", () => {
    const snap = meta(sourceOperator("events", 2, [0, 1]));
    expect(isFullyFinished(snap.operators[0]!)).toBe(true);
    expect(assignRestore(snap, { uid: "events", parallelism: 3, maxParallelism: MAX }, 2)).toEqual({ keyed: [], lists: [] });
    expect(isFullyFinished(sourceOperator("x", 2, [1]))).toBe(false);
  });

  const vertex = (id: string, uids: string[], upstream: string[] = []): RestoreVertex => ({ id, name: `${id} task`, operators: uids.map((uid) => ({ uid })), upstream });
  const snap = meta(sourceOperator("a", 2, [0, 1]), sourceOperator("a-map", 2, [0, 1]), sourceOperator("b", 2, [0]), keyedOperator("win", 2));

  it("deploys finished the vertices whose operators all finished", () => {
    const vertices = [vertex("A", ["a", "a-map"]), vertex("B", ["b"]), vertex("W", ["win"], ["A", "B"])];
    expect([...finishedVertices(snap, vertices)]).toEqual(["A"]);
    expect([...finishedVertices(meta(keyedOperator("win", 2)), [vertex("W", ["win"])])]).toEqual([]);
  });

  it("refuses a vertex chaining finished operators with others, or with operators new to the snapshot", () => {
    thrownWeirError(() => finishedVertices(snap, [vertex("AB", ["a", "b"])]), "WEIR_E_STATE_MISMATCH",
      'snapshot 5 of job "restore-test"', 'task "AB task" chains operators that had finished (uids a) with operators that had not');
    thrownWeirError(() => finishedVertices(snap, [vertex("A", ["a", "new-map"])]), "WEIR_E_STATE_MISMATCH", "(uids a)");
  });

  it("refuses a finished vertex fed by one that had not finished", () => {
    thrownWeirError(() => finishedVertices(snap, [vertex("B", ["b"]), vertex("A", ["a", "a-map"], ["B"])]), "WEIR_E_STATE_MISMATCH",
      'task "A task" had finished but its input "B task" had not');
  });
});
