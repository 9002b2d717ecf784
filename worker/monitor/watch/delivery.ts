/**
 * Delivery latency of a watch session: for every account frame (not the snapshot a subscription
 * starts with), the receive time minus the newest `transaction_time` (µs) of its orders or trades,
 * per channel and market, in memory (worker/monitor/latency.ts); and the bot-reported lag
 * (`seen_at` − the trade's time) per market. A transaction time that is no µs timestamp is no
 * sample (latency.ts `transactionTimeOf`, as on a check monitor): the caller counts it. Pure: the caller stores the snapshot `due` hands it
 * (at most once a minute and only when something changed, never a write per frame) and passes the
 * stored one back after an eviction.
 */
import type { Order, Trade } from "../../lighter/messages.ts";
import { FrameTimes, LatencyBook, type LatencySnapshot } from "../latency.ts";

/** The channel name the bot's own lag is kept under. */
export const BOT_CHANNEL = "bot";

export class DeliveryLatency {
  readonly book: LatencyBook;

  /** `snapshot`: the stored snapshot (anything unreadable starts empty). */
  constructor(snapshot: unknown, now: number) {
    this.book = LatencyBook.restore(snapshot);
    this.book.savedAt = now;
  }

  /** An update frame of an order channel; returns how many orders had a malformed transaction time. */
  onOrders(channel: string, orders: readonly Order[], receivedAt: number): number {
    const times = new FrameTimes();
    for (const o of orders) times.note(o.marketIndex, o.transactionTimeUs);
    times.recordInto(this.book, channel, receivedAt);
    return times.malformed;
  }

  /** An update frame of account_all_trades; returns how many trades had a malformed transaction time. */
  onTrades(trades: readonly Trade[], receivedAt: number): number {
    const times = new FrameTimes();
    for (const t of trades) times.note(t.marketId, t.transactionTimeUs);
    times.recordInto(this.book, "account_all_trades", receivedAt);
    return times.malformed;
  }

  /** The bot saw a fill of `market` made at `fillAt` at `seenAt`. */
  onBotLag(market: number, lagMs: number, at: number): void {
    this.book.record(BOT_CHANNEL, String(market), lagMs, at);
  }

  /** The snapshot to store when one is due (a minute since the last and something new, or forced), else null. */
  due(now: number, force = false): LatencySnapshot | null {
    return this.book.due(now, force);
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
