/**
 * The read models in worker/views/ (what the API answers, built from rows the object reads) and
 * the event log's redaction, as pure functions: check rows and pages, the running check on the
 * first page, incidents, logs, metrics, market units, the pause window, uptime slots, an order's
 * lifecycle and send state, the budget, the order lock, the session and the counters, the live
 * tail's filters and frames, and the manual-run budget.
 */
import { describe, expect, it } from "vitest";
import { newOrderFacts, type OrderFacts } from "../../../worker/monitor/check/order.ts";
import { initialState, type CheckRecord, type MachineState } from "../../../worker/monitor/check/state.ts";
import { redactKeyMaterial, redactText, redactValue } from "../../../worker/monitor/redact.ts";
import {
  checkRecordOf,
  checksPage,
  checkView,
  latestChecks,
  liveMatches,
  parseCheckRow,
  withLive,
  type ChecksQuery,
} from "../../../worker/views/checks.ts";
import { incidentRecord, incidentsPage, type IncidentRow } from "../../../worker/views/incidents.ts";
import { containsPattern, levelsFrom, logsPage } from "../../../worker/views/logs.ts";
import { marketUnitsOf } from "../../../worker/views/market.ts";
import { LATENCY_BUCKETS_MS, metricsOf } from "../../../worker/views/metrics.ts";
import { pauseOf } from "../../../worker/views/pause.ts";
import { budgetView, countersView, lockView, orderView, sessionView } from "../../../worker/views/status.ts";
import { parseTailFilter, tailEvent, tailHello, tailMatches } from "../../../worker/views/tail.ts";
import { HOUR_MS, oldestUptimeHour, uptimeCounter } from "../../../worker/views/uptime.ts";
import { MANUAL_RUNS, manualRetryAfter } from "../../../worker/monitor/retention.ts";

const T = Date.UTC(2026, 11, 6, 10, 0, 0);

function rawRow(id: string, startedAt: number, over: Record<string, string | number | null> = {}) {
  return {
    rid: startedAt / 1000,
    id,
    tick_key: `cron:${startedAt}`,
    market: 0,
    state: "done",
    phase: "done",
    started_at: startedAt,
    finished_at: startedAt + 9_000,
    verdict: "fail",
    first_failing_stage: "fill_seen",
    diagnosis: "filled_not_reported_on_ws",
    reasons: '["filled_not_reported_on_ws"]',
    // Stored out of order, with an extra field and a non-stage mark.
    stages: JSON.stringify({
      order_seen: { at: startedAt + 2, ms: 2, extra: 1 },
      connect: { at: startedAt + 1, ms: 1 },
      flatten: { at: startedAt + 3, ms: 3 },
    }),
    evidence: JSON.stringify({ trigger: "cron", last_frames: [] }),
    action: "look at the account channels",
    flatten: "done",
    flatten_detail: null,
    coi: "42",
    fill_latency_ms: null,
    bound_at: null,
    ...over,
  };
}

const query = (over: Partial<ChecksQuery> = {}): ChecksQuery => ({ ...latestChecks(2), ...over });

describe("checks", () => {
  it("a row parses back to its columns; the page keeps every mark's time, the full view only stages, in order", () => {
    const row = parseCheckRow(rawRow("c1", T));
    expect(row.reasons).toEqual(["filled_not_reported_on_ws"]);
    expect(row.flatten_detail).toBeNull();
    const rec = checkRecordOf(row, "summary");
    expect(rec.stages).toEqual({
      order_seen: { at: T + 2, ms: 2 },
      connect: { at: T + 1, ms: 1 },
      flatten: { at: T + 3, ms: 3 },
    });
    expect(rec.trigger).toBe("cron");
    expect(rec).not.toHaveProperty("evidence");
    expect(checkRecordOf(row, "full").evidence).toEqual({ trigger: "cron", last_frames: [] });
    const view = checkView(row);
    expect(Object.keys(view.stages)).toEqual(["connect", "order_seen"]);
    expect(view.stages.order_seen).toEqual({ at: T + 2, ms: 2, extra: 1 });
  });

  it("a check that is not done shows no verdict", () => {
    const running = parseCheckRow(rawRow("c1", T, { state: "running", verdict: "fail" }));
    expect(checkView(running).verdict).toBeNull();
    expect(checkRecordOf(running, "summary").verdict).toBeNull();
    const flattening = parseCheckRow(rawRow("c1", T, { state: "flattening" }));
    expect(checkView(flattening).verdict).toBe("fail");
    expect(checkRecordOf(flattening, "summary").verdict).toBeNull();
  });

  it("a page of limit + 1 rows has a cursor at its last row; a short page has none", () => {
    const rows = [rawRow("c3", T + 2000), rawRow("c2", T + 1000), rawRow("c1", T)];
    const p = checksPage(rows, 2, "summary");
    expect(p.checks.map((c) => c.id)).toEqual(["c3", "c2"]);
    expect(p.next_cursor).toBe(`${T + 1000}.${(T + 1000) / 1000}`);
    expect(checksPage(rows, 3, "summary").next_cursor).toBeNull();
  });

  it("the running check goes first on an unfiltered first page inside the time range, once", () => {
    const at = (started_at: number, first_failing_stage: string | null = null, diagnosis: string | null = null) => ({
      started_at,
      first_failing_stage,
      diagnosis,
    });
    expect(liveMatches(query(), at(T))).toBe(true);
    expect(liveMatches(query({ cursor: "1.1" }), at(T))).toBe(false);
    expect(liveMatches(query({ verdict: "pass" }), at(T))).toBe(false);
    expect(liveMatches(query({ since: T + 1 }), at(T))).toBe(false);
    expect(liveMatches(query({ until: T }), at(T))).toBe(false);
    const live = parseCheckRow(rawRow("c2", T + 1000, { state: "running" }));
    const rest = checksPage([rawRow("c2", T + 1000), rawRow("c1", T)], 2, "summary");
    const p = withLive(live, rest, "summary");
    expect(p.checks.map((c) => [c.id, c.state])).toEqual([
      ["c2", "running"],
      ["c1", "done"],
    ]);
  });
});

describe("incidents, logs, metrics, market units, pause, uptime", () => {
  const inc = (id: string, opened: number, resolved: number | null): IncidentRow => ({
    id,
    stream: "checks",
    opened_at: opened,
    resolved_at: resolved,
    first_check_id: "c1",
    stage: "fill_seen",
    diagnosis: "b",
    history: '["a","b"]',
    failures: 3,
    action: null,
  });

  it("an incident lasts until it resolves (or until now) and lists its earlier diagnoses", () => {
    expect(incidentRecord(inc("i1", T, null), T + 5_000)).toMatchObject({
      state: "open",
      duration_ms: 5_000,
      earlier_diagnoses: ["a"],
    });
    expect(incidentRecord(inc("i1", T, T + 1_000), T + 5_000)).toMatchObject({ state: "resolved", duration_ms: 1_000 });
    const p = incidentsPage([inc("i2", T + 1, null), inc("i1", T, null)], 1, T);
    expect(p.next_cursor).toBe(`${T + 1}.i2`);
  });

  it("logs: levels at or above, a LIKE pattern with its wildcards escaped, pages by id", () => {
    expect(levelsFrom("warn")).toEqual(["warn", "error"]);
    expect(containsPattern("50%_a\\b")).toBe("%50\\%\\_a\\\\b%");
    const rows = [3, 2, 1].map((id) => ({ id, at: id, level: "info", event: "e", check_id: null, data: "{}" }));
    expect(logsPage(rows, 2)).toMatchObject({ next_cursor: "2", events: [{ id: 3 }, { id: 2 }] });
    expect(logsPage(rows, 3).next_cursor).toBeNull();
  });

  it("metrics: cumulative latency buckets per stage, deliveries by target type, the last verdict time", () => {
    const m = metricsOf(
      {
        checks: [{ verdict: "pass", stage: null, diagnosis: null, n: 4 }],
        latencies: [
          { stages: JSON.stringify({ connect: { at: 1, ms: 80 } }), fill: 700 },
          { stages: JSON.stringify({ connect: { at: 1, ms: 40 }, odd: { at: 1 } }), fill: null },
        ],
        outbox: [
          { item: JSON.stringify({ targetIndex: 1 }), state: "sent" },
          { item: JSON.stringify({ targetIndex: 1 }), state: "sent" },
          { item: "not json", state: "failed" },
        ],
        openIncidents: [{ kind: "checks", diagnosis: null, n: 1 }],
        lastConcludedAt: T,
      },
      ["webhook", "slack"],
      1,
    );
    expect(m.checks).toEqual([{ verdict: "pass", stage: "", diagnosis: "", count: 4 }]);
    const connect = m.stage_latency.connect!;
    expect(connect.count).toBe(2);
    expect(connect.sum_ms).toBe(120);
    expect(connect.buckets[LATENCY_BUCKETS_MS.indexOf(50)]).toBe(1);
    expect(connect.buckets[LATENCY_BUCKETS_MS.indexOf(100)]).toBe(2);
    expect(m.stage_latency).not.toHaveProperty("odd");
    expect(m.fill_latency.count).toBe(1);
    expect(m.alerts).toEqual([
      { target: "slack", state: "sent", count: 2 },
      { target: "unknown", state: "failed", count: 1 },
    ]);
    expect(m.open_incidents).toEqual([{ kind: "checks", diagnosis: "", count: 1 }]);
    expect(m.last_concluded_at).toBe(T);
  });

  it("market units from the cached specs; a malformed row is left out", () => {
    expect(
      marketUnitsOf([
        { key: "market_0", value: JSON.stringify({ spec: { sizeDecimals: 4, priceDecimals: 2 } }) },
        { key: "market_1", value: "{" },
        { key: "market_2", value: JSON.stringify({ spec: { sizeDecimals: "x" } }) },
      ]),
    ).toEqual({ "0": { size_decimals: 4, price_decimals: 2 } });
  });

  it("a pause holds until its window ends, then lifts itself; a malformed note still pauses", () => {
    expect(pauseOf(null, null, T)).toMatchObject({ state: { paused: false }, lifted: false });
    const info = JSON.stringify({ by: "ops", reason: "upgrade", until: T + 1, since: T - 1 });
    expect(pauseOf("1", info, T)).toEqual({
      state: { paused: true, by: "ops", reason: "upgrade", until: T + 1, since: T - 1 },
      lifted: false,
    });
    expect(pauseOf("1", info, T + 1)).toMatchObject({ state: { paused: false }, lifted: true });
    expect(pauseOf("1", "{", T)).toMatchObject({ state: { paused: true, by: null, until: null }, lifted: false });
  });

  it("uptime: a verdict counts in its clock hour's counter; the windows read 30 days of hours", () => {
    const at = 1_000 * HOUR_MS + 59 * 60_000;
    expect(uptimeCounter(at, "fail", "fill_seen")).toBe("uptime:00001000:fail:fill_seen");
    expect(oldestUptimeHour(at)).toBe(1_000 - 720 + 1);
  });
});

function facts(over: Partial<OrderFacts> = {}): OrderFacts {
  return { ...newOrderFacts({ coi: "7", account: "1", market: 0, txHash: "ab", expiredAt: T + 60_000 }), ...over };
}

function record(f: OrderFacts | null, signed = true): CheckRecord {
  return {
    id: "c1",
    order: {
      coi: "7",
      market: 0,
      isAsk: false,
      baseAmount: "50",
      price: 300_000,
      reduceOnly: false,
      expiredAt: T + 60_000,
      notionalUsd: 15,
      sizeDecimals: 4,
    },
    tx: signed ? { txType: 14, txInfo: "{}", txHash: "ab", nonce: "9", expiredAt: T + 60_000 } : null,
    facts: f,
    flatten: null,
  } as unknown as CheckRecord;
}

describe("an order's lifecycle, the budget, the lock, the session, the counters", () => {
  it("the send state follows the signature, the transmissions and the reply", () => {
    const state = (rec: CheckRecord) => orderView(rec, "7", []).send_state;
    expect(state(record(null, false))).toBe("unsigned");
    expect(state(record(facts()))).toBe("signed");
    expect(state(record(facts({ transmissions: 1 })))).toBe("sending");
    expect(state(record(facts({ transmissions: 1, firstReply: { kind: "accepted" } })))).toBe("accepted");
    const refused = { kind: "rejected", code: 21120, message: "bad sig" } as const;
    const v = orderView(record(facts({ transmissions: 1, lastReply: refused })), "7", []);
    expect([v.send_state, v.send_code, v.send_message]).toEqual(["rejected", 21120, "bad sig"]);
  });

  it("events come from the order's log rows, with the WebSocket fill from the facts put in time order", () => {
    const rows = [
      { at: T + 1, event: "order.send", data: JSON.stringify({ client_order_index: "7" }) },
      { at: T + 5, event: "order.lookup", data: JSON.stringify({ status: "filled" }) },
      { at: T + 6, event: "check.verdict", data: "{}" },
    ];
    const f = facts({ transmissions: 1, wsFillAt: T + 3, wsFilled: "50", wsStatus: "filled", wsOrderIndex: "99" });
    const v = orderView(record(f), "7", rows);
    expect(v.events.map((e) => [e.at, e.source, e.kind, e.status])).toEqual([
      [T + 1, "local", "send", null],
      [T + 3, "ws", "fill", "filled"],
      [T + 5, "rest", "lookup", "filled"],
    ]);
    expect([v.order_index, v.filled_base, v.first_fill_at, v.side]).toEqual(["99", "50", T + 3, "buy"]);
  });

  it("the budget counts today only; the lock shows while its order is unresolved", () => {
    const s: MachineState = {
      ...initialState(),
      budget: { day: Math.floor(T / 86_400_000), orders: 3, notionalUsd: 45 },
    };
    const caps = { maxOrdersPerDay: 10, maxDailyNotionalUsd: 500 };
    expect(budgetView(s, T, caps)).toMatchObject({ orders_today: 3, notional_today_usd: 45, max_orders_per_day: 10 });
    expect(budgetView(s, T + 86_400_000, null)).toMatchObject({ orders_today: 0, max_orders_per_day: null });

    expect(lockView(s, T)).toBeNull();
    const locked = { ...s, lock: { checkId: "c1", facts: facts({ transmissions: 1 }), sizeDecimals: 4, nextAt: T } };
    expect(lockView(locked, T)).toMatchObject({ client_order_index: "7", check_id: "c1", check_state: "done" });
    const done = { ...locked, lock: { ...locked.lock, facts: facts({ transmissions: 0 }) } };
    expect(lockView(done, T)).toBeNull();
  });

  it("the session shows held subscriptions and the book of its market; counters add what is still buffered", () => {
    const s0 = initialState();
    const s: MachineState = {
      ...s0,
      session: {
        ...s0.session,
        status: "open",
        market: 0,
        subs: { ...s0.session.subs, order_book: "acked", account_orders: "assumed", account_all_orders: "refused" },
        lastAccountFrameAt: { account_orders: 5, account_all_orders: 9 },
        book: { ...s0.session.book, ready: true, bestBid: { text: "3000.00" } as never, bestAsk: null, resyncs: 2 },
      },
    };
    const socket = { isOpen: true, openedAt: 1, lastFrameAt: 9, framesIn: 12, reconnects: 1 };
    const v = sessionView(s, socket, "on-demand");
    expect(v).toMatchObject({
      state: "open",
      last_account_frame_at: 9,
      subscriptions: { order_book: ["order_book:0"], account_orders: ["account_orders:0"], account_all_orders: false },
      books: { "0": { best_bid: "3000.00", best_ask: null, continuity_breaks: 2 } },
    });
    expect(sessionView(s0, { ...socket, isOpen: false }, null)).toMatchObject({ state: "closed", books: {} });
    expect(countersView({ "frames.ping": 2, a: 1 }, [["ping", 3]], new Map([["a", 4]]), 5)).toEqual({
      "frames.ping": 5,
      a: 5,
      "storage.write_statements": 5,
    });
  });
});

describe("redaction", () => {
  it("secret fields, token signatures and the private key never reach the log", () => {
    const sig = "a".repeat(160);
    const key = "0x" + "b".repeat(80);
    expect(redactText(`token 1780000000:12:3:${sig} end`)).toBe("token 1780000000:12:3:[redacted] end");
    expect(redactValue({ token: "t", nested: { private_key: "k", n: 5n, ok: "fine" }, empty: { secret: "" } })).toEqual(
      {
        token: "[redacted]",
        nested: { private_key: "[redacted]", n: "5", ok: "fine" },
        empty: { secret: "" },
      },
    );
    const text = `key ${key} and ${key.slice(2)} and tx ${"c".repeat(80)}`;
    expect(redactKeyMaterial(text, [key])).toBe(`key [redacted] and [redacted] and tx ${"c".repeat(80)}`);
  });
});

describe("the live tail's protocol and the manual-run budget", () => {
  it("filters parse from the header (or not at all) and let through what they name", () => {
    expect(parseTailFilter(null)).toBeNull();
    expect(parseTailFilter("{")).toBeNull();
    expect(parseTailFilter(JSON.stringify({ monitor: "m" }))).toBeNull();
    const f = parseTailFilter(JSON.stringify({ monitor: "m", expiresAt: T, level: "loud", event: "order" }))!;
    expect(f).toEqual({ monitor: "m", event: "order", level: null, check: null, expiresAt: T });
    const row = (event: string, level = "info", check_id: string | null = null) => ({
      id: 1,
      at: T,
      level,
      event,
      check_id,
      data: '{"a":1}',
    });
    expect(tailMatches(f, row("order"))).toBe(true);
    expect(tailMatches(f, row("order.send"))).toBe(true);
    expect(tailMatches(f, row("orders.x"))).toBe(false);
    const warn = { ...f, event: null, level: "warn" as const, check: "c1" };
    expect(tailMatches(warn, row("x", "error", "c1"))).toBe(true);
    expect(tailMatches(warn, row("x", "info", "c1"))).toBe(false);
    expect(tailMatches(warn, row("x", "error", "c2"))).toBe(false);
    expect(JSON.parse(tailEvent(row("order")))).toMatchObject({
      type: "event",
      data: { a: 1 },
      at_iso: new Date(T).toISOString(),
    });
    expect(JSON.parse(tailHello(f))).toMatchObject({ type: "hello", filters: { expires_at: T } });
  });

  it("manual runs: free below the budget, else the wait until the oldest leaves the window", () => {
    const recent = Array.from({ length: MANUAL_RUNS.max }, (_, i) => T - i * 1_000);
    expect(manualRetryAfter(recent.slice(1), T)).toBe(0);
    const oldest = recent[recent.length - 1]!;
    expect(manualRetryAfter(recent, T)).toBe(oldest + MANUAL_RUNS.windowMs - T);
    expect(manualRetryAfter(recent, oldest + MANUAL_RUNS.windowMs + 5)).toBe(1);
  });
});
