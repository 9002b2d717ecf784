/**
 * Uptime counts in SQLite: one UPSERT per concluded check into `uptime_hours` (the ring of hourly
 * counters, worker/views/uptime.ts), and the read behind /status, /metrics and the page.
 */
import { oldestUptimeHour, summarizeUptime, uptimeSlot, type Uptime } from "../../worker/views/uptime.ts";

/** One concluded check (at its verdict time). One write statement. */
export function countVerdict(sql: SqlStorage, at: number, verdict: string, stage: string | null): void {
  const { slot, hour } = uptimeSlot(at);
  sql.exec(
    `INSERT INTO uptime_hours (slot, hour, verdict, stage, n) VALUES (?, ?, ?, ?, 1)
     ON CONFLICT (slot, verdict, stage) DO UPDATE SET
       n = CASE WHEN hour = excluded.hour THEN n + 1 WHEN excluded.hour > hour THEN 1 ELSE n END,
       hour = MAX(hour, excluded.hour)`,
    slot,
    hour,
    verdict,
    stage ?? "",
  );
}

export function readUptime(sql: SqlStorage, now: number, degradedCounts: boolean): Uptime {
  const counts = sql
    .exec<{ hour: number; verdict: string; stage: string; n: number }>(
      `SELECT hour, verdict, stage, n FROM uptime_hours WHERE hour >= ?`,
      oldestUptimeHour(now),
    )
    .toArray()
    .map((r) => ({ hour: Number(r.hour), verdict: r.verdict, stage: r.stage, n: Number(r.n) }));
  return summarizeUptime(counts, now, degradedCounts);
}
