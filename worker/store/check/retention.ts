/**
 * Housekeeping: every table stays bounded. Rows are pruned by age and by count (the caps:
 * worker/monitor/retention.ts); stored frames are kept only on failed checks and only for a while;
 * the event log has its own caps.
 */
import { MANUAL_RUNS, RETENTION, manualRetryAfter } from "../../monitor/retention.ts";
import { pruneUptime } from "../views/uptime.ts";

/** 0 when a manual run may start now, else how long until one may (ms). */
export function manualRunRetryAfter(sql: SqlStorage, now: number): number {
  const rows = sql
    .exec<{ at: number }>(
      `SELECT started_at AS at FROM checks WHERE tick_key LIKE 'manual:%' AND started_at > ? ORDER BY started_at DESC LIMIT ?`,
      now - MANUAL_RUNS.windowMs,
      MANUAL_RUNS.max,
    )
    .toArray();
  return manualRetryAfter(
    rows.map((r) => Number(r.at)),
    now,
  );
}

/**
 * `current`: the check in the machine's state (never pruned). Orders and order events are old tables.
 * The event log prunes itself (eventlog.ts); the owner flushes and prunes it first.
 */
export function housekeeping(sql: SqlStorage, now: number, current: string): void {
  pruneUptime(sql, now);
  sql.exec(`DELETE FROM ticks WHERE at < ?`, now - RETENTION.ticks.maxAgeMs);
  capRows(sql, "ticks", "at", RETENTION.ticks.maxRows);
  sql.exec(
    `DELETE FROM checks WHERE started_at < ? AND state = 'done' AND id != ?`,
    now - RETENTION.checks.maxAgeMs,
    current,
  );
  capRows(sql, "checks", "started_at", RETENTION.checks.maxRows, `state = 'done' AND id != '${escape(current)}'`);
  // Stored frames: only failures keep them, and only for a while.
  sql.exec(
    `UPDATE checks SET evidence = json_remove(evidence, '$.last_frames')
     WHERE json_extract(evidence, '$.last_frames') IS NOT NULL AND state = 'done'
       AND (verdict != 'fail' OR started_at < ?)`,
    now - RETENTION.framesMaxAgeMs,
  );
  // Orders of databases from before the check machine (the lock now lives in the machine's state).
  sql.exec(`DELETE FROM orders WHERE created_at < ?`, now - RETENTION.orders.maxAgeMs);
  capRows(sql, "orders", "created_at", RETENTION.orders.maxRows);
  sql.exec(`DELETE FROM order_events WHERE at < ?`, now - RETENTION.orderEvents.maxAgeMs);
  sql.exec(`DELETE FROM order_events WHERE coi NOT IN (SELECT coi FROM orders)`);
  capRows(sql, "order_events", "id", RETENTION.orderEvents.maxRows);
  sql.exec(`DELETE FROM outbox WHERE state != 'pending' AND created_at < ?`, now - RETENTION.outbox.maxAgeMs);
  capRows(sql, "outbox", "created_at", RETENTION.outbox.maxRows, `state != 'pending'`);
}

/** Keeps the newest `max` rows of `table` by `order` (among rows matching `where`). */
function capRows(sql: SqlStorage, table: string, order: string, max: number, where = "1 = 1"): void {
  sql.exec(
    `DELETE FROM ${table} WHERE rowid IN (
       SELECT rowid FROM ${table} WHERE ${where} ORDER BY ${order} DESC, rowid DESC LIMIT -1 OFFSET ?)`,
    max,
  );
}

function escape(v: string): string {
  return v.replace(/'/g, "''");
}
