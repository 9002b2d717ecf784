/**
 * The slice of workerd's SqlStorage the storage layer (worker/store/) uses, over node:sqlite (real
 * SQLite, the real schema), the rows earlier versions wrote that only old databases still hold, and
 * a counter added to at once (the object buffers its counters; tests seed them here).
 */
import type { DatabaseSync } from "node:sqlite";
import { Alerting } from "../../../worker/alerts/alerting.ts";
import type { MonitorConfig } from "../../../worker/config.ts";
import { HOUR_MS } from "../../../worker/views/uptime.ts";

/** `onWrite` hears every INSERT, UPDATE and DELETE (tests count a check's writes with it). */
export function sqlStorage(db: DatabaseSync, onWrite: () => void = () => undefined): SqlStorage {
  return {
    exec(query: string, ...args: (string | number | null)[]) {
      if (/^\s*(INSERT|UPDATE|DELETE)/i.test(query)) onWrite();
      const stmt = db.prepare(query);
      const rows = /^\s*(SELECT|WITH)/i.test(query)
        ? (stmt.all(...args) as Record<string, unknown>[])
        : (stmt.run(...args), []);
      return Object.assign(rows[Symbol.iterator](), { toArray: () => rows });
    },
  } as unknown as SqlStorage;
}

/**
 * One verdict counted the way versions before the buffered counters did: into `uptime_hours`, the
 * ring of 744 hourly slots (slot = hour mod 744; a newer hour takes the slot over). Nothing writes
 * the ring now; old databases still hold it (and the v3 migration fills it), so the read sums it.
 */
export function countInOldRing(sql: SqlStorage, at: number, verdict: string, stage: string | null): void {
  const hour = Math.floor(at / HOUR_MS);
  sql.exec(
    `INSERT INTO uptime_hours (slot, hour, verdict, stage, n) VALUES (?, ?, ?, ?, 1)
     ON CONFLICT (slot, verdict, stage) DO UPDATE SET
       n = CASE WHEN hour = excluded.hour THEN n + 1 WHEN excluded.hour > hour THEN 1 ELSE n END,
       hour = MAX(hour, excluded.hour)`,
    hour % 744,
    hour,
    verdict,
    stage ?? "",
  );
}

/** Adds to one counter at once (the object buffers its counters in the event log; tests seed them here). */
export function bumpCounter(sql: SqlStorage, name: string, by = 1): void {
  sql.exec(
    `INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value`,
    name,
    by,
  );
}

/**
 * The object's real Alerting over `sql` for monitor "m1": alert settings from `alerts` over defaults
 * (fail after 2, resolve after 1, no targets), no secrets, no log; `count` receives the uptime
 * counters and `schedule` the outbox's next deadline.
 */
export function alertingOver(
  sql: SqlStorage,
  alerts: Partial<MonitorConfig["alerts"]> = {},
  count: (name: string) => void = () => undefined,
  schedule: (at: number) => void = () => undefined,
): Alerting {
  const cfg = {
    alerts: { failAfter: 2, resolveAfter: 1, degradedCounts: false, remindEveryMs: 3_600_000, targets: [], ...alerts },
  } as unknown as MonitorConfig;
  return new Alerting({
    sql,
    secret: () => null,
    monitorId: "m1",
    config: () => cfg,
    log: () => undefined,
    schedule,
    count,
  });
}
