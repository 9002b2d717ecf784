/**
 * Read models for the HTTP API: a monitor's status (session, books, last check, latency
 * percentiles, budget, the order lock, incidents, counters, config problems), a check, the recent
 * checks, and one order's lifecycle. Plain serializable records; nothing here writes.
 */
import type { ConfigProblem } from "../../worker/config.ts";
import {
  STAGES,
  type Diagnosis,
  type FlattenOutcome,
  type Stage,
  type Verdict,
} from "../../worker/monitor/diagnosis.ts";
import type { Alerting } from "../alerting.ts";
import { getMeta, readCounters } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { budgetToday } from "./preflight-io.ts";
import type { CheckRunner } from "./runner.ts";
import { readCheck, readOrder, type CheckEvidence, type CheckRow, type CheckState } from "./store.ts";

export interface CheckView {
  id: string;
  /** running → flattening → done; "done" only once the flatten concluded too. */
  state: CheckState;
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: string[];
  market: number;
  started_at: number;
  finished_at: number | null;
  stages: Record<string, { at: number; ms: number }>;
  evidence: CheckEvidence;
  action: string | null;
  flatten: FlattenOutcome | "pending" | null;
  flatten_detail: Record<string, unknown> | null;
  client_order_index: string | null;
  fill_latency_ms: number | null;
  bound_at: number | null;
}

export interface OrderView {
  client_order_index: string;
  check_id: string;
  purpose: string;
  market: number;
  side: "buy" | "sell";
  base_amount: string;
  price: number;
  nonce: string;
  tx_hash: string;
  send_state: string;
  send_code: number | null;
  send_message: string | null;
  order_index: string | null;
  status: string | null;
  filled_base: string;
  ws_filled_base: string;
  seen_at: number | null;
  first_fill_at: number | null;
  events: {
    at: number;
    source: string;
    kind: string;
    status: string | null;
    filled_base: string | null;
    detail: unknown;
  }[];
}

export interface StatusView {
  colo: string | null;
  paused: boolean;
  session: Record<string, unknown>;
  last_check: CheckView | null;
  fill_latency_ms: { p50: number | null; p90: number | null; p99: number | null; samples: number };
  budget: Record<string, unknown>;
  /** The unresolved test order that blocks new ones, or null. */
  order_lock: Record<string, unknown> | null;
  incidents: unknown[];
  counters: Record<string, number>;
  config_problems: ConfigProblem[];
}

export function checkView(c: CheckRow): CheckView {
  const stages: Record<string, { at: number; ms: number }> = {};
  for (const s of STAGES) {
    const m = c.stages[s];
    if (m) stages[s] = m;
  }
  return {
    id: c.id,
    state: c.state,
    verdict: c.state === "running" ? null : c.verdict,
    first_failing_stage: c.first_failing_stage,
    diagnosis: c.diagnosis,
    reasons: c.reasons,
    market: c.market,
    started_at: c.started_at,
    finished_at: c.finished_at,
    stages,
    evidence: c.evidence,
    action: c.action,
    flatten: c.flatten,
    flatten_detail: c.flatten_detail,
    client_order_index: c.coi,
    fill_latency_ms: c.fill_latency_ms,
    bound_at: c.bound_at,
  };
}

export function listChecks(c: MonitorContext, limit: number): CheckView[] {
  return c.sql
    .exec<{ id: string }>(`SELECT id FROM checks ORDER BY started_at DESC, rowid DESC LIMIT ?`, limit)
    .toArray()
    .map((r) => checkView(readCheck(c.sql, r.id)!));
}

export function orderView(c: MonitorContext, coi: string): OrderView | null {
  const o = readOrder(c.sql, coi);
  if (!o) return null;
  const events = c.sql
    .exec<{
      at: number;
      source: string;
      kind: string;
      status: string | null;
      filled_base: string | null;
      detail: string | null;
    }>(`SELECT at, source, kind, status, filled_base, detail FROM order_events WHERE coi = ? ORDER BY id`, coi)
    .toArray()
    .map((e) => ({ ...e, detail: e.detail ? (JSON.parse(e.detail) as unknown) : null }));
  return {
    client_order_index: o.coi,
    check_id: o.check_id,
    purpose: o.purpose,
    market: o.market,
    side: o.is_ask ? "sell" : "buy",
    base_amount: o.base_amount,
    price: o.price,
    nonce: o.nonce,
    tx_hash: o.tx_hash,
    send_state: o.send_state,
    send_code: o.send_code,
    send_message: o.send_message,
    // What the WebSocket showed lives in the order's facts; REST's answer in the row's columns.
    order_index: o.order_index ?? o.facts?.wsOrderIndex ?? null,
    status: o.status ?? o.facts?.wsStatus ?? null,
    filled_base: o.filled_base,
    ws_filled_base: o.facts?.wsFilled ?? o.ws_filled_base,
    seen_at: o.facts?.wsSeenAt ?? o.seen_at,
    first_fill_at: o.facts?.wsFillAt ?? o.first_fill_at,
    events,
  };
}

export function statusView(c: MonitorContext, runner: CheckRunner, alerting: Alerting): StatusView {
  // The last check that ran (a skipped tick never replaces it: it has no row).
  const lastId = c.sql
    .exec<{ id: string }>(`SELECT id FROM checks ORDER BY started_at DESC, rowid DESC LIMIT 1`)
    .toArray()[0]?.id;
  const last = lastId ? readCheck(c.sql, lastId) : null;
  const lat = c.sql
    .exec<{ ms: number }>(
      `SELECT fill_latency_ms AS ms FROM checks WHERE fill_latency_ms IS NOT NULL ORDER BY started_at DESC LIMIT 200`,
    )
    .toArray()
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]! : null);
  const feed = runner.feed;
  const books: Record<string, unknown> = {};
  for (const [m, b] of feed.books) {
    const top = b.top();
    books[String(m)] = {
      best_bid: top.bestBid?.priceText ?? null,
      best_ask: top.bestAsk?.priceText ?? null,
      updated_at: feed.bookUpdatedAt.get(m) ?? null,
      continuity_breaks: b.stats().gaps,
    };
  }
  const counters = readCounters(c.sql);
  for (const [k, v] of feed.frameCounts) counters[`frames.${k}`] = (counters[`frames.${k}`] ?? 0) + v;
  for (const [k, v] of c.log.pendingCounts()) counters[k] = (counters[k] ?? 0) + v;
  counters["storage.write_statements"] = (counters["storage.write_statements"] ?? 0) + c.writes.count;
  const b = budgetToday(c);
  return {
    colo: null,
    paused: getMeta(c.sql, "paused") === "1",
    session: {
      state: feed.isOpen ? "open" : feed.isConnecting ? "connecting" : "closed",
      mode: c.cfg?.mode ?? null,
      connected_at: feed.openedAt,
      last_frame_at: feed.lastFrameAt,
      last_account_frame_at: feed.lastAccountFrameAt,
      last_frame_at_by_channel: Object.fromEntries(feed.lastChannelFrameAt),
      frames_in: feed.framesIn,
      reconnects: feed.reconnects,
      subscriptions: {
        order_book: [...feed.subscribedBooks].map((m) => `order_book:${m}`),
        account_orders: [...feed.subscribedOrders].map((m) => `account_orders:${m}`),
        account_all_orders: feed.allOrdersSubscribed,
      },
      books,
    },
    last_check: last ? checkView(last) : null,
    fill_latency_ms: { p50: pct(50), p90: pct(90), p99: pct(99), samples: lat.length },
    budget: {
      day_start: b.dayStart,
      orders_today: b.ordersToday,
      notional_today_usd: b.notionalTodayUsd,
      max_orders_per_day: c.cfg?.caps.maxOrdersPerDay ?? null,
      max_daily_notional_usd: c.cfg?.caps.maxDailyNotionalUsd ?? null,
      residual: JSON.parse(getMeta(c.sql, "residual") || "{}") as unknown,
    },
    order_lock: runner.lockView(),
    incidents: alerting.openIncidents(),
    counters,
    config_problems: c.problems,
  };
}
