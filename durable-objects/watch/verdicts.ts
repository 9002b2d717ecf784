/**
 * What a watch monitor concludes and tells: each judged fill becomes counters, an event and (for a
 * miss) part of the one `fill_not_reported` incident on the "watch" alert stream, with reminders
 * while misses go on; late reports carry their delay; unexplained position moves open
 * `position_moved_without_fill` ("watch_position"); a fill missed by one covering channel only
 * opens `fill_missing_on_channel` ("watch_channel"); a 429/405 opens `exchange_rate_limited`
 * and a trades walk the budget could not finish opens `watch_gap` (both "watch_rest"). Keeps the recent findings for /status.
 */
import type { CheckResult } from "../../worker/alerts/alert-policy.ts";
import { ACTIONS, type Diagnosis } from "../../worker/monitor/diagnosis.ts";
import type { Judged } from "../../worker/monitor/watch/ledger.ts";
import { channelResult, cycleResult, type PositionMove } from "../../worker/monitor/watch/rules.ts";
import type { WalkGap } from "../../worker/monitor/watch/trades-walk.ts";
import type { Alerting, AlertStream } from "../alerting.ts";
import { bumpCounter } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";

const MAX_RECENT = 20;
const MAX_IN_EVIDENCE = 10;

export interface FillFinding {
  trade_id: string;
  order_index: string;
  client_order_index: string | null;
  market: number;
  side: "buy" | "sell";
  amount: string;
  trade_price: string;
  trade_at: number | null;
  rest_at: number;
  verdict: string;
  delay_ms: number | null;
  reported_by: Record<string, number | null>;
  missing_on: string[];
}

export class WatchVerdicts {
  readonly counts: Record<string, number> = {
    fills: 0,
    reported: 0,
    late: 0,
    missed: 0,
    gap: 0,
    missing_on_channel: 0,
  };
  readonly recentMisses: FillFinding[] = [];
  readonly recentLate: FillFinding[] = [];
  readonly recentMoves: (PositionMove & { explained: boolean })[] = [];
  private seq = 0;
  private readonly c: MonitorContext;
  private readonly alerting: Alerting;

  /**
   * Per stream: passes still needed to resolve its open incident (absent: none open). Passing
   * results are sent only while an incident is open, so a healthy watch writes no alert state.
   */
  private readonly open = new Map<AlertStream, number>();

  constructor(c: MonitorContext, alerting: Alerting) {
    this.c = c;
    this.alerting = alerting;
    for (const i of alerting.openIncidents() as { kind: AlertStream }[])
      if (i.kind.startsWith("watch")) this.open.set(i.kind, this.resolveAfter(i.kind));
  }

  private resolveAfter(stream: AlertStream): number {
    return stream === "watch" ? (this.c.cfg?.watch?.resolveAfterCycles ?? 3) : 1;
  }

  private finding(j: Judged): FillFinding {
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

  private push<T>(list: T[], v: T): void {
    list.push(v);
    if (list.length > MAX_RECENT) list.shift();
  }

  private alert(
    stream: AlertStream,
    verdict: "pass" | "fail",
    diagnosis: Diagnosis,
    evidence: Record<string, unknown>,
  ) {
    if (verdict === "pass") {
      const left = this.open.get(stream);
      if (left === undefined) return;
      if (left <= 1) this.open.delete(stream);
      else this.open.set(stream, left - 1);
    } else this.open.set(stream, this.resolveAfter(stream));
    const now = this.c.now();
    const result: CheckResult = {
      checkId: `${now}-${++this.seq}`,
      at: now,
      verdict,
      firstFailingStage: null,
      diagnosis: verdict === "fail" ? diagnosis : null,
      flatten: null,
      action: verdict === "fail" ? ACTIONS[diagnosis] : null,
      evidence,
    };
    this.alerting.onCheck(result, stream, this.resolveAfter(stream));
  }

  /** One judging pass: events and counters per fill, then at most one alert result for the pass. */
  onJudged(decided: Judged[], lateAfterMiss: Judged[], lastFrameAt: Record<string, number | null>): void {
    for (const j of decided) {
      const f = this.finding(j);
      this.counts.fills = (this.counts.fills ?? 0) + 1;
      this.counts[f.verdict] = (this.counts[f.verdict] ?? 0) + 1;
      bumpCounter(this.c.sql, `watch.fills.${f.verdict}`);
      if (f.verdict === "missed") {
        this.push(this.recentMisses, f);
        this.c.event("error", "watch.fill_not_reported", { ...f, last_frame_at_by_channel: lastFrameAt }, null);
      } else if (f.verdict === "late") {
        this.push(this.recentLate, f);
        this.c.event("warn", "watch.late_report", { ...f }, null);
      } else if (f.verdict === "gap") {
        this.c.event("info", "watch.fill_reconciled_over_gap", { ...f }, null);
      } else if (f.missing_on.length > 0) {
        this.counts.missing_on_channel = (this.counts.missing_on_channel ?? 0) + 1;
        this.c.event("warn", "watch.fill_missing_on_channel", { ...f }, null);
      }
    }
    for (const j of lateAfterMiss) {
      const f = this.finding(j);
      this.counts.late_after_miss = (this.counts.late_after_miss ?? 0) + 1;
      this.push(this.recentLate, f);
      this.c.event("warn", "watch.late_report", { ...f, after_alert: true }, null);
    }
    // A fill that came on one channel but not on another that covered it: that channel's subscription.
    const perChannel = channelResult(decided.map((d) => d.judgement));
    if (perChannel.verdict !== null) {
      const silent = decided.filter((d) => d.judgement.kind === "reported" && d.judgement.missingOn.length > 0);
      this.alert(
        "watch_channel",
        perChannel.verdict,
        "fill_missing_on_channel",
        perChannel.verdict === "fail"
          ? {
              missing_on: Object.keys(perChannel.missingOn).join(", "),
              missed_per_channel: perChannel.missingOn,
              last_frame_at_by_channel: lastFrameAt,
              fills: silent.slice(0, MAX_IN_EVIDENCE).map((d) => this.finding(d)),
            }
          : {},
      );
    }
    const result = cycleResult(decided.map((d) => d.judgement));
    if (result === null) return;
    const missed = decided.filter((d) => d.judgement.kind === "missed").map((d) => this.finding(d));
    const first = missed[0];
    this.alert(
      "watch",
      result,
      "fill_not_reported",
      first
        ? {
            order_index: first.order_index,
            client_order_index: first.client_order_index,
            market: first.market,
            side: first.side,
            amount: first.amount,
            trade_id: first.trade_id,
            trade_at: first.trade_at,
            rest_at: first.rest_at,
            window_ms: this.c.cfg?.watch?.windowMs ?? null,
            last_frame_at_by_channel: lastFrameAt,
            missed_fills: missed.slice(0, MAX_IN_EVIDENCE),
            missed_count: missed.length,
          }
        : { reported: decided.filter((d) => d.judgement.kind === "reported").length },
    );
  }

  onMoves(moves: (PositionMove & { explained: boolean })[], openOrders: unknown[]): void {
    if (moves.length === 0) return;
    for (const m of moves) this.push(this.recentMoves, m);
    const unexplained = moves.filter((m) => !m.explained);
    for (const m of unexplained) this.c.event("error", "watch.position_moved_without_fill", { ...m }, null);
    bumpCounter(this.c.sql, "watch.position_moves", moves.length);
    this.alert(
      "watch_position",
      unexplained.length > 0 ? "fail" : "pass",
      "position_moved_without_fill",
      unexplained.length > 0 ? { moves: unexplained.slice(0, MAX_IN_EVIDENCE), open_orders: openOrders } : {},
    );
  }

  onRateLimited(pausedUntil: number, code: number | null, httpStatus: number): void {
    this.c.event(
      "warn",
      "watch.exchange_rate_limited",
      { paused_until: pausedUntil, code, http_status: httpStatus },
      null,
    );
    this.alert("watch_rest", "fail", "exchange_rate_limited", {
      exchange_code: code,
      http_status: httpStatus,
      paused_until: pausedUntil,
      rest_budget_per_min: this.c.cfg?.watch?.restBudgetPerMin ?? null,
    });
  }

  onRestOk(wasLimited: boolean): void {
    if (wasLimited) this.alert("watch_rest", "pass", "exchange_rate_limited", {});
  }

  /**
   * Every trades read failed for several reconcile periods: no fill made since the last read is
   * checked until one answers (the walk then reaches back from where it stopped).
   */
  onTradesFailing(evidence: Record<string, unknown>): void {
    const e = {
      ...evidence,
      reason:
        "every GET /api/v1/trades of the reconciliation failed since failing_since: fills made meanwhile are not checked until REST answers",
    };
    this.c.event("error", "watch.trades_failing", e, null);
    this.alert("watch_rest", "fail", "monitor_blind", e);
  }

  /** The trades walk could not reach back within its budget: the fills of this time range were not checked. */
  onGap(gap: WalkGap): void {
    this.counts.watch_gaps = (this.counts.watch_gaps ?? 0) + 1;
    const evidence = {
      unchecked_from: gap.fromAt,
      unchecked_to: gap.toAt,
      after_trade_id: gap.afterId,
      before_trade_id: gap.beforeId,
      pages_read: gap.pages,
      rest_budget_per_min: this.c.cfg?.watch?.restBudgetPerMin ?? null,
    };
    this.c.event("error", "watch.watch_gap", evidence, null);
    this.alert("watch_rest", "fail", "watch_gap", evidence);
  }
}
