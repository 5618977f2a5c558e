/**
 * Operator (non-keyed) list state of one subtask, for sources and sinks, and how it moves on rescale.
 *
 *   const store = new DefaultOperatorStateStore("kafka-source");
 *   store.restore(restored.lists);                      // before open
 *   const offsets = store.listState<Offset>("offsets"); // in open
 *   ...
 *   const lists = store.snapshot();                     // at a barrier
 *
 * "split" lists (listState) are spread round robin over the new subtasks on restore, "union" lists
 * (unionListState) are given whole to every subtask. Items are stored inline in `_metadata`, so they
 * must be JSON-safe.
 */
import type { ListState, OperatorStateStore } from "../api/state.js";
import { WeirError } from "../common/errors.js";
import type { OperatorListState } from "./snapshot-types.js";

type Mode = OperatorListState["mode"];

/** List state names the runtime itself uses (source splits, sink committables, window progress). */
export const RESERVED_PREFIX = "weir.";

/** The lists of a snapshot that belong to user code, not to the runtime. */
export function userLists(lists: readonly OperatorListState[]): OperatorListState[] {
  return lists.filter((l) => !l.name.startsWith(RESERVED_PREFIX));
}

export class DefaultOperatorStateStore implements OperatorStateStore {
  private readonly lists = new Map<string, { mode: Mode; items: unknown[] }>();
  private readonly declared = new Set<string>();

  constructor(private readonly operatorName: string) {}

  listState<T>(name: string): ListState<T> {
    return this.declare<T>(name, "split");
  }

  unionListState<T>(name: string): ListState<T> {
    return this.declare<T>(name, "union");
  }

  /** True when there is no list at all (nothing to snapshot). */
  get isEmpty(): boolean {
    return this.lists.size === 0;
  }

  /** A copy of every list (declared or only restored), taken now. */
  snapshot(): OperatorListState[] {
    return [...this.lists].map(([name, l]) => ({ name, mode: l.mode, items: structuredClone(l.items) }));
  }

  /** Take the lists given to this subtask; call before the lists are declared. */
  restore(lists: readonly OperatorListState[]): void {
    for (const l of lists) this.lists.set(l.name, { mode: l.mode, items: [...l.items] });
  }

  private declare<T>(name: string, mode: Mode): ListState<T> {
    if (name.startsWith(RESERVED_PREFIX)) {
      throw new WeirError("WEIR_E_USER_FUNCTION", `"${this.operatorName}" declares list state "${name}": names starting with "${RESERVED_PREFIX}" are the runtime's`);
    }
    const l = this.lists.get(name);
    if (l !== undefined && l.mode !== mode) {
      const code = this.declared.has(name) ? "WEIR_E_USER_FUNCTION" : "WEIR_E_STATE_MISMATCH";
      throw new WeirError(code, `"${this.operatorName}" declares ${mode} list state "${name}", which is a ${l.mode} list`);
    }
    if (l === undefined) this.lists.set(name, { mode, items: [] });
    this.declared.add(name);
    const items = () => this.lists.get(name)!;
    return {
      get: () => items().items.slice() as T[],
      add: (v) => void items().items.push(v),
      addAll: (vs) => {
        for (const v of vs) items().items.push(v);
      },
      update: (vs) => void (items().items = vs.slice()),
      clear: () => void (items().items = []),
    };
  }
}

/**
 * The lists each of `newParallelism` subtasks restores, from the lists of every old subtask (index =
 * old subtask): per name, in first-seen order, the items of all old subtasks in subtask order; item i
 * of a "split" list goes to new subtask i % newParallelism, a "union" list goes whole to each.
 */
export function redistributeLists(perOldSubtask: readonly (readonly OperatorListState[])[], newParallelism: number): OperatorListState[][] {
  const byName = new Map<string, OperatorListState>();
  for (const lists of perOldSubtask) {
    for (const l of lists) {
      const acc = byName.get(l.name);
      if (acc === undefined) byName.set(l.name, { name: l.name, mode: l.mode, items: [...l.items] });
      else for (const item of l.items) acc.items.push(item);
    }
  }
  return Array.from({ length: newParallelism }, (_, subtask) =>
    [...byName.values()].map((l) =>
      l.mode === "union" ? { ...l, items: [...l.items] } : { ...l, items: l.items.filter((_, i) => i % newParallelism === subtask) },
    ),
  );
}
