/**
 * Delivery latency of a watch session: for every account frame (not the snapshot a subscription
 * starts with), the receive time minus the newest `transaction_time` (µs) of its orders or trades,
 * per channel and market, in memory (worker/monitor/latency.ts); and the bot-reported lag
 * (`seen_at` − the trade's time) per market. Pure: the caller stores the snapshot `due` hands it
 * (at most once a minute and only when something changed, never a write per frame) and passes the
 * stored one back after an eviction.
 */
import type { Order, Trade } from "../../lighter/messages.ts";
import { LatencyBook, type LatencySnapshot } from "../latency.ts";

export const SNAPSHOT_EVERY_MS = 60_000;

/** The channel name the bot's own lag is kept under. */
export const BOT_CHANNEL = "bot";

export class DeliveryLatency {
  readonly book: LatencyBook;
  private savedAt: number;

  /** `snapshot`: the stored snapshot (anything unreadable starts empty). */
  constructor(snapshot: unknown, now: number) {
    this.book = LatencyBook.restore(snapshot);
    this.savedAt = now;
  }

  /** An update frame of an order channel. */
  onOrders(channel: string, orders: readonly Order[], receivedAt: number): void {
    this.onFrame(
      channel,
      orders.map((o) => ({ market: o.marketIndex, transactionTimeUs: o.transactionTimeUs })),
      receivedAt,
    );
  }

  /** An update frame of account_all_trades. */
  onTrades(trades: readonly Trade[], receivedAt: number): void {
    this.onFrame(
      "account_all_trades",
      trades.map((t) => ({ market: t.marketId, transactionTimeUs: t.transactionTimeUs })),
      receivedAt,
    );
  }

  /** One account frame: `items` are its orders or trades with their market and transaction time. */
  onFrame(
    channel: string,
    items: readonly { market: number; transactionTimeUs: number | null }[],
    receivedAt: number,
  ): void {
    let newest: Map<number, number> | null = null;
    for (const it of items) {
      if (it.transactionTimeUs === null) continue;
      newest ??= new Map();
      const prev = newest.get(it.market);
      if (prev === undefined || it.transactionTimeUs > prev) newest.set(it.market, it.transactionTimeUs);
    }
    if (!newest) return;
    for (const [market, us] of newest) this.book.record(channel, String(market), receivedAt - us / 1000, receivedAt);
  }

  /** The bot saw a fill of `market` made at `fillAt` at `seenAt`. */
  onBotLag(market: number, lagMs: number, at: number): void {
    this.book.record(BOT_CHANNEL, String(market), lagMs, at);
  }

  /** The snapshot to store when one is due (a minute since the last and something new, or forced), else null. */
  due(now: number, force = false): LatencySnapshot | null {
    if (this.book.unsaved === 0 || (!force && now - this.savedAt < SNAPSHOT_EVERY_MS)) return null;
    this.savedAt = now;
    return this.book.snapshot(now);
  }

  /** `/status`: exchange channels over the last hour and 24 hours, and the bot's lag. */
  view(now: number): {
    delivery_latency_ms: ReturnType<LatencyBook["view"]>;
    delivery_latency_ms_24h: ReturnType<LatencyBook["view"]>;
    bot_lag_ms: Record<string, unknown>;
  } {
    const hour = this.book.view("1h", now);
    const day = this.book.view("24h", now);
    const bot = { "1h": hour[BOT_CHANNEL] ?? {}, "24h": day[BOT_CHANNEL] ?? {} };
    delete hour[BOT_CHANNEL];
    delete day[BOT_CHANNEL];
    return { delivery_latency_ms: hour, delivery_latency_ms_24h: day, bot_lag_ms: bot };
  }
}
