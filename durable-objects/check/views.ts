/**
 * Read models for the HTTP API: a monitor's status (session, books, last check, latency
 * percentiles, budget, the order lock, incidents, counters, config problems), a check, and one
 * order's lifecycle — from the machine's state for the running check, from history rows after.
 * Plain serializable records; nothing here writes.
 */
import type { ConfigProblem } from "../../worker/config.ts";
import {
  STAGES,
  type Diagnosis,
  type FlattenOutcome,
  type Stage,
  type Verdict,
} from "../../worker/monitor/diagnosis.ts";
import { resolution } from "../../worker/monitor/check/order.ts";
import type { MachineState } from "../../worker/monitor/check/state.ts";
import type { Alerting } from "../alerting.ts";
import { getMeta, readCounters } from "../runtime/schema.ts";
import { fillLatencySummary } from "../views/fill-latency.ts";
import type { FillLatencySummary } from "../views/latency.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { CheckShell } from "./shell.ts";
import { latestRow, readRow, recordByCoi, rowOf, type CheckRow, type CheckState } from "./store.ts";

/** What a check saw, for a person and for alerts (exchange codes, REST and WebSocket versions…). */
export type CheckEvidence = Record<string, unknown>;

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
  /** The one definition of fill latency (views/latency.ts). */
  fill_latency_ms: FillLatencySummary;
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

/** A check by id: the one in the machine's state (live), else its history row. */
export function findCheck(sql: SqlStorage, s: MachineState, id: string): CheckView | null {
  if (s.check?.id === id) return checkView(rowOf(s.check));
  const row = readRow(sql, id);
  return row ? checkView(row) : null;
}

const ORDER_EVENT_KIND: Record<string, { source: string; kind: string }> = {
  "order.signed": { source: "local", kind: "signed" },
  "order.send": { source: "local", kind: "send" },
  "order.send_reply": { source: "rest", kind: "send_reply" },
  "order.lookup": { source: "rest", kind: "lookup" },
  "order.frame": { source: "ws", kind: "update" },
  "order.filled": { source: "ws", kind: "fill" },
};

/** One order's lifecycle: its signed tx and facts from the check record, its events from the log. */
export function orderView(sql: SqlStorage, s: MachineState, coi: string): OrderView | null {
  const rec =
    s.check && (s.check.order?.coi === coi || s.check.flatten?.order?.coi === coi) ? s.check : recordByCoi(sql, coi);
  if (!rec) return null;
  const flatten = rec.flatten?.order?.coi === coi;
  const order = flatten ? rec.flatten!.order! : rec.order!;
  const tx = flatten ? rec.flatten!.tx : rec.tx;
  const f = flatten ? rec.flatten!.facts : rec.facts;
  const like = `%"client_order_index":"${coi}"%`;
  const events = sql
    .exec<{ at: number; event: string; data: string }>(
      `SELECT at, event, data FROM events WHERE event LIKE 'order.%' AND data LIKE ? ORDER BY id`,
      like,
    )
    .toArray()
    .flatMap((e) => {
      const k = ORDER_EVENT_KIND[e.event];
      if (!k) return [];
      const detail = JSON.parse(e.data) as Record<string, unknown>;
      const status = typeof detail.status === "string" ? detail.status : null;
      const filled = typeof detail.filled_base === "string" ? detail.filled_base : null;
      return [{ at: e.at, ...k, status, filled_base: filled, detail }];
    });
  // The fill as the order's facts hold it (the first WebSocket report that grew the filled amount).
  if (f?.wsFillAt != null) {
    const fill = { at: f.wsFillAt, source: "ws", kind: "fill", status: f.wsStatus, filled_base: f.wsFilled };
    const i = events.findIndex((e) => e.at > f.wsFillAt!);
    events.splice(i < 0 ? events.length : i, 0, { ...fill, detail: { cumulative_base: f.wsFilled } });
  }
  const reply = f?.lastReply ?? f?.firstReply ?? null;
  const sendState = !tx
    ? "unsigned"
    : !f || f.transmissions === 0
      ? "signed"
      : reply?.kind === "accepted"
        ? "accepted"
        : reply && reply.kind !== "unknown"
          ? "rejected"
          : "sending";
  const rest = f?.restResult === "found" ? f.restOrder : null;
  return {
    client_order_index: coi,
    check_id: rec.id,
    purpose: flatten ? "flatten" : "test",
    market: order.market,
    side: order.isAsk ? "sell" : "buy",
    base_amount: order.baseAmount,
    price: order.price,
    nonce: tx?.nonce ?? "",
    tx_hash: tx?.txHash ?? "",
    send_state: sendState,
    send_code: reply && "code" in reply ? reply.code : null,
    send_message: reply && "message" in reply ? reply.message : reply && "reason" in reply ? reply.reason : null,
    order_index: rest?.orderIndex ?? f?.wsOrderIndex ?? null,
    status: rest?.status ?? f?.wsStatus ?? null,
    filled_base: rest?.filled ?? f?.wsFilled ?? "0",
    ws_filled_base: f?.wsFilled ?? "0",
    seen_at: f?.wsSeenAt ?? null,
    first_fill_at: f?.wsFillAt ?? null,
    events,
  };
}

/** Orders signed today (test and flatten, never a dry run) and their notional, from the machine's budget. */
export function budgetView(s: MachineState, now: number, c: MonitorContext): Record<string, unknown> {
  const day = Math.floor(now / 86_400_000);
  const dayStart = day * 86_400_000;
  const today = s.budget.day === day;
  return {
    day_start: dayStart,
    orders_today: today ? s.budget.orders : 0,
    notional_today_usd: today ? s.budget.notionalUsd : 0,
    max_orders_per_day: c.cfg?.caps.maxOrdersPerDay ?? null,
    max_daily_notional_usd: c.cfg?.caps.maxDailyNotionalUsd ?? null,
    residual: {},
  };
}

/** The unresolved order that blocks new ones (the machine's lock, or the running check's own). */
export function lockView(s: MachineState, now: number): Record<string, unknown> | null {
  const l = s.lock;
  if (!l) return null;
  const r = resolution(l.facts, now);
  if (r.resolved) return null;
  return {
    client_order_index: l.facts.coi,
    tx_hash: l.facts.txHash,
    check_id: l.checkId,
    check_state: "done",
    expired_at: l.facts.expiredAt,
    waiting_for: r.waitingFor,
  };
}

export function statusView(c: MonitorContext, shell: CheckShell, alerting: Alerting): StatusView {
  const s = shell.state;
  const last = s.check ? rowOf(s.check) : latestRow(c.sql);
  const feed = shell.feed;
  const ses = s.session;
  const books: Record<string, unknown> = {};
  if (ses.market !== null && ses.book.ready) {
    books[String(ses.market)] = {
      best_bid: ses.book.bestBid?.text ?? null,
      best_ask: ses.book.bestAsk?.text ?? null,
      updated_at: ses.book.updatedAt,
      continuity_breaks: ses.book.resyncs,
    };
  }
  const counters = readCounters(c.sql);
  for (const [k, v] of feed.frameCounts) counters[`frames.${k}`] = (counters[`frames.${k}`] ?? 0) + v;
  for (const [k, v] of c.log.pendingCounts()) if (!k.startsWith("uptime:")) counters[k] = (counters[k] ?? 0) + v;
  counters["storage.write_statements"] = (counters["storage.write_statements"] ?? 0) + c.writes.count;
  const held = (st: string) => st === "acked" || st === "assumed";
  return {
    colo: null,
    paused: getMeta(c.sql, "paused") === "1",
    session: {
      state: feed.isOpen ? "open" : ses.status === "connecting" ? "connecting" : "closed",
      mode: c.cfg?.mode ?? null,
      connected_at: feed.session.openedAt,
      last_frame_at: feed.session.lastFrameAt,
      last_account_frame_at:
        Math.max(ses.lastAccountFrameAt.account_orders ?? 0, ses.lastAccountFrameAt.account_all_orders ?? 0) || null,
      last_frame_at_by_channel: ses.lastAccountFrameAt,
      frames_in: feed.session.framesIn,
      reconnects: feed.reconnects,
      subscriptions: {
        order_book: held(ses.subs.order_book) && ses.market !== null ? [`order_book:${ses.market}`] : [],
        account_orders: held(ses.subs.account_orders) && ses.market !== null ? [`account_orders:${ses.market}`] : [],
        account_all_orders: held(ses.subs.account_all_orders),
      },
      books,
    },
    last_check: last ? checkView(last) : null,
    fill_latency_ms: fillLatencySummary(c.sql),
    budget: budgetView(s, c.now(), c),
    order_lock: lockView(s, c.now()),
    incidents: alerting.openIncidents(),
    counters,
    config_problems: c.problems,
  };
}
