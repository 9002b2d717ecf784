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
import type { TradeMark } from "./trades-walk.ts";

/** Amounts are compared at one fixed scale. */
const SCALE = 18;
const MAX_INCREASES = 16;
const MAX_TRADE_IDS = 5_000;
const MAX_COVERAGE = 64;
const MAX_SNAPSHOTS = 16;

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
  /** From the trade row, else the order as a channel showed it; null when neither knows (REST rows carry 0, L.13.2). */
  clientOrderIndex: string | null;
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
  /** Trade ids an `account_all_trades` snapshot carried (never a report: L.13.9). */
  private readonly snapshotTrades = new Set<string>();
  /** Each snapshot: when it came and the oldest trade it held (null: empty). */
  private readonly snapshots: { at: number; oldestId: bigint | null }[] = [];
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

  /**
   * Order objects from one frame of an order channel; returns the fills it reported. A snapshot
   * (`subscribed/…`) sets each order's amount without reporting a fill: what it shows was either
   * reported before or happened while no session listened, which the trades snapshot settles.
   */
  noteOrders(
    ch: FillChannel,
    orders: readonly Order[],
    at: number,
    snapshot = false,
  ): { market: number; at: number }[] {
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
        const report = cum > 0n && !snapshot;
        t.channels[ch] = { cum, rises: report ? [at] : [] };
        if (report) rose.push({ market: t.market, at });
      } else if (cum > c.cum && snapshot) {
        c.cum = cum;
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

  /**
   * Trades from account_all_trades, de-duplicated by trade id. A snapshot's trades are history
   * (L.13.9): never a report, never a new fill; they only settle fills no channel covered.
   */
  noteTrades(trades: readonly Trade[], at: number, snapshot = false): void {
    if (snapshot) {
      let oldest: bigint | null = null;
      for (const tr of trades) {
        this.snapshotTrades.add(tr.tradeId.toString());
        if (oldest === null || tr.tradeId < oldest) oldest = tr.tradeId;
      }
      this.snapshots.push({ at, oldestId: oldest });
      if (this.snapshots.length > MAX_SNAPSHOTS) this.snapshots.shift();
      while (this.snapshotTrades.size > MAX_TRADE_IDS)
        this.snapshotTrades.delete(this.snapshotTrades.keys().next().value!);
      return;
    }
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
        const rowCoi = side === "sell" ? tr.askClientId : tr.bidClientId;
        const f: RestFill = {
          tradeId: tr.tradeId.toString(),
          orderIndex,
          clientOrderIndex: rowCoi !== 0n ? rowCoi.toString() : (this.orders.get(orderIndex)?.clientOrderIndex ?? null),
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

  /** The first trades snapshot taken after a fill, as judgeFill reads it; null when none came yet. */
  private snapshotAfter(fillAt: number, tradeId: string): { reachesBack: boolean; carried: boolean } | null {
    const s = this.snapshots.find((x) => x.at >= fillAt);
    if (!s) return null;
    return {
      reachesBack: s.oldestId !== null && s.oldestId < BigInt(tradeId),
      carried: this.snapshotTrades.has(tradeId),
    };
  }

  /** The fills REST showed that still wait for their verdict, as trade marks (where a resume must start). */
  undecided(): TradeMark[] {
    return [...this.pending.values()].map((f) => ({ id: BigInt(f.tradeId), at: f.tradeAt }));
  }

  /** Fills alerted and still watched for a late report. */
  openMisses(): RestFill[] {
    return [...this.missed.values()];
  }

  /** After a restart: the stored open misses are watched again, and never alerted twice. */
  restoreMisses(list: readonly RestFill[]): void {
    for (const f of list) {
      const key = `${f.tradeId}:${f.side}`;
      this.missed.set(key, f);
      this.seenFills.add(key);
    }
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
      const fillAt = f.tradeAt ?? f.restAt;
      f.clientOrderIndex ??= this.orders.get(f.orderIndex)?.clientOrderIndex ?? null;
      const judgement = judgeFill({
        fillAt,
        reports,
        coverage,
        windowMs: this.o.windowMs,
        now,
        snapshot: this.snapshotAfter(fillAt, f.tradeId),
        giveUpAt: fillAt + this.o.lateWatchMs,
      });
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
