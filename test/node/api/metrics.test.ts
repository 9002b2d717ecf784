/**
 * The /metrics text (formatMetrics, the function the route uses), fed by snapshots computed with
 * the object's own view code (metricsSnapshot over a real SQLite database with the real schema and
 * check rows as the runner writes them), parsed by a real Prometheus exposition-format parser.
 */
import { DatabaseSync } from "node:sqlite";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { migrate } from "../../../worker/store/schema.ts";
import { metricsSnapshot } from "../../../worker/store/views/metrics.ts";
import { readUptime, uptimeCounter } from "../../../worker/store/views/uptime.ts";
import { lastConcludedAt } from "../../../worker/store/check/store.ts";
import { initialState, type MachineState } from "../../../worker/monitor/check/state.ts";
import { bumpCounter, sqlStorage } from "./sqlite.ts";
import { formatMetrics, type MonitorMetrics } from "../../../worker/api/metrics-format.ts";

function insertCheck(db: DatabaseSync, id: string, c: Record<string, unknown>): void {
  db.prepare(
    `INSERT INTO checks (id, tick_key, market, state, phase, started_at, finished_at, verdict, first_failing_stage, diagnosis, stages, fill_latency_ms)
     VALUES (?, ?, 0, ?, 'done', ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    `manual:${id}`,
    String(c.state ?? "done"),
    1_767_000_000_000,
    1_767_000_002_000,
    (c.verdict as string | null) ?? null,
    (c.stage as string | null) ?? null,
    (c.diagnosis as string | null) ?? null,
    JSON.stringify(c.stages ?? {}),
    (c.fill as number | null) ?? null,
  );
}

function order(db: DatabaseSync, coi: string, checkId: string, sendState: string, terminal: boolean): void {
  db.prepare(
    `INSERT INTO orders (coi, check_id, purpose, market, is_ask, base_amount, price, notional_usd, nonce, tx_type, tx_info, tx_hash, send_state, terminal_at, created_at, updated_at)
     VALUES (?, ?, 'test', 0, 0, '50', 235000, 11.75, '1', 14, '{}', 'ab', ?, ?, 1, 1)`,
  ).run(coi, checkId, sendState, terminal ? 2 : null);
}

describe("Prometheus exposition", () => {
  it("parses with a real parser and carries the expected samples", () => {
    const db = new DatabaseSync(":memory:");
    const sql = sqlStorage(db);
    migrate(sql);
    const stages = { connect: { at: 1, ms: 40 }, order_seen: { at: 2, ms: 180 }, fill_seen: { at: 3, ms: 700 } };
    insertCheck(db, "a-1", { verdict: "pass", stages, fill: 880 });
    insertCheck(db, "a-2", { verdict: "pass", stages, fill: 12_000 });
    insertCheck(db, "a-3", { verdict: "fail", stage: "fill_seen", diagnosis: "filled_not_reported_on_ws", stages });
    insertCheck(db, "a-4", { state: "running" });
    order(db, "1", "a-1", "accepted", true);
    order(db, "2", "a-3", "unknown", false);
    order(db, "3", "a-4", "accepted", false);
    db.prepare(`INSERT INTO outbox (id, created_at, item, state, next_at) VALUES (?, 1, ?, ?, 1)`).run(
      "x#0",
      JSON.stringify({ targetIndex: 0 }),
      "sent",
    );
    db.prepare(`INSERT INTO outbox (id, created_at, item, state, next_at) VALUES (?, 1, ?, ?, 1)`).run(
      "x#1",
      JSON.stringify({ targetIndex: 1 }),
      "failed",
    );
    // The lock (one unresolved order of the key) is the core's resolution rule, passed in by the object.
    const now = 1_767_000_000_000;
    bumpCounter(sql, uptimeCounter(now - 1000, "pass", null));
    bumpCounter(sql, uptimeCounter(now - 2000, "fail", "order_seen"));
    bumpCounter(sql, uptimeCounter(now - 3000, "skipped", "preflight"));
    bumpCounter(sql, uptimeCounter(now - 3 * 86_400_000, "pass", null));
    db.prepare(
      `INSERT INTO incidents (id, stream, opened_at, first_check_id, diagnosis) VALUES ('i', 'monitor', 1, 'c', 'monitor_blind')`,
    ).run();
    const snap = metricsSnapshot(sql, ["webhook", "pagerduty"], 1, lastConcludedAt(sql, initialState()));
    const mon: MonitorMetrics = {
      ...snap,
      monitor: 'testnet:0:3 "quoted"\\x',
      counters: { "frames.order_book_update": 120, "frames.account_orders": 4, "book.gaps": 2, "session.connected": 3 },
      budget: { orders_today: 2, notional_today_usd: 23.5 },
      reconnects: 1,
      paused: false,
      uptime: readUptime(sql, now, false),
    };
    const text = formatMetrics([mon]);
    const families = parsePrometheusTextFormat(text) as {
      name: string;
      type: string;
      metrics: {
        labels?: Record<string, string>;
        value?: string;
        buckets?: Record<string, string>;
        count?: string;
        sum?: string;
      }[];
    }[];
    const fam = (n: string) => families.find((f) => f.name === n)!;
    expect(fam("fillwatch_checks_total").type).toBe("COUNTER");
    const checks = fam("fillwatch_checks_total").metrics;
    expect(checks.find((s) => s.labels!.verdict === "pass")!.value).toBe("2");
    expect(checks.find((s) => s.labels!.verdict === "fail")!.labels).toMatchObject({
      stage: "fill_seen",
      diagnosis: "filled_not_reported_on_ws",
      monitor: 'testnet:0:3 "quoted"\\x',
    });
    expect(checks).toHaveLength(2); // the running check is not counted

    // This parser folds labelled histograms into one bucket map (and drops their _sum/_count):
    // the bucket map is checked on the single fill series, _sum/_count on the exact text lines.
    const fill = fam("fillwatch_fill_latency_seconds");
    expect(fill.type).toBe("HISTOGRAM");
    expect(fill.metrics[0]!.buckets).toMatchObject({ "0.5": "0", "1": "1", "10": "1", "30": "2", "+Inf": "2" });
    const line = (prefix: string) => text.split("\n").find((l) => l.startsWith(prefix))!;
    expect(line("fillwatch_fill_latency_seconds_count{").endsWith(" 2")).toBe(true);
    expect(Number(line("fillwatch_fill_latency_seconds_sum{").split(" ").pop())).toBeCloseTo(12.88);
    expect(fam("fillwatch_stage_latency_seconds").type).toBe("HISTOGRAM");
    expect(text).toContain('stage="order_seen",le="0.1"} 0');
    expect(text).toContain('stage="order_seen",le="0.25"} 3');
    expect(line("fillwatch_stage_latency_seconds_count{").endsWith(" 3")).toBe(true);

    expect(fam("fillwatch_frames_total").metrics.map((s) => [s.labels!.type, s.value])).toEqual([
      ["account_orders", "4"],
      ["order_book_update", "120"],
    ]);
    expect(fam("fillwatch_book_gaps_total").metrics[0]!.value).toBe("2");
    expect(fam("fillwatch_reconnects_total").metrics[0]!.value).toBe("1");
    expect(fam("fillwatch_alerts_sent_total").metrics[0]!.labels!.target).toBe("webhook");
    expect(fam("fillwatch_alerts_failed_total").metrics[0]!.labels!.target).toBe("pagerduty");
    expect(fam("fillwatch_unresolved_orders").type).toBe("GAUGE");
    expect(fam("fillwatch_unresolved_orders").metrics[0]!.value).toBe("1");
    expect(fam("fillwatch_budget_notional_today_usd").metrics[0]!.value).toBe("23.5");
    expect(fam("fillwatch_paused").metrics[0]!.value).toBe("0");

    // Uptime: skipped is not counted; the 7-day window also holds the pass of 3 days ago.
    const ratio = (w: string) => fam("fillwatch_uptime_ratio").metrics.find((s) => s.labels!.window === w)!.value;
    expect(ratio("24h")).toBe("0.5");
    expect(Number(ratio("7d"))).toBeCloseTo(2 / 3);
    const counted = fam("fillwatch_uptime_checks").metrics.filter((s) => s.labels!.window === "24h");
    expect(Object.fromEntries(counted.map((s) => [s.labels!.verdict, s.value]))).toEqual({
      pass: "1",
      degraded: "0",
      fail: "1",
      skipped: "1",
    });
    const stage = (st: string) =>
      fam("fillwatch_stage_uptime_ratio").metrics.find((s) => s.labels!.window === "24h" && s.labels!.stage === st);
    expect(stage("order_accepted")!.value).toBe("1");
    expect(stage("order_seen")!.value).toBe("0.5");
    expect(stage("fill_seen")!.value).toBe("1"); // the failed check never reached it
    expect(fam("fillwatch_incidents_open").metrics[0]!.labels).toMatchObject({
      kind: "monitor",
      diagnosis: "monitor_blind",
    });
    // The last concluded check: the latest history row's end (nothing else records it).
    expect(fam("fillwatch_last_check_timestamp_seconds").metrics[0]!.value).toBe(String(1_767_000_002));
    // A check flattening after its verdict has no row yet: its verdict is the last conclusion.
    const flattening = { ...initialState(), check: { verdict: { at: now + 5000 } } } as unknown as MachineState;
    expect(lastConcludedAt(sql, flattening)).toBe(now + 5000);
    const empty = sqlStorage(new DatabaseSync(":memory:"));
    migrate(empty);
    expect(lastConcludedAt(empty, initialState())).toBeNull();
  });
});
