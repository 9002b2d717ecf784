/**
 * The state of one watch session, pure: every order of the account by `order_index` with its
 * cumulative `filled_base_amount` per channel (a report is an INCREASE of that amount; duplicates
 * and reordered frames never count twice or go backwards), the trades each channel reported
 * (de-duplicated by trade id), each channel's coverage, and the fills REST showed, judged by
 * rules.ts. Bounded: at most `maxOrders` orders and a few thousand trade ids are kept.
 */
import { formatDecimal, rescale, type Decimal } from "../../lighter/decimal.ts";
import type { Order, Trade } from "../../lighter/messages.ts";
import { FILL_CHANNELS, judgeFill, type Coverage, type FillChannel, type FillJudgement } from "./rules.ts";

/** Amounts are compared at one fixed scale. */
const SCALE = 18;
const MAX_INCREASES = 16;
const MAX_TRADE_IDS = 5_000;
const MAX_COVERAGE = 64;

function amount(d: Decimal): bigint {
  return rescale(d, SCALE);
}

interface TrackedOrder {
  orderIndex: string;
  clientOrderIndex: string;
  market: number;
  isAsk: boolean;
  status: string;
  /** Per order channel: the highest cumulative filled amount seen, and when it rose. */
  channels: Partial<Record<FillChannel, { cum: bigint; rises: number[] }>>;
}

/** A fill of the account as REST shows it. */
export interface RestFill {
  tradeId: string;
  orderIndex: string;
  clientOrderIndex: string;
  market: number;
  side: "buy" | "sell";
  size: string;
  price: string;
  /** The exchange's trade time (ms), or null. */
  tradeAt: number | null;
  /** When REST first showed it to us. */
  restAt: number;
}

export interface Judged {
  fill: RestFill;
  judgement: FillJudgement;
  /** Per channel: when it first reported the fill (null: never so far). */
  reports: Partial<Record<FillChannel, number | null>>;
}

export interface LedgerOptions {
  account: string;
  windowMs: number;
  maxOrders: number;
  /** How far a channel's report may precede the exchange's trade time (clock skew). */
  skewMs: number;
  /** How long a missed fill is still watched for a late report. */
  lateWatchMs: number;
}

export class WatchLedger {
  readonly o: LedgerOptions;
  private readonly orders = new Map<string, TrackedOrder>();
  /** Trade id → when account_all_trades first reported it. */
  private readonly tradeReports = new Map<string, number>();
  readonly coverage: Record<FillChannel, Coverage[]> = {
    account_orders: [],
    account_all_orders: [],
    account_all_trades: [],
  };
  /** Fills from REST not decided yet. */
  private readonly pending = new Map<string, RestFill>();
  /** Missed fills still watched for a late report. */
  private readonly missed = new Map<string, RestFill>();
  private readonly seenFills = new Set<string>();
  foreignOrders = 0;
  evictedOrders = 0;

  constructor(o: LedgerOptions) {
    this.o = o;
  }

  get trackedOrders(): number {
    return this.orders.size;
  }

  get pendingFills(): number {
    return this.pending.size;
  }

  noteSubscribed(ch: FillChannel, at: number): void {
    const list = this.coverage[ch];
    const last = list[list.length - 1];
    if (last && last.to === null) return;
    list.push({ from: at, to: null });
    if (list.length > MAX_COVERAGE) list.shift();
  }

  /** The session closed: every channel's coverage ends now. */
  noteClosed(at: number): void {
    for (const ch of FILL_CHANNELS) {
      const last = this.coverage[ch][this.coverage[ch].length - 1];
      if (last && last.to === null) last.to = at;
    }
  }

  /** Order objects from one frame of an order channel (snapshot or update); returns the fills it reported. */
  noteOrders(ch: FillChannel, orders: readonly Order[], at: number): { market: number; at: number }[] {
    const rose: { market: number; at: number }[] = [];
    for (const o of orders) {
      if (o.ownerAccountIndex !== null && o.ownerAccountIndex.toString() !== this.o.account) {
        this.foreignOrders++;
        continue;
      }
      const key = o.orderIndex.toString();
      let t = this.orders.get(key);
      if (t) this.orders.delete(key);
      else
        t = {
          orderIndex: key,
          clientOrderIndex: o.clientOrderIndex.toString(),
          market: o.marketIndex,
          isAsk: o.isAsk,
          status: o.status,
          channels: {},
        };
      // Most recently touched last, so eviction drops the stalest order.
      this.orders.set(key, t);
      t.status = o.status;
      const cum = amount(o.filledBase);
      const c = t.channels[ch];
      if (!c) {
        t.channels[ch] = { cum, rises: cum > 0n ? [at] : [] };
        if (cum > 0n) rose.push({ market: t.market, at });
      } else if (cum > c.cum) {
        c.cum = cum;
        c.rises.push(at);
        if (c.rises.length > MAX_INCREASES) c.rises.shift();
        rose.push({ market: t.market, at });
      }
    }
    while (this.orders.size > this.o.maxOrders) {
      const oldest = this.orders.keys().next().value as string;
      this.orders.delete(oldest);
      this.evictedOrders++;
    }
    return rose;
  }

  /** Trades from account_all_trades, de-duplicated by trade id. */
  noteTrades(trades: readonly Trade[], at: number): void {
    for (const tr of trades) {
      const id = tr.tradeId.toString();
      if (!this.tradeReports.has(id)) this.tradeReports.set(id, at);
    }
    while (this.tradeReports.size > MAX_TRADE_IDS) this.tradeReports.delete(this.tradeReports.keys().next().value!);
  }

  /**
   * Trades from one REST page; returns the account's new fills (each trade id once). A self-trade
   * is two fills of the account.
   */
  noteRestTrades(trades: readonly Trade[], at: number): RestFill[] {
    const out: RestFill[] = [];
    for (const tr of trades) {
      for (const side of ["sell", "buy"] as const) {
        const acct = side === "sell" ? tr.askAccountId : tr.bidAccountId;
        if (acct.toString() !== this.o.account) continue;
        const orderIndex = (side === "sell" ? tr.askId : tr.bidId).toString();
        const key = `${tr.tradeId.toString()}:${side}`;
        if (this.seenFills.has(key)) continue;
        this.seenFills.add(key);
        const f: RestFill = {
          tradeId: tr.tradeId.toString(),
          orderIndex,
          clientOrderIndex: (side === "sell" ? tr.askClientId : tr.bidClientId).toString(),
          market: tr.marketId,
          side,
          size: formatDecimal(tr.size.value, tr.size.scale),
          price: tr.price,
          tradeAt: tr.timestamp,
          restAt: at,
        };
        this.pending.set(key, f);
        out.push(f);
      }
    }
    while (this.seenFills.size > MAX_TRADE_IDS) this.seenFills.delete(this.seenFills.keys().next().value!);
    return out;
  }

  /** The orders the channels last showed open (evidence for a position move). */
  openOrders(): { order_index: string; client_order_index: string; market: number; side: string }[] {
    return [...this.orders.values()]
      .filter((t) => t.status === "open")
      .slice(-20)
      .map((t) => ({
        order_index: t.orderIndex,
        client_order_index: t.clientOrderIndex,
        market: t.market,
        side: t.isAsk ? "sell" : "buy",
      }));
  }

  /** When each channel first reported a fill (null: not yet). */
  reportsFor(f: RestFill): Partial<Record<FillChannel, number | null>> {
    const fillAt = f.tradeAt ?? f.restAt;
    const t = this.orders.get(f.orderIndex);
    const out: Partial<Record<FillChannel, number | null>> = {};
    for (const ch of ["account_orders", "account_all_orders"] as const) {
      const rise = t?.channels[ch]?.rises.find((r) => r >= fillAt - this.o.skewMs);
      out[ch] = rise ?? null;
    }
    out.account_all_trades = this.tradeReports.get(f.tradeId) ?? null;
    return out;
  }

  /** Decides what can be decided at `now`: each fill once, plus late reports of missed fills. */
  judge(now: number, marketsWithAccountOrders: readonly number[]): { decided: Judged[]; lateAfterMiss: Judged[] } {
    const decided: Judged[] = [];
    for (const [key, f] of this.pending) {
      const reports = this.reportsFor(f);
      const coverage: Partial<Record<FillChannel, readonly Coverage[]>> = {
        account_all_orders: this.coverage.account_all_orders,
        account_all_trades: this.coverage.account_all_trades,
      };
      if (marketsWithAccountOrders.includes(f.market)) coverage.account_orders = this.coverage.account_orders;
      const judgement = judgeFill({ fillAt: f.tradeAt ?? f.restAt, reports, coverage, windowMs: this.o.windowMs, now });
      if (judgement.kind === "pending") continue;
      this.pending.delete(key);
      if (judgement.kind === "missed") this.missed.set(key, f);
      decided.push({ fill: f, judgement, reports });
    }
    const lateAfterMiss: Judged[] = [];
    for (const [key, f] of this.missed) {
      const fillAt = f.tradeAt ?? f.restAt;
      const reports = this.reportsFor(f);
      const first = Object.values(reports).reduce<number | null>(
        (a, r) => (r !== null && r !== undefined && (a === null || r < a) ? r : a),
        null,
      );
      if (first !== null) {
        this.missed.delete(key);
        lateAfterMiss.push({ fill: f, judgement: { kind: "late", firstAt: first, delayMs: first - fillAt }, reports });
      } else if (now > fillAt + this.o.lateWatchMs) this.missed.delete(key);
    }
    return { decided, lateAfterMiss };
  }
}
