/**
 * FillMonitor's durable state: an idempotent, versioned SQLite schema (CREATE ... IF NOT EXISTS,
 * a schema-version row, additive migrations), plus small typed helpers (meta, counters, the deadline
 * table) over any `SqlStorage`: the object's `ctx.storage.sql`, node:sqlite in tests. Everything
 * needed after an eviction lives here; in-memory fields are caches.
 */

const MIGRATIONS: readonly string[][] = [
  // v1
  [
    `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ticks (tick_key TEXT PRIMARY KEY, check_id TEXT NOT NULL, at INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS checks (
       id TEXT PRIMARY KEY,
       tick_key TEXT NOT NULL,
       market INTEGER NOT NULL,
       state TEXT NOT NULL,
       phase TEXT NOT NULL,
       started_at INTEGER NOT NULL,
       finished_at INTEGER,
       verdict TEXT,
       first_failing_stage TEXT,
       diagnosis TEXT,
       reasons TEXT NOT NULL DEFAULT '[]',
       stages TEXT NOT NULL DEFAULT '{}',
       evidence TEXT NOT NULL DEFAULT '{}',
       action TEXT,
       flatten TEXT,
       flatten_detail TEXT,
       coi TEXT,
       fill_latency_ms INTEGER
     )`,
    `CREATE INDEX IF NOT EXISTS checks_started ON checks (started_at)`,
    `CREATE TABLE IF NOT EXISTS orders (
       coi TEXT PRIMARY KEY,
       check_id TEXT NOT NULL,
       purpose TEXT NOT NULL,
       market INTEGER NOT NULL,
       is_ask INTEGER NOT NULL,
       base_amount TEXT NOT NULL,
       price INTEGER NOT NULL,
       notional_usd REAL NOT NULL,
       nonce TEXT NOT NULL,
       tx_type INTEGER NOT NULL,
       tx_info TEXT NOT NULL,
       tx_hash TEXT NOT NULL,
       send_state TEXT NOT NULL,
       send_attempts INTEGER NOT NULL DEFAULT 0,
       send_code INTEGER,
       send_message TEXT,
       order_index TEXT,
       status TEXT,
       filled_base TEXT NOT NULL DEFAULT '0',
       filled_quote TEXT NOT NULL DEFAULT '0',
       ws_filled_base TEXT NOT NULL DEFAULT '0',
       seen_at INTEGER,
       first_fill_at INTEGER,
       terminal_at INTEGER,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL
     )`,
    `CREATE INDEX IF NOT EXISTS orders_check ON orders (check_id)`,
    `CREATE TABLE IF NOT EXISTS order_events (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       coi TEXT NOT NULL,
       at INTEGER NOT NULL,
       source TEXT NOT NULL,
       kind TEXT NOT NULL,
       status TEXT,
       filled_base TEXT,
       detail TEXT
     )`,
    `CREATE INDEX IF NOT EXISTS order_events_coi ON order_events (coi, id)`,
    `CREATE TABLE IF NOT EXISTS events (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       at INTEGER NOT NULL,
       level TEXT NOT NULL,
       event TEXT NOT NULL,
       check_id TEXT,
       data TEXT NOT NULL
     )`,
    `CREATE INDEX IF NOT EXISTS events_at ON events (at)`,
    `CREATE TABLE IF NOT EXISTS deadlines (name TEXT PRIMARY KEY, at INTEGER NOT NULL, data TEXT NOT NULL DEFAULT '{}')`,
    `CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS outbox (
       id TEXT PRIMARY KEY,
       created_at INTEGER NOT NULL,
       item TEXT NOT NULL,
       state TEXT NOT NULL,
       next_at INTEGER NOT NULL
     )`,
  ],
  // v2: the check core's records (order facts, order-path state, hard bound) and skipped ticks
  [
    `ALTER TABLE checks ADD COLUMN bound_at INTEGER`,
    `ALTER TABLE checks ADD COLUMN path TEXT`,
    `ALTER TABLE orders ADD COLUMN facts TEXT`,
    `ALTER TABLE orders ADD COLUMN size_decimals INTEGER`,
    `ALTER TABLE orders ADD COLUMN price_decimals INTEGER`,
    `ALTER TABLE ticks ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ran'`,
    `CREATE INDEX IF NOT EXISTS ticks_at ON ticks (at)`,
    `CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at)`,
    `CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_at)`,
  ],
  // v3: incident history (resolved incidents stay visible) and hourly verdict counts for uptime
  [
    `CREATE TABLE IF NOT EXISTS incidents (
       id TEXT PRIMARY KEY,
       stream TEXT NOT NULL,
       opened_at INTEGER NOT NULL,
       resolved_at INTEGER,
       first_check_id TEXT NOT NULL,
       stage TEXT,
       diagnosis TEXT,
       history TEXT NOT NULL DEFAULT '[]',
       failures INTEGER NOT NULL DEFAULT 0,
       action TEXT
     )`,
    `CREATE INDEX IF NOT EXISTS incidents_opened ON incidents (opened_at)`,
    `CREATE TABLE IF NOT EXISTS uptime_hours (
       slot INTEGER NOT NULL,
       hour INTEGER NOT NULL,
       verdict TEXT NOT NULL,
       stage TEXT NOT NULL,
       n INTEGER NOT NULL,
       PRIMARY KEY (slot, verdict, stage)
     ) WITHOUT ROWID`,
    // Uptime starts from the verdicts already on record (those of the last 31 days).
    `INSERT INTO uptime_hours (slot, hour, verdict, stage, n)
       SELECT (finished_at / 3600000) % 744, finished_at / 3600000, verdict, COALESCE(first_failing_stage, ''), COUNT(*)
       FROM checks
       WHERE verdict IS NOT NULL AND finished_at IS NOT NULL
         AND finished_at >= (CAST(strftime('%s', 'now') AS INTEGER) - 744 * 3600) * 1000
       GROUP BY 1, 2, 3, 4
       ON CONFLICT DO NOTHING`,
  ],
  // v4 in the merged order (v3 is the incidents/uptime migration of another branch): the check
  // machine's state as one row, and each check's full record on its history row. The columns
  // ws_filled_base, seen_at, first_fill_at, terminal_at, filled_quote of `orders` and the tables
  // `orders`, `order_events`, `ticks`, `deadlines` of v1/v2 stay for old databases; nothing writes
  // them any more except `deadlines` (the alert outbox).
  [
    `CREATE TABLE IF NOT EXISTS machine (id INTEGER PRIMARY KEY, state TEXT NOT NULL, check_id TEXT, updated_at INTEGER NOT NULL)`,
    `ALTER TABLE checks ADD COLUMN record TEXT`,
    `ALTER TABLE checks ADD COLUMN flatten_coi TEXT`,
    `ALTER TABLE checks ADD COLUMN notional_usd REAL`,
    `CREATE INDEX IF NOT EXISTS checks_coi ON checks (coi)`,
    `CREATE INDEX IF NOT EXISTS checks_flatten_coi ON checks (flatten_coi)`,
    `CREATE INDEX IF NOT EXISTS checks_tick ON checks (tick_key)`,
  ],
  // v5: the check session's delivery-latency snapshot rides on the machine row's save (worker/monitor/check/delivery.ts).
  [`ALTER TABLE machine ADD COLUMN delivery TEXT`],
];

/** Applies every migration not yet applied. Safe to call on every start. */
export function migrate(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  const row = sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`).toArray()[0];
  let version = row ? Number(row.value) : 0;
  for (; version < MIGRATIONS.length; version++) {
    for (const stmt of MIGRATIONS[version] ?? []) {
      try {
        sql.exec(stmt);
      } catch (err) {
        // Migrations are additive; a column an earlier numbering already added is not an error.
        if (!/duplicate column name/i.test(err instanceof Error ? err.message : String(err))) throw err;
      }
    }
    sql.exec(
      `INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      String(version + 1),
    );
  }
}

/** Every key of the `meta` table. */
export type MetaKey =
  /** The monitor this object serves (one object per monitor). */
  | "monitor_id"
  | "schema_version"
  /** "1" while paused, "0" otherwise. */
  | "paused"
  /** JSON: who paused, why and until when (worker/store/views/pause.ts). */
  | "pause_info"
  | "alert_state"
  | "alert_state_flatten"
  | "alert_state_monitor"
  | "alert_state_watch"
  | "alert_state_watch_channel"
  | "alert_state_watch_position"
  | "alert_state_watch_rest"
  | "alert_state_bot"
  | "alert_state_bot_phantom"
  | "alert_state_bot_ingest"
  /** Epoch ms of the user's bot's first and last request to POST /watch/{monitor}/seen. */
  | "bot_first_contact_at"
  | "bot_last_contact_at"
  /** JSON LatencySnapshot of the delivery-latency percentiles (worker/monitor/watch/delivery.ts). */
  | "delivery_latency_snapshot"
  /** JSON { at, pub }: the API key's registered public key matched ours at `at` (cached an hour). */
  | "apikey_check"
  /** JSON { at, spec }: the market spec from orderBookDetails (cached an hour; the API prints units with it). */
  | `market_${number}`;

export function getMeta(sql: SqlStorage, key: MetaKey): string | null {
  const row = sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0];
  return row ? row.value : null;
}

export function setMeta(sql: SqlStorage, key: MetaKey, value: string): void {
  sql.exec(
    `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    key,
    value,
  );
}

export function readCounters(sql: SqlStorage): Record<string, number> {
  const out: Record<string, number> = {};
  // Uptime's hourly counts live in the same table (views/uptime.ts): not counters of /status.
  for (const row of sql.exec<{ name: string; value: number }>(
    `SELECT name, value FROM counters WHERE name NOT LIKE 'uptime:%'`,
  ))
    out[row.name] = row.value;
  return out;
}

/** One alarm, many deadlines: keep them in a table and always arm the earliest. */
export function setDeadline(sql: SqlStorage, name: string, at: number, data: unknown = {}): void {
  sql.exec(
    `INSERT INTO deadlines (name, at, data) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET at = excluded.at, data = excluded.data`,
    name,
    Math.floor(at),
    JSON.stringify(data),
  );
}

export function earliestDeadline(sql: SqlStorage): number | null {
  const row = sql.exec<{ at: number | null }>(`SELECT MIN(at) AS at FROM deadlines`).toArray()[0];
  return row && row.at !== null ? row.at : null;
}

export function takeDueDeadlines(sql: SqlStorage, now: number): { name: string; at: number; data: string }[] {
  const rows = sql
    .exec<{ name: string; at: number; data: string }>(
      `SELECT name, at, data FROM deadlines WHERE at <= ? ORDER BY at`,
      now,
    )
    .toArray();
  for (const r of rows) sql.exec(`DELETE FROM deadlines WHERE name = ? AND at = ?`, r.name, r.at);
  return rows;
}
