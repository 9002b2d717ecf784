/**
 * Incident history and uptime, driven through the object's real Alerting (the policy the Durable
 * Object uses) over a real SQLite database (node:sqlite) with the real schema: an incident opens,
 * follows its diagnosis and resolves, and stays listed with its duration and action; uptime counts
 * verdicts by window and stage, keeps skipped apart, ignores replays, and survives the ring's
 * reuse of a slot; the v3 migration backfills uptime from checks already on record.
 */
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../worker/store/schema.ts";
import { listIncidents } from "../../../worker/store/views/incidents.ts";
import { readUptime } from "../../../worker/store/views/uptime.ts";
import { HOUR_MS } from "../../../worker/views/uptime.ts";
import type { CheckResult } from "../../../worker/alerts/alert-policy.ts";
import { ACTIONS } from "../../../worker/monitor/diagnosis.ts";
import { alertingOver, bumpCounter, countInOldRing, sqlStorage } from "./sqlite.ts";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function setup(degradedCounts = false) {
  const db = new DatabaseSync(":memory:");
  const sql = sqlStorage(db);
  migrate(sql);
  // Unbuffered here (the object buffers them: test/node/api/uptime-counters.test.ts).
  const alerting = alertingOver(sql, { degradedCounts }, (name) => bumpCounter(sql, name));
  return { db, sql, alerting };
}

function result(
  id: string,
  at: number,
  verdict: CheckResult["verdict"],
  stage: string | null = null,
  diagnosis: string | null = null,
): CheckResult {
  return {
    checkId: id,
    at,
    verdict,
    firstFailingStage: stage,
    diagnosis,
    flatten: null,
    action: diagnosis && diagnosis in ACTIONS ? ACTIONS[diagnosis as keyof typeof ACTIONS] : null,
    evidence: {},
  };
}

describe("incident history", () => {
  it("keeps a resolved incident with its times, duration, diagnoses and action", () => {
    const { sql, alerting } = setup();
    alerting.onCheck(result("c1", T0, "pass"));
    alerting.onCheck(result("c2", T0 + 60_000, "fail", "order_seen", "order_not_seen"));
    expect(listIncidents(sql, { limit: 10, cursor: null, state: null }, T0).incidents).toEqual([]);
    alerting.onCheck(result("c3", T0 + 120_000, "fail", "fill_seen", "filled_not_reported_on_ws"));
    const open = listIncidents(sql, { limit: 10, cursor: null, state: null }, T0 + 180_000).incidents;
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      id: "m1:c2",
      kind: "checks",
      state: "open",
      opened_at: T0 + 120_000,
      resolved_at: null,
      duration_ms: 60_000,
      diagnosis: "filled_not_reported_on_ws",
      failures: 2,
    });
    alerting.onCheck(result("c4", T0 + 180_000, "fail", "order_seen", "order_not_seen"));
    alerting.onCheck(result("c5", T0 + 300_000, "pass"));
    const [done] = listIncidents(sql, { limit: 10, cursor: null, state: "resolved" }, T0 + 999_999).incidents;
    expect(done).toMatchObject({
      state: "resolved",
      opened_at: T0 + 120_000,
      resolved_at: T0 + 300_000,
      duration_ms: 180_000,
      stage: "order_seen",
      diagnosis: "order_not_seen",
      earlier_diagnoses: ["filled_not_reported_on_ws"],
      failures: 3,
    });
    expect(done!.action).toBe(ACTIONS.filled_not_reported_on_ws);
    expect(alerting.openIncidents()).toEqual([]);
    expect(listIncidents(sql, { limit: 10, cursor: null, state: "open" }, T0).incidents).toEqual([]);
  });

  it("pages newest first with a cursor, across streams", () => {
    const { sql, alerting } = setup();
    for (let i = 0; i < 3; i++) {
      const at = T0 + i * 600_000;
      alerting.onCheck(result(`x${i}`, at, "fail", null, "flatten_failed"), "flatten");
      alerting.onCheck(result(`y${i}`, at + 1000, "pass"), "flatten");
    }
    alerting.onCheck(result("b", T0 + 10_000_000, "fail", null, "monitor_blind"), "monitor");
    const p1 = listIncidents(sql, { limit: 2, cursor: null, state: null }, T0 + 20_000_000);
    expect(p1.incidents.map((i) => [i.kind, i.state])).toEqual([
      ["monitor", "open"],
      ["flatten", "resolved"],
    ]);
    const p2 = listIncidents(sql, { limit: 2, cursor: p1.next_cursor, state: null }, T0 + 20_000_000);
    expect(p2.incidents.map((i) => i.opened_at)).toEqual([T0 + 600_000, T0]);
    expect(p2.next_cursor).toBeNull();
    alerting.onCheck(result("c1", T0 + 10_000_000, "fail", "order_seen", "order_not_seen"));
    alerting.onCheck(result("c2", T0 + 10_060_000, "fail", "order_seen", "order_not_seen"));
    // /status's open incidents: every stream's, read in one statement.
    expect(alerting.openIncidents()).toMatchObject([
      { kind: "checks", id: "m1:c1", failures: 2 },
      { kind: "monitor", diagnosis: "monitor_blind" },
    ]);
  });
});

describe("uptime", () => {
  it("counts by window and stage; skipped apart; replays ignored", () => {
    const { sql, alerting } = setup();
    const now = T0 + 30 * 60_000;
    alerting.onCheck(result("a", now - 60_000, "pass"));
    alerting.onCheck(result("a", now - 60_000, "pass")); // replay
    alerting.onCheck(result("b", now - 120_000, "degraded", null, "late_report"));
    alerting.onCheck(result("c", now - 180_000, "fail", "order_seen", "order_not_seen"));
    alerting.onCheck(result("d", now - 240_000, "skipped", "preflight", "rest_unavailable"));
    alerting.onCheck(result("e", now - 3 * 86_400_000, "fail", "connect", "connect_timeout"));
    alerting.onCheck(result("f", now - 20 * 86_400_000, "pass"));
    const u = readUptime(sql, now, false);
    expect(u["24h"]).toMatchObject({ pass: 1, degraded: 1, fail: 1, skipped: 1, up: 2, down: 1 });
    expect(u["24h"].ratio).toBeCloseTo(2 / 3);
    expect(u["24h"].since).toBe(Math.floor(now / HOUR_MS) * HOUR_MS - 23 * HOUR_MS);
    expect(u["24h"].stages.order_accepted).toEqual({ up: 3, down: 0, ratio: 1 });
    expect(u["24h"].stages.order_seen).toMatchObject({ up: 2, down: 1 });
    expect(u["24h"].stages.fill_seen).toEqual({ up: 2, down: 0, ratio: 1 });
    expect(u["7d"]).toMatchObject({ up: 2, down: 2, skipped: 1, ratio: 0.5 });
    expect(u["7d"].stages.connect).toMatchObject({ up: 3, down: 1 });
    expect(u["30d"]).toMatchObject({ pass: 2, up: 3, down: 2 });
    // With degraded_counts (as for alerts), degraded is down.
    expect(readUptime(sql, now, true)["24h"]).toMatchObject({ up: 1, down: 2 });
    // No check at all: no ratio.
    expect(readUptime(setup().sql, now, false)["24h"].ratio).toBeNull();
  });

  it("the old ring counts each slot for the hour it holds, summed with the counters", () => {
    const { sql, alerting } = setup();
    const h = T0;
    countInOldRing(sql, h, "fail", "connect");
    countInOldRing(sql, h, "fail", "connect");
    // 31 days later the same slot holds the new hour only; the old hour is past every window anyway.
    const later = h + 744 * HOUR_MS;
    countInOldRing(sql, later, "fail", "connect");
    countInOldRing(sql, later, "pass", null);
    alerting.onCheck(result("n", later, "pass"));
    expect(readUptime(sql, later, false)["30d"]).toMatchObject({ fail: 1, pass: 2 });
    expect(readUptime(sql, h, false)["24h"]).toMatchObject({ fail: 0, pass: 0 });
  });

  it("the v3 migration starts uptime from the checks already on record", () => {
    const db = new DatabaseSync(":memory:");
    const sql = sqlStorage(db);
    migrate(sql);
    db.exec(
      `DELETE FROM uptime_hours; UPDATE meta SET value = '2' WHERE key = 'schema_version'; DROP TABLE incidents; DROP TABLE uptime_hours;`,
    );
    const now = Date.now();
    const ins = db.prepare(
      `INSERT INTO checks (id, tick_key, market, state, phase, started_at, finished_at, verdict, first_failing_stage) VALUES (?, ?, 0, 'done', 'done', ?, ?, ?, ?)`,
    );
    ins.run("a", "t1", now - 5000, now - 4000, "pass", null);
    ins.run("b", "t2", now - 9000, now - 8000, "fail", "fill_seen");
    ins.run("c", "t3", now - 40 * 86_400_000, now - 40 * 86_400_000, "fail", "connect");
    migrate(sql);
    const u = readUptime(sql, now, false);
    expect(u["24h"]).toMatchObject({ pass: 1, fail: 1 });
    expect(u["30d"]).toMatchObject({ pass: 1, fail: 1 });
    expect(u["24h"].stages.fill_seen).toMatchObject({ up: 1, down: 1 });
  });
});
