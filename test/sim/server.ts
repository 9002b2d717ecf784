/**
 * The local Lighter: one port on 127.0.0.1 serving the WebSocket `/stream`, REST `/api/v1/...`
 * and the `/_sim/*` control endpoints (accounts, faults, variants, state). Frame shapes, channel
 * spellings and error codes follow shared/lighter/PROTOCOL.md; where it flags a conflict, both
 * sides are playable as variants (globally, per account, or chosen per connection from the seed).
 *
 * @example
 * const sim = await startSimulator({ port: 0, seed: 1 });
 * const acct = sim.createAccount();           // funded, with an API key
 * ...; await sim.close();
 */
import { errorMessage } from "../../worker/lighter/errors.ts";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type { WebSocket as WsSocket, WebSocketServer as WsServer } from "ws";
import { checkAuthToken, generateKey, readAuthToken } from "./crypto.ts";
import {
  APP_ERRORS,
  DEFAULT_API_KEY_INDEX,
  Exchange,
  formatUnits,
  type SimAccount,
  type SimOrder,
  type SimTrade,
  type SimTx,
} from "./exchange.ts";
import { FaultRegistry, type Fault, type FaultName } from "./faults.ts";
import { RequestLog } from "./requests.ts";
import { WatchSupport } from "./watch-support.ts";
import { sendTxBatch } from "./batch.ts";
import { exactJson } from "./json.ts";
import { Rng } from "./random.ts";

const require = createRequire(import.meta.url);
const { WebSocketServer } = require("ws") as typeof import("ws");

export interface Variants {
  /** Channel spelling of the account_orders ack: "account_orders:{m}" or "account_orders:{m}:{acct}". */
  ack_channel: "market" | "market_account";
  /** {"error":{code,message}} or {"type":"error",code,message}. */
  error_shape: "wrapped" | "flat";
  /** Whether subscribed/account_orders is sent at all. */
  account_orders_ack: boolean;
  /** Whether the server sends its own {"type":"ping"}. */
  server_pings: boolean;
  /** Whether book updates carry begin_nonce (older servers did not). */
  begin_nonce: boolean;
  /** {"type":"unsubscribed"} or {"type":"unsubscribed/<family>"}. */
  unsubscribed_shape: "plain" | "family";
  /** Application errors: deferred (HTTP 200, verdict only in /tx; live) or immediate (HTTP 400, nonce kept). */
  app_errors: "deferred" | "immediate";
  /** A failed tx in /tx: json (status 2, ae = JSON {code,message}; live) or name (status 0, ae = bare name). */
  app_error_shape: "json" | "name";
  /** An order that ends canceled*: zero (remaining 0, live cancel) or kept (the unfilled rest stays). */
  ended_remaining: "zero" | "kept";
  /** /tx for an unknown or not-yet-indexed hash: not_found (21500), empty (HTTP 200, an empty record), pending (queued txs show status 1; unknown 21500). */
  unknown_tx: "not_found" | "empty" | "pending";
  /** `/trades`: desc (newest first, next_cursor, `from` an upper bound; live, L.13.1) or asc (older: ascending from a trade id). */
  trades_rest: "desc" | "asc";
  /** The `subscribed/account_all_trades` snapshot: recent (the account's recent trades, L.13.9) or empty. */
  trades_snapshot: "recent" | "empty";
  /** `update/account_all_positions`: delta (only the markets that changed, HB) or full (every market, NT). */
  positions_frames: "delta" | "full";
  /** An IOC/market order without margin: order (a real order `canceled-margin-not-allowed`, L.13.8) or deferred (21739 in `/tx`). */
  ioc_margin: "order" | "deferred";
}

export const DEFAULT_VARIANTS: Variants = {
  ack_channel: "market",
  error_shape: "wrapped",
  account_orders_ack: true,
  server_pings: true,
  begin_nonce: true,
  unsubscribed_shape: "plain",
  app_errors: "deferred",
  app_error_shape: "json",
  ended_remaining: "zero",
  unknown_tx: "not_found",
  trades_rest: "desc",
  trades_snapshot: "recent",
  positions_frames: "delta",
  ioc_margin: "order",
};

export const VARIANT_VALUES: Record<keyof Variants, readonly (string | boolean)[]> = {
  ack_channel: ["market", "market_account"],
  error_shape: ["wrapped", "flat"],
  account_orders_ack: [true, false],
  server_pings: [true, false],
  begin_nonce: [true, false],
  unsubscribed_shape: ["plain", "family"],
  app_errors: ["deferred", "immediate"],
  app_error_shape: ["json", "name"],
  ended_remaining: ["zero", "kept"],
  unknown_tx: ["not_found", "empty", "pending"],
  trades_rest: ["desc", "asc"],
  trades_snapshot: ["recent", "empty"],
  positions_frames: ["delta", "full"],
  ioc_margin: ["order", "deferred"],
};

/** How many of the account's recent trades the `account_all_trades` snapshot carries. */
const TRADES_SNAPSHOT_SIZE = 50;

export interface SimOptions {
  port?: number;
  seed?: number;
  chainId?: number;
  bookIntervalMs?: number;
  levelsPerDelta?: number;
  bookLevels?: number;
  idleTimeoutMs?: number;
  executionDelayMs?: number;
  /** How long a sendTx takes to answer; a second tx for the same key meanwhile gets 21104 (L.4). */
  sendTxLatencyMs?: number;
  priceBandBps?: number;
  serverPingMs?: number;
  messagesPerMinute?: number;
  /** Pick variants per connection from the seed instead of the defaults. */
  randomVariants?: boolean;
  variants?: Partial<Variants>;
  faults?: Record<string, unknown>[];
  accounts?: { index: bigint; apiKeyIndex: number; publicKey: string }[];
  log?: (line: string) => void;
}

interface Sub {
  channel: string; // as the server spells it in frames
  kind:
    | "order_book"
    | "account_orders"
    | "account_all_orders"
    | "account_all_trades"
    | "account_all_positions"
    | "account_all"
    | "trade";
  market: number | null;
  account: bigint | null;
}

interface Conn {
  id: string;
  ws: WsSocket;
  account: bigint | null;
  subs: Map<string, Sub>;
  variants: Variants;
  lastClientMessageAt: number;
  messageTimes: number[];
  held: string | null;
  pongDeadline: number | null;
  nextServerPing: number;
  nextMalformed: number;
  oversizedSent: boolean;
  gapPending: boolean;
  closed: boolean;
}

export interface Simulator {
  port: number;
  rest: string;
  ws: string;
  chainId: number;
  exchange: Exchange;
  faults: FaultRegistry;
  /** The trades endpoint, read-only tokens and the trading bots (watch-support.ts). */
  watch: WatchSupport;
  createAccount(p?: { accountIndex?: bigint; apiKeyIndex?: number; publicKey?: string; collateral?: bigint }): {
    account_index: bigint;
    api_key_index: number;
    private_key: string | null;
    public_key: string;
  };
  setVariants(v: Partial<Variants>, account?: bigint): void;
  close(): Promise<void>;
}

const SUB_LIMIT = 500;

/** The unknown_tx=empty variant's answer for a hash the exchange has not indexed. */
const EMPTY_TX = {
  code: 200,
  hash: "",
  type: 0,
  info: "",
  event_info: "",
  status: 0,
  transaction_index: 0,
  l1_address: "",
  account_index: 0,
  nonce: 0,
  expire_at: 0,
  block_height: 0,
  queued_at: 0,
  executed_at: 0,
  sequence_index: 0,
  parent_hash: "",
  api_key_index: 0,
  transaction_time: 0,
};
const MARKET_MAKER = 1n;

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const seed = opts.seed ?? 1;
  const chainId = opts.chainId ?? 300;
  const bookIntervalMs = opts.bookIntervalMs ?? 50;
  const levelsPerDelta = opts.levelsPerDelta ?? 3;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 120_000;
  const serverPingMs = opts.serverPingMs ?? 20_000;
  /** Server pings come at a random interval around `every` (LIVE.md L.13.4: clients cannot time them). */
  const pingRng = new Rng((seed ^ 0x9196) >>> 0);
  const pingInterval = (every: number) => Math.round(every * (0.5 + pingRng.next()));
  const messagesPerMinute = opts.messagesPerMinute ?? 200;
  const log = opts.log ?? (() => undefined);
  const now = () => Date.now();
  const faults = new FaultRegistry();
  const rng = new Rng(seed ^ 0x5eed);
  const globalVariants: Variants = { ...DEFAULT_VARIANTS, ...(opts.variants ?? {}) };
  const accountVariants = new Map<bigint, Partial<Variants>>();
  const conns = new Set<Conn>();
  let connSeq = 0;
  let offset = 2164;

  const exchange = new Exchange({
    seed,
    chainId,
    executionDelayMs: opts.executionDelayMs ?? 20,
    priceBandBps: opts.priceBandBps ?? 500,
    levels: opts.bookLevels ?? 40,
    now,
    matchDelay: (a) => faults.num(faults.find("late_fill", { account: a }), "ms", 0),
    neverMatch: (a) => faults.find("never_match", { account: a }) !== undefined,
    noMargin: (a) => faults.find("no_margin", { account: a }) !== undefined,
    failExecution: (a) => {
      const f = faults.find("fail_tx_execution", { account: a });
      if (!f) return null;
      const code = faults.num(f, "code", 21739);
      const known = APP_ERRORS[code];
      return {
        code,
        message: typeof f.params.message === "string" ? f.params.message : (known?.message ?? "application error"),
        name: typeof f.params.app_error === "string" ? f.params.app_error : (known?.name ?? `AppErr${code}`),
      };
    },
    variants: (a) => accountVariantsOf(a),
  });
  function accountVariantsOf(a: bigint | null): Variants {
    return { ...globalVariants, ...(a !== null ? (accountVariants.get(a) ?? {}) : {}) };
  }
  const watch = new WatchSupport(exchange, chainId, now, (a, m) => queueAccount(a).markets.add(m));
  for (const a of opts.accounts ?? [])
    exchange.createAccount({ accountIndex: a.index, apiKeyIndex: a.apiKeyIndex, publicKey: a.publicKey });
  for (const f of opts.faults ?? []) faults.add(f, now());

  // ------------------------------------------------------------------ frames out

  const scopeOf = (c: Conn) => ({ account: c.account, connection: c.id });
  const has = (c: Conn, name: FaultName) => faults.find(name, scopeOf(c));

  function rawSend(c: Conn, text: string): void {
    if (c.closed || c.ws.readyState !== 1) return;
    c.ws.send(text);
  }

  /** Every server frame goes through here, so connection-scoped faults apply uniformly. */
  function send(c: Conn, text: string, kind: "control" | "book" | "account" = "control"): void {
    if (c.closed) return;
    if (has(c, "stall")) return;
    if (kind === "account" && has(c, "throttle_account_frames")) return;
    const emit = (t: string) => {
      if (has(c, "reorder_frames")) {
        if (c.held === null) {
          c.held = t;
          return;
        }
        const first = c.held;
        c.held = null;
        rawSend(c, t);
        rawSend(c, first);
        return;
      }
      rawSend(c, t);
      if (has(c, "duplicate_frames")) rawSend(c, t);
    };
    const delay = has(c, "delay_frames");
    if (delay) setTimeout(() => emit(text), faults.num(delay, "ms", 100));
    else emit(text);
  }

  function errorFrame(c: Conn, code: number, message: string): string {
    return c.variants.error_shape === "flat"
      ? JSON.stringify({ type: "error", code, message })
      : JSON.stringify({ error: { code, message } });
  }

  function variantsFor(account: bigint | null, random: boolean): Variants {
    const base: Variants = random
      ? {
          ...globalVariants,
          ack_channel: rng.pick(["market", "market_account"] as const),
          error_shape: rng.pick(["wrapped", "flat"] as const),
          account_orders_ack: rng.next() < 0.5,
          server_pings: rng.next() < 0.5,
          begin_nonce: rng.next() < 0.7,
          unsubscribed_shape: rng.pick(["plain", "family"] as const),
        }
      : { ...globalVariants };
    return { ...base, ...(account !== null ? (accountVariants.get(account) ?? {}) : {}) };
  }

  function bookSnapshot(market: number): string {
    const m = exchange.market(market);
    const l = exchange.levels(market);
    const fmtLevels = (xs: [number, bigint][]) =>
      xs.map(([p, s]) => ({ price: formatUnits(BigInt(p), m.priceDecimals), size: formatUnits(s, m.sizeDecimals) }));
    const t = now();
    return exactJson({
      channel: `order_book:${market}`,
      last_updated_at: t * 1000 + 150,
      offset,
      order_book: {
        code: 0,
        asks: fmtLevels(l.asks),
        bids: fmtLevels(l.bids),
        offset,
        nonce: m.nonce,
        last_updated_at: t * 1000 + 150,
        begin_nonce: 0,
      },
      timestamp: t,
      type: "subscribed/order_book",
    });
  }

  // Book deltas are batched per market and flushed on the book interval, like the real server.
  const dirty = new Map<number, Map<string, { isAsk: boolean; price: number }>>();
  exchange.events = {
    bookChanged(market, levels) {
      const d = dirty.get(market) ?? new Map();
      for (const l of levels) d.set(`${l.isAsk ? "a" : "b"}${l.price}`, l);
      dirty.set(market, d);
    },
    orderUpdated(order) {
      queueAccount(order.account).orders.add(order);
      queueAccount(order.account).markets.add(order.market);
    },
    trade(trade) {
      sendPublicTrade(trade);
      for (const side of [trade.ask, trade.bid]) {
        if (side.account === MARKET_MAKER) continue;
        queueAccount(side.account).trades.push({ trade, own: side });
        queueAccount(side.account).markets.add(trade.market);
      }
    },
    txExecuting(tx) {
      if (tx.type !== 14) {
        // Only an order-creating tx counts for every_n; other txs lag when every order does.
        const lag = faults
          .findAll("rest_lag_ms", { account: tx.account })
          .find((f) => faults.num(f, "every_n", 1) === 1);
        if (lag) tx.visibleAt = tx.executedAt + faults.num(lag, "ms", 0);
        return;
      }
      tx.selected = faults.selectOrder(tx.account, (id) => [...conns].find((c) => c.id === id)?.account ?? null);
      for (const f of faults.list())
        if (f.name === "rest_lag_ms" && tx.selected.has(f.id))
          tx.visibleAt = Math.max(tx.visibleAt, tx.executedAt + faults.num(f, "ms", 0));
    },
    txExecuted(tx) {
      if (tx.order) forgeFills(tx.order);
    },
  };

  function flushBook(): void {
    for (const m of exchange.markets.values()) {
      const changed = exchange.makerStep(m.id, rng.int(1, levelsPerDelta));
      const d = dirty.get(m.id) ?? new Map<string, { isAsk: boolean; price: number }>();
      for (const l of changed) d.set(`${l.isAsk ? "a" : "b"}${l.price}`, l);
      dirty.delete(m.id);
      if (d.size === 0) continue;
      const { begin, nonce } = exchange.bumpNonce(m.id);
      offset += rng.int(1, 5);
      const asks: { price: string; size: string }[] = [];
      const bids: { price: string; size: string }[] = [];
      for (const l of d.values()) {
        const entry = {
          price: formatUnits(BigInt(l.price), m.priceDecimals),
          size: formatUnits(exchange.levelSize(m.id, l.isAsk, l.price), m.sizeDecimals),
        };
        (l.isAsk ? asks : bids).push(entry);
      }
      const t = now();
      const frame = (withBegin: boolean, beginValue: bigint) =>
        exactJson({
          channel: `order_book:${m.id}`,
          last_updated_at: t * 1000 + 309,
          offset,
          order_book: withBegin
            ? { code: 0, asks, bids, offset, nonce, last_updated_at: t * 1000 + 309, begin_nonce: beginValue }
            : { code: 0, asks, bids, offset, nonce },
          timestamp: t,
          type: "update/order_book",
        });
      const normal = frame(true, begin);
      const old = frame(false, begin);
      for (const c of conns) {
        if (!c.subs.has(`order_book:${m.id}`) || has(c, "stop_book_updates")) continue;
        if (has(c, "ignore_subscriptions") && matchesIgnored(c, `order_book/${m.id}`)) continue;
        if (c.gapPending) {
          c.gapPending = false;
          send(c, frame(true, begin + 7n), "book");
          continue;
        }
        send(c, c.variants.begin_nonce ? normal : old, "book");
      }
    }
  }

  function accountChannelFor(c: Conn, market: number, account: bigint): string {
    return c.variants.ack_channel === "market_account"
      ? `account_orders:${market}:${account}`
      : `account_orders:${market}`;
  }

  type Channel = "account_orders" | "account_all_orders" | "account_all_trades" | "trade";

  /** Whether frames on `channel` to connection `c` must not mention order `o`. */
  function withheld(o: SimOrder, c: Conn | null, channel: Channel): boolean {
    if (o.account === MARKET_MAKER) return false;
    if (faults.find("withhold_account_orders", { account: o.account })) return true;
    const scope = { account: o.account, connection: c?.id ?? null };
    if (faults.findAll("withhold_orders", scope).some((f) => o.selected.has(f.id))) return true;
    if (channel === "trade" || o.filledBase === 0n) return false;
    return faults.findAll("withhold_channel", scope).some((f) => f.params.channel === channel && o.selected.has(f.id));
  }

  /** malformed_order_beside: one order object with wrong field types, sent beside the real ones. */
  function malformedBeside(c: Conn): Record<string, unknown>[] {
    if (!has(c, "malformed_order_beside")) return [];
    return [{ order_index: "not-a-number", client_order_index: null, market_index: "0", status: 7 }];
  }

  /** odd_transaction_time: an order update's `transaction_time` absent, in ms, or as a string. */
  function txTimeAs(c: Conn, json: Record<string, unknown>): Record<string, unknown> {
    const f = has(c, "odd_transaction_time");
    if (!f) return json;
    const { transaction_time: us, ...rest } = json;
    if (f.params.as === "absent") return rest;
    return { ...rest, transaction_time: f.params.as === "string" ? String(us) : Math.floor(Number(us) / 1000) };
  }

  function deliverAccountFrame(account: bigint, fn: () => void): void {
    const late = faults.find("late_report", { account });
    if (late) setTimeout(fn, faults.num(late, "ms", 1000));
    else fn();
  }

  /** Orders, trades and markets changed by one execution, per account: sent as one frame per channel. */
  interface AccountBatch {
    orders: Set<SimOrder>;
    trades: { trade: SimTrade; own: SimOrder }[];
    markets: Set<number>;
  }
  const batches = new Map<bigint, AccountBatch>();

  function queueAccount(account: bigint): AccountBatch {
    let b = batches.get(account);
    if (!b) {
      b = { orders: new Set(), trades: [], markets: new Set() };
      batches.set(account, b);
      if (batches.size === 1) queueMicrotask(flushAccounts);
    }
    return b;
  }

  function groupByMarket<T>(items: { market: number; json: T }[]): Record<string, T[]> {
    const out: Record<string, T[]> = {};
    for (const { market, json } of items) (out[String(market)] ??= []).push(json);
    return out;
  }

  function flushAccounts(): void {
    const all = [...batches.entries()];
    batches.clear();
    for (const [account, b] of all) {
      const acct = exchange.accounts.get(account);
      if (!acct) continue;
      const orders = [...b.orders].map((o) => ({ o, json: exchange.orderJson(o, "update") }));
      const trades = b.trades.map((t) => ({ ...t, json: exchange.tradeJson(t.trade) }));
      const positions = exchange.positionsJson(acct, b.markets);
      const height = BigInt(exchange.height);
      deliverAccountFrame(account, () => {
        for (const c of conns) {
          for (const s of c.subs.values()) {
            if (s.account !== account) continue;
            if (s.kind === "account_orders") {
              const mine = orders.filter((x) => x.o.market === s.market && !withheld(x.o, c, "account_orders"));
              if (mine.length === 0) continue;
              send(
                c,
                exactJson({
                  account,
                  channel: accountChannelFor(c, s.market!, account),
                  nonce: height,
                  orders: { [String(s.market)]: [...mine.map((x) => txTimeAs(c, x.json)), ...malformedBeside(c)] },
                  type: "update/account_orders",
                }),
                "account",
              );
            } else if (s.kind === "account_all_orders") {
              const mine = orders.filter((x) => !withheld(x.o, c, "account_all_orders"));
              if (mine.length === 0) continue;
              const odd = malformedBeside(c).map((json) => ({ market: mine[0]!.o.market, json }));
              send(
                c,
                exactJson({
                  channel: s.channel,
                  orders: groupByMarket([
                    ...mine.map((x) => ({ market: x.o.market, json: txTimeAs(c, x.json) })),
                    ...odd,
                  ]),
                  type: "update/account_all_orders",
                }),
                "account",
              );
            } else if (s.kind === "account_all_trades") {
              const mine = trades.filter((x) => !withheld(x.own, c, "account_all_trades"));
              if (mine.length === 0) continue;
              send(
                c,
                exactJson({
                  channel: s.channel,
                  trades: groupByMarket(mine.map((x) => ({ market: x.trade.market, json: x.json }))),
                  type: "update/account_all_trades",
                }),
                "account",
              );
            } else if (s.kind === "account_all_positions" && Object.keys(positions).length > 0) {
              // positions_frames=full: every frame lists every market the account has (NT's reading).
              const body = c.variants.positions_frames === "full" ? exchange.positionsJson(acct) : positions;
              send(
                c,
                exactJson({ channel: s.channel, positions: body, type: "update/account_all_positions" }),
                "account",
              );
            }
          }
        }
      });
    }
  }

  function sendPublicTrade(t: SimTrade): void {
    const json = exchange.tradeJson(t);
    for (const c of conns) {
      for (const s of c.subs.values()) {
        if (s.kind !== "trade" || s.market !== t.market) continue;
        if (withheld(t.ask, c, "trade") || withheld(t.bid, c, "trade")) continue;
        send(
          c,
          exactJson({
            channel: `trade:${t.market}`,
            liquidation_trades: [],
            nonce: BigInt(exchange.height),
            trades: [json],
            type: "update/trade",
          }),
          "book",
        );
      }
    }
  }

  /**
   * forge_fill: on placement, frames that report a full fill for our client order index, but from
   * another account's order (mode other_account) or under another order_index (other_order).
   */
  let forgedSeq = 0;
  function forgeFills(o: SimOrder): void {
    for (const f of faults.list()) {
      if (f.name !== "forge_fill" || !o.selected.has(f.id)) continue;
      const other = f.params.mode === "other_order";
      const stranger = o.account + 7n;
      const fake: SimOrder = {
        ...o,
        orderIndex: o.orderIndex + 3n,
        account: other ? o.account : stranger,
        remaining: 0n,
        filledBase: o.initialBase,
        filledQuoteRaw: o.initialBase * BigInt(o.price),
        status: "filled",
        txTimeUs: exchange.txTime(),
        selected: new Set(),
      };
      fake.nonce = fake.orderIndex - (1n << 49n);
      const maker: SimOrder = {
        ...fake,
        orderIndex: fake.orderIndex + 11n,
        clientOrderIndex: 0n,
        account: MARKET_MAKER,
        isAsk: !o.isAsk,
      };
      const t: SimTrade = {
        tradeId: 9_000_000_000_000n + BigInt(++forgedSeq),
        txHash: o.txHash,
        market: o.market,
        size: o.initialBase,
        price: o.price,
        ask: o.isAsk ? fake : maker,
        bid: o.isAsk ? maker : fake,
        isMakerAsk: !o.isAsk,
        timestamp: now(),
        blockHeight: exchange.height,
      };
      const orderJson = exchange.orderJson(fake, "update");
      const tradeJson = exchange.tradeJson(t);
      const scopeOk = (c: Conn) => f.connection === undefined || f.connection === c.id;
      for (const c of conns) {
        if (!scopeOk(c)) continue;
        for (const s of c.subs.values()) {
          if (s.kind === "trade" && s.market === o.market) {
            send(
              c,
              exactJson({
                channel: s.channel,
                liquidation_trades: [],
                nonce: BigInt(exchange.height),
                trades: [tradeJson],
                type: "update/trade",
              }),
              "book",
            );
          }
          if (s.account !== o.account) continue;
          if (s.kind === "account_orders" && s.market === o.market)
            send(
              c,
              exactJson({
                account: o.account,
                channel: accountChannelFor(c, o.market, o.account),
                nonce: BigInt(exchange.height),
                orders: { [String(o.market)]: [orderJson] },
                type: "update/account_orders",
              }),
              "account",
            );
          else if (s.kind === "account_all_orders")
            send(
              c,
              exactJson({
                channel: s.channel,
                orders: { [String(o.market)]: [orderJson] },
                type: "update/account_all_orders",
              }),
              "account",
            );
          else if (s.kind === "account_all_trades")
            send(
              c,
              exactJson({
                channel: s.channel,
                trades: { [String(o.market)]: [tradeJson] },
                type: "update/account_all_trades",
              }),
              "account",
            );
        }
      }
    }
  }

  // ------------------------------------------------------------------ WebSocket

  const wss: WsServer = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });

  function matchesIgnored(c: Conn, requested: string): boolean {
    const f = has(c, "ignore_subscriptions");
    if (!f) return false;
    const prefix = typeof f.params.channel === "string" ? f.params.channel : "";
    return requested.startsWith(prefix);
  }

  /** Every WebSocket upgrade attempt (refused ones too), for `ws_upgrades` in /_sim/state. */
  const upgrades: { at: number; account: bigint | null }[] = [];

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/stream") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    const claimed = url.searchParams.get("sim_account");
    const account = claimed && /^\d+$/.test(claimed) ? BigInt(claimed) : null;
    upgrades.push({ at: now(), account });
    if (upgrades.length > 5_000) upgrades.splice(0, upgrades.length - 5_000);
    const refuse = faults.find("refuse_connections", { account });
    if (refuse) {
      const status = faults.num(refuse, "status", 503);
      socket.end(
        `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"code":23003,"message":"Too Many Connections!"}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      onConnection(ws, account, url.searchParams.get("sim_variant") === "random" || opts.randomVariants === true),
    );
  }

  function onConnection(ws: WsSocket, account: bigint | null, random: boolean): void {
    const id = `${(++connSeq).toString(16).padStart(8, "0")}-80e0-4b77-8763-${seed.toString(16).padStart(12, "0")}`;
    const c: Conn = {
      id,
      ws,
      account,
      subs: new Map(),
      variants: variantsFor(account, random),
      lastClientMessageAt: now(),
      messageTimes: [],
      held: null,
      pongDeadline: null,
      nextServerPing: now() + pingInterval(serverPingMs),
      nextMalformed: now(),
      oversizedSent: false,
      gapPending: false,
      closed: false,
    };
    conns.add(c);
    if (has(c, "book_nonce_gap")) c.gapPending = true;
    ws.on("close", () => {
      c.closed = true;
      conns.delete(c);
    });
    ws.on("error", () => undefined);
    ws.on("message", (data, isBinary) => onClientMessage(c, isBinary ? "" : data.toString()));
    if (!has(c, "no_connected_frame")) send(c, JSON.stringify({ session_id: id, type: "connected" }));
    const cac = has(c, "close_after_connect");
    if (cac) setTimeout(() => ws.close(faults.num(cac, "code", 1011), "closing on purpose"), 5);
    const drop = has(c, "drop_connection");
    if (drop) setTimeout(() => ws.terminate(), faults.num(drop, "after_ms", 0));
  }

  function onClientMessage(c: Conn, text: string): void {
    const t = now();
    c.lastClientMessageAt = t;
    c.messageTimes.push(t);
    while (c.messageTimes.length && c.messageTimes[0]! < t - 60_000) c.messageTimes.shift();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return send(c, errorFrame(c, 30000, "Invalid Json"));
    }
    if (!msg || typeof msg !== "object" || Array.isArray(msg)) return send(c, errorFrame(c, 30000, "Invalid Json"));
    const m = msg as Record<string, unknown>;
    if (m.type === "pong") {
      // server_ping {"ignore_pongs": true}: the pong is lost on the way, as if never sent.
      if (has(c, "server_ping")?.params.ignore_pongs !== true) c.pongDeadline = null;
      return;
    }
    if (m.type === "ping") return send(c, JSON.stringify({ type: "pong" }));
    // sendtx over WS is not rate-counted (PROTOCOL §2.11).
    if (m.type !== "jsonapi/sendtx" && c.messageTimes.length > messagesPerMinute)
      return send(c, errorFrame(c, 30009, "Too Many Websocket Messages!"));
    switch (m.type) {
      case "subscribe":
        return subscribe(c, m);
      case "unsubscribe":
        return unsubscribe(c, m);
      case "jsonapi/sendtx": {
        const data = m.data as Record<string, unknown> | undefined;
        const info =
          data &&
          (typeof data.tx_info === "string"
            ? data.tx_info
            : data.tx_info !== undefined
              ? exactJson(data.tx_info)
              : null);
        if (!data || typeof data.tx_type !== "number" || info === null)
          return send(c, errorFrame(c, 30007, "Invalid Data"));
        void submitTx(data.tx_type, info as string, c.id).then((out) => {
          if (out.lost === "timeout") return;
          if (out.lost === "5xx") send(c, errorFrame(c, 29500, "internal server error"));
          else
            send(
              c,
              exactJson({ ...out.body, ...(data.id !== undefined ? { id: data.id } : {}), type: "jsonapi/sendtx" }),
            );
          out.start();
        });
        return;
      }
      default:
        return send(c, errorFrame(c, 30001, "Invalid Type"));
    }
  }

  function parseChannel(ch: string): Sub | { error: string } {
    let mm: RegExpExecArray | null;
    if ((mm = /^order_book\/(\d+)$/.exec(ch)))
      return { channel: `order_book:${mm[1]}`, kind: "order_book", market: Number(mm[1]), account: null };
    if ((mm = /^trade\/(\d+)$/.exec(ch)))
      return { channel: `trade:${mm[1]}`, kind: "trade", market: Number(mm[1]), account: null };
    if ((mm = /^account_orders\/(\d+)\/(\d+)$/.exec(ch)))
      return {
        channel: `account_orders:${mm[1]}`,
        kind: "account_orders",
        market: Number(mm[1]),
        account: BigInt(mm[2]!),
      };
    if ((mm = /^account_all_orders\/(\d+)$/.exec(ch)))
      return {
        channel: `account_all_orders:${mm[1]}`,
        kind: "account_all_orders",
        market: null,
        account: BigInt(mm[1]!),
      };
    if ((mm = /^(account_all_trades|account_all_positions|account_all)\/(\d+)$/.exec(ch)))
      return {
        channel: `${mm[1]}:${mm[2]}`,
        kind: mm[1] as "account_all_trades" | "account_all_positions" | "account_all",
        market: null,
        account: BigInt(mm[2]!),
      };
    return { error: `Invalid Channel:  (${ch.replace(/[^a-z_:/0-9]/gi, "")})` };
  }

  function subKey(s: Sub): string {
    return s.kind === "account_orders" ? `${s.channel}:${s.account}` : s.channel;
  }

  function subscribe(c: Conn, m: Record<string, unknown>): void {
    const ch = typeof m.channel === "string" ? m.channel : "";
    const parsed = parseChannel(ch);
    if ("error" in parsed) return send(c, errorFrame(c, 30005, parsed.error));
    if (parsed.market !== null && !exchange.markets.has(parsed.market))
      return send(c, errorFrame(c, 30005, `Invalid Channel:  (${ch})`));
    if (c.subs.size >= SUB_LIMIT) return send(c, errorFrame(c, 23001, "Too Many Subscriptions!"));
    const key = subKey(parsed);
    if (c.subs.has(key)) return send(c, errorFrame(c, 30003, `Already Subscribed to : ${parsed.channel}`));
    // Live accepts account_all_trades, account_all_positions and account_all without a token (L.7).
    const tokenOptional = ["account_all_trades", "account_all_positions", "account_all"].includes(parsed.kind);
    if (parsed.account !== null && !(tokenOptional && typeof m.auth !== "string")) {
      const auth = typeof m.auth === "string" ? m.auth : null;
      if (!auth) return send(c, errorFrame(c, 20001, `invalid param : auth field is required: ${parsed.channel}`));
      const acct = exchange.accounts.get(parsed.account);
      const ro = watch.readTokenAccount(auth);
      if (ro !== null && ro !== parsed.account) return send(c, errorFrame(c, 20013, "invalid auth: account mismatch"));
      const tok = ro !== null ? { accountIndex: ro, apiKeyIndex: -1 } : readAuthToken(auth);
      if (!tok) return send(c, errorFrame(c, 20013, "invalid auth: invalid auth string"));
      if (!acct) return send(c, errorFrame(c, 20013, "invalid auth: unknown account"));
      if (tok.accountIndex !== parsed.account) return send(c, errorFrame(c, 20013, "invalid auth: account mismatch"));
      c.account = c.account ?? parsed.account;
      if (has(c, "reject_auth") || has(c, "expire_auth"))
        return send(c, errorFrame(c, 20013, "invalid auth: invalid deadline"));
      const key2 = acct.apiKeys.get(tok.apiKeyIndex);
      if (!key2 && ro === null) return send(c, errorFrame(c, 20013, "invalid auth: api key not found"));
      const check = key2 ? checkAuthToken(auth, key2.publicKey, Math.floor(now() / 1000)) : null;
      if (check && !check.signatureValid) return send(c, errorFrame(c, 20013, "invalid auth: invalid signature"));
      if (check && (check.expired || check.tooFarAhead))
        return send(c, errorFrame(c, 20013, "invalid auth: invalid deadline"));
    }
    c.subs.set(key, parsed);
    if (matchesIgnored(c, ch)) return;
    switch (parsed.kind) {
      case "order_book":
        return send(c, bookSnapshot(parsed.market!), "book");
      case "account_orders": {
        if (!c.variants.account_orders_ack) return;
        const acct = exchange.accounts.get(parsed.account!)!;
        const open = acct.orders
          .filter((o) => o.market === parsed.market && o.status === "open" && !withheld(o, c, "account_orders"))
          .map((o) => exchange.orderJson(o, "snapshot"));
        return send(
          c,
          exactJson({
            account: parsed.account,
            channel: accountChannelFor(c, parsed.market!, parsed.account!),
            nonce: BigInt(exchange.height),
            orders: { [String(parsed.market)]: open },
            type: "subscribed/account_orders",
          }),
          "account",
        );
      }
      case "trade": {
        const recent = exchange.trades
          .filter((t) => t.market === parsed.market)
          .slice(-50)
          .map((t) => exchange.tradeJson(t));
        return send(
          c,
          exactJson({
            channel: parsed.channel,
            liquidation_trades: [],
            nonce: BigInt(exchange.height),
            trades: recent,
            type: "subscribed/trade",
          }),
          "book",
        );
      }
      case "account_all_trades": {
        // L.13.9: the snapshot can carry the account's recent (historical) trades; none is a new fill.
        const recent =
          c.variants.trades_snapshot === "empty"
            ? []
            : exchange.trades
                .filter((t) => t.ask.account === parsed.account || t.bid.account === parsed.account)
                .filter((t) => !withheld(t.ask.account === parsed.account ? t.ask : t.bid, c, "account_all_trades"))
                .slice(-TRADES_SNAPSHOT_SIZE)
                .map((t) => ({ market: t.market, json: exchange.tradeJson(t) }));
        return send(
          c,
          exactJson({
            channel: parsed.channel,
            trades: groupByMarket(recent),
            total_volume: 0,
            monthly_volume: 0,
            weekly_volume: 0,
            daily_volume: 0,
            type: "subscribed/account_all_trades",
          }),
          "account",
        );
      }
      case "account_all_orders": {
        // Every subscribe gets a snapshot of the open orders, grouped by market; {} when none (L.7).
        const acct = exchange.accounts.get(parsed.account!);
        const open = (acct?.orders ?? [])
          .filter((o) => o.status === "open" && !withheld(o, c, "account_all_orders"))
          .map((o) => ({ market: o.market, json: exchange.orderJson(o, "snapshot") }));
        return send(
          c,
          exactJson({ channel: parsed.channel, orders: groupByMarket(open), type: "subscribed/account_all_orders" }),
          "account",
        );
      }
      case "account_all_positions": {
        const acct = exchange.accounts.get(parsed.account!);
        return send(
          c,
          exactJson({
            channel: parsed.channel,
            positions: acct ? exchange.positionsJson(acct) : {},
            shares: [],
            type: "subscribed/account_all_positions",
          }),
          "account",
        );
      }
      case "account_all": {
        const acct = exchange.accounts.get(parsed.account!);
        return send(
          c,
          exactJson({
            account: parsed.account,
            assets: [],
            channel: parsed.channel,
            daily_trades_count: 0,
            daily_volume: 0,
            funding_histories: {},
            monthly_trades_count: 0,
            monthly_volume: 0,
            positions: acct ? exchange.positionsJson(acct) : {},
            shares: [],
            total_trades_count: 0,
            total_volume: 0,
            trades: {},
            type: "subscribed/account_all",
            weekly_trades_count: 0,
            weekly_volume: 0,
          }),
          "account",
        );
      }
    }
  }

  function unsubscribe(c: Conn, m: Record<string, unknown>): void {
    const ch = typeof m.channel === "string" ? m.channel : "";
    const parsed = parseChannel(ch);
    if ("error" in parsed) return send(c, errorFrame(c, 30005, parsed.error));
    const key = [...c.subs.keys()].find(
      (k) =>
        c.subs.get(k)!.channel === parsed.channel &&
        (parsed.account === null || c.subs.get(k)!.account === parsed.account),
    );
    if (!key) return send(c, errorFrame(c, 30002, `Not Subscribed to ${parsed.channel}`));
    c.subs.delete(key);
    const family = parsed.channel.split(":")[0];
    send(
      c,
      JSON.stringify({
        type: c.variants.unsubscribed_shape === "family" ? `unsubscribed/${family}` : "unsubscribed",
        channel: parsed.channel,
      }),
    );
  }

  const MALFORMED = [
    '{"type":"update/order_book","channel":"order_book:0","order_book":"nope"}',
    "{not json",
    '{"type":"update/mystery","channel":"x"}',
    '{"type":"update/account_orders","orders":{"0":[{"order_index":"x"}]}}',
    "[]",
  ];

  function housekeepingTick(): void {
    const t = now();
    for (const c of conns) {
      if (t - c.lastClientMessageAt > idleTimeoutMs) {
        c.ws.close(1000, "idle timeout: no message from the client within the keepalive window");
        continue;
      }
      const sp = has(c, "server_ping");
      // A stalled connection sends nothing, pings included.
      const pingsOn = (c.variants.server_pings || sp !== undefined) && !has(c, "stall");
      const every = sp ? faults.num(sp, "every_ms", serverPingMs) : serverPingMs;
      // A server_ping fault added later pings at its own pace from now on.
      if (sp && c.nextServerPing > t + every) c.nextServerPing = t + every;
      if (pingsOn && t >= c.nextServerPing) {
        c.nextServerPing = t + (sp ? every : pingInterval(every));
        rawSend(c, JSON.stringify({ type: "ping" }));
        // The earliest unanswered ping sets the deadline (a stricter server_ping fault tightens it).
        const deadline = t + (sp ? faults.num(sp, "expect_pong_ms", 5_000) : 30_000);
        c.pongDeadline = Math.min(c.pongDeadline ?? deadline, deadline);
      }
      if (c.pongDeadline !== null && t > c.pongDeadline) {
        c.ws.close(1008, "no pong");
        continue;
      }
      const mal = has(c, "malformed_frames");
      if (mal && t >= c.nextMalformed) {
        c.nextMalformed = t + faults.num(mal, "every_ms", 200);
        rawSend(c, rng.pick(MALFORMED));
      }
      const big = has(c, "oversized_frames");
      if (big && !c.oversizedSent) {
        c.oversizedSent = true;
        rawSend(
          c,
          JSON.stringify({
            type: "update/oversized",
            channel: "oversized",
            padding: "x".repeat(faults.num(big, "bytes", 2 * 1024 * 1024)),
          }),
        );
      }
    }
  }

  faults.onChange = (f: Fault, added: boolean) => {
    if (!added) return;
    for (const c of conns) {
      const applies =
        (f.account_index === undefined || f.account_index === c.account) &&
        (f.connection === undefined || f.connection === c.id);
      if (!applies) continue;
      if (f.name === "book_nonce_gap") c.gapPending = true;
      if (f.name === "drop_connection") setTimeout(() => c.ws.terminate(), faults.num(f, "after_ms", 0));
      if (f.name === "expire_auth") for (const [k, s] of c.subs) if (s.account !== null) c.subs.delete(k);
    }
  };

  // ------------------------------------------------------------------ REST

  function json(res: ServerResponse, status: number, body: unknown): void {
    const text = exactJson(body);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  }

  function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > 1 << 20) {
          reject(new Error("body too large"));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });
  }

  function parseForm(body: string, contentType: string): Record<string, string> {
    const out: Record<string, string> = {};
    const mm = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
    if (/multipart\/form-data/i.test(contentType) && mm) {
      const boundary = `--${mm[1] ?? mm[2]}`;
      for (const part of body.split(boundary)) {
        const nm = /name="([^"]+)"\r?\n(?:[^\r\n]*\r?\n)*?\r?\n([\s\S]*?)\r?\n?$/.exec(part);
        if (nm) out[nm[1]!] = nm[2]!.replace(/\r?\n$/, "");
      }
      return out;
    }
    for (const [k, v] of new URLSearchParams(body)) out[k] = v;
    return out;
  }

  function requestAccount(url: URL, form: Record<string, string> | null): bigint | null {
    const q =
      url.searchParams.get("account_index") ??
      (url.searchParams.get("by") === "index" ? url.searchParams.get("value") : null);
    if (q && /^\d+$/.test(q)) return BigInt(q);
    const info = form?.tx_info ?? form?.tx_infos;
    const mm = info ? /\\?"AccountIndex\\?":(\d+)/.exec(info) : null;
    if (mm) return BigInt(mm[1]!);
    if (url.searchParams.get("by") === "hash") {
      const tx = exchange.txs.get(url.searchParams.get("value") ?? "");
      if (tx) return tx.account;
    }
    return null;
  }

  /** The account a REST request is made for (query, tx_info, or its token), for per-account counts. */
  function requestOwner(req: IncomingMessage, url: URL, body: string): string | null {
    const form = req.method === "POST" ? parseForm(body, String(req.headers["content-type"] ?? "")) : null;
    const a = requestAccount(url, form);
    if (a !== null) return a.toString();
    const token = req.headers.authorization;
    if (typeof token !== "string") return null;
    return (watch.readTokenAccount(token) ?? readAuthToken(token)?.accountIndex ?? null)?.toString() ?? null;
  }

  function authAccount(req: IncomingMessage, url: URL): { account: bigint } | { error: [number, number, string] } {
    const token =
      (req.headers.authorization as string | undefined) ??
      url.searchParams.get("auth") ??
      url.searchParams.get("authorization");
    if (!token) return { error: [400, 20001, "invalid param : auth query param and Authorization header are empty"] };
    const ro = watch.readTokenAccount(token);
    if (ro !== null) return { account: ro };
    const tok = readAuthToken(token);
    const acct = tok ? exchange.accounts.get(tok.accountIndex) : undefined;
    const key = tok && acct ? acct.apiKeys.get(tok.apiKeyIndex) : undefined;
    if (!tok) return { error: [401, 20013, "invalid auth: invalid auth string"] };
    if (!acct || !key) return { error: [401, 20013, "invalid auth: unknown account or api key"] };
    if (faults.find("reject_auth", { account: acct.index }) || faults.find("expire_auth", { account: acct.index }))
      return { error: [401, 20013, "invalid auth: invalid deadline"] };
    const check = checkAuthToken(token, key.publicKey, Math.floor(now() / 1000));
    if (!check.signatureValid) return { error: [401, 20013, "invalid auth: invalid signature"] };
    if (check.expired || check.tooFarAhead) return { error: [401, 20013, "invalid auth: invalid deadline"] };
    return { account: acct.index };
  }

  function stateJson(filter: bigint | null): Record<string, unknown> {
    const accounts = [...exchange.accounts.values()].filter(
      (a) => a.index !== 1n && (filter === null || a.index === filter),
    );
    return {
      chain_id: chainId,
      height: exchange.height,
      accounts: accounts.map((a) => ({
        account_index: a.index,
        api_keys: [...a.apiKeys.entries()].map(([k, v]) => ({
          api_key_index: k,
          public_key: v.publicKey,
          next_nonce: v.nextNonce,
        })),
        positions: Object.fromEntries([...a.positions.entries()].map(([m, p]) => [String(m), p.toString()])),
        ws_upgrades: upgrades.filter((u) => u.account === a.index).map((u) => u.at),
      })),
      orders: accounts.flatMap((a) =>
        a.orders.map((o) => ({ ...exchange.orderJson(o), account_index: o.account, selected_by: [...o.selected] })),
      ),
      trades: exchange.trades
        .filter((t) => filter === null || t.ask.account === filter || t.bid.account === filter)
        .slice(-500)
        .map((t) => exchange.tradeJson(t)),
      connections: [...conns].map((c) => ({
        session_id: c.id,
        account_index: c.account,
        subscriptions: [...c.subs.values()].map((s) => s.channel),
        variants: c.variants,
      })),
      faults: faults.list().map(faultJson),
    };
  }

  function faultJson(f: Fault): Record<string, unknown> {
    return {
      id: f.id,
      name: f.name,
      ...(f.account_index !== undefined ? { account_index: f.account_index } : {}),
      ...(f.connection ? { connection: f.connection } : {}),
      ...f.params,
    };
  }

  function createAccount(
    p: { accountIndex?: bigint; apiKeyIndex?: number; publicKey?: string; collateral?: bigint } = {},
  ) {
    const key = p.publicKey
      ? { privateKey: null, publicKey: p.publicKey.replace(/^0x/, "").toLowerCase() }
      : generateKey(() => rng.next());
    const a: SimAccount = exchange.createAccount({
      accountIndex: p.accountIndex,
      apiKeyIndex: p.apiKeyIndex ?? DEFAULT_API_KEY_INDEX,
      publicKey: key.publicKey,
      collateral: p.collateral,
    });
    return {
      account_index: a.index,
      api_key_index: p.apiKeyIndex ?? DEFAULT_API_KEY_INDEX,
      private_key: key.privateKey,
      public_key: key.publicKey,
    };
  }

  async function handleSim(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    const parts = url.pathname.split("/").filter(Boolean);
    let payload: Record<string, unknown> = {};
    if (body.trim()) {
      try {
        payload = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return json(res, 400, { error: "body is not JSON" });
      }
    }
    const resource = parts[1];
    if (resource === "accounts" && req.method === "POST") {
      const idx = payload.account_index;
      const out = createAccount({
        accountIndex: idx === undefined ? undefined : BigInt(String(idx)),
        apiKeyIndex: typeof payload.api_key_index === "number" ? payload.api_key_index : undefined,
        publicKey: typeof payload.public_key === "string" ? payload.public_key : undefined,
        collateral: payload.collateral === undefined ? undefined : BigInt(Math.round(Number(payload.collateral) * 1e6)),
      });
      return json(res, 201, out);
    }
    if (resource === "faults") {
      if (req.method === "POST") {
        try {
          const f = faults.add(payload, now());
          log(`fault on: ${JSON.stringify(faultJson(f), (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
          return json(res, 201, faultJson(f));
        } catch (err) {
          return json(res, 400, { error: errorMessage(err) });
        }
      }
      if (req.method === "GET") return json(res, 200, { faults: faults.list().map(faultJson) });
      if (req.method === "DELETE") {
        if (parts[2])
          return faults.remove(parts[2])
            ? json(res, 200, { removed: parts[2] })
            : json(res, 404, { error: `no fault ${parts[2]}` });
        faults.clear();
        return json(res, 200, { removed: "all" });
      }
    }
    if (resource === "variants" && (req.method === "POST" || req.method === "PUT")) {
      const { account_index, ...v } = payload;
      for (const [k, val] of Object.entries(v)) {
        if (!(k in DEFAULT_VARIANTS))
          return json(res, 400, { error: `unknown variant ${k}; known: ${Object.keys(DEFAULT_VARIANTS).join(", ")}` });
        const allowed = VARIANT_VALUES[k as keyof Variants];
        if (!allowed.includes(val as string | boolean))
          return json(res, 400, { error: `variant ${k} must be one of ${allowed.map(String).join(", ")}` });
      }
      setVariants(v as Partial<Variants>, account_index === undefined ? undefined : BigInt(String(account_index)));
      return json(res, 200, {
        variants: account_index === undefined ? globalVariants : accountVariants.get(BigInt(String(account_index))),
      });
    }
    if (resource === "requests") {
      if (req.method === "DELETE") {
        requestLog.clear();
        return json(res, 200, { removed: "all" });
      }
      const limit = Number(url.searchParams.get("limit") ?? 200);
      const since = Number(url.searchParams.get("since") ?? 0);
      return json(res, 200, {
        requests: requestLog.list(
          Number.isFinite(limit) ? limit : 200,
          Number.isFinite(since) ? since : 0,
          url.searchParams.get("account_index"),
        ),
      });
    }
    if (resource === "state" && req.method === "GET") {
      const a = url.searchParams.get("account_index");
      return json(res, 200, stateJson(a && /^\d+$/.test(a) ? BigInt(a) : null));
    }
    if (resource === "oracle") {
      const a = url.searchParams.get("account_index");
      const account = a && /^\d+$/.test(a) ? BigInt(a) : null;
      if (req.method === "GET") return json(res, 200, { keys: exchange.oracle.report(account) });
      if (req.method === "DELETE") {
        exchange.oracle.reset(account, now());
        return json(res, 200, { reset: account ?? "all" });
      }
    }
    const w = watch.control(req.method ?? "GET", resource, parts[2], payload);
    if (w) return json(res, w.status, w.body);
    return json(res, 404, { error: `no control endpoint ${req.method} ${url.pathname}` });
  }

  /** The /tx record (L.3): status 2 once executed, even when the application rejected it. */
  function txJson(tx: SimTx): Record<string, unknown> {
    const o = tx.order;
    const to = o ? { i: o.orderIndex, u: o.clientOrderIndex, a: o.account, m: o.market } : {};
    return {
      code: 200,
      hash: tx.hash,
      type: tx.type,
      info: tx.info,
      event_info: exactJson({ to, ae: tx.appError }),
      status: tx.status,
      transaction_index: 0,
      l1_address: "",
      account_index: tx.account,
      nonce: tx.nonce,
      expire_at: tx.expiredAt,
      block_height: tx.blockHeight,
      queued_at: tx.queuedAt,
      executed_at: tx.executedAt,
      sequence_index: 0,
      parent_hash: "",
      api_key_index: tx.apiKeyIndex,
      transaction_time: tx.queuedAt * 1000,
    };
  }

  const inflight = new Set<string>();
  const hung = new Set<ServerResponse>();
  const sendTxLatencyMs = opts.sendTxLatencyMs ?? 5;

  /**
   * sendTx as live answers it (REST and WS): while a tx of the same API key is still being answered,
   * another one is refused 21104 with the nonce untouched (L.4, "n and n+1 in flight"); an accepted
   * tx may lose its reply (lose_send_reply) after it was queued for execution.
   */
  async function submitTx(
    txType: number,
    info: string,
    connection: string | null = null,
  ): Promise<{
    status: number;
    body: Record<string, unknown>;
    lost: "5xx" | "timeout" | null;
    lostStatus: number;
    /** Starts the tx's execution countdown; call it right after the reply is written. */
    start: () => void;
  }> {
    const acc = /"AccountIndex":(\d+)/.exec(info)?.[1];
    const key = /"ApiKeyIndex":(\d+)/.exec(info)?.[1];
    const slot = acc !== undefined && key !== undefined ? `${acc}:${key}` : null;
    if (slot !== null && inflight.has(slot))
      return {
        status: 400,
        body: { code: 21104, message: "invalid nonce" },
        lost: null,
        lostStatus: 0,
        start: () => undefined,
      };
    if (slot !== null) inflight.add(slot);
    try {
      const out = exchange.sendTx(txType, info, now(), sendTxLatencyMs);
      const start = out.start ?? (() => undefined);
      if (sendTxLatencyMs > 0) await new Promise((r) => setTimeout(r, sendTxLatencyMs));
      const f =
        out.httpStatus === 200 && acc
          ? faults.find("lose_send_reply", { account: BigInt(acc), connection })
          : undefined;
      const lost = f && faults.pick(f) ? (f.params.mode as "5xx" | "timeout") : null;
      // A reply that never comes: the tx executes anyway.
      if (lost === "timeout") start();
      return { status: out.httpStatus, body: out.body, lost, lostStatus: faults.num(f, "status", 500), start };
    } finally {
      if (slot !== null) inflight.delete(slot);
    }
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    const form = req.method === "POST" ? parseForm(body, String(req.headers["content-type"] ?? "")) : null;
    const account = requestAccount(url, form);
    const slow = faults.find("slow_rest", { account });
    if (slow) await new Promise((r) => setTimeout(r, faults.num(slow, "ms", 1000)));
    const restErr = faults.find("rest_errors", { account });
    if (restErr) {
      const status = faults.num(restErr, "status", 500);
      // L.13.3: a rate-limited REST reply is HTTP 429 or 405 with codes 23000–23003.
      const limited = status === 429 || status === 405;
      return json(res, status, {
        code: faults.num(restErr, "code", limited ? 23000 : 29500),
        message: limited ? "Too Many Requests!" : "internal server error",
      });
    }
    const q = (k: string) => url.searchParams.get(k);
    const path = url.pathname;
    if (path === "/" || path === "")
      return json(res, 200, { status: 1, network_id: chainId === 304 ? 1 : 2, timestamp: Math.floor(now() / 1000) });
    switch (path) {
      case "/api/v1/nextNonce": {
        const a = exchange.accounts.get(BigInt(q("account_index") ?? "-1"));
        const k = a?.apiKeys.get(Number(q("api_key_index")));
        if (!a || !k) return json(res, 400, { code: 21109, message: "api key not found" });
        return json(res, 200, { code: 200, nonce: k.nextNonce });
      }
      case "/api/v1/sendTx": {
        if (req.method !== "POST" || !form) return json(res, 405, { code: 20001, message: "use POST" });
        const rej = faults.find("reject_tx", { account });
        const onlyReduceOnly = rej?.params.reduce_only === true;
        if (rej && (!onlyReduceOnly || /"ReduceOnly":1/.test(form.tx_info ?? ""))) {
          return json(res, 400, {
            code: faults.num(rej, "code", 21120),
            message: typeof rej.params.message === "string" ? rej.params.message : "rejected on purpose",
          });
        }
        const txType = Number(form.tx_type);
        if (!Number.isInteger(txType) || typeof form.tx_info !== "string")
          return json(res, 400, { code: 20001, message: "invalid param : tx_type and tx_info are required" });
        const out = await submitTx(txType, form.tx_info);
        if (out.lost === "timeout") {
          hung.add(res);
          res.on("close", () => hung.delete(res));
          return;
        }
        if (out.lost === "5xx") json(res, out.lostStatus, { code: 29500, message: "internal server error" });
        else json(res, out.status, out.body);
        // The countdown to execution starts once the answer is on the wire.
        return out.start();
      }
      case "/api/v1/sendTxBatch": {
        if (req.method !== "POST" || !form) return json(res, 405, { code: 20001, message: "use POST" });
        const out = sendTxBatch(form, (type, info) => {
          const one = exchange.sendTx(type, info, now(), sendTxLatencyMs);
          return { status: one.httpStatus, body: one.body, start: one.start ?? (() => undefined) };
        });
        if (sendTxLatencyMs > 0) await new Promise((r) => setTimeout(r, sendTxLatencyMs));
        json(res, out.status, out.body);
        for (const start of out.starts) start();
        return;
      }
      case "/api/v1/orderBooks":
      case "/api/v1/orderBookDetails": {
        const id = q("market_id");
        const list = [...exchange.markets.values()].filter((m) => id === null || id === "255" || String(m.id) === id);
        if (id !== null && id !== "255" && list.length === 0)
          return json(res, 400, { code: 21602, message: "invalid market index" });
        return path === "/api/v1/orderBooks"
          ? json(res, 200, { code: 200, order_books: list.map((m) => exchange.marketJson(m, false)) })
          : json(res, 200, {
              code: 200,
              order_book_details: list.map((m) => exchange.marketJson(m, true)),
              spot_order_book_details: [],
            });
      }
      case "/api/v1/apikeys": {
        const a = exchange.accounts.get(BigInt(q("account_index") ?? "-1"));
        if (!a) return json(res, 400, { code: 21100, message: "account not found" });
        const want = Number(q("api_key_index") ?? 255);
        const keys = [...a.apiKeys.entries()].filter(([k]) => want === 255 || k === want);
        return json(res, 200, {
          code: 200,
          api_keys: keys.map(([k, v]) => ({
            account_index: a.index,
            api_key_index: k,
            nonce: v.nextNonce,
            public_key: v.publicKey,
            transaction_time: 0,
          })),
        });
      }
      case "/api/v1/account": {
        if (q("by") !== "index")
          return json(res, 400, { code: 20001, message: "invalid param : by must be index or l1_address" });
        const a = exchange.accounts.get(BigInt(q("value") ?? "-1"));
        if (!a) return json(res, 400, { code: 21100, message: "account not found" });
        return json(res, 200, { code: 200, total: 1, accounts: [exchange.accountJson(a)] });
      }
      case "/api/v1/accountActiveOrders":
      case "/api/v1/accountInactiveOrders":
      case "/api/v1/accountOrders": {
        const auth = authAccount(req, url);
        if ("error" in auth) return json(res, auth.error[0], { code: auth.error[1], message: auth.error[2] });
        const a = exchange.accounts.get(BigInt(q("account_index") ?? String(auth.account)))!;
        if (!a || a.index !== auth.account)
          return json(res, 401, { code: 20013, message: "invalid auth: account mismatch" });
        // rest_lag_ms: an order is not indexed yet for a while after it executed.
        // rest_forget: the account's orders are gone from every list while the fault is on.
        const forgotten = faults.find("rest_forget", { account: a.index }) !== undefined;
        let orders = a.orders.filter((o) => o.visibleAt <= now() && !forgotten);
        if (path === "/api/v1/accountActiveOrders")
          orders = orders.filter((o) => o.status === "open" && o.market === Number(q("market_id") ?? o.market));
        else if (path === "/api/v1/accountInactiveOrders")
          orders = orders.filter((o) => o.status !== "open").slice(-Number(q("limit") ?? 50));
        else {
          const wanted = new Set(
            (q("client_order_indexes") ?? "")
              .split(",")
              .filter((s) => /^\d+$/.test(s))
              .map((s) => BigInt(s)),
          );
          orders = orders.filter((o) => wanted.has(o.clientOrderIndex));
        }
        return json(res, 200, {
          code: 200,
          orders: orders.map((o) => exchange.orderJson(o, "rest")),
          next_cursor: "",
        });
      }
      case "/api/v1/trades": {
        const auth = authAccount(req, url);
        if ("error" in auth) return json(res, auth.error[0], { code: auth.error[1], message: auth.error[2] });
        const out = watch.trades(auth.account, url.searchParams, accountVariantsOf(auth.account).trades_rest);
        return json(res, out.status, out.body);
      }
      case "/api/v1/currentHeight":
        return json(res, 200, { code: 200, height: exchange.height });
      case "/api/v1/accountLimits": {
        const auth = authAccount(req, url);
        if ("error" in auth) return json(res, auth.error[0], { code: auth.error[1], message: auth.error[2] });
        if (q("account_index") !== null && q("account_index") !== String(auth.account))
          return json(res, 401, { code: 20013, message: "invalid auth: account mismatch" });
        // Live testnet: tier standard, fee ticks 0 (LIVE.md L.8).
        return json(res, 200, {
          code: 200,
          account_index: auth.account,
          user_tier: "standard",
          current_maker_fee_tick: 0,
          current_taker_fee_tick: 0,
          max_llp_percentage: 25,
          can_create_public_pool: false,
        });
      }
      case "/api/v1/tx": {
        const tx = q("by") === "hash" ? exchange.txs.get(q("value") ?? "") : undefined;
        const v = accountVariantsOf(tx?.account ?? account).unknown_tx;
        const forgotten = tx !== undefined && faults.find("rest_forget", { account: tx.account }) !== undefined;
        const indexed = tx !== undefined && tx.executedAt > 0 && tx.visibleAt <= now() && !forgotten;
        if (tx && (indexed || (v === "pending" && tx.executedAt === 0))) return json(res, 200, txJson(tx));
        if (v === "empty") return json(res, 200, EMPTY_TX);
        return json(res, 400, { code: 21500, message: "transaction not found" });
      }
      default:
        return json(res, 404, { code: 20001, message: `no endpoint ${path}` });
    }
  }

  const requestLog = new RequestLog();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const at = now();
    readBody(req)
      .then((body) => {
        if (url.pathname.startsWith("/_sim/")) return handleSim(req, res, url, body);
        requestLog.record(
          req.method ?? "GET",
          req.url ?? "/",
          req.headers.authorization !== undefined,
          at,
          requestOwner(req, url, body),
        );
        return handleApi(req, res, url, body);
      })
      .catch((err: unknown) => {
        if (!res.headersSent)
          json(res, 500, { code: 29500, message: err instanceof Error ? err.message : "internal server error" });
      });
  });
  server.on("upgrade", onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const bookTimer = setInterval(flushBook, bookIntervalMs);
  const hkTimer = setInterval(housekeepingTick, Math.max(20, Math.min(250, bookIntervalMs)));

  function setVariants(v: Partial<Variants>, account?: bigint): void {
    if (account === undefined) Object.assign(globalVariants, v);
    else accountVariants.set(account, { ...(accountVariants.get(account) ?? {}), ...v });
    for (const c of conns) if (account === undefined || c.account === account) Object.assign(c.variants, v);
  }

  return {
    port,
    rest: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}/stream`,
    chainId,
    exchange,
    faults,
    watch,
    createAccount,
    setVariants,
    async close() {
      clearInterval(bookTimer);
      clearInterval(hkTimer);
      watch.close();
      exchange.close();
      for (const c of conns) c.ws.terminate();
      for (const r of hung) r.destroy();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
