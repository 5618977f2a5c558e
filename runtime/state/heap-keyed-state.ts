/**
 * In-memory keyed state of one operator subtask. Every state is a map from canonical key to value;
 * handles read and write the entry of the backend's current key, which the operator sets before it
 * calls user code for a record or timer. (Checkpointed backends arrive with the state issue; the key
 * group of an entry is derivable from its canonical key, so nothing here prevents moving key groups.)
 */
import type { ListState, MapState, ValueState } from "../api/state.js";
import { canonicalKey, type CanonicalKey } from "../common/keys.js";
import { WeirError } from "../common/errors.js";

export class HeapKeyedStateBackend {
  private readonly tables = new Map<string, Map<CanonicalKey, unknown>>();
  private currentKey: CanonicalKey | undefined;

  constructor(private readonly operatorName: string) {}

  setCurrentKey(ck: CanonicalKey): void {
    this.currentKey = ck;
  }

  private table(name: string, kind: string): Map<CanonicalKey, unknown> {
    const id = `${kind}:${name}`;
    let t = this.tables.get(id);
    if (!t) {
      t = new Map();
      this.tables.set(id, t);
    }
    return t;
  }

  private key(): CanonicalKey {
    if (this.currentKey === undefined) {
      throw new WeirError("WEIR_E_USER_FUNCTION", `keyed state of "${this.operatorName}" used outside a keyed context`);
    }
    return this.currentKey;
  }

  valueState<T>(name: string, defaultValue?: T): ValueState<T> {
    const t = this.table(name, "value") as Map<CanonicalKey, T>;
    return {
      value: () => {
        const v = t.get(this.key());
        return v === undefined ? defaultValue : v;
      },
      update: (v: T) => {
        t.set(this.key(), v);
      },
      clear: () => {
        t.delete(this.key());
      },
    };
  }

  listState<T>(name: string): ListState<T> {
    const t = this.table(name, "list") as Map<CanonicalKey, T[]>;
    const list = (): T[] => {
      const k = this.key();
      let l = t.get(k);
      if (!l) {
        l = [];
        t.set(k, l);
      }
      return l;
    };
    return {
      get: () => (t.get(this.key()) ?? []).slice(),
      add: (v) => void list().push(v),
      addAll: (vs) => void list().push(...vs),
      update: (vs) => void (vs.length ? t.set(this.key(), vs.slice()) : t.delete(this.key())),
      clear: () => void t.delete(this.key()),
    };
  }

  mapState<K, V>(name: string): MapState<K, V> {
    const t = this.table(name, "map") as Map<CanonicalKey, Map<CanonicalKey, [K, V]>>;
    const existing = () => t.get(this.key());
    const map = () => {
      const k = this.key();
      let m = t.get(k);
      if (!m) {
        m = new Map();
        t.set(k, m);
      }
      return m;
    };
    return {
      get: (uk) => existing()?.get(canonicalKey(uk))?.[1],
      put: (uk, v) => void map().set(canonicalKey(uk), [uk, v]),
      contains: (uk) => existing()?.has(canonicalKey(uk)) ?? false,
      remove: (uk) => {
        const m = existing();
        if (!m) return;
        m.delete(canonicalKey(uk));
        if (m.size === 0) t.delete(this.key());
      },
      entries: () => mapIter(existing(), (e): [K, V] => [e[0], e[1]]),
      keys: () => mapIter(existing(), (e) => e[0]),
      values: () => mapIter(existing(), (e) => e[1]),
      isEmpty: () => (existing()?.size ?? 0) === 0,
      clear: () => void t.delete(this.key()),
    };
  }

  /** Number of keys with any state, summed over states (for metrics and tests). */
  get entryCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }
}

function* mapIter<E, R>(m: Map<CanonicalKey, E> | undefined, f: (e: E) => R): IterableIterator<R> {
  if (!m) return;
  for (const e of m.values()) yield f(e);
}
