/**
 * Offline diagnosis of recorded frames, one per line: raw Lighter frames as a bot would log them,
 * or fillwatch's own stored records ({at, dir, frame} from a check's evidence, and order events,
 * replayed as the frame their detail holds or listed as a timeline entry when they hold none).
 * A `Replayer` takes one line at a time (constant memory for any input length) and yields the
 * parsed event; its summary gives frame counts by type, acknowledged channels, errors, book state
 * with continuity breaks, our orders' status history and fills, and the count of unexpected lines.
 */
import { formatDecimal } from "./decimal.ts";
import { parseFrame, type LighterEvent, type Order } from "./messages.ts";
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
  /** Present when the errors or orders lists hit their caps (counts left out). */
  omitted?: { errors: number; orders: number };
}

const MAX_ERRORS = 100;
const MAX_ORDERS = 10_000;
const MAX_RAW = 200;

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) {
    const a = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) a[i] = plain(v[i]);
    return a;
  }
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const k in v) o[k] = plain((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function typeOf(d: unknown, ev: LighterEvent): string {
  if (isObj(d) && typeof d.type === "string") return d.type;
  if (isObj(d) && d.error !== undefined) return "error";
  if (d !== undefined) return "untyped";
  return ev.kind === "unexpected" ? "unparseable" : ev.kind;
}

/**
 * A record fillwatch stores: {at, dir, frame} (a check's evidence.last_frames) or an order event
 * {at, source, kind, status, filled_base, detail} (GET /orders/:coi), whose detail holds {frame}
 * when it came from a WebSocket frame. Null for anything else (a raw frame has a type or error).
 */
export function storedRecord(
  d: unknown,
):
  | { kind: "frame"; frame: string; dir: "in" | "out"; at: number | null }
  | { kind: "event"; source: string; event: string; status: unknown; at: number | null }
  | null {
  if (!isObj(d) || d.type !== undefined || d.error !== undefined) return null;
  const at = typeof d.at === "number" && Number.isFinite(d.at) ? d.at : null;
  if (typeof d.frame === "string" && (d.dir === "in" || d.dir === "out"))
    return { kind: "frame", frame: d.frame, dir: d.dir, at };
  if (isObj(d.detail) && typeof d.detail.frame === "string")
    return { kind: "frame", frame: d.detail.frame, dir: "in", at };
  if (typeof d.source === "string" && typeof d.kind === "string" && at !== null && "detail" in d)
    return { kind: "event", source: d.source, event: d.kind, status: d.status ?? null, at };
  return null;
}

type OrderRec = ReplaySummary["orders"][number] & { filled: bigint };

/**
 * Replays lines one at a time; memory stays flat (bounded error and order lists, books by market).
 *
 * @example
 * const r = new Replayer({});
 * for (const line of lines) console.log(JSON.stringify(r.line(line)));
 * console.log(r.summary(), r.frames);
 */
export class Replayer {
  /** Lines that held a frame we understood (received or sent). */
  frames = 0;
  /** Stored order events without a frame (signed, send, accepted, reconciled, ...). */
  storedEvents = 0;
  /** Stored frames cut short when they were stored (over 2000 characters). */
  truncated = 0;
  private readonly byType: Record<string, number> = {};
  private readonly subscribed = new Set<string>();
  private readonly errors: ReplaySummary["errors"] = [];
  private readonly books = new Map<number, OrderBook>();
  private readonly breaks = new Map<number, number>();
  private readonly orders = new Map<string, OrderRec>();
  private unexpected = 0;
  private omitted = { errors: 0, orders: 0 };
  private readonly opts: { account?: bigint };

  constructor(opts: { account?: bigint }) {
    this.opts = opts;
  }

  /** One input line; null when it is blank. */
  line(raw: string): object | null {
    const line = raw.trim();
    if (line === "") return null;
    let data = jsonOrUndefined(line);
    let text = line;
    let at: number | null = null;
    const stored = storedRecord(data);
    if (stored?.kind === "event") {
      this.count(`stored:${stored.source}/${stored.event}`);
      this.storedEvents++;
      return { kind: "stored_event", source: stored.source, event: stored.event, status: stored.status, at: stored.at };
    }
    if (stored) {
      text = stored.frame.trim();
      at = stored.at;
      data = jsonOrUndefined(text);
      if (stored.dir === "out") return this.sent(data, at);
      if (data === undefined && text.endsWith("…")) {
        // CheckRunner.rememberFrame keeps the first 2000 characters of a frame and appends "…".
        this.count("truncated");
        this.truncated++;
        return { kind: "truncated", reason: "frame was cut short when stored", raw: text.slice(0, MAX_RAW), at };
      }
    }
    const ev = parseFrame(text);
    this.count(typeOf(data, ev));
    const shown = plain(ev) as Obj;
    if (ev.kind === "unexpected") {
      this.unexpected++;
      shown.raw = ev.raw.length > MAX_RAW ? `${ev.raw.slice(0, MAX_RAW)}…` : ev.raw;
    } else {
      this.frames++;
      this.apply(ev);
    }
    return at === null ? shown : { ...shown, at };
  }

  /** A line longer than the reader's limit: counted as unexpected, never held in memory. */
  tooLong(bytes: number, limit: number): object {
    this.count("unparseable");
    this.unexpected++;
    return { kind: "unexpected", reason: `line of ${bytes} bytes is longer than the ${limit}-byte limit`, raw: "" };
  }

  private sent(d: unknown, at: number | null): object {
    const type = isObj(d) && typeof d.type === "string" ? d.type : "untyped";
    this.count(`sent:${type}`);
    this.frames++;
    return { kind: "sent", type, at };
  }

  private count(type: string): void {
    this.byType[type] = (this.byType[type] ?? 0) + 1;
  }

  private apply(ev: LighterEvent): void {
    switch (ev.kind) {
      case "error":
        if (this.errors.length < MAX_ERRORS) this.errors.push({ code: ev.code, message: ev.message });
        else this.omitted.errors++;
        break;
      case "order_book_snapshot":
      case "order_book_update": {
        let b = this.books.get(ev.market);
        if (!b) {
          b = new OrderBook(ev.market);
          this.books.set(ev.market, b);
        }
        if (ev.kind === "order_book_snapshot") this.subscribed.add(ev.channel);
        if (b.apply(ev).kind === "gap") this.breaks.set(ev.market, (this.breaks.get(ev.market) ?? 0) + 1);
        break;
      }
      case "account_orders":
      case "account_all_orders":
      case "trades":
        if (ev.subscribed && ev.channel) this.subscribed.add(ev.channel);
        if (ev.kind === "trades") break;
        if (ev.kind === "account_orders" && this.opts.account !== undefined && ev.account !== null) {
          if (ev.account !== this.opts.account) break;
        }
        for (const o of ev.orders) this.order(o);
        break;
      case "subscribed_other":
        if (ev.channel) this.subscribed.add(ev.channel);
        break;
      default:
        break;
    }
  }

  private order(o: Order): void {
    const account = this.opts.account;
    if (account !== undefined && o.ownerAccountIndex !== null && o.ownerAccountIndex !== account) return;
    const key = o.orderIndex.toString();
    let rec = this.orders.get(key);
    if (!rec) {
      if (this.orders.size >= MAX_ORDERS) {
        this.omitted.orders++;
        return;
      }
      rec = {
        client_order_index: o.clientOrderIndex.toString(),
        order_index: key,
        market: o.marketIndex,
        statuses: [],
        filled_base: "0",
        filled: 0n,
      };
      this.orders.set(key, rec);
    }
    if (!rec.statuses.includes(o.status)) rec.statuses.push(o.status);
    if (o.filledBase.value > rec.filled || rec.filled_base === "0") {
      rec.filled = o.filledBase.value;
      rec.filled_base = formatDecimal(o.filledBase.value, o.filledBase.scale);
    }
  }

  summary(): ReplaySummary {
    const books: ReplaySummary["books"] = {};
    for (const [m, b] of this.books) {
      const t = b.top();
      books[String(m)] = {
        best_bid: t.bestBid?.priceText ?? null,
        best_ask: t.bestAsk?.priceText ?? null,
        continuity_breaks: this.breaks.get(m) ?? 0,
      };
    }
    const s: ReplaySummary = {
      frames_by_type: { ...this.byType },
      subscribed: [...this.subscribed],
      errors: [...this.errors],
      books,
      orders: [...this.orders.values()].map(({ filled: _f, ...rest }) => ({ ...rest, statuses: [...rest.statuses] })),
      unexpected: this.unexpected,
    };
    if (this.omitted.errors || this.omitted.orders) s.omitted = { ...this.omitted };
    return s;
  }
}

/**
 * Replays a whole list of lines at once (small inputs; the CLI streams through `Replayer`).
 *
 * @example
 * const { summary } = replayFrames(readFileSync("frames.ndjson", "utf8").split("\n"), {});
 */
export function replayFrames(
  lines: Iterable<string>,
  opts: { account?: bigint },
): { events: object[]; summary: ReplaySummary } {
  const r = new Replayer(opts);
  const events: object[] = [];
  for (const l of lines) {
    const e = r.line(l);
    if (e) events.push(e);
  }
  return { events, summary: r.summary() };
}
