/**
 * A watch monitor's runner: holds one continuous session inside an alarm invocation (workerd
 * closes an outbound socket when the event that opened it ends), reconnects with backoff,
 * reconciles against REST every `reconcile_s` within the budget (reconcile.ts: the newest trades
 * page, then back through next_cursor to the last trade seen), judges every fill REST shows
 * against what each channel reported, and recycles the invocation before the alarm's wall-clock
 * limit. It never sends a transaction. What must survive an eviction is in the watch store
 * (store.ts): where the walk resumes, the open misses, the REST budget and cooldown; the ledger of
 * channel reports is rebuilt, and fills made while the object was away are judged against the
 * reconnect snapshots (late_report or fill_not_reported, never lost).
 */
import { formatDecimal } from "../../worker/lighter/decimal.ts";
import type { Order, Trade } from "../../worker/lighter/messages.ts";
import { WatchLedger } from "../../worker/monitor/watch/ledger.ts";
import type { PositionReport } from "../../worker/monitor/watch/positions.ts";
import { moveExplained, type FillChannel, type PositionMove } from "../../worker/monitor/watch/rules.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import type { Alerting } from "../alerting.ts";
import { isCrash } from "../runtime/crash.ts";
import { getMeta, takeDueDeadlines } from "../runtime/schema.ts";
import { WS_TOKEN_LIFETIME_S, REST_TOKEN_LIFETIME_S, type MonitorContext } from "../runtime/context.ts";
import { WatchFeed } from "./feed.ts";
import { WatchReconcile } from "./reconcile.ts";
import { WatchRest } from "./rest.ts";
import { WatchStore } from "./store.ts";
import { WatchVerdicts } from "./verdicts.ts";
import { BotWatch } from "./bot.ts";

/** One alarm invocation holds the session at most this long (alarms have a 15 min wall-clock limit). */
const HOLD_LIMIT_MS = 10 * 60_000;
const BASE_RECONNECT_MS = 1_000;
const MAX_RECONNECT_MS = 30_000;
const MAX_FILL_MARKS = 500;

export class WatchRunner {
  readonly feed: WatchFeed;
  readonly rest: WatchRest;
  readonly verdicts: WatchVerdicts;
  /** Bot reconciliation and delivery latency (bot.ts, delivery.ts). */
  readonly bot: BotWatch;
  readonly store: WatchStore;
  readonly reconcile: WatchReconcile;
  ledger: WatchLedger | null = null;
  private nextConnectAt = 0;
  private reconnectAttempt = 0;
  private wakeUp: (() => void) | null = null;
  private readonly positions = new Map<number, { scaled: bigint; position: string; at: number }>();
  private moves: PositionMove[] = [];
  private positionsSnapshotAt: number | null = null;
  /** Recent fills by market from any source, to explain position moves. */
  private fillMarks: { market: number; at: number }[] = [];
  private readonly c: MonitorContext;
  private readonly alerting: Alerting;
  private readTokenCache: string | null = null;
  /** Market → order indexes of unexplained fills whose orders should be paged from REST. */
  private readonly evidenceWanted = new Map<number, string[]>();
  private wsToken: { token: string; until: number } | null = null;
  private restToken: { token: string; until: number } | null = null;

  constructor(c: MonitorContext, alerting: Alerting) {
    this.c = c;
    this.alerting = alerting;
    this.verdicts = new WatchVerdicts(c, alerting);
    this.bot = new BotWatch(c, alerting);
    this.feed = new WatchFeed(c, this, () => this.token("ws"));
    this.store = new WatchStore(c.sql);
    this.rest = new WatchRest(c, () => this.token("rest"), this.store);
    this.reconcile = new WatchReconcile(c, this.rest, this.store, this.verdicts);
    c.onDeadlineSet = () => this.wakeUp?.();
  }

  /** The read-only token when configured, else an auth token signed by the API key (never a tx). */
  private token(use: "ws" | "rest"): string {
    const name = this.c.cfg?.watch?.readTokenSecret;
    if (name) {
      const t = this.c.secret(name)?.trim();
      if (!t) throw new Error(`${name} is not set`);
      if (t !== this.readTokenCache) {
        this.readTokenCache = t;
        // Redact the token in the event log, and keep redacting the key if there is one too.
        this.c.log.setSecrets([t, this.c.secret(this.c.cfg!.privateKeySecretName) ?? ""]);
      }
      return t;
    }
    const now = this.c.now();
    const lifetime = use === "ws" ? WS_TOKEN_LIFETIME_S : REST_TOKEN_LIFETIME_S;
    const cached = use === "ws" ? this.wsToken : this.restToken;
    if (cached && cached.until - now > 60_000) return cached.token;
    const fresh = { token: this.c.mintAuthToken(lifetime), until: now + lifetime * 1000 };
    if (use === "ws") this.wsToken = fresh;
    else this.restToken = fresh;
    return fresh.token;
  }

  private get cfg() {
    return this.c.cfg!.watch!;
  }

  private newLedger(): WatchLedger {
    const w = this.cfg;
    const ledger = new WatchLedger({
      account: this.c.cfg!.accountIndex.toString(),
      windowMs: this.c.scale(w.windowMs),
      maxOrders: w.maxOrdersTracked,
      skewMs: this.c.scale(1_000),
      lateWatchMs: this.c.scale(w.windowMs * 30),
    });
    ledger.restoreMisses(this.store.misses());
    return ledger;
  }

  /** A cron tick (or any RPC) for a watch monitor: make sure an alarm holds the session. */
  keepAlive(): { holding: boolean } {
    if (this.c.holdUntil === null && !this.paused()) this.c.setDeadline("watch", this.c.now());
    return { holding: this.c.holdUntil !== null };
  }

  private paused(): boolean {
    return getMeta(this.c.sql, "paused") === "1";
  }

  async onAlarm(): Promise<void> {
    await this.processDue();
    if (this.c.holdUntil === null && !this.paused() && this.c.cfg?.watch) await this.hold();
    await this.c.armAlarm();
  }

  private async processDue(): Promise<void> {
    for (const d of takeDueDeadlines(this.c.sql, this.c.now())) {
      try {
        if (d.name === "outbox") await this.alerting.flush(this.c.now());
      } catch (err) {
        if (isCrash(err)) throw err;
        this.c.event("error", "alarm.handler_failed", { deadline: d.name, error: errorMessage(err) }, null);
      }
    }
  }

  private async hold(): Promise<void> {
    const until = this.c.now() + HOLD_LIMIT_MS;
    this.c.holdUntil = until;
    await this.c.armAlarm();
    this.ledger ??= this.newLedger();
    try {
      while (this.c.now() < until && !this.paused() && this.c.cfg?.watch) {
        await this.step();
        const wait = Math.max(5, Math.min(this.c.scale(1_000), 250));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeUp = null;
        await this.processDue();
      }
    } finally {
      this.feed.flushCounts();
      this.bot.latency.maybeSave(this.c.now(), true);
      if (this.feed.isOpen) this.feed.close(this.paused() ? "paused" : "context recycled");
      this.ledger?.noteClosed(this.c.now());
      this.c.holdUntil = null;
      // The next invocation takes over at once (unless paused: the next cron tick or resume restarts it).
      if (!this.paused() && this.c.cfg?.watch) this.c.setDeadline("watch", this.c.now());
    }
  }

  private async step(): Promise<void> {
    const now = this.c.now();
    if (!this.feed.isOpen && now >= this.nextConnectAt) {
      const res = await this.feed.open(this.cfg.markets);
      if (!res.ok) {
        this.reconnectAttempt++;
        const backoff = Math.min(MAX_RECONNECT_MS, BASE_RECONNECT_MS * 2 ** Math.min(5, this.reconnectAttempt - 1));
        this.nextConnectAt = this.c.now() + this.c.scale(backoff);
      } else this.reconnectAttempt = 0;
    }
    if (this.c.now() >= this.reconcile.nextAt)
      await this.reconcile.cycle(this.ledger!, (fills, at) => {
        for (const f of fills) this.mark(f.market, f.tradeAt ?? at);
        this.bot.onRestFills(fills);
        // The walk reached the last trade seen: REST shows every trade up to now.
        if (this.reconcile.lastOkAt === at) this.bot.onCaughtUp(at);
      });
    this.judge();
    if (this.evidenceWanted.size > 0) await this.pageOrders();
  }

  /**
   * Orders are paged only for unexplained fills and position moves: one accountInactiveOrders page
   * per market, when the budget has room now (never before the alert, which goes out at once).
   */
  private async pageOrders(): Promise<void> {
    const [market, orderIndexes] = [...this.evidenceWanted][0]!;
    this.evidenceWanted.delete(market);
    const r = await this.rest.inactiveOrders(market);
    if (!r.ok) return;
    const mine = r.value.orders.filter((o) => orderIndexes.includes(o.orderIndex.toString()));
    this.c.event(
      "info",
      "watch.order_evidence",
      {
        market,
        orders: mine.map((o) => ({
          order_index: o.orderIndex.toString(),
          client_order_index: o.clientOrderIndex.toString(),
          status: o.status,
          filled: formatDecimal(o.filledBase.value, o.filledBase.scale),
        })),
        asked_for: orderIndexes,
      },
      null,
    );
  }

  private mark(market: number, at: number): void {
    this.fillMarks.push({ market, at });
    if (this.fillMarks.length > MAX_FILL_MARKS) this.fillMarks.shift();
  }

  private lastFrameAt(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const ch of ["account_orders", "account_all_orders", "account_all_trades", "account_all_positions"] as const)
      out[ch] = this.feed.lastFrameAtByChannel.get(ch) ?? null;
    return out;
  }

  private judge(): void {
    const ledger = this.ledger;
    if (!ledger) return;
    const now = this.c.now();
    this.bot.step(now);
    const { decided, lateAfterMiss } = ledger.judge(now, this.cfg.markets);
    if (decided.length > 0 || lateAfterMiss.length > 0) {
      this.verdicts.onJudged(decided, lateAfterMiss, this.lastFrameAt());
      this.reconcile.saveMark(ledger);
      if (lateAfterMiss.length > 0 || decided.some((d) => d.judgement.kind === "missed"))
        this.store.saveMisses(ledger.openMisses());
    }
    for (const d of decided)
      if (d.judgement.kind === "missed")
        this.evidenceWanted.set(d.fill.market, [...(this.evidenceWanted.get(d.fill.market) ?? []), d.fill.orderIndex]);
    // A move is judged once a reconciliation after its window has read REST.
    const windowMs = this.c.scale(this.cfg.windowMs);
    const okAt = this.reconcile.lastOkAt;
    const ready = this.moves.filter((m) => okAt !== null && okAt > m.at + windowMs);
    if (ready.length === 0) return;
    this.moves = this.moves.filter((m) => !ready.includes(m));
    const judged = ready.map((m) => ({
      ...m,
      explained: moveExplained(m, this.fillMarks, windowMs, this.c.scale(1_000)),
    }));
    for (const m of judged)
      if (!m.explained) this.evidenceWanted.set(m.market, this.evidenceWanted.get(m.market) ?? []);
    this.verdicts.onMoves(judged, this.ledger?.openOrders() ?? []);
  }

  // ------------------------------------------------------------------ feed listener

  onSubscribed(ch: string, at: number): void {
    if (ch !== "account_all_positions") this.ledger?.noteSubscribed(ch as FillChannel, at);
  }

  onOrders(ch: FillChannel, orders: Order[], at: number, snapshot: boolean): void {
    for (const r of this.ledger?.noteOrders(ch, orders, at, snapshot) ?? []) this.mark(r.market, r.at);
    this.bot.onWsOrders(orders, at);
    if (!snapshot) this.bot.latency.onOrders(ch, orders, at);
  }

  onTrades(trades: Trade[], at: number, snapshot: boolean): void {
    this.ledger?.noteTrades(trades, at, snapshot);
    if (!snapshot) this.bot.latency.onTrades(trades, at);
    // A snapshot's trades are history (L.13.9): they explain no position move and are no new fill.
    if (!snapshot) for (const t of trades) this.mark(t.marketId, at);
  }

  onPositions(positions: PositionReport[], snapshot: boolean, at: number): void {
    // A snapshot lists the markets with a position or open orders: every other market is flat.
    if (snapshot) {
      this.positions.clear();
      this.positionsSnapshotAt = at;
    }
    for (const p of positions) {
      const flat =
        this.positionsSnapshotAt !== null ? { scaled: 0n, position: "0", at: this.positionsSnapshotAt } : undefined;
      const prev = this.positions.get(p.market) ?? flat;
      this.positions.set(p.market, { scaled: p.scaled, position: p.position, at });
      // A snapshot after a reconnect may differ because of fills in the gap: REST covers those.
      if (prev && !snapshot && prev.scaled !== p.scaled)
        this.moves.push({ market: p.market, from: prev.position, to: p.position, at, prevAt: prev.at });
    }
  }

  onErrorFrame(code: number | null, message: string, at: number): void {
    this.c.event("warn", "watch.error_frame", { code, message, at }, null);
  }

  onClosed(_code: number, _reason: string, at: number): void {
    this.ledger?.noteClosed(at);
    this.feed.reconnects++;
    this.reconnectAttempt++;
    const backoff = Math.min(MAX_RECONNECT_MS, BASE_RECONNECT_MS * 2 ** Math.min(5, this.reconnectAttempt - 1));
    this.nextConnectAt = at + this.c.scale(backoff);
    // Reconcile over the gap as soon as the budget allows.
    this.reconcile.soon(at);
    this.wakeUp?.();
  }

  // ------------------------------------------------------------------ views

  sessionView(): Record<string, unknown> {
    return {
      state: this.feed.isOpen ? "open" : "closed",
      mode: "watch",
      connected_at: this.feed.openedAt,
      last_frame_at: this.feed.lastFrameAt,
      last_frame_at_by_channel: this.lastFrameAt(),
      frames_in: this.feed.framesTotal,
      reconnects: this.feed.reconnects,
      subscriptions: [...this.feed.subscribed],
    };
  }

  view(): Record<string, unknown> {
    const w = this.c.cfg?.watch;
    return {
      window_ms: w ? this.c.scale(w.windowMs) : null,
      reconcile_ms: w ? this.c.scale(w.reconcileMs) : null,
      markets: w?.markets ?? [],
      cursor_trade_id: this.reconcile.cursorTradeId,
      last_reconcile_at: this.reconcile.lastOkAt,
      walk: this.reconcile.walk.walk
        ? { pages: this.reconcile.walk.walk.pages, oldest_trade_id: this.reconcile.walk.walk.oldest.id.toString() }
        : null,
      watch_gaps: this.reconcile.gaps,
      tracked_orders: this.ledger?.trackedOrders ?? 0,
      evicted_orders: this.ledger?.evictedOrders ?? 0,
      foreign_orders: this.ledger?.foreignOrders ?? 0,
      pending_fills: this.ledger?.pendingFills ?? 0,
      rest: this.rest.view(),
      fills: { ...this.verdicts.counts },
      recent_misses: this.verdicts.recentMisses.slice(-10),
      recent_late: this.verdicts.recentLate.slice(-10),
      recent_position_moves: this.verdicts.recentMoves.slice(-10),
      positions: Object.fromEntries([...this.positions].map(([m, p]) => [String(m), p.position])),
      bot: this.bot.view(),
    };
  }
}
