/**
 * A watch monitor's durable state, in its own small SQLite table (`watch_state`, created here if
 * missing, so the shared schema's migrations stay untouched): where the trades walk resumes (the
 * last trade whose fill is decided, id and time), the open misses (fills alerted and still watched
 * for a late report; also what keeps a re-read fill from being alerted twice), the REST budget's
 * rolling window and the 429/405 cooldown, and when the object was last alive. Bounded: a few
 * small JSON rows, rewritten in place. Everything else of a watch is rebuilt after an eviction.
 */
import type { RestFill } from "../../worker/monitor/watch/ledger.ts";
import type { TradeMark } from "../../worker/monitor/watch/trades-walk.ts";

/** At most this many open misses are kept. */
export const MAX_STORED_MISSES = 100;

export interface StoredBudget {
  spent: [number, number][];
  pausedUntil: number | null;
}

/**
 * The stored state of one watch, as the runner reads and writes it. Every `save*` is one row
 * write; callers write only what changed.
 *
 * @example
 * const s = new WatchStore(ctx.storage.sql); s.saveMark("5", { id: 42n, at: 1_700_000_000_000 }); s.mark("5") // { id: 42n, … }
 */
export class WatchStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS watch_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  private get(key: string): unknown {
    const row = this.sql.exec<{ value: string }>(`SELECT value FROM watch_state WHERE key = ?`, key).toArray()[0];
    if (!row) return null;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return null;
    }
  }

  private set(key: string, value: unknown): void {
    this.sql.exec(
      `INSERT INTO watch_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      key,
      JSON.stringify(value),
    );
  }

  /**
   * Where the trades walk of `account` resumes: every fill up to this trade id is decided (null:
   * never started, or the mark was another account's before a config change).
   */
  mark(account: string): TradeMark | null {
    const v = this.get("mark") as { id?: unknown; at?: unknown; account?: unknown } | null;
    if (!v || v.account !== account || typeof v.id !== "string" || !/^-?\d+$/.test(v.id)) return null;
    return { id: BigInt(v.id), at: typeof v.at === "number" ? v.at : null };
  }

  saveMark(account: string, m: TradeMark): void {
    this.set("mark", { account, id: m.id.toString(), at: m.at });
  }

  budget(): StoredBudget | null {
    const v = this.get("budget") as { spent?: unknown; paused_until?: unknown } | null;
    if (!v || !Array.isArray(v.spent)) return null;
    const spent = v.spent.filter(
      (x): x is [number, number] => Array.isArray(x) && typeof x[0] === "number" && typeof x[1] === "number",
    );
    return { spent, pausedUntil: typeof v.paused_until === "number" ? v.paused_until : null };
  }

  /** The budget window and cooldown, with the time the object was last alive. */
  saveBudget(b: StoredBudget, now: number): void {
    this.set("budget", { spent: b.spent, paused_until: b.pausedUntil, alive_at: now });
  }

  /** When the object last spent REST (a lower bound on when it was last alive), or null. */
  aliveAt(): number | null {
    const v = this.get("budget") as { alive_at?: unknown } | null;
    return v && typeof v.alive_at === "number" ? v.alive_at : null;
  }

  misses(): RestFill[] {
    const v = this.get("misses");
    return Array.isArray(v) ? (v as RestFill[]).filter((f) => typeof f?.tradeId === "string") : [];
  }

  saveMisses(list: readonly RestFill[]): void {
    this.set("misses", list.slice(-MAX_STORED_MISSES));
  }
}
