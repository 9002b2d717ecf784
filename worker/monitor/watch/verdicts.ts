/**
 * What a watch concludes from judged fills, position moves and REST trouble, pure: each judged
 * fill becomes counters, a log effect and (for a miss) part of the one `fill_not_reported`
 * incident on the "watch" stream; late reports carry their delay; a fill missed by one covering
 * channel only opens `fill_missing_on_channel` ("watch_channel"); unexplained position moves open
 * `position_moved_without_fill` ("watch_position"); a 429/405 opens `exchange_rate_limited`, a
 * walk the budget could not finish `watch_gap` and reads that keep failing `monitor_blind`
 * (all "watch_rest").
 */
import { alert, count, log, missResult, pushRecent, MAX_IN_EVIDENCE } from "./alerts.ts";
import type { WatchEffect } from "./effects.ts";
import type { Judged } from "./ledger.ts";
import { channelResult, cycleResult, type PositionMove } from "./rules.ts";
import type { FillFinding, WatchState } from "./state.ts";
import type { WalkGap } from "./trades-walk.ts";

export function finding(j: Judged): FillFinding {
  const jj = j.judgement;
  return {
    trade_id: j.fill.tradeId,
    order_index: j.fill.orderIndex,
    client_order_index: j.fill.clientOrderIndex,
    market: j.fill.market,
    side: j.fill.side,
    amount: j.fill.size,
    trade_price: j.fill.price,
    trade_at: j.fill.tradeAt,
    rest_at: j.fill.restAt,
    verdict: jj.kind,
    delay_ms: jj.kind === "reported" || jj.kind === "late" ? jj.delayMs : null,
    reported_by: { ...j.reports } as Record<string, number | null>,
    missing_on: jj.kind === "reported" ? jj.missingOn : [],
  };
}

/** When each channel last sent a frame (evidence). */
export function lastFrameAt(s: WatchState): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const ch of ["account_orders", "account_all_orders", "account_all_trades", "account_all_positions"] as const)
    out[ch] = s.session.byChannel[ch] ?? null;
  return out;
}

/** One judging pass: events and counters per fill, then at most one result per stream. */
export function onJudged(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  decided: Judged[],
  lateAfterMiss: Judged[],
): void {
  const frames = lastFrameAt(s);
  for (const j of decided) {
    const f = finding(j);
    s.counts.fills = (s.counts.fills ?? 0) + 1;
    s.counts[f.verdict] = (s.counts[f.verdict] ?? 0) + 1;
    count(fx, `watch.fills.${f.verdict}`);
    if (f.verdict === "missed") {
      pushRecent(s.rec.recentMisses, f);
      log(fx, "error", "watch.fill_not_reported", { ...f, last_frame_at_by_channel: frames });
    } else if (f.verdict === "late") {
      pushRecent(s.recentLate, f);
      log(fx, "warn", "watch.late_report", { ...f });
    } else if (f.verdict === "gap") {
      log(fx, "info", "watch.fill_reconciled_over_gap", { ...f });
    } else if (f.missing_on.length > 0) {
      s.counts.missing_on_channel = (s.counts.missing_on_channel ?? 0) + 1;
      log(fx, "warn", "watch.fill_missing_on_channel", { ...f });
    }
  }
  for (const j of lateAfterMiss) {
    const f = finding(j);
    s.counts.late_after_miss = (s.counts.late_after_miss ?? 0) + 1;
    pushRecent(s.recentLate, f);
    log(fx, "warn", "watch.late_report", { ...f, after_alert: true });
  }
  const perChannel = channelResult(decided.map((d) => d.judgement));
  if (perChannel.verdict !== null) {
    const silent = decided.filter((d) => d.judgement.kind === "reported" && d.judgement.missingOn.length > 0);
    alert(
      s,
      fx,
      now,
      "watch_channel",
      perChannel.verdict,
      "fill_missing_on_channel",
      perChannel.verdict === "fail"
        ? {
            missing_on: Object.keys(perChannel.missingOn).join(", "),
            missed_per_channel: perChannel.missingOn,
            last_frame_at_by_channel: frames,
            fills: silent.slice(0, MAX_IN_EVIDENCE).map(finding),
          }
        : {},
    );
  }
  const result = cycleResult(decided.map((d) => d.judgement));
  if (result === null) return;
  const missed = decided.filter((d) => d.judgement.kind === "missed").map(finding);
  const reported = decided.filter((d) => d.judgement.kind === "reported").length;
  missResult(s, fx, now, "watch", result, missed, reported, {
    rest_at: missed[0]?.rest_at,
    window_ms: s.cfg.windowMs,
    last_frame_at_by_channel: frames,
  });
}

export function onMoves(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  moves: (PositionMove & { explained: boolean })[],
): void {
  if (moves.length === 0) return;
  for (const m of moves) pushRecent(s.recentMoves, m);
  const unexplained = moves.filter((m) => !m.explained);
  for (const m of unexplained) log(fx, "error", "watch.position_moved_without_fill", { ...m });
  count(fx, "watch.position_moves", moves.length);
  alert(
    s,
    fx,
    now,
    "watch_position",
    unexplained.length > 0 ? "fail" : "pass",
    "position_moved_without_fill",
    unexplained.length > 0 ? { moves: unexplained.slice(0, MAX_IN_EVIDENCE), open_orders: s.ledger.openOrders() } : {},
  );
}

export function onRateLimited(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  code: number | null,
  httpStatus: number,
): void {
  const pausedUntil = s.rec.budget.pausedUntil;
  log(fx, "warn", "watch.exchange_rate_limited", { paused_until: pausedUntil, code, http_status: httpStatus });
  alert(s, fx, now, "watch_rest", "fail", "exchange_rate_limited", {
    exchange_code: code,
    http_status: httpStatus,
    paused_until: pausedUntil,
    rest_budget_per_min: s.cfg.restBudgetPerMin,
  });
}

/** Every trades read failed for several reconcile periods: fills made meanwhile are not checked. */
export function onTradesFailing(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  evidence: Record<string, unknown>,
): void {
  const e = {
    ...evidence,
    reason:
      "every GET /api/v1/trades of the reconciliation failed since failing_since: fills made meanwhile are not checked until REST answers",
  };
  log(fx, "error", "watch.trades_failing", e);
  alert(s, fx, now, "watch_rest", "fail", "monitor_blind", e);
}

/** The trades walk could not reach back within its budget: the fills of this range were not checked. */
export function onGap(s: WatchState, fx: WatchEffect[], now: number, gap: WalkGap): void {
  s.counts.watch_gaps = (s.counts.watch_gaps ?? 0) + 1;
  const evidence = {
    unchecked_from: gap.fromAt,
    unchecked_to: gap.toAt,
    after_trade_id: gap.afterId,
    before_trade_id: gap.beforeId,
    pages_read: gap.pages,
    rest_budget_per_min: s.cfg.restBudgetPerMin,
  };
  log(fx, "error", "watch.watch_gap", evidence);
  alert(s, fx, now, "watch_rest", "fail", "watch_gap", evidence);
}
