/**
 * A watch monitor's durable state. The machine's record is ONE JSON row (`watch_state`, key
 * `record`), rewritten when a step changed it: where the trades walk resumes, the open misses, the
 * REST budget and cooldown, the recent misses, the bot ingest rate window. Bot reconciliation keeps
 * its own idempotent, bounded tables (created on first use): every accepted report, the batch keys
 * (a batch twice counts once), the exchange fills and WebSocket amounts the verdicts need. After
 * an eviction the state is rebuilt from these rows, so no accepted report and no unjudged fill is lost.
 */
import type { ExchangeFill } from "../../monitor/watch/bot-ledger.ts";
import type { SeenReport } from "../../monitor/watch/bot-ingest.ts";
import { newRecord, type RestoreInput, type WatchRecord } from "../../monitor/watch/state.ts";
import { getMeta } from "../schema.ts";

const DAY = 24 * 3_600_000;

/** Table → (row cap, retention ms). */
export const BOT_RETENTION = {
  bot_seen: { rows: 20_000, ms: 2 * DAY },
  bot_batches: { rows: 5_000, ms: DAY },
  bot_fills: { rows: 10_000, ms: 2 * DAY },
  bot_ws: { rows: 20_000, ms: 2 * DAY },
} as const;

const TABLES = [
  `CREATE TABLE IF NOT EXISTS bot_seen (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     order_index TEXT,
     client_order_index TEXT,
     filled TEXT NOT NULL,
     filled_base TEXT NOT NULL,
     seen_at INTEGER NOT NULL,
     at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS bot_batches (key TEXT PRIMARY KEY, at INTEGER NOT NULL, reports INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS bot_fills (
     key TEXT PRIMARY KEY,
     fill TEXT NOT NULL,
     state TEXT NOT NULL,
     at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS bot_ws (
     order_index TEXT NOT NULL,
     cum TEXT NOT NULL,
     client_order_index TEXT NOT NULL,
     market INTEGER NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (order_index, cum)
   )`,
  `CREATE INDEX IF NOT EXISTS bot_seen_at ON bot_seen (at)`,
  `CREATE INDEX IF NOT EXISTS bot_fills_at ON bot_fills (at)`,
  `CREATE TABLE IF NOT EXISTS watch_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
];

export interface StoredFill {
  fill: ExchangeFill;
  /** "pending" until judged; "missed" while watched for a late report; "done". */
  state: "pending" | "missed" | "done";
}

function fillJson(f: ExchangeFill): string {
  return JSON.stringify({ ...f, size: f.size.toString() });
}

export class WatchStore {
  private readonly sql: SqlStorage;
  private inserts = 0;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    for (const t of TABLES) sql.exec(t);
  }

  /**
   * The machine's record, or null (never stored). Rows of the layout before the one record are
   * read once: turned into the record, which is stored in their place.
   */
  record(): WatchRecord | null {
    const value = (key: string): string | undefined =>
      this.sql.exec<{ value: string }>(`SELECT value FROM watch_state WHERE key = ?`, key).toArray()[0]?.value;
    try {
      const rec = value("record");
      if (rec) return JSON.parse(rec) as WatchRecord;
      const mark = value("mark");
      if (!mark) return null;
      // The layout before one record: the mark, the budget and the open misses in their own rows.
      const m = JSON.parse(mark) as { account: string; id: string; at: number | null };
      const b = JSON.parse(value("budget") ?? "{}") as { spent?: [number, number][]; paused_until?: number | null };
      const migrated: WatchRecord = {
        ...newRecord(m.account),
        mark: { id: m.id, at: m.at },
        budget: { spent: b.spent ?? [], pausedUntil: b.paused_until ?? null },
        misses: JSON.parse(value("misses") ?? "[]") as WatchRecord["misses"],
      };
      this.saveRecord(migrated);
      this.sql.exec(`DELETE FROM watch_state WHERE key IN ('mark', 'budget', 'misses')`);
      return migrated;
    } catch {
      return null;
    }
  }

  saveRecord(r: WatchRecord): void {
    this.sql.exec(
      `INSERT INTO watch_state (key, value) VALUES ('record', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      JSON.stringify(r),
    );
  }

  /** The stored delivery-latency snapshot (JSON), or null. */
  latencySnapshot(): unknown {
    try {
      return JSON.parse(getMeta(this.sql, "delivery_latency_snapshot") ?? "null") as unknown;
    } catch {
      return null;
    }
  }

  /** Bot reconciliation's rows, to rebuild its ledger after a restart. */
  botRows(): RestoreInput["bot"] {
    return { wsAmounts: this.wsAmounts(), fills: this.fills(), reports: this.reports() };
  }

  /** Whether a batch with this key was accepted before (then nothing of it is stored again). */
  seenBatch(key: string): boolean {
    return this.sql.exec(`SELECT 1 FROM bot_batches WHERE key = ?`, key).toArray().length > 0;
  }

  /** Stores one accepted batch and its reports; all or nothing (one transaction). */
  saveBatch(key: string, reports: readonly SeenReport[], at: number): void {
    this.sql.exec(`INSERT INTO bot_batches (key, at, reports) VALUES (?, ?, ?)`, key, at, reports.length);
    for (const r of reports)
      this.sql.exec(
        `INSERT INTO bot_seen (order_index, client_order_index, filled, filled_base, seen_at, at) VALUES (?, ?, ?, ?, ?, ?)`,
        r.orderIndex,
        r.clientOrderIndex,
        r.filled.toString(),
        r.filledBase,
        r.seenAt,
        at,
      );
    this.inserts += reports.length + 1;
  }

  reports(): { report: SeenReport; at: number }[] {
    return this.sql
      .exec<{
        order_index: string | null;
        client_order_index: string | null;
        filled: string;
        filled_base: string;
        seen_at: number;
        at: number;
      }>(`SELECT order_index, client_order_index, filled, filled_base, seen_at, at FROM bot_seen ORDER BY id`)
      .toArray()
      .map((r) => ({
        report: {
          orderIndex: r.order_index,
          clientOrderIndex: r.client_order_index,
          filledBase: r.filled_base,
          filled: BigInt(r.filled),
          seenAt: r.seen_at,
        },
        at: r.at,
      }));
  }

  saveFill(f: ExchangeFill, at: number): void {
    this.sql.exec(
      `INSERT INTO bot_fills (key, fill, state, at) VALUES (?, ?, 'pending', ?) ON CONFLICT(key) DO NOTHING`,
      f.key,
      fillJson(f),
      at,
    );
    this.inserts++;
  }

  setFillState(key: string, state: StoredFill["state"]): void {
    this.sql.exec(`UPDATE bot_fills SET state = ? WHERE key = ?`, state, key);
  }

  fills(): StoredFill[] {
    return this.sql
      .exec<{ fill: string; state: string }>(`SELECT fill, state FROM bot_fills ORDER BY at, key`)
      .toArray()
      .map((r) => {
        const raw = JSON.parse(r.fill) as ExchangeFill & { size: string };
        return { fill: { ...raw, size: BigInt(raw.size) }, state: r.state as StoredFill["state"] };
      });
  }

  saveWsAmount(orderIndex: string, cum: bigint, clientOrderIndex: string, market: number, at: number): void {
    this.sql.exec(
      `INSERT INTO bot_ws (order_index, cum, client_order_index, market, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      orderIndex,
      cum.toString(),
      clientOrderIndex,
      market,
      at,
    );
    this.inserts++;
  }

  wsAmounts(): { orderIndex: string; cum: bigint; clientOrderIndex: string; market: number; at: number }[] {
    return this.sql
      .exec<{ order_index: string; cum: string; client_order_index: string; market: number; at: number }>(
        `SELECT order_index, cum, client_order_index, market, at FROM bot_ws ORDER BY at`,
      )
      .toArray()
      .map((r) => ({
        orderIndex: r.order_index,
        cum: BigInt(r.cum),
        clientOrderIndex: r.client_order_index,
        market: r.market,
        at: r.at,
      }));
  }

  /** Rows per table (for /status). */
  counts(): Record<keyof typeof BOT_RETENTION, number> {
    const n = (t: string) => this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`).one().n;
    return { bot_seen: n("bot_seen"), bot_batches: n("bot_batches"), bot_fills: n("bot_fills"), bot_ws: n("bot_ws") };
  }

  /** Keeps every table under its cap and retention; cheap when nothing is due (every 500 inserts, or forced). */
  prune(now: number, force = false): void {
    if (!force && this.inserts < 500) return;
    this.inserts = 0;
    for (const [table, r] of Object.entries(BOT_RETENTION)) {
      this.sql.exec(`DELETE FROM ${table} WHERE at < ?`, now - r.ms);
      const n = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
      if (n > r.rows)
        this.sql.exec(
          `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} ORDER BY at LIMIT ?)`,
          n - r.rows,
        );
    }
  }
}
