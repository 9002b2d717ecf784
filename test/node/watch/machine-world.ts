/**
 * A small exchange and interpreter for the watch machine's node tests: it feeds events to the real
 * `step`, carries out the effects in memory (REST answered from the world's trades, newest first,
 * paged by cursor as LIVE.md L.13.1 says), keeps only what a `save` stored across a restart, and
 * records every effect so tests can check what the machine did and when.
 */
import { parseOrder, parseTrade, type Order, type Trade } from "../../../worker/lighter/messages.ts";
import type { WatchEffect } from "../../../worker/monitor/watch/effects.ts";
import type { WatchEvent } from "../../../worker/monitor/watch/events.ts";
import { step } from "../../../worker/monitor/watch/machine.ts";
import {
  restore,
  type RestoreInput,
  type WatchRecord,
  type WatchSettings,
  type WatchState,
} from "../../../worker/monitor/watch/state.ts";

export const ACCT = "281474976710700";
const OTHER = "9";

export const SETTINGS: WatchSettings = {
  account: ACCT,
  markets: [0],
  windowMs: 1_000,
  reconcileMs: 2_000,
  maxOrders: 500,
  restBudgetPerMin: 12,
  tier: "standard",
  resolveAfterCycles: 3,
  secondMs: 1_000,
  budgetWindowMs: 60_000,
  rateLimitPauseMs: 60_000,
  bot: { windowMs: 2_000, silenceMs: 30_000 },
};

export type RestMode = "ok" | "429" | "405" | "timeout" | "500";

export interface WorldFill {
  tradeId: bigint;
  orderIndex: bigint;
  at: number;
  /** ws: reported on the channels at once; late: reported after the window; withheld: never. */
  mode: "ws" | "late" | "withheld";
  /** A drop or restart happened between the fill and the end of the run. */
  disturbed: boolean;
  /** A session was open when the fill happened. */
  covered: boolean;
}

export function order(orderIndex: bigint, filled: string, market = 0): Order {
  return parseOrder({
    order_index: Number(orderIndex),
    order_id: orderIndex.toString(),
    client_order_index: Number(orderIndex) + 1000,
    client_order_id: String(Number(orderIndex) + 1000),
    market_index: market,
    owner_account_index: Number(ACCT),
    initial_base_amount: "0.0100",
    remaining_base_amount: "0.0000",
    filled_base_amount: filled,
    filled_quote_amount: "0.0",
    price: "3000.00",
    is_ask: false,
    status: "filled",
  });
}

export function trade(id: bigint, orderIndex: bigint, at: number, market = 0): Trade {
  return parseTrade({
    trade_id: Number(id),
    trade_id_str: id.toString(),
    market_id: market,
    size: "0.0100",
    price: "3000.00",
    ask_id: 1,
    bid_id: Number(orderIndex),
    bid_id_str: orderIndex.toString(),
    ask_client_id: 0,
    bid_client_id: 0,
    ask_account_id: Number(OTHER),
    bid_account_id: Number(ACCT),
    timestamp: at,
  });
}

export class World {
  now = 1_000_000;
  s: WatchState;
  saved: WatchRecord | null = null;
  private savedText = "";
  readonly fills: WorldFill[] = [];
  readonly trades: Trade[] = [];
  /** Every effect, with when it happened. */
  readonly log: { at: number; fx: WatchEffect }[] = [];
  restMode: RestMode = "ok";
  private nextTrade = 100n;
  private nextOrder = 5_000n;
  private pending: Extract<WatchEffect, { kind: "rest_trades" | "rest_orders" }>[] = [];
  private opening: number | null = null;
  private open: number | null = null;
  private lateReports: { at: number; fill: WorldFill }[] = [];
  readonly bot: RestoreInput["bot"] = { wsAmounts: [], fills: [], reports: [] };
  readonly batchKeys = new Set<string>();
  /** The answers to ingest events, with when. */
  readonly ingests: { at: number; outcome: string }[] = [];

  readonly settings: WatchSettings;

  constructor(settings: WatchSettings = SETTINGS) {
    this.settings = settings;
    this.s = restore(settings, null, { openStreams: [], bot: { wsAmounts: [], fills: [], reports: [] } }, this.now);
  }

  feed(e: WatchEvent): WatchEffect[] {
    const { state, effects } = step(this.s, e, this.now);
    this.s = state;
    // Every change of the record is saved in the step that made it.
    if (this.saved && !effects.some((f) => f.kind === "save") && JSON.stringify(this.s.rec) !== this.savedText)
      throw new Error(
        `the record changed without a save on ${e.kind}: ${JSON.stringify(this.s.rec)} vs ${this.savedText}`,
      );
    for (const fx of effects) this.carryOut(fx);
    return effects;
  }

  private carryOut(fx: WatchEffect): void {
    this.log.push({ at: this.now, fx });
    switch (fx.kind) {
      case "save":
        this.savedText = JSON.stringify(this.s.rec);
        this.saved = JSON.parse(this.savedText) as WatchRecord;
        return;
      case "open":
        this.opening = fx.conn;
        return;
      case "close":
        this.open = null;
        return;
      case "rest_trades":
      case "rest_orders":
        this.pending.push(fx);
        return;
      case "ingest_reply":
        this.ingests.push({ at: this.now, outcome: fx.outcome.kind });
        return;
      case "bot_store_batch":
        this.batchKeys.add(fx.key);
        for (const r of fx.reports) this.bot.reports.push({ report: r, at: fx.at });
        return;
      case "bot_store_fill":
        if (!this.bot.fills.some((f) => f.fill.key === fx.fill.key))
          this.bot.fills.push({ fill: fx.fill, state: "pending" });
        return;
      case "bot_fill_state": {
        const f = this.bot.fills.find((x) => x.fill.key === fx.key);
        if (f) f.state = fx.state;
        return;
      }
      case "bot_store_ws":
        this.bot.wsAmounts.push({ ...fx });
        return;
      default:
        return;
    }
  }

  effects<K extends WatchEffect["kind"]>(kind: K): { at: number; fx: Extract<WatchEffect, { kind: K }> }[] {
    return this.log.filter((x) => x.fx.kind === kind) as { at: number; fx: Extract<WatchEffect, { kind: K }> }[];
  }

  /** Log effects named `name` (e.g. "watch.fill_not_reported"). */
  logs(name: string): Record<string, unknown>[] {
    return this.effects("log")
      .filter((x) => x.fx.name === name)
      .map((x) => x.fx.data);
  }

  tick(): void {
    this.feed({ kind: "tick" });
  }

  /** Time passes in steps of at most `stepMs`, with a tick each, the world answering as it goes. */
  wait(ms: number, stepMs = 250): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      this.deliverLate();
      this.connect();
      this.tick();
    }
  }

  /** Answers a pending connect: connected, then the subscription snapshots of every channel. */
  connect(): void {
    if (this.opening === null) return;
    const conn = this.opening;
    this.opening = null;
    this.open = conn;
    this.feed({ kind: "connected", conn });
    if (this.open === null) return;
    this.feed({ kind: "orders", channel: "account_all_orders", market: null, orders: [], snapshot: true });
    this.feed({ kind: "orders", channel: "account_orders", market: 0, orders: [], snapshot: true });
    // The trades snapshot carries recent trades the exchange showed (never a withheld one, L.13.9).
    const shown = this.trades.filter((t) => this.fills.find((f) => f.tradeId === t.tradeId)?.mode !== "withheld");
    this.feed({ kind: "trades", trades: shown.slice(-20), snapshot: true });
    this.feed({ kind: "positions", positions: [], snapshot: true });
  }

  get sessionOpen(): boolean {
    return this.open !== null;
  }

  /** The account fills at `now`; reported as `mode` says (only a session that is open hears it). */
  fill(mode: WorldFill["mode"]): WorldFill {
    const f: WorldFill = {
      tradeId: this.nextTrade++,
      orderIndex: this.nextOrder++,
      at: this.now,
      mode,
      disturbed: false,
      covered: this.open !== null,
    };
    this.fills.push(f);
    this.trades.push(trade(f.tradeId, f.orderIndex, f.at));
    if (mode === "ws") this.report(f);
    if (mode === "late") this.lateReports.push({ at: this.now + 3 * this.settings.windowMs, fill: f });
    return f;
  }

  private report(f: WorldFill): void {
    if (this.open === null) return;
    this.feed({
      kind: "orders",
      channel: "account_all_orders",
      market: null,
      orders: [order(f.orderIndex, "0.0100")],
      snapshot: false,
    });
    this.feed({
      kind: "orders",
      channel: "account_orders",
      market: 0,
      orders: [order(f.orderIndex, "0.0100")],
      snapshot: false,
    });
    this.feed({ kind: "trades", trades: [trade(f.tradeId, f.orderIndex, f.at)], snapshot: false });
  }

  private deliverLate(): void {
    const due = this.lateReports.filter((r) => r.at <= this.now);
    this.lateReports = this.lateReports.filter((r) => r.at > this.now);
    for (const r of due) this.report(r.fill);
  }

  /** Answers every pending REST request the way `restMode` says. */
  answerRest(): void {
    const reqs = this.pending;
    this.pending = [];
    for (const r of reqs) {
      const kind = r.kind === "rest_trades" ? "trades_page" : "orders_page";
      const fail = (message: string, code: number | null, httpStatus: number) =>
        this.feed({ kind, ref: r.ref, ok: false, message, code, httpStatus });
      if (this.restMode === "429") fail("too many requests", 23000, 429);
      else if (this.restMode === "405") fail("method not allowed", null, 405);
      else if (this.restMode === "timeout") fail("timed out", null, 0);
      else if (this.restMode === "500") fail("internal error", null, 500);
      else if (r.kind === "rest_orders") this.feed({ kind: "orders_page", ref: r.ref, ok: true, orders: [] });
      else {
        const desc = [...this.trades].sort((a, b) => (a.tradeId > b.tradeId ? -1 : 1));
        const below = r.cursor === null ? desc : desc.filter((t) => t.tradeId < BigInt(r.cursor!));
        const page = below.slice(0, r.limit);
        const more = below.length > r.limit;
        const nextCursor = more ? page[page.length - 1]!.tradeId.toString() : "";
        this.feed({ kind: "trades_page", ref: r.ref, ok: true, trades: page, nextCursor });
      }
    }
  }

  drop(): void {
    if (this.open === null) return;
    const conn = this.open;
    this.open = null;
    for (const f of this.fills) f.disturbed = true;
    this.feed({ kind: "closed", conn, code: 1006, reason: "dropped" });
  }

  /** An eviction: memory, the socket and REST in flight are gone; only the saved record and tables stay. */
  restart(): void {
    this.open = null;
    this.opening = null;
    this.pending = [];
    for (const f of this.fills) f.disturbed = true;
    const openStreams = Object.keys(this.s.streams) as RestoreInput["openStreams"];
    const bot = {
      wsAmounts: [...this.bot.wsAmounts],
      fills: this.bot.fills.map((f) => ({ ...f })),
      reports: [...this.bot.reports],
    };
    const saved = this.saved ? (JSON.parse(JSON.stringify(this.saved)) as WatchRecord) : null;
    this.s = restore(this.settings, saved, { openStreams, bot }, this.now);
  }

  /** One request from the bot: a heartbeat, or reports of the given fills. */
  ingest(fills: WorldFill[] = []): void {
    const reports = fills.map((f) => ({
      orderIndex: f.orderIndex.toString(),
      clientOrderIndex: null,
      filledBase: "0.0100",
      filled: 10_000_000_000_000_000n,
      seenAt: this.now,
    }));
    const key = reports.length === 0 ? "" : `b${fills.map((f) => f.tradeId).join(",")}`;
    this.feed({ kind: "ingest", reports, key, duplicate: this.batchKeys.has(key) });
  }
}
