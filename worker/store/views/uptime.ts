/**
 * Uptime counts in SQLite and the read behind /status, /metrics and the page. A concluded check
 * adds one to an hourly counter (worker/views/uptime.ts names it): in the monitor's `counters` as
 * `uptime:<hour>:<verdict>:<stage>`, buffered with its other counters and written with them in one
 * statement per flush (housekeeping drops hours past 31 days), so 30 days survive the checks
 * table's row cap. Nothing writes `uptime_hours` any more, the ring of hourly counts of earlier
 * versions (and of the v3 migration's backfill): old databases still hold it, so the read sums it
 * in; 31 days after an upgrade every row of it is past the windows.
 */
import {
  RING_HOURS,
  HOUR_MS,
  UPTIME_COUNTER_PREFIX,
  oldestUptimeHour,
  parseUptimeCounter,
  summarizeUptime,
  uptimeHourKey,
  type Uptime,
  type VerdictCount,
} from "../../views/uptime.ts";

export { HOUR_MS, RING_HOURS, uptimeCounter } from "../../views/uptime.ts";

/** Drops the hourly counters older than the ring (31 days): one statement, from housekeeping. */
export function pruneUptime(sql: SqlStorage, now: number): void {
  sql.exec(
    `DELETE FROM counters WHERE name >= ? AND name < ?`,
    UPTIME_COUNTER_PREFIX,
    uptimeHourKey(Math.floor(now / HOUR_MS) - RING_HOURS),
  );
}

/** The hourly counts from `fromHour` on: the ring's, the counters', and `pending` increments not written yet. */
function readVerdictCounts(sql: SqlStorage, fromHour: number, pending: ReadonlyMap<string, number>): VerdictCount[] {
  const out = sql
    .exec<{ hour: number; verdict: string; stage: string; n: number }>(
      `SELECT hour, verdict, stage, n FROM uptime_hours WHERE hour >= ?`,
      fromHour,
    )
    .toArray()
    .map((r) => ({ hour: Number(r.hour), verdict: r.verdict, stage: r.stage, n: Number(r.n) }));
  const rows = sql.exec<{ name: string; value: number }>(
    `SELECT name, value FROM counters WHERE name >= ? AND name < ?`,
    uptimeHourKey(fromHour),
    `${UPTIME_COUNTER_PREFIX}~`,
  );
  for (const r of rows) {
    const c = parseUptimeCounter(r.name, Number(r.value));
    if (c) out.push(c);
  }
  for (const [name, n] of pending) {
    const c = parseUptimeCounter(name, n);
    if (c && c.hour >= fromHour) out.push(c);
  }
  return out;
}

/** `pending`: the owner's counter increments not written yet (uptime's among them). */
export function readUptime(
  sql: SqlStorage,
  now: number,
  degradedCounts: boolean,
  pending: ReadonlyMap<string, number> = new Map(),
): Uptime {
  return summarizeUptime(readVerdictCounts(sql, oldestUptimeHour(now), pending), now, degradedCounts);
}
