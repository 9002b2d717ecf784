/**
 * Exchange frames → machine events, the same for the Durable Object and the CLI: the local order
 * books (snapshot/delta/gap), account order frames parsed one order at a time (a malformed order is
 * counted and skipped, the others kept), acknowledgements and error frames with the channel their
 * message names. It says which frame arrived; what it means is the machine's business. Beside the
 * events, an account update frame's newest `transaction_time` per market (delivery latency: a side
 * measurement the machine never sees). Holds the books of one connection: `reset()` when a new one opens.
 */
import { parseFrame, parseOrder } from "../../lighter/messages.ts";
import { OrderBook } from "../../lighter/orderbook.ts";
import { FrameTimes } from "../latency.ts";
import type { Event, WireOrder } from "./events.ts";
import type { SubChannel } from "./state.ts";

export interface FrameResult {
  events: Event[];
  /** The server pinged: answer with a pong. */
  pong: boolean;
  /** A frame that is not what the protocol says (logged as `unexpected`, never fatal). */
  unexpected: string | null;
  /** An account update frame's transaction times (a subscription's snapshot is history: none). */
  delivery: { channel: SubChannel; times: FrameTimes } | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The channel an error message names, e.g. "Already Subscribed to : order_book:0" → order_book. */
export function namedChannel(message: string): SubChannel | null {
  const m = /\b(order_book|account_orders|account_all_orders)[:/]\d/.exec(message);
  return m ? (m[1] as SubChannel) : null;
}

/** The account a channel name carries: `account_all_orders:516` (part 1), `account_orders:0:516` (part 2). */
function channelAccount(channel: string, part: number): string | null {
  const v = channel.split(/[:/]/)[part];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v).toString() : null;
}

function idText(v: unknown): string | null {
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v).toString();
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  return null;
}

/** Each order of `orders` ({"<market>": [..]} or a list) on its own; the ones that fail are counted. */
function wireOrders(
  v: unknown,
  account: string | null,
  times: FrameTimes | null,
): { orders: WireOrder[]; malformed: number } {
  const out: WireOrder[] = [];
  let malformed = 0;
  const one = (o: unknown, market?: string) => {
    try {
      const p = parseOrder(o, market);
      times?.note(p.marketIndex, (o as Obj).transaction_time);
      const raw = (o as Obj).filled_base_amount;
      out.push({
        account,
        owner: p.ownerAccountIndex === null ? null : p.ownerAccountIndex.toString(),
        market: p.marketIndex,
        clientOrderIndex: p.clientOrderIndex.toString(),
        orderIndex: p.orderIndex.toString(),
        status: p.status,
        filledBase: typeof raw === "string" ? raw : "",
      });
    } catch {
      malformed++;
    }
  };
  if (Array.isArray(v)) for (const o of v) one(o);
  else if (isObj(v)) {
    for (const [market, list] of Object.entries(v)) {
      if (Array.isArray(list)) for (const o of list) one(o, market);
      else malformed++;
    }
  } else if (v !== undefined && v !== null) malformed++;
  return { orders: out, malformed };
}

export class FrameReader {
  private books = new Map<number, OrderBook>();

  /** A new connection: the books start empty. */
  reset(): void {
    this.books.clear();
  }

  read(text: string, conn: number): FrameResult {
    const res: FrameResult = { events: [], pong: false, unexpected: null, delivery: null };
    let d: unknown;
    try {
      d = JSON.parse(text);
    } catch {
      res.unexpected = "invalid JSON";
      return res;
    }
    const type = isObj(d) && typeof d.type === "string" ? d.type : "";
    const family = type.slice(type.indexOf("/") + 1);
    if (isObj(d) && (family === "account_orders" || family === "account_all_orders") && type.includes("/")) {
      return this.accountFrame(d, type, family, conn, res);
    }
    const ev = parseFrame(text);
    switch (ev.kind) {
      case "ping":
        res.pong = true;
        return res;
      case "order_book_snapshot":
      case "order_book_update": {
        let book = this.books.get(ev.market);
        if (!book) {
          book = new OrderBook(ev.market);
          this.books.set(ev.market, book);
        }
        const r = book.apply(ev);
        if (r.kind === "ignored") return res;
        const top = book.top();
        res.events.push({
          type: "book",
          conn,
          market: ev.market,
          kind: r.kind === "gap" ? "gap" : ev.kind === "order_book_snapshot" ? "snapshot" : "update",
          bestBid: top.bestBid ? { price: top.bestBid.price.toString(), text: top.bestBid.priceText } : null,
          bestAsk: top.bestAsk ? { price: top.bestAsk.price.toString(), text: top.bestAsk.priceText } : null,
          bids: book.levels("bids").length,
          asks: book.levels("asks").length,
        });
        return res;
      }
      case "error": {
        const channel = namedChannel(ev.message);
        if (ev.code === 30003 && channel) {
          res.events.push({ type: "subscribed", conn, channel, market: null, via: "already" });
        } else {
          res.events.push({ type: "refused", conn, code: ev.code, message: ev.message, channel });
        }
        return res;
      }
      case "unexpected":
        res.unexpected = ev.reason;
        return res;
      default:
        return res;
    }
  }

  private accountFrame(d: Obj, type: string, family: string, conn: number, res: FrameResult): FrameResult {
    const channel = typeof d.channel === "string" ? d.channel : "";
    const ch = family as "account_orders" | "account_all_orders";
    const account =
      ch === "account_orders" ? (idText(d.account) ?? channelAccount(channel, 2)) : channelAccount(channel, 1);
    const mk = /^[a-z_]+[:/](\d{1,5})/.exec(channel);
    const market = ch === "account_orders" && mk ? Number(mk[1]) : null;
    if (type.startsWith("subscribed/")) res.events.push({ type: "subscribed", conn, channel: ch, market, via: "ack" });
    // Only an update is a delivery: a subscription's snapshot (possibly many orders) is history, not timed.
    const update = type.startsWith("update/");
    const times = update ? new FrameTimes() : null;
    const { orders, malformed } = wireOrders(d.orders, account, times);
    if (times) res.delivery = { channel: ch, times };
    if (orders.length > 0 || malformed > 0 || update) {
      res.events.push({ type: "orders", conn, channel: ch, orders, malformed });
    }
    return res;
  }
}
