/**
 * The /status views of a watch monitor, from the machine's state (pure): the session, the watch
 * (walk, REST budget, findings, positions) and bot reconciliation.
 */
import { spentIn } from "./budget.ts";
import { budgetOf } from "./reconcile.ts";
import type { WatchState } from "./state.ts";
import { lastFrameAt } from "./verdicts.ts";

export function sessionView(s: WatchState): Record<string, unknown> {
  return {
    state: s.session.state === "open" ? "open" : "closed",
    mode: "watch",
    connected_at: s.session.openedAt,
    last_frame_at: s.session.lastFrameAt,
    last_frame_at_by_channel: lastFrameAt(s),
    frames_in: s.session.frames,
    reconnects: s.session.reconnects,
    subscriptions: [...s.session.subscribed],
  };
}

export function watchView(s: WatchState, now: number): Record<string, unknown> {
  const b = budgetOf(s);
  const paused = b.pausedUntil !== null && now < b.pausedUntil;
  return {
    window_ms: s.cfg.windowMs,
    reconcile_ms: s.cfg.reconcileMs,
    markets: s.cfg.markets,
    started_at: s.rec.startedAt,
    cursor_trade_id: s.walk.seen?.id.toString() ?? null,
    last_reconcile_at: s.rec.lastOkAt,
    walk: s.walk.walk ? { pages: s.walk.walk.pages, oldest_trade_id: s.walk.walk.oldest.id.toString() } : null,
    watch_gaps: s.gaps,
    tracked_orders: s.ledger.trackedOrders,
    evicted_orders: s.ledger.evictedOrders,
    foreign_orders: s.ledger.foreignOrders,
    pending_fills: s.ledger.pendingFills,
    rest: {
      per_min: s.cfg.restBudgetPerMin,
      window_ms: b.windowMs,
      tier: s.cfg.tier,
      spent_last_min: spentIn({ ...b, spent: [...b.spent] }, now),
      paused_until: paused ? b.pausedUntil : null,
      calls: s.restCalls,
    },
    fills: { ...s.counts },
    recent_misses: s.rec.recentMisses.slice(-10),
    recent_late: s.recentLate.slice(-10),
    recent_position_moves: s.recentMoves.slice(-10),
    positions: Object.fromEntries(Object.entries(s.positions).map(([m, p]) => [m, p.position])),
  };
}

/** Bot reconciliation; `stored` the row counts of its tables. */
export function botView(s: WatchState, now: number, stored: Record<string, number>): Record<string, unknown> {
  const b = s.bot;
  const l = b?.ledger ?? null;
  return {
    enabled: l !== null,
    window_ms: s.cfg.bot?.windowMs ?? null,
    silence_ms: s.cfg.bot?.silenceMs ?? null,
    first_contact_at: l?.firstContactAt ?? null,
    last_contact_at: l?.lastContactAt ?? null,
    silent: l ? l.silent(now) : null,
    ingest: b ? { ...b.ingest } : { batches: 0, reports: 0, heartbeats: 0, duplicates: 0, rate_limited: 0 },
    stored,
    pending_fills: l?.pendingFills ?? 0,
    tracked_orders: l?.trackedOrders ?? 0,
    fills_before_first_contact: l?.beforeFirstContact ?? 0,
    reports_not_judged_for_phantoms: l?.exemptReports ?? 0,
    fills: b ? { ...b.counts } : { fills: 0, reported: 0, late: 0, missed: 0, phantom: 0 },
    recent_misses: b?.recentMisses.slice(-10) ?? [],
    recent_late: b?.recentLate.slice(-10) ?? [],
    recent_phantoms: b?.recentPhantoms.slice(-10) ?? [],
  };
}
