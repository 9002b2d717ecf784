/**
 * A watch monitor's reconciliation over REST, as the exchange serves trades (LIVE.md L.13.1): each
 * cycle reads one page, newest first, and walks back through `next_cursor` until the last trade
 * already seen (trades-walk.ts), at once while the budget allows; every fill it shows goes to the
 * ledger. Where it resumes (the last trade whose fill is decided) is written to the watch store, so
 * after an eviction or a deploy the next walk reaches back over the time the object was away. A
 * walk the budget cannot finish ends in `watch_gap` with the unchecked time range; reads that keep
 * failing (HTTP errors, timeouts) open `monitor_blind` until one answers.
 */
import type { Trade } from "../../worker/lighter/messages.ts";
import type { RestFill, WatchLedger } from "../../worker/monitor/watch/ledger.ts";
import {
  PAGE_LIMIT,
  maxWalkPages,
  newWalk,
  nextCursor,
  onPage,
  resumeMark,
  type TradeMark,
  type WalkState,
} from "../../worker/monitor/watch/trades-walk.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { bumpCounter } from "../runtime/schema.ts";
import type { WatchRest } from "./rest.ts";
import type { WatchStore } from "./store.ts";
import type { WatchVerdicts } from "./verdicts.ts";

const mark = (t: Trade): TradeMark => ({ id: t.tradeId, at: t.timestamp });
/** Reconcile periods of failing trades reads before monitor_blind opens. */
const BLIND_AFTER_PERIODS = 3;

export class WatchReconcile {
  walk: WalkState;
  /** When the next page may be read. */
  nextAt = 0;
  lastOkAt: number | null = null;
  gaps = 0;
  private rateLimited = false;
  /** A watch_gap is open until a walk reaches back to the last trade seen again. */
  private gapOpen = false;
  /** Since when every trades read failed (HTTP error, timeout, network); null while they answer. */
  private failingSince: number | null = null;
  /** monitor_blind is open: the reads failed for BLIND_AFTER_PERIODS reconcile periods. */
  private blind = false;
  private savedMark: TradeMark | null;
  private readonly c: MonitorContext;
  private readonly rest: WatchRest;
  private readonly store: WatchStore;
  private readonly verdicts: WatchVerdicts;

  constructor(c: MonitorContext, rest: WatchRest, store: WatchStore, verdicts: WatchVerdicts) {
    this.c = c;
    this.rest = rest;
    this.store = store;
    this.verdicts = verdicts;
    this.savedMark = store.mark(this.account);
    this.walk = newWalk(this.savedMark);
    if (this.savedMark)
      c.event(
        "info",
        "watch.resumed",
        {
          after_trade_id: this.savedMark.id.toString(),
          after_trade_at: this.savedMark.at,
          last_alive_at: store.aliveAt(),
          paused_until: rest.paused() ? rest.budget.pausedUntil : null,
        },
        null,
      );
  }

  private get account(): string {
    return this.c.cfg?.accountIndex.toString() ?? "";
  }

  /** The last trade read; null before the first read. */
  get cursorTradeId(): string | null {
    return this.walk.seen?.id.toString() ?? null;
  }

  /** Read as soon as the budget allows (after a reconnect: the gap). */
  soon(at: number): void {
    this.nextAt = Math.min(this.nextAt, at);
  }

  /** One page of the walk; `onFills` gets the fills it showed for the first time. */
  async cycle(ledger: WatchLedger, onFills: (fills: RestFill[], at: number) => void): Promise<void> {
    const now = this.c.now();
    this.nextAt = now + this.c.scale(this.c.cfg!.watch!.reconcileMs);
    const first = this.walk.seen === null;
    const limit = first ? 1 : PAGE_LIMIT;
    const r = await this.rest.tradesPage(nextCursor(this.walk), limit);
    if (!r.ok) {
      if (r.kind === "rate_limited") {
        this.rateLimited = true;
        this.nextAt = Math.max(this.nextAt, r.pausedUntil);
        this.verdicts.onRateLimited(r.pausedUntil, r.code, r.httpStatus);
      } else if (r.kind === "error") {
        this.c.event(
          "warn",
          "watch.rest_failed",
          { message: r.message, code: r.code, http_status: r.httpStatus },
          null,
        );
        // Fills are only judged from what the walk reads: reads that keep failing leave them unchecked.
        this.failingSince ??= now;
        if (
          !this.blind &&
          now - this.failingSince >= BLIND_AFTER_PERIODS * this.c.scale(this.c.cfg!.watch!.reconcileMs)
        ) {
          this.blind = true;
          this.verdicts.onTradesFailing({
            failing_since: this.failingSince,
            last_reconcile_at: this.lastOkAt,
            last_trade_id: this.cursorTradeId,
            message: r.message,
            code: r.code,
            http_status: r.httpStatus,
          });
        }
      } else {
        this.nextAt = Math.max(this.c.now() + 50, this.rest.nextAt("trades"));
      }
      return;
    }
    this.verdicts.onRestOk(this.rateLimited || this.blind);
    this.rateLimited = false;
    this.blind = false;
    this.failingSince = null;
    const at = this.c.now();
    const out = onPage(
      this.walk,
      r.value.trades,
      mark,
      r.value.nextCursor,
      maxWalkPages(this.rest.tradesPerMinute()),
      limit,
    );
    this.walk = out.state;
    // An account with no trade yet: nothing before the watch's start is unchecked.
    if (first && this.walk.seen && this.walk.seen.at === null)
      this.walk = { ...this.walk, seen: { ...this.walk.seen, at } };
    if (first) {
      this.c.event("info", "watch.started", { after_trade_id: this.cursorTradeId }, null);
      this.saveMark(ledger);
      return;
    }
    if (out.done) this.lastOkAt = at;
    onFills(ledger.noteRestTrades(out.fresh, at), at);
    if (out.gap) {
      this.gaps++;
      this.gapOpen = true;
      bumpCounter(this.c.sql, "watch.gaps");
      this.verdicts.onGap(out.gap);
    } else if (out.done && this.gapOpen) {
      this.gapOpen = false;
      this.verdicts.onRestOk(true);
    }
    // More pages wait: read the next one as soon as the budget allows.
    if (!out.done) this.nextAt = Math.max(this.c.now(), this.rest.nextAt("trades"));
    this.saveMark(ledger);
  }

  /** Writes where a restart resumes, when it moved: the last trade read, but before any fill still undecided. */
  saveMark(ledger: WatchLedger): void {
    const m = resumeMark(this.walk.seen, ledger.undecided());
    if (m === null || (this.savedMark && this.savedMark.id === m.id)) return;
    this.store.saveMark(this.account, m);
    this.savedMark = m;
  }
}
