/**
 * The Lighter feed of one monitor: the outbound WebSocket session (connect, keepalive pings,
 * silence watchdog, close), the subscriptions (order_book, account_orders, account_all_orders),
 * the local order books, and the routing of every parsed frame to a listener. Frame handling is
 * synchronous and never throws: a broken frame is counted and logged as unexpected.
 */
import {
  accountAllOrdersChannel,
  accountOrdersChannel,
  orderBookChannel,
  parseFrame,
  pongFrame,
  redactFrameForLog,
  subscribeFrame,
  unsubscribeFrame,
  type LighterEvent,
  type Order,
} from "../../worker/lighter/messages.ts";
import { OrderBook } from "../../worker/lighter/orderbook.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { isCrash } from "../runtime/crash.ts";
import { redactText } from "../runtime/eventlog.ts";
import { WS_TOKEN_LIFETIME_S, type MonitorContext } from "../runtime/context.ts";
import { KeptSession } from "../runtime/kept-session.ts";
import type { ConnectResult } from "../runtime/session.ts";

/** The two channel families that carry our orders. */
export type OrderChannel = "account_orders" | "account_all_orders";

export interface FeedListener {
  onBookSnapshot(market: number, at: number, levels: number): void;
  onOrdersSubscribed(market: number, at: number, via: string | null): void;
  onErrorFrame(code: number | null, message: string, at: number): void;
  /** Orders from one frame, with the account the frame belongs to (null when it does not say). */
  onOrders(orders: Order[], channel: OrderChannel, account: string | null, text: string, at: number): void;
  onClosed(code: number, reason: string, at: number): void;
}

const MAX_LAST_FRAMES = 12;
/** Market ids a frame may name: the configured ones; anything else is unexpected, never a new book. */
const MAX_FRAME_TEXT = 2_000;

export class Feed {
  readonly books = new Map<number, OrderBook>();
  readonly bookUpdatedAt = new Map<number, number>();
  readonly subscribedBooks = new Set<number>();
  readonly subscribedOrders = new Set<number>();
  allOrdersSubscribed = false;
  lastFrames: { at: number; dir: "in" | "out"; frame: string }[] = [];
  lastAccountFrameAt: number | null = null;
  /** Last frame time per order channel family. */
  readonly lastChannelFrameAt = new Map<OrderChannel, number>();
  readonly frameCounts = new Map<string, number>();
  reconnects = 0;
  private readonly session: KeptSession;
  private connecting: Promise<ConnectResult> | null = null;

  private readonly c: MonitorContext;
  private readonly listener: FeedListener;

  constructor(c: MonitorContext, listener: FeedListener) {
    this.c = c;
    this.listener = listener;
    this.session = new KeptSession(c, "session", {
      onFrame: (text, at) => this.onFrame(text, at),
      onLost: (code, reason, at) => {
        this.forgetSubscriptions();
        this.listener.onClosed(code, reason, at);
      },
    });
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  get isConnecting(): boolean {
    return this.connecting !== null;
  }

  get openedAt(): number | null {
    return this.session.openedAt;
  }

  get lastFrameAt(): number | null {
    return this.session.lastFrameAt;
  }

  get framesIn(): number {
    return this.session.framesIn;
  }

  /** Opens the session unless one is open or opening. */
  async ensureOpen(checkId: string | null): Promise<ConnectResult> {
    if (this.session.isOpen) return { ok: true };
    if (!this.connecting) {
      this.connecting = this.open(checkId).finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async open(checkId: string | null): Promise<ConnectResult> {
    const res = await this.session.connect(this.c.cfg!.wsUrl, checkId);
    if (res.ok) this.forgetSubscriptions();
    return res;
  }

  /** Closes our side (no onClosed). */
  close(reason: string): void {
    this.session.close(reason);
    this.forgetSubscriptions();
  }

  private forgetSubscriptions(): void {
    this.books.clear();
    this.subscribedBooks.clear();
    this.subscribedOrders.clear();
    this.allOrdersSubscribed = false;
  }

  send(frame: string): boolean {
    const ok = this.session.send(frame);
    this.remember("out", frame, this.c.now());
    return ok;
  }

  private remember(dir: "in" | "out", frame: string, at: number): void {
    const text = frame.length > MAX_FRAME_TEXT ? `${frame.slice(0, MAX_FRAME_TEXT)}…` : frame;
    this.lastFrames.push({ at, dir, frame: dir === "out" ? redactFrameForLog(text) : redactText(text) });
    if (this.lastFrames.length > MAX_LAST_FRAMES) this.lastFrames.shift();
  }

  subscribeBook(market: number): void {
    this.books.set(market, new OrderBook(market));
    this.send(subscribeFrame(orderBookChannel(market)));
  }

  /** Re-subscribing a held channel answers 30003 with no snapshot: unsubscribe first (PROTOCOL.md §2.9). */
  resubscribeBook(market: number): void {
    this.send(unsubscribeFrame(orderBookChannel(market)));
    this.send(subscribeFrame(orderBookChannel(market)));
  }

  /** account_orders/{m}/{account} and account_all_orders/{account}, each with a fresh token. */
  subscribeOrders(market: number): void {
    const cfg = this.c.cfg!;
    const token = this.c.mintAuthToken(WS_TOKEN_LIFETIME_S);
    this.send(subscribeFrame(accountOrdersChannel(market, cfg.accountIndex), token));
    if (!this.allOrdersSubscribed) {
      this.send(subscribeFrame(accountAllOrdersChannel(cfg.accountIndex), token));
      this.allOrdersSubscribed = true;
    }
  }

  private onFrame(text: string, at: number): void {
    try {
      this.route(text, at);
    } catch (err) {
      // A frame must never take the object down: record it and go on.
      if (isCrash(err)) throw err;
      this.c.count("frames.handler_failed");
      this.c.event(
        "error",
        "frame.handler_failed",
        { error: errorMessage(err), frame: redactText(text.slice(0, 500)) },
        null,
      );
    }
  }

  private route(text: string, at: number): void {
    const ev = parseFrame(text);
    this.frameCounts.set(ev.kind, (this.frameCounts.get(ev.kind) ?? 0) + 1);
    if (ev.kind !== "order_book_update") this.remember("in", text, at);
    switch (ev.kind) {
      case "ping":
        this.send(pongFrame());
        return;
      case "order_book_snapshot":
      case "order_book_update":
        return this.onBook(ev, text, at);
      case "account_orders": {
        const market = ev.market ?? null;
        if (market !== null && !this.knownMarket(market))
          return this.unexpected(`account_orders for market ${market}`, text);
        this.lastAccountFrameAt = at;
        this.lastChannelFrameAt.set("account_orders", at);
        const m = market ?? this.c.cfg?.markets[0] ?? 0;
        const first = !this.subscribedOrders.has(m);
        this.subscribedOrders.add(m);
        if (first || ev.subscribed)
          this.listener.onOrdersSubscribed(m, at, ev.subscribed ? null : "first account update");
        const account = ev.account !== null ? ev.account.toString() : channelAccount(ev.channel, 2);
        this.listener.onOrders(ev.orders, "account_orders", account, text, at);
        return;
      }
      case "account_all_orders":
        this.lastAccountFrameAt = at;
        this.lastChannelFrameAt.set("account_all_orders", at);
        this.listener.onOrders(ev.orders, "account_all_orders", channelAccount(ev.channel, 1), text, at);
        return;
      case "error":
        this.c.count("frames.error");
        this.listener.onErrorFrame(ev.code, ev.message, at);
        return;
      case "unexpected":
        return this.unexpected(ev.reason, text);
      default:
        return;
    }
  }

  private unexpected(reason: string, text: string): void {
    this.c.count("frames.unexpected");
    this.c.event("warn", "frame.unexpected", { reason, frame: redactText(text.slice(0, MAX_FRAME_TEXT)) }, null);
  }

  private knownMarket(market: number): boolean {
    return this.c.cfg?.markets.includes(market) ?? false;
  }

  private onBook(
    ev: Extract<LighterEvent, { kind: "order_book_snapshot" | "order_book_update" }>,
    text: string,
    at: number,
  ): void {
    const market = ev.market;
    if (!this.knownMarket(market)) return this.unexpected(`order book frame for unconfigured market ${market}`, text);
    let book = this.books.get(market);
    if (!book) {
      book = new OrderBook(market);
      this.books.set(market, book);
    }
    const r = book.apply(ev);
    this.bookUpdatedAt.set(market, at);
    if (r.kind === "gap") {
      this.c.count("book.gaps");
      this.c.event("warn", "book.gap", { market, expected: String(r.expected), got: String(r.got) }, null);
      this.resubscribeBook(market);
      return;
    }
    if (ev.kind === "order_book_snapshot") {
      this.subscribedBooks.add(market);
      this.listener.onBookSnapshot(market, at, book.stats().levels);
    }
  }

  /** Book frames touch memory only; their counts are flushed as aggregates. */
  flushCounts(): void {
    for (const [k, v] of this.frameCounts) if (v > 0) this.c.count(`frames.${k}`, v);
    this.frameCounts.clear();
  }
}

/** The account a channel name ends with: `account_all_orders:516` (part 1), `account_orders:0:516` (part 2). */
function channelAccount(channel: string, part: number): string | null {
  const bits = channel.split(/[:/]/);
  const v = bits[part];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v).toString() : null;
}
