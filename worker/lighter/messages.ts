/**
 * Lighter WebSocket frames → a typed, discriminated union (PROTOCOL.md §2). `parseFrame` never
 * throws: anything malformed or unknown is `{ kind: "unexpected", reason, raw }`.
 *
 * Ids that can exceed 2^53 (order_index, trade ids) are taken from their exact string twins
 * (`order_id`, `client_order_id`, `trade_id_str`, …); when a twin is absent the number is used only
 * if it is a safe integer. Amounts are exact decimals. Do not route on `channel` for account
 * frames: the ack spells it `account_orders:{m}` or `account_orders:{m}:{acct}` depending on the
 * server; route on `type` and on the keys of `orders`.
 */
import { tryParseDecimal, type Decimal } from "./decimal.ts";

export const ORDER_STATUSES = [
  "in-progress",
  "pending",
  "open",
  "filled",
  "canceled",
  "canceled-post-only",
  "canceled-reduce-only",
  "canceled-position-not-allowed",
  "canceled-margin-not-allowed",
  "canceled-too-much-slippage",
  "canceled-not-enough-liquidity",
  "canceled-self-trade",
  "canceled-expired",
  "canceled-oco",
  "canceled-child",
  "canceled-liquidation",
  "canceled-invalid-balance",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface Level {
  price: bigint;
  priceText: string;
  size: bigint;
  sizeText: string;
}

export interface Order {
  orderIndex: bigint;
  clientOrderIndex: bigint;
  marketIndex: number;
  ownerAccountIndex: bigint | null;
  initialBase: Decimal;
  remainingBase: Decimal;
  filledBase: Decimal;
  filledQuote: Decimal;
  price: string;
  isAsk: boolean;
  reduceOnly: boolean;
  type: string;
  timeInForce: string;
  /** One of ORDER_STATUSES, or the raw string when the exchange sends a new one. */
  status: string;
  knownStatus: boolean;
  timestamp: number | null;
  updatedAt: number | null;
  /** The exchange's time of the order's last transition, in µs (LIVE.md L.7), or null. */
  transactionTimeUs: number | null;
}

export interface Trade {
  tradeId: bigint;
  txHash: string;
  type: string;
  marketId: number;
  size: Decimal;
  price: string;
  usdAmount: Decimal | null;
  askId: bigint;
  bidId: bigint;
  askClientId: bigint;
  bidClientId: bigint;
  askAccountId: bigint;
  bidAccountId: bigint;
  isMakerAsk: boolean;
  timestamp: number | null;
  /** The trade's time on the exchange in µs, or null. */
  transactionTimeUs: number | null;
}

export type LighterEvent =
  | { kind: "connected"; sessionId: string | null }
  | {
      kind: "order_book_snapshot" | "order_book_update";
      market: number;
      channel: string;
      asks: Level[];
      bids: Level[];
      nonce: bigint | null;
      beginNonce: bigint | null;
      offset: number | null;
      timestamp: number | null;
    }
  | {
      kind: "account_orders";
      subscribed: boolean;
      channel: string;
      market: number | null;
      account: bigint | null;
      orders: Order[];
    }
  | { kind: "account_all_orders"; subscribed: boolean; channel: string; orders: Order[] }
  | { kind: "trades"; subscribed: boolean; channel: string; family: "trade" | "account_all_trades"; trades: Trade[] }
  | { kind: "ping" }
  | { kind: "pong" }
  | { kind: "unsubscribed"; channel: string | null }
  | { kind: "error"; code: number | null; message: string; shape: "wrapped" | "flat" | "message" }
  | { kind: "sendtx_result"; code: number; message: string | null; txHash: string | null; id: string | null }
  | { kind: "subscribed_other" | "update_other"; type: string; channel: string | null }
  | { kind: "unexpected"; reason: string; raw: string };

type Obj = Record<string, unknown>;

const KNOWN_FAMILIES = new Set([
  "account_all_orders",
  "trade",
  "ticker",
  "market_stats",
  "spot_market_stats",
  "account_all",
  "account_tx",
  "user_stats",
  "account_all_trades",
  "account_all_positions",
  "account_all_assets",
  "height",
  "pool_data",
  "pool_info",
  "notification",
  "account_spot_avg_entry_prices",
  "account_market",
  "order_book",
  "account_orders",
  "candle",
]);

class FrameError extends Error {}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** An id from its string twin, else a safe-integer number; throws when neither is exact. */
function exactId(o: Obj, numKey: string, strKey: string | null, required = true): bigint {
  const s = strKey ? o[strKey] : undefined;
  if (typeof s === "string" && /^-?\d+$/.test(s)) return BigInt(s);
  const n = o[numKey];
  if (typeof n === "number" && Number.isSafeInteger(n)) return BigInt(n);
  if (typeof n === "string" && /^-?\d+$/.test(n)) return BigInt(n);
  if (!required && (n === undefined || n === null)) return 0n;
  throw new FrameError(
    typeof n === "number" ? `${numKey} ${n} exceeds 2^53 and has no exact string twin` : `${numKey} missing`,
  );
}

function decimalField(o: Obj, key: string, required = true): Decimal {
  const d = tryParseDecimal(o[key]);
  if (d) return d;
  if (!required && (o[key] === undefined || o[key] === null)) return { value: 0n, scale: 0 };
  throw new FrameError(`${key} is not a decimal string`);
}

function parseLevels(v: unknown, key: string): Level[] {
  if (!Array.isArray(v)) throw new FrameError(`${key} is not a list`);
  return v.map((l) => {
    // Levels are {"price","size"} objects; older docs showed [price, size] arrays — accept both.
    const price = Array.isArray(l) ? l[0] : isObj(l) ? l.price : undefined;
    const size = Array.isArray(l) ? l[1] : isObj(l) ? l.size : undefined;
    const p = tryParseDecimal(price);
    const s = tryParseDecimal(size);
    if (!p || !s) throw new FrameError(`bad level in ${key}`);
    return { price: p.value, priceText: price as string, size: s.value, sizeText: size as string };
  });
}

/** Market ids are small: 0 … 65535 (perps 0 … 254, spot 2048 … 4094). */
export const MAX_MARKET_ID = 65535;

/** A market id from canonical decimal text ("0", "12"; not "012", "1e3" or beyond MAX_MARKET_ID). */
function marketFromText(text: string, field: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(text) || Number(text) > MAX_MARKET_ID)
    throw new FrameError(
      `${field}: market id ${JSON.stringify(text.slice(0, 30))} is not an integer from 0 to ${MAX_MARKET_ID}`,
    );
  return Number(text);
}

/** A market id from a JSON number field. */
function marketFromNumber(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_MARKET_ID)
    throw new FrameError(`${field} is not a market id from 0 to ${MAX_MARKET_ID}`);
  return v;
}

/** The market in a channel such as `order_book:12`, or null when the channel names none. */
function channelMarket(channel: string): number | null {
  const m = /^[a-z_]+[:/]([^:/]*)/.exec(channel);
  if (!m || m[1] === "") return null;
  return marketFromText(m[1]!, "channel");
}

export function parseOrder(o: unknown, marketKey?: string): Order {
  if (!isObj(o)) throw new FrameError("order is not an object");
  const status = typeof o.status === "string" ? o.status : "";
  if (!status) throw new FrameError("order has no status");
  const market =
    o.market_index !== undefined && o.market_index !== null
      ? marketFromNumber(o.market_index, "market_index")
      : marketKey !== undefined
        ? marketFromText(marketKey, "orders key")
        : null;
  if (market === null) throw new FrameError("order has no market_index");
  return {
    orderIndex: exactId(o, "order_index", "order_id"),
    clientOrderIndex: exactId(o, "client_order_index", "client_order_id", false),
    marketIndex: market,
    ownerAccountIndex: o.owner_account_index === undefined ? null : exactId(o, "owner_account_index", null),
    initialBase: decimalField(o, "initial_base_amount", false),
    remainingBase: decimalField(o, "remaining_base_amount", false),
    filledBase: decimalField(o, "filled_base_amount"),
    filledQuote: decimalField(o, "filled_quote_amount", false),
    price: typeof o.price === "string" ? o.price : "",
    isAsk: o.is_ask === true,
    reduceOnly: o.reduce_only === true,
    type: typeof o.type === "string" ? o.type : "",
    timeInForce: typeof o.time_in_force === "string" ? o.time_in_force : "",
    status,
    knownStatus: (ORDER_STATUSES as readonly string[]).includes(status),
    timestamp: num(o.timestamp),
    updatedAt: num(o.updated_at),
    transactionTimeUs: num(o.transaction_time),
  };
}

export function parseTrade(t: unknown): Trade {
  if (!isObj(t)) throw new FrameError("trade is not an object");
  return {
    tradeId: exactId(t, "trade_id", "trade_id_str"),
    txHash: typeof t.tx_hash === "string" ? t.tx_hash : "",
    type: typeof t.type === "string" ? t.type : "trade",
    marketId: t.market_id === undefined || t.market_id === null ? -1 : marketFromNumber(t.market_id, "market_id"),
    size: decimalField(t, "size"),
    price: typeof t.price === "string" ? t.price : "",
    usdAmount: tryParseDecimal(t.usd_amount),
    askId: exactId(t, "ask_id", "ask_id_str", false),
    bidId: exactId(t, "bid_id", "bid_id_str", false),
    askClientId: exactId(t, "ask_client_id", "ask_client_id_str", false),
    bidClientId: exactId(t, "bid_client_id", "bid_client_id_str", false),
    askAccountId: exactId(t, "ask_account_id", null, false),
    bidAccountId: exactId(t, "bid_account_id", null, false),
    isMakerAsk: t.is_maker_ask === true,
    timestamp: num(t.timestamp),
    transactionTimeUs: num(t.transaction_time),
  };
}

/** Orders grouped as {"<market>": [Order]} (or, leniently, a flat list). */
function parseOrdersMap(v: unknown): Order[] {
  if (Array.isArray(v)) return v.map((o) => parseOrder(o));
  if (!isObj(v)) throw new FrameError("orders is not an object");
  const out: Order[] = [];
  for (const [market, list] of Object.entries(v)) {
    if (!Array.isArray(list)) throw new FrameError(`orders[${market}] is not a list`);
    for (const o of list) out.push(parseOrder(o, market));
  }
  return out;
}

function parseTradesField(v: unknown): Trade[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(parseTrade);
  if (isObj(v)) return Object.values(v).flatMap((list) => (Array.isArray(list) ? list.map(parseTrade) : []));
  throw new FrameError("trades is neither a list nor a map");
}

function parseError(e: unknown, shape: "wrapped" | "flat", obj: Obj): LighterEvent {
  const src = shape === "wrapped" && isObj(e) ? e : obj;
  const code = num(src.code);
  const message = typeof src.message === "string" ? src.message : typeof e === "string" ? e : "";
  return { kind: "error", code, message, shape: code === null && shape === "flat" ? "message" : shape };
}

/**
 * @example
 * parseFrame('{"type":"ping"}') // { kind: "ping" }
 */
export function parseFrame(frame: string): LighterEvent {
  let data: unknown;
  try {
    data = JSON.parse(frame);
  } catch {
    return { kind: "unexpected", reason: "invalid JSON", raw: frame };
  }
  if (!isObj(data)) return { kind: "unexpected", reason: "frame is not a JSON object", raw: frame };
  try {
    return classify(data, frame);
  } catch (err) {
    return { kind: "unexpected", reason: err instanceof Error ? err.message : "malformed frame", raw: frame };
  }
}

function classify(d: Obj, frame: string): LighterEvent {
  const type = d.type;
  if (type === undefined && d.error !== undefined) return parseError(d.error, "wrapped", d);
  if (typeof type !== "string") return { kind: "unexpected", reason: "frame has no type", raw: frame };
  const channel = typeof d.channel === "string" ? d.channel : "";
  switch (type) {
    case "connected":
      return { kind: "connected", sessionId: typeof d.session_id === "string" ? d.session_id : null };
    case "ping":
      return { kind: "ping" };
    case "pong":
      return { kind: "pong" };
    case "error":
      return parseError(d.error, d.error !== undefined ? "wrapped" : "flat", d);
    case "unsubscribed":
      return { kind: "unsubscribed", channel: channel || null };
    case "jsonapi/sendtx":
    case "jsonapi/sendtxbatch": {
      const code = num(d.code);
      if (code === null) throw new FrameError("sendtx response has no code");
      return {
        kind: "sendtx_result",
        code,
        message: typeof d.message === "string" ? d.message : null,
        txHash: typeof d.tx_hash === "string" ? d.tx_hash : null,
        id:
          typeof d.id === "string" ? d.id : typeof d.id === "number" || typeof d.id === "boolean" ? String(d.id) : null,
      };
    }
  }
  const slash = type.indexOf("/");
  if (slash < 0) return { kind: "unexpected", reason: `unknown type ${type}`, raw: frame };
  const verb = type.slice(0, slash);
  const family = type.slice(slash + 1);
  if (verb === "unsubscribed") return { kind: "unsubscribed", channel: channel || null };
  if (verb !== "subscribed" && verb !== "update")
    return { kind: "unexpected", reason: `unknown type ${type}`, raw: frame };
  const subscribed = verb === "subscribed";
  switch (family) {
    case "order_book": {
      const ob = d.order_book;
      if (!isObj(ob)) throw new FrameError("order_book payload missing");
      const market = channelMarket(channel);
      if (market === null) throw new FrameError(`cannot read the market from channel ${JSON.stringify(channel)}`);
      const nonce = ob.nonce === undefined ? null : exactId(ob, "nonce", null);
      const begin = ob.begin_nonce === undefined || ob.begin_nonce === null ? null : exactId(ob, "begin_nonce", null);
      return {
        kind: subscribed ? "order_book_snapshot" : "order_book_update",
        market,
        channel,
        asks: parseLevels(ob.asks ?? [], "asks"),
        bids: parseLevels(ob.bids ?? [], "bids"),
        nonce,
        beginNonce: begin,
        offset: num(ob.offset) ?? num(d.offset),
        timestamp: num(d.timestamp),
      };
    }
    case "account_orders": {
      const orders = d.orders === undefined ? [] : parseOrdersMap(d.orders);
      const account = d.account === undefined || d.account === null ? null : exactId(d, "account", null);
      return { kind: "account_orders", subscribed, channel, market: channelMarket(channel), account, orders };
    }
    case "account_all_orders":
      return {
        kind: "account_all_orders",
        subscribed,
        channel,
        orders: d.orders === undefined ? [] : parseOrdersMap(d.orders),
      };
    case "trade":
      return {
        kind: "trades",
        subscribed,
        channel,
        family: "trade",
        trades: [...parseTradesField(d.trades), ...parseTradesField(d.liquidation_trades)],
      };
    case "account_all_trades":
      return { kind: "trades", subscribed, channel, family: "account_all_trades", trades: parseTradesField(d.trades) };
    default:
      if (KNOWN_FAMILIES.has(family))
        return { kind: subscribed ? "subscribed_other" : "update_other", type, channel: channel || null };
      return { kind: "unexpected", reason: `unknown type ${type}`, raw: frame };
  }
}

// ------------------------------------------------------------------------------ outgoing frames

/** Requests use a slash; frames answer with a colon (PROTOCOL.md §2.2). */
export function orderBookChannel(market: number): string {
  return `order_book/${market}`;
}
export function accountOrdersChannel(market: number, account: bigint | number): string {
  return `account_orders/${market}/${BigInt(account).toString()}`;
}
export function accountAllOrdersChannel(account: bigint | number): string {
  return `account_all_orders/${BigInt(account).toString()}`;
}
export function accountAllTradesChannel(account: bigint | number): string {
  return `account_all_trades/${BigInt(account).toString()}`;
}
export function subscribeFrame(channel: string, auth?: string): string {
  return JSON.stringify(auth === undefined ? { type: "subscribe", channel } : { type: "subscribe", channel, auth });
}
export function unsubscribeFrame(channel: string): string {
  return JSON.stringify({ type: "unsubscribe", channel });
}
export function pingFrame(): string {
  return '{"type":"ping"}';
}
export function pongFrame(): string {
  return '{"type":"pong"}';
}

const TOKEN_SIG_RE = /(\d{1,15}:-?\d{1,19}:\d{1,3}:)[0-9a-fA-F]{160}/g;

/** Redacts auth-token signatures and secret-looking fields in a frame, for logs. */
export function redactFrameForLog(frame: string): string {
  let out = frame.replace(TOKEN_SIG_RE, "$1[redacted]");
  out = out.replace(/("(?:private_key|privateKey|authorization|api_token|secret)"\s*:\s*)"[^"]*"/gi, '$1"[redacted]"');
  return out;
}
