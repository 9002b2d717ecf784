/**
 * The watch machine's reconciliation over REST, pure (LIVE.md L.13.1): when a trades read is due
 * and the REST budget allows it, one page is asked for (the newest, or the next back through
 * `next_cursor`); its answer is folded into the walk (trades-walk.ts), its new fills go to the
 * ledgers, and where a restart resumes moves in the record. A 429/405 pauses all REST for the
 * cooldown (`exchange_rate_limited`); a walk the budget cannot finish is a `watch_gap`; reads that
 * keep failing for BLIND_AFTER_PERIODS reconcile periods open `monitor_blind`. Also the order
 * evidence asked for an unexplained fill or move.
 */
import type { Trade } from "../../lighter/messages.ts";
import { formatDecimal } from "../../lighter/decimal.ts";
import { alert, count, log } from "./alerts.ts";
import { onRestFills, onCaughtUp } from "./bot-step.ts";
import {
  callWeight,
  callsPerMinute,
  isRateLimited,
  nextAvailable,
  pause,
  tryTake,
  type BudgetState,
} from "./budget.ts";
import type { WatchEffect } from "./effects.ts";
import type { WatchEvent } from "./events.ts";
import type { WatchState } from "./state.ts";
import { PAGE_LIMIT, maxWalkPages, nextCursor, onPage, resumeMark, type TradeMark } from "./trades-walk.ts";
import { onGap, onRateLimited, onTradesFailing } from "./verdicts.ts";

/** Reconcile periods of failing trades reads before monitor_blind opens. */
export const BLIND_AFTER_PERIODS = 3;
const MAX_FILL_MARKS = 500;

const mark = (t: Trade): TradeMark => ({ id: t.tradeId, at: t.timestamp });

export function budgetOf(s: WatchState): BudgetState {
  return { windowMs: s.cfg.budgetWindowMs, spent: s.rec.budget.spent, pausedUntil: s.rec.budget.pausedUntil };
}

/** Takes one call of `endpoint` from the budget; false when the window (or a cooldown) refuses it. */
function take(s: WatchState, endpoint: string, now: number): boolean {
  const b = budgetOf(s);
  const ok = tryTake(b, s.cfg.restBudgetPerMin, callWeight(s.cfg.tier, endpoint), now);
  s.rec.budget = { spent: b.spent, pausedUntil: b.pausedUntil };
  if (ok) {
    s.rec.aliveAt = now;
    s.restCalls++;
  }
  return ok;
}

function nextAt(s: WatchState, endpoint: string, now: number): number {
  return nextAvailable(budgetOf(s), s.cfg.restBudgetPerMin, callWeight(s.cfg.tier, endpoint), now);
}

export function tradesPerMinute(s: WatchState): number {
  return callsPerMinute(s.cfg.tier, "trades", s.cfg.restBudgetPerMin);
}

export function noteFillMark(s: WatchState, market: number, at: number): void {
  s.fillMarks.push({ market, at });
  if (s.fillMarks.length > MAX_FILL_MARKS) s.fillMarks.shift();
}

/** Starts a trades read when one is due and the budget allows; else defers it. */
export function startReads(s: WatchState, fx: WatchEffect[], now: number): void {
  if (s.inFlight === null && now >= s.nextReconcileAt) {
    s.nextReconcileAt = now + s.cfg.reconcileMs;
    const paused = s.rec.budget.pausedUntil !== null && now < s.rec.budget.pausedUntil;
    if (!take(s, "trades", now)) {
      if (!paused) count(fx, "watch.rest_deferred_by_budget");
      s.nextReconcileAt = Math.max(now + 50, nextAt(s, "trades", now));
    } else {
      const first = s.walk.seen === null;
      const limit = first ? 1 : PAGE_LIMIT;
      s.inFlight = { ref: ++s.ref, limit, first };
      count(fx, "watch.rest.trades");
      fx.push({ kind: "rest_trades", ref: s.ref, cursor: nextCursor(s.walk), limit });
    }
  }
  // Orders are paged only for unexplained fills and moves, when the budget has room now.
  if (s.evidenceInFlight === null && s.evidenceWanted.length > 0) {
    const [market, orderIndexes] = s.evidenceWanted.shift()!;
    if (take(s, "accountInactiveOrders", now)) {
      s.evidenceInFlight = { ref: ++s.ref, market, orderIndexes };
      count(fx, "watch.rest.accountInactiveOrders");
      fx.push({ kind: "rest_orders", ref: s.ref, market, orderIndexes });
    }
  }
}

/** Stores where a restart resumes, when it moved: the last trade read, but before any fill still undecided. */
export function moveMark(s: WatchState): void {
  const m = resumeMark(s.walk.seen, s.ledger.undecided());
  if (m === null) return;
  const id = m.id.toString();
  if (s.rec.mark?.id !== id) s.rec.mark = { id, at: m.at };
}

function failed(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  r: { message: string; code: number | null; httpStatus: number },
  trades: boolean,
): void {
  if (isRateLimited(r.httpStatus, r.code)) {
    const b = budgetOf(s);
    pause(b, now, s.cfg.rateLimitPauseMs);
    s.rec.budget = { spent: b.spent, pausedUntil: b.pausedUntil };
    s.rateLimited = true;
    s.nextReconcileAt = Math.max(s.nextReconcileAt, b.pausedUntil!);
    count(fx, "watch.rest_rate_limited");
    onRateLimited(s, fx, now, r.code, r.httpStatus);
    return;
  }
  count(fx, "watch.rest_failed");
  if (!trades) return;
  log(fx, "warn", "watch.rest_failed", { message: r.message, code: r.code, http_status: r.httpStatus });
  // Fills are only judged from what the walk reads: reads that keep failing leave them unchecked.
  s.failingSince ??= now;
  if (!s.blind && now - s.failingSince >= BLIND_AFTER_PERIODS * s.cfg.reconcileMs) {
    s.blind = true;
    onTradesFailing(s, fx, now, {
      failing_since: s.failingSince,
      last_reconcile_at: s.rec.lastOkAt,
      last_trade_id: s.walk.seen?.id.toString() ?? null,
      message: r.message,
      code: r.code,
      http_status: r.httpStatus,
    });
  }
}

/** The answer to a trades read. */
export function onTradesPage(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  e: Extract<WatchEvent, { kind: "trades_page" }>,
): void {
  const req = s.inFlight;
  if (!req || req.ref !== e.ref) return;
  s.inFlight = null;
  if (!e.ok) return failed(s, fx, now, e, true);
  if (s.rateLimited || s.blind) alert(s, fx, now, "watch_rest", "pass", "exchange_rate_limited", {});
  s.rateLimited = false;
  s.blind = false;
  s.failingSince = null;
  const out = onPage(s.walk, e.trades, mark, e.nextCursor, maxWalkPages(tradesPerMinute(s)), req.limit);
  s.walk = out.state;
  // An account with no trade yet: nothing before the watch's start is unchecked.
  if (req.first && s.walk.seen && s.walk.seen.at === null) s.walk = { ...s.walk, seen: { ...s.walk.seen, at: now } };
  if (req.first) {
    log(fx, "info", "watch.started", { after_trade_id: s.walk.seen?.id.toString() ?? null });
    moveMark(s);
    return;
  }
  if (out.done) s.rec.lastOkAt = now;
  const fills = s.ledger.noteRestTrades(out.fresh, now);
  for (const f of fills) noteFillMark(s, f.market, f.tradeAt ?? now);
  onRestFills(s, fx, now, fills);
  // The walk reached the last trade seen: REST shows every trade up to now.
  if (out.done) onCaughtUp(s, now);
  if (out.gap) {
    s.gaps++;
    s.gapOpen = true;
    count(fx, "watch.gaps");
    onGap(s, fx, now, out.gap);
  } else if (out.done && s.gapOpen) {
    s.gapOpen = false;
    alert(s, fx, now, "watch_rest", "pass", "exchange_rate_limited", {});
  }
  // More pages wait: read the next one as soon as the budget allows.
  if (!out.done) s.nextReconcileAt = Math.max(now, nextAt(s, "trades", now));
  moveMark(s);
}

/** The evidence read for an unexplained fill or move. */
export function onOrdersPage(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  e: Extract<WatchEvent, { kind: "orders_page" }>,
): void {
  const req = s.evidenceInFlight;
  if (!req || req.ref !== e.ref) return;
  s.evidenceInFlight = null;
  const { market, orderIndexes: askedFor } = req;
  if (!e.ok) return failed(s, fx, now, e, false);
  const mine = e.orders.filter((o) => askedFor.includes(o.orderIndex.toString()));
  log(fx, "info", "watch.order_evidence", {
    market,
    orders: mine.map((o) => ({
      order_index: o.orderIndex.toString(),
      client_order_index: o.clientOrderIndex.toString(),
      status: o.status,
      filled: formatDecimal(o.filledBase.value, o.filledBase.scale),
    })),
    asked_for: askedFor,
  });
}
