/**
 * Offline diagnosis of recorded frames (one JSON frame per line, as a bot would log them): the
 * parsed event per line and a summary — frame counts by type, acknowledged channels, errors,
 * book state with continuity breaks, our orders' status history and fills, unexpected frames.
 */
import { formatDecimal } from "./decimal.ts";
import { parseFrame, type LighterEvent } from "./messages.ts";
import { OrderBook } from "./orderbook.ts";

export interface ReplaySummary {
  frames_by_type: Record<string, number>;
  subscribed: string[];
  errors: { code: number | null; message: string }[];
  books: Record<string, { best_bid: string | null; best_ask: string | null; continuity_breaks: number }>;
  orders: {
    client_order_index: string;
    order_index: string;
    market: number;
    statuses: string[];
    filled_base: string;
  }[];
  unexpected: number;
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

function frameType(line: string, ev: LighterEvent): string {
  try {
    const d = JSON.parse(line) as Record<string, unknown>;
    if (d && typeof d === "object" && typeof d.type === "string") return d.type;
    if (d && typeof d === "object" && d.error !== undefined) return "error";
    return "untyped";
  } catch {
    return ev.kind === "unexpected" ? "unparseable" : ev.kind;
  }
}

/**
 * @example
 * const { summary } = replayFrames(readFileSync("frames.ndjson", "utf8").split("\n"), {});
 */
export function replayFrames(
  lines: Iterable<string>,
  opts: { account?: bigint },
): { events: object[]; summary: ReplaySummary } {
  const events: object[] = [];
  const summary: ReplaySummary = {
    frames_by_type: {},
    subscribed: [],
    errors: [],
    books: {},
    orders: [],
    unexpected: 0,
  };
  const books = new Map<number, OrderBook>();
  const breaks = new Map<number, number>();
  const orders = new Map<string, ReplaySummary["orders"][number] & { scale: number; filled: bigint }>();
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    const ev = parseFrame(line);
    const type = frameType(line, ev);
    summary.frames_by_type[type] = (summary.frames_by_type[type] ?? 0) + 1;
    events.push(plain(ev) as object);
    switch (ev.kind) {
      case "unexpected":
        summary.unexpected++;
        break;
      case "error":
        summary.errors.push({ code: ev.code, message: ev.message });
        break;
      case "order_book_snapshot":
      case "order_book_update": {
        let b = books.get(ev.market);
        if (!b) {
          b = new OrderBook(ev.market);
          books.set(ev.market, b);
        }
        if (ev.kind === "order_book_snapshot" && !summary.subscribed.includes(ev.channel))
          summary.subscribed.push(ev.channel);
        const r = b.apply(ev);
        if (r.kind === "gap") breaks.set(ev.market, (breaks.get(ev.market) ?? 0) + 1);
        break;
      }
      case "account_orders":
      case "account_all_orders":
      case "trades":
        if (ev.subscribed && ev.channel && !summary.subscribed.includes(ev.channel))
          summary.subscribed.push(ev.channel);
        if (ev.kind === "trades") break;
        if (
          ev.kind === "account_orders" &&
          opts.account !== undefined &&
          ev.account !== null &&
          ev.account !== opts.account
        )
          break;
        for (const o of ev.orders) {
          if (opts.account !== undefined && o.ownerAccountIndex !== null && o.ownerAccountIndex !== opts.account)
            continue;
          const key = o.orderIndex.toString();
          let rec = orders.get(key);
          if (!rec) {
            rec = {
              client_order_index: o.clientOrderIndex.toString(),
              order_index: key,
              market: o.marketIndex,
              statuses: [],
              filled_base: "0",
              scale: o.filledBase.scale,
              filled: 0n,
            };
            orders.set(key, rec);
          }
          if (!rec.statuses.includes(o.status)) rec.statuses.push(o.status);
          if (o.filledBase.value > rec.filled || rec.filled_base === "0") {
            rec.filled = o.filledBase.value;
            rec.scale = o.filledBase.scale;
            rec.filled_base = formatDecimal(o.filledBase.value, o.filledBase.scale);
          }
        }
        break;
      case "subscribed_other":
        if (ev.channel && !summary.subscribed.includes(ev.channel)) summary.subscribed.push(ev.channel);
        break;
      default:
        break;
    }
  }
  for (const [m, b] of books) {
    const t = b.top();
    summary.books[String(m)] = {
      best_bid: t.bestBid?.priceText ?? null,
      best_ask: t.bestAsk?.priceText ?? null,
      continuity_breaks: breaks.get(m) ?? 0,
    };
  }
  summary.orders = [...orders.values()].map(({ scale: _s, filled: _f, ...rest }) => rest);
  return { events, summary };
}
