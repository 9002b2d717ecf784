/**
 * Issue 18's writes per check: uptime's hourly verdict counts are buffered counters of the
 * monitor's event log (one statement per flush with every other counter), over a real SQLite
 * database (node:sqlite) with the real schema. A healthy pass writes nothing at its verdict; the
 * counts read the same before and after the flush; they sum with the older ring (uptime_hours);
 * /status counters leave them out; housekeeping drops hours past the ring.
 */
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { EventLog } from "../../../worker/store/eventlog.ts";
import { migrate, readCounters } from "../../../worker/store/schema.ts";
import { HOUR_MS, RING_HOURS, pruneUptime, readUptime, uptimeCounter } from "../../../worker/store/views/uptime.ts";
import { alertingOver, countInOldRing, sqlStorage } from "./sqlite.ts";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function setup() {
  const db = new DatabaseSync(":memory:");
  const writes = { count: 0 };
  const sql = sqlStorage(db, () => writes.count++);
  migrate(sql);
  writes.count = 0;
  const log = new EventLog(sql);
  const alerting = alertingOver(sql, {}, (name) => log.count(name));
  const check = (id: string, at: number, verdict: "pass" | "fail", stage: string | null = null) =>
    alerting.onCheck({
      checkId: id,
      at,
      verdict,
      firstFailingStage: stage,
      diagnosis: verdict === "fail" ? "order_not_seen" : null,
      flatten: null,
      action: null,
      evidence: {},
    });
  return { sql, log, writes, check };
}

describe("uptime as buffered counters", () => {
  it("a healthy pass writes nothing at its verdict; the count reads the same before and after the flush", () => {
    const { sql, log, writes, check } = setup();
    check("c1", T0, "pass");
    expect(writes.count).toBe(0);
    const before = readUptime(sql, T0, false, log.pendingCounts())["24h"];
    expect(before).toMatchObject({ pass: 1, up: 1, down: 0 });
    log.flush();
    expect(writes.count).toBe(1); // counters only: no event lines were pending
    expect(readUptime(sql, T0, false)["24h"]).toEqual(before);
    expect(Object.keys(readCounters(sql)).some((k) => k.startsWith("uptime:"))).toBe(false);
  });
  it("sums with the ring of earlier versions, per stage", () => {
    const { sql, log, check } = setup();
    countInOldRing(sql, T0 - HOUR_MS, "fail", "order_seen");
    check("c1", T0, "pass");
    check("c2", T0 + 60_000, "fail", "order_seen");
    log.flush();
    const w = readUptime(sql, T0 + 60_000, false)["24h"];
    expect(w).toMatchObject({ pass: 1, fail: 2, up: 1, down: 2 });
    expect(w.stages.order_seen).toMatchObject({ up: 1, down: 2 });
  });
  it("housekeeping drops hours older than the ring and keeps the rest", () => {
    const { sql, log } = setup();
    const old = T0 - (RING_HOURS + 2) * HOUR_MS;
    log.count(uptimeCounter(old, "pass", null));
    log.count(uptimeCounter(T0, "pass", null));
    log.flush();
    pruneUptime(sql, T0);
    const names = sql
      .exec<{ name: string }>(`SELECT name FROM counters WHERE name LIKE 'uptime:%'`)
      .toArray()
      .map((r) => r.name);
    expect(names).toEqual([uptimeCounter(T0, "pass", null)]);
  });
});
