/**
 * A bounded memo for functions of one string input plus the env names they read: each result is
 * kept with the state (unset, empty or set) of every name its computation looked at, and is reused
 * only while the env still shows those same states. Values never enter a key, only their state, so a
 * secret stays out of it; an edit of the input or of a secret's presence takes effect at the next call.
 */

/** What a computation may learn of an env value: only whether it is a string, and an empty one. */
export type EnvState = "unset" | "empty" | "set";

export function envState(v: unknown): EnvState {
  return typeof v !== "string" ? "unset" : v === "" ? "empty" : "set";
}

interface Entry<V> {
  reads: [name: string, state: EnvState][];
  value: V;
}

/**
 * Up to `maxKeys` inputs, each with up to `perKey` env variants; the least recently used go first.
 *
 * @example
 * const memo = new ReadMemo<number>(16, 4);
 * memo.get("raw", env, (state) => (state("API_TOKEN") === "set" ? 1 : 0));
 */
export class ReadMemo<V> {
  private readonly entries = new Map<string, Entry<V>[]>();
  private readonly maxKeys: number;
  private readonly perKey: number;

  constructor(maxKeys: number, perKey: number) {
    this.maxKeys = maxKeys;
    this.perKey = perKey;
  }

  /** How many results are kept (all keys, all variants). */
  get size(): number {
    let n = 0;
    for (const list of this.entries.values()) n += list.length;
    return n;
  }

  get(key: string, env: Record<string, unknown>, compute: (state: (name: string) => EnvState) => V): V {
    const list = this.entries.get(key) ?? [];
    for (const e of list) {
      if (e.reads.every(([name, s]) => envState(env[name]) === s)) {
        this.touch(key, list);
        return e.value;
      }
    }
    const reads = new Map<string, EnvState>();
    const value = compute((name) => {
      const s = envState(env[name]);
      reads.set(name, s);
      return s;
    });
    list.unshift({ reads: [...reads], value });
    if (list.length > this.perKey) list.length = this.perKey;
    this.touch(key, list);
    return value;
  }

  private touch(key: string, list: Entry<V>[]): void {
    this.entries.delete(key);
    this.entries.set(key, list);
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }
}
