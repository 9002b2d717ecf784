/**
 * A check monitor's status and one order's lifecycle as the API shows them, built from plain data
 * the object reads (the machine's state, the session's figures, stored counters, history rows and
 * log rows): the session and its books, the last check, the day's budget, the order lock (the
 * machine's resolution rule), counters with what is still buffered, and an order's send state,
 * facts and events. Nothing here reads storage or a socket.
 */
import type { ConfigProblem } from "../config.ts";
import { resolution } from "../monitor/check/order.ts";
import type { CheckRecord, MachineState } from "../monitor/check/state.ts";
import { checkView, rowOf, type CheckRow, type CheckView } from "./checks.ts";
import type { FillLatencySummary } from "./latency.ts";

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
  /** The one definition of fill latency (latency.ts). */
  fill_latency_ms: FillLatencySummary;
  budget: Record<string, unknown>;
  /** The unresolved test order that blocks new ones, or null. */
  order_lock: Record<string, unknown> | null;
  incidents: unknown[];
  counters: Record<string, number>;
  config_problems: ConfigProblem[];
}

/** Log lines that belong to an order's lifecycle, and where each came from. */
const ORDER_EVENT_KIND: Record<string, { source: string; kind: string }> = {
  "order.signed": { source: "local", kind: "signed" },
  "order.send": { source: "local", kind: "send" },
  "order.send_reply": { source: "rest", kind: "send_reply" },
  "order.lookup": { source: "rest", kind: "lookup" },
  "order.frame": { source: "ws", kind: "update" },
  "order.filled": { source: "ws", kind: "fill" },
};

/** The LIKE pattern that finds the log rows naming client order index `coi`. */
export function orderEventPattern(coi: string): string {
  return `%"client_order_index":"${coi}"%`;
}

/** The check record that holds order `coi`: the running check when it is its test order or flatten. */
export function liveRecordOf(s: MachineState, coi: string): CheckRecord | null {
  return s.check && (s.check.order?.coi === coi || s.check.flatten?.order?.coi === coi) ? s.check : null;
}

/** One order's lifecycle: its signed tx and facts from the check record, its events from log rows (oldest first). */
export function orderView(
  rec: CheckRecord,
  coi: string,
  rows: readonly { at: number; event: string; data: string }[],
): OrderView {
  const flatten = rec.flatten?.order?.coi === coi;
  const order = flatten ? rec.flatten!.order! : rec.order!;
  const tx = flatten ? rec.flatten!.tx : rec.tx;
  const f = flatten ? rec.flatten!.facts : rec.facts;
  const events = rows.flatMap((e) => {
    const k = ORDER_EVENT_KIND[e.event];
    if (!k) return [];
    const detail = JSON.parse(e.data) as Record<string, unknown>;
    const status = typeof detail.status === "string" ? detail.status : null;
    const filled = typeof detail.filled_base === "string" ? detail.filled_base : null;
    return [{ at: e.at, ...k, status, filled_base: filled, detail: detail as unknown }];
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

/** The monitor's caps, as configured (null: no configuration). */
export interface Caps {
  maxOrdersPerDay: number | null;
  maxDailyNotionalUsd: number | null;
}

/** Orders signed today (test and flatten, never a dry run) and their notional, from the machine's budget. */
export function budgetView(s: MachineState, now: number, caps: Caps | null): Record<string, unknown> {
  const day = Math.floor(now / 86_400_000);
  const today = s.budget.day === day;
  return {
    day_start: day * 86_400_000,
    orders_today: today ? s.budget.orders : 0,
    notional_today_usd: today ? s.budget.notionalUsd : 0,
    max_orders_per_day: caps?.maxOrdersPerDay ?? null,
    max_daily_notional_usd: caps?.maxDailyNotionalUsd ?? null,
    residual: {},
  };
}

/** The unresolved order that blocks new ones (the machine's lock, while unresolved), or null. */
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

/** The socket's own figures (the object's kept session), beside what the machine knows of it. */
export interface SocketFacts {
  isOpen: boolean;
  openedAt: number | null;
  lastFrameAt: number | null;
  framesIn: number;
  reconnects: number;
}

export function sessionView(s: MachineState, socket: SocketFacts, mode: string | null): Record<string, unknown> {
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
  const held = (st: string) => st === "acked" || st === "assumed";
  const at = ses.lastAccountFrameAt;
  return {
    state: socket.isOpen ? "open" : ses.status === "connecting" ? "connecting" : "closed",
    mode,
    connected_at: socket.openedAt,
    last_frame_at: socket.lastFrameAt,
    last_account_frame_at: Math.max(at.account_orders ?? 0, at.account_all_orders ?? 0) || null,
    last_frame_at_by_channel: at,
    frames_in: socket.framesIn,
    reconnects: socket.reconnects,
    subscriptions: {
      order_book: held(ses.subs.order_book) && ses.market !== null ? [`order_book:${ses.market}`] : [],
      account_orders: held(ses.subs.account_orders) && ses.market !== null ? [`account_orders:${ses.market}`] : [],
      account_all_orders: held(ses.subs.account_all_orders),
    },
    books,
  };
}

/**
 * Counters as stored plus what is still buffered: frames by kind (prefixed `frames.`), the event
 * log's pending increments, and the write statements not yet folded in.
 */
export function countersView(
  stored: Record<string, number>,
  frameCounts: Iterable<[string, number]>,
  pending: Iterable<[string, number]>,
  unflushedWrites: number,
): Record<string, number> {
  const out = { ...stored };
  const add = (k: string, v: number) => (out[k] = (out[k] ?? 0) + v);
  for (const [k, v] of frameCounts) add(`frames.${k}`, v);
  // Uptime's hourly counters are buffered with the others but are not counters a person reads.
  for (const [k, v] of pending) if (!k.startsWith("uptime:")) add(k, v);
  add("storage.write_statements", unflushedWrites);
  return out;
}

export interface StatusInput {
  state: MachineState;
  now: number;
  paused: boolean;
  mode: string | null;
  caps: Caps | null;
  socket: SocketFacts;
  /** The newest history row (used when no check is running). */
  latest: CheckRow | null;
  fillLatency: FillLatencySummary;
  incidents: unknown[];
  counters: Record<string, number>;
  problems: ConfigProblem[];
}

export function statusOf(i: StatusInput): StatusView {
  const last = i.state.check ? rowOf(i.state.check) : i.latest;
  return {
    colo: null,
    paused: i.paused,
    session: sessionView(i.state, i.socket, i.mode),
    last_check: last ? checkView(last) : null,
    fill_latency_ms: i.fillLatency,
    budget: budgetView(i.state, i.now, i.caps),
    order_lock: lockView(i.state, i.now),
    incidents: i.incidents,
    counters: i.counters,
    config_problems: i.problems,
  };
}
