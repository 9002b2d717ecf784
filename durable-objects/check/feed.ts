/**
 * The check's Lighter session turned into machine events: opening connection `conn` (answered
 * `connected` / `connect_failed`), the subscription frames we send, and every frame received
 * turned into what happened — `subscribed` (its own ack, a 30003 naming the channel, or the
 * channel's first data frame), `refused` (an error frame, with the channel its message names),
 * `book` (the local book after a snapshot, a delta or a nonce gap), `orders` (each order parsed and
 * scaled on its own: a malformed one is counted and skipped, the rest kept), `closed`. This is the
 * only place that reads exchange frames; it decides nothing about what they mean for a check.
 */
import {
  accountAllOrdersChannel,
  accountOrdersChannel,
  orderBookChannel,
  parseFrame,
  parseOrder,
  redactFrameForLog,
  subscribeFrame,
  unsubscribeFrame,
  type Order,
} from "../../worker/lighter/messages.ts";
import { OrderBook } from "../../worker/lighter/orderbook.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { formatDecimal } from "../../worker/lighter/decimal.ts";
import type { Event, WireOrder } from "../../worker/monitor/check/events.ts";
import type { SubChannel, TopLevel } from "../../worker/monitor/check/state.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { isCrash } from "../runtime/crash.ts";
import { redactText } from "../runtime/eventlog.ts";
import { KeptSession } from "../runtime/kept-session.ts";

type OrderChannel = "account_orders" | "account_all_orders";

/** What the feed needs from the machine's state: our own orders (their frames are kept as order evidence). */
export interface FeedView {
  ours(): ReadonlySet<string>;
}

const MAX_LAST_FRAMES = 12;
const MAX_FRAME_TEXT = 2_000;
/** Exchange frames naming our orders are stored byte-for-byte up to this size. */
const MAX_STORED_FRAME = 16_384;
const CHANNEL_IN_MESSAGE = /\b(order_book|account_all_orders|account_orders)[:/]/;

export class CheckFeed {
  /** The connection number the machine gave the open socket (null: none). */
  conn: number | null = null;
  readonly session: KeptSession;
  readonly books = new Map<number, OrderBook>();
  lastFrames: { at: number; dir: "in" | "out"; frame: string }[] = [];
  /** Frames by kind since the last flush (book frames touch memory only). */
  readonly frameCounts = new Map<string, number>();
  reconnects = 0;
  /** A connect in progress: since when, and its own timeout. */
  connecting: { since: number; timeoutMs: number } | null = null;
  private readonly dataSeen = new Set<OrderChannel>();
  private readonly c: MonitorContext;
  private readonly dispatch: (e: Event) => void;
  private readonly view: FeedView;
  private readonly account: () => string;

  constructor(c: MonitorContext, view: FeedView, dispatch: (e: Event) => void) {
    this.c = c;
    this.view = view;
    this.dispatch = dispatch;
    this.account = () => c.cfg?.accountIndex.toString() ?? "0";
    this.session = new KeptSession(c, "session", {
      onFrame: (text, at) => this.onFrame(text, at),
      onLost: (code, reason) => {
        const conn = this.conn;
        this.forget();
        if (conn !== null) this.dispatch({ type: "closed", conn, code, reason, jitter: Math.random() });
      },
    });
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /** Opens connection `conn` and tells the machine how it went. */
  async open(conn: number, timeoutMs: number): Promise<void> {
    if (this.conn !== null) this.close(this.conn, "reopening");
    const url = this.c.cfg?.wsUrl;
    if (!url) {
      this.dispatch({ type: "connect_failed", conn, status: null, message: "no ws_url", timeout: false, jitter: 0.5 });
      return;
    }
    const started = this.c.now();
    this.connecting = { since: started, timeoutMs };
    const res = await this.session.connect(url, null).finally(() => {
      this.connecting = null;
    });
    if (!res.ok) {
      const timeout = this.c.now() - started >= timeoutMs;
      const e = { type: "connect_failed", conn, status: res.status ?? null, message: res.message, timeout } as const;
      this.dispatch({ ...e, jitter: Math.random() });
      return;
    }
    if (this.session.connects > 1) this.reconnects++;
    this.forget();
    this.conn = conn;
    this.dispatch({ type: "connected", conn });
  }

  /** Closes our side (the machine asked: no `closed` event). */
  close(conn: number, reason: string): void {
    if (conn !== this.conn) return;
    this.session.close(reason);
    this.forget();
  }

  private forget(): void {
    this.conn = null;
    this.books.clear();
    this.dataSeen.clear();
  }

  /** Subscribes a channel on the open connection; account channels carry the cached 7 h token. */
  subscribe(conn: number, channel: SubChannel, market: number, resubscribe: boolean): void {
    if (conn !== this.conn) return;
    if (channel === "order_book") {
      this.books.set(market, new OrderBook(market));
      if (resubscribe) this.send(unsubscribeFrame(orderBookChannel(market)));
      this.send(subscribeFrame(orderBookChannel(market)));
      return;
    }
    let token: string;
    try {
      token = this.c.authToken("ws");
    } catch (err) {
      this.dispatch({ type: "refused", conn, code: null, message: errorMessage(err), channel });
      return;
    }
    const account = this.c.cfg!.accountIndex;
    const name =
      channel === "account_orders" ? accountOrdersChannel(market, account) : accountAllOrdersChannel(account);
    if (resubscribe) this.send(unsubscribeFrame(name));
    this.send(subscribeFrame(name, token));
  }

  private send(frame: string): void {
    this.session.send(frame);
    this.remember("out", frame, this.c.now());
  }

  private remember(dir: "in" | "out", frame: string, at: number): void {
    const text = frame.length > MAX_FRAME_TEXT ? `${frame.slice(0, MAX_FRAME_TEXT)}…` : frame;
    this.lastFrames.push({ at, dir, frame: dir === "out" ? redactFrameForLog(text) : redactText(text) });
    if (this.lastFrames.length > MAX_LAST_FRAMES) this.lastFrames.shift();
  }

  private onFrame(text: string, at: number): void {
    try {
      this.route(text, at);
    } catch (err) {
      // A frame must never take the object down: record it and go on.
      if (isCrash(err)) throw err;
      this.c.count("frames.handler_failed");
      const detail = { error: errorMessage(err), frame: redactText(text.slice(0, 500)) };
      this.c.event("error", "frame.handler_failed", detail, null);
    }
  }

  private route(text: string, at: number): void {
    const conn = this.conn;
    if (conn === null) return;
    const ev = parseFrame(text);
    this.frameCounts.set(ev.kind, (this.frameCounts.get(ev.kind) ?? 0) + 1);
    if (ev.kind !== "order_book_update") this.remember("in", text, at);
    switch (ev.kind) {
      case "order_book_snapshot":
      case "order_book_update": {
        const book = this.books.get(ev.market);
        if (!book) return this.unexpected(`order book frame for market ${ev.market} we did not subscribe`, text);
        const r = book.apply(ev);
        if (r.kind === "gap") this.c.count("book.gaps");
        const top = book.top();
        const level = (l: { price: bigint; priceText: string } | null | undefined): TopLevel | null =>
          l ? { price: l.price.toString(), text: l.priceText } : null;
        this.dispatch({
          type: "book",
          conn,
          market: ev.market,
          kind: r.kind === "gap" ? "gap" : ev.kind === "order_book_snapshot" ? "snapshot" : "update",
          bestBid: level(top.bestBid),
          bestAsk: level(top.bestAsk),
          bids: book.levels("bids").length,
          asks: book.levels("asks").length,
        });
        return;
      }
      case "account_orders": {
        const account = ev.account !== null ? ev.account.toString() : channelAccount(ev.channel, 2);
        return this.orders(conn, "account_orders", ev.market, ev.subscribed, account, ev.orders, 0, text, at);
      }
      case "account_all_orders":
        return this.orders(
          conn,
          "account_all_orders",
          null,
          ev.subscribed,
          channelAccount(ev.channel, 1),
          ev.orders,
          0,
          text,
          at,
        );
      case "error": {
        this.c.count("frames.error");
        const named = CHANNEL_IN_MESSAGE.exec(ev.message)?.[1] as SubChannel | undefined;
        if (ev.code === 30003 && named) {
          this.dispatch({ type: "subscribed", conn, channel: named, market: null, via: "already" });
          return;
        }
        this.dispatch({ type: "refused", conn, code: ev.code, message: ev.message, channel: named ?? null });
        return;
      }
      case "unexpected": {
        const tolerant = tolerantOrders(text);
        if (!tolerant) return this.unexpected(ev.reason, text);
        this.unexpected(`${tolerant.malformed} malformed order(s): ${ev.reason}`, text);
        const { channel, market, subscribed, account, orders, malformed } = tolerant;
        return this.orders(conn, channel, market, subscribed, account, orders, malformed, text, at);
      }
      default:
        return;
    }
  }

  private orders(
    conn: number,
    channel: OrderChannel,
    market: number | null,
    subscribed: boolean,
    account: string | null,
    orders: Order[],
    malformed: number,
    text: string,
    at: number,
  ): void {
    if (subscribed || !this.dataSeen.has(channel)) {
      this.dataSeen.add(channel);
      this.dispatch({ type: "subscribed", conn, channel, market, via: subscribed ? "ack" : "data" });
    }
    if (orders.length === 0 && malformed === 0) return;
    const list: WireOrder[] = orders.map((o) => ({
      account,
      owner: o.ownerAccountIndex === null ? null : o.ownerAccountIndex.toString(),
      market: o.marketIndex,
      clientOrderIndex: o.clientOrderIndex.toString(),
      orderIndex: o.orderIndex.toString(),
      status: o.status,
      filledBase: formatDecimal(o.filledBase.value, o.filledBase.scale),
    }));
    const ours = this.view.ours();
    for (const o of list) {
      if (!ours.has(o.clientOrderIndex)) continue;
      const frame =
        text.length > MAX_STORED_FRAME ? { frame_truncated: text.slice(0, MAX_STORED_FRAME) } : { frame: text };
      const detail = { client_order_index: o.clientOrderIndex, channel, status: o.status, filled_base: o.filledBase };
      this.c.event("debug", "order.frame", { ...detail, order_index: o.orderIndex, at, ...frame }, null);
    }
    this.dispatch({ type: "orders", conn, channel, orders: list, malformed });
  }

  private unexpected(reason: string, text: string): void {
    this.c.count("frames.unexpected");
    this.c.event("warn", "frame.unexpected", { reason, frame: redactText(text.slice(0, MAX_FRAME_TEXT)) }, null);
  }

  /** Book frames touch memory only; their counts go to the counters as aggregates. */
  flushCounts(): void {
    for (const [k, v] of this.frameCounts) if (v > 0) this.c.count(`frames.${k}`, v);
    this.frameCounts.clear();
  }
}

/** The account a channel name ends with: `account_all_orders:516` (part 1), `account_orders:0:516` (part 2). */
function channelAccount(channel: string, part: number): string | null {
  const v = channel.split(/[:/]/)[part];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v).toString() : null;
}

/**
 * An account frame that failed as a whole because some of its orders are malformed: each order
 * parsed on its own, the good ones kept. Null when the frame is not an account frame at all.
 */
function tolerantOrders(text: string): {
  channel: OrderChannel;
  market: number | null;
  subscribed: boolean;
  account: string | null;
  orders: Order[];
  malformed: number;
} | null {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    return null;
  }
  if (!d || typeof d !== "object" || Array.isArray(d)) return null;
  const f = d as Record<string, unknown>;
  const m =
    typeof f.type === "string" ? /^(subscribed|update)\/(account_orders|account_all_orders)$/.exec(f.type) : null;
  if (!m || typeof f.channel !== "string" || !f.orders || typeof f.orders !== "object") return null;
  const channel = m[2] as OrderChannel;
  const bits = f.channel.split(/[:/]/);
  const acct =
    channel === "account_orders" ? (bits[2] ?? (typeof f.account === "number" ? String(f.account) : null)) : bits[1];
  const market =
    channel === "account_orders" && bits[1] !== undefined && /^\d{1,5}$/.test(bits[1]) ? Number(bits[1]) : null;
  const orders: Order[] = [];
  let malformed = 0;
  const lists = Array.isArray(f.orders) ? [[undefined, f.orders] as const] : Object.entries(f.orders);
  for (const [key, list] of lists) {
    if (!Array.isArray(list)) {
      malformed++;
      continue;
    }
    for (const o of list) {
      try {
        orders.push(parseOrder(o, key));
      } catch {
        malformed++;
      }
    }
  }
  const account = acct !== undefined && acct !== null && /^\d+$/.test(acct) ? BigInt(acct).toString() : null;
  return { channel, market, subscribed: m[1] === "subscribed", account, orders, malformed };
}
