import { describe, expect, it } from "vitest";
import { DefaultOperatorStateStore, redistributeLists } from "../../runtime/state/operator-state.js";
import type { OperatorListState } from "../../runtime/state/snapshot-types.js";

describe("operator list state", () => {
  it("snapshots split and union lists as copies, and restores them before declaration", () => {
    const store = new DefaultOperatorStateStore("source");
    const offsets = store.listState<{ split: string; offset: number }>("offsets");
    const progress = store.unionListState<number>("progress");
    offsets.addAll([{ split: "a", offset: 1 }, { split: "b", offset: 2 }]);
    progress.add(10);
    const snap = store.snapshot();
    offsets.get()[0]!.offset = 99; // get() hands out a copy of the list, not of the items
    offsets.update([{ split: "a", offset: 3 }]);
    expect(snap).toEqual([
      { name: "offsets", mode: "split", items: [{ split: "a", offset: 1 }, { split: "b", offset: 2 }] },
      { name: "progress", mode: "union", items: [10] },
    ]);

    const restored = new DefaultOperatorStateStore("source");
    restored.restore(snap);
    expect(restored.listState("offsets").get()).toEqual(snap[0]!.items);
    expect(() => restored.listState("progress")).toThrow(expect.objectContaining({ code: "WEIR_E_STATE_MISMATCH" }));
    restored.unionListState<number>("progress").clear();
    expect(restored.snapshot()[1]).toEqual({ name: "progress", mode: "union", items: [] });
  });

  it("refuses one name declared as both kinds", () => {
    const store = new DefaultOperatorStateStore("sink");
    store.listState("x");
    expect(() => store.unionListState("x")).toThrow(expect.objectContaining({ code: "WEIR_E_USER_FUNCTION" }));
  });
});

describe("redistributeLists", () => {
  const old: OperatorListState[][] = [
    [
      { name: "offsets", mode: "split", items: ["a", "b", "c"] },
      { name: "progress", mode: "union", items: [1] },
    ],
    [
      { name: "offsets", mode: "split", items: ["d"] },
      { name: "progress", mode: "union", items: [2] },
    ],
    [{ name: "late", mode: "split", items: ["e", "f"] }],
  ];

  it("spreads split items round robin and gives union items to every subtask", () => {
    expect(redistributeLists(old, 2)).toEqual([
      [
        { name: "offsets", mode: "split", items: ["a", "c"] },
        { name: "progress", mode: "union", items: [1, 2] },
        { name: "late", mode: "split", items: ["e"] },
      ],
      [
        { name: "offsets", mode: "split", items: ["b", "d"] },
        { name: "progress", mode: "union", items: [1, 2] },
        { name: "late", mode: "split", items: ["f"] },
      ],
    ]);
  });

  it("keeps every split item exactly once at any parallelism", () => {
    for (const p of [1, 3, 4, 7]) {
      const lists = redistributeLists(old, p);
      expect(lists).toHaveLength(p);
      expect(lists.flatMap((ls) => ls.find((l) => l.name === "offsets")!.items).sort()).toEqual(["a", "b", "c", "d"]);
      for (const ls of lists) expect(ls.find((l) => l.name === "progress")!.items).toEqual([1, 2]);
    }
  });
});
