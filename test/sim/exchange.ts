/**
 * The simulated exchange: markets with a seeded market maker, accounts with API keys and nonces,
 * sendTx validation with Lighter's real error codes, a matching engine (limit, market, IOC,
 * post-only, reduce-only, self-trade modes, partial fills), positions and trades. It knows nothing
 * about sockets: the server turns its events into frames.
 *
 * Uses worker/lighter only for cryptography (signature and auth-token verification); tx_info is
 * read with the simulator's own exact JSON parser.
 */
import { parseExact } from "./json.ts";
import { Rng } from "./random.ts";
import { verifyTxSignature } from "./crypto.ts";
import { UnresolvedOracle } from "./oracle.ts";

export interface MarketSpec {
  id: number;
  symbol: string;
  sizeDecimals: number;
  priceDecimals: number;
  /** min_base_amount in size units */
  minBase: bigint;
  /** min_quote_amount in 10^-6 USDC */
  minQuote: bigint;
  /** starting mid in price ticks */
  mid: number;
  /** distance between market-maker levels, in ticks */
  step: number;
}

export const DEFAULT_MARKETS: MarketSpec[] = [
  {
    id: 0,
    symbol: "ETH",
    sizeDecimals: 4,
    priceDecimals: 2,
    minBase: 50n,
    minQuote: 10_000_000n,
    mid: 235_000,
    step: 5,
  },
  {
    id: 1,
    symbol: "BTC",
    sizeDecimals: 5,
    priceDecimals: 1,
    minBase: 20n,
    minQuote: 10_000_000n,
    mid: 950_000,
    step: 10,
  },
];

export interface SimOrder {
  orderIndex: bigint;
  clientOrderIndex: bigint;
  market: number;
  account: bigint;
  isAsk: boolean;
  type: string;
  tif: string;
  reduceOnly: boolean;
  price: number;
  triggerPrice: number;
  initialBase: bigint;
  remaining: bigint;
  filledBase: bigint;
  /** size units × price ticks (scale sizeDecimals + priceDecimals) */
  filledQuoteRaw: bigint;
  status: string;
  nonce: bigint;
  orderExpiry: bigint;
  selfTrade: number;
  /** ms; rendered as Unix seconds (timestamp, created_at, updated_at) */
  createdAt: number;
  updatedAt: number;
  /** µs of the last transition (moves on every change, unlike updatedAt) */
  txTimeUs: number;
  txHash: string;
  blockHeight: number;
  /** REST hides the order before this time (rest_lag_ms) */
  visibleAt: number;
  /** ids of the order-selecting faults (every_n) that picked this order */
  selected: Set<string>;
}

/** The default account's API key index: 0-3 are reserved (LIVE.md L.13.5). */
export const DEFAULT_API_KEY_INDEX = 4;

/** The OrderExpiry window of GTT and post-only orders (L.13.7). */
export const ORDER_EXPIRY_MIN_MS = 5 * 60_000;
export const ORDER_EXPIRY_MAX_MS = 30 * 86_400_000;

export interface SimTrade {
  tradeId: bigint;
  txHash: string;
  market: number;
  size: bigint;
  price: number;
  ask: SimOrder;
  bid: SimOrder;
  isMakerAsk: boolean;
  timestamp: number;
  blockHeight: number;
}

export interface SimAccount {
  index: bigint;
  apiKeys: Map<number, { publicKey: string; nextNonce: bigint }>;
  collateral: bigint;
  /** market → signed position in size units */
  positions: Map<number, bigint>;
  orders: SimOrder[];
  /** client order index → creates accepted but not executed yet (the app_errors=immediate variant) */
  pendingCois: Map<bigint, number>;
}

export interface SimTx {
  hash: string;
  type: number;
  info: string;
  account: bigint;
  apiKeyIndex: number;
  nonce: bigint;
  status: 0 | 1 | 2;
  /** event_info.ae: "" when fine, else JSON {"code","message"} (or a bare name in the app_error_shape=name variant) */
  appError: string;
  expiredAt: bigint;
  queuedAt: number;
  executedAt: number;
  blockHeight: number;
  /** REST /tx hides the tx before this time (rest_lag_ms); 0 until executed */
  visibleAt: number;
  selected: Set<string>;
  /** the order this tx created, if any */
  order: SimOrder | null;
}

/** An application-level rejection: decided in the sequencer, visible only in /tx's event_info.ae. */
export interface AppError {
  code: number;
  message: string;
  /** the bare error name the app_error_shape=name variant (PROTOCOL.md §2.8) shows */
  name: string;
}

export const APP_ERRORS: Record<number, AppError> = {
  21728: { code: 21728, message: "client order index already exists", name: "AppErrClientOrderIndexAlreadyExists" },
  21732: { code: 21732, message: "reduce only increases position", name: "AppErrReduceOnlyIncreasesPosition" },
  21734: {
    code: 21734,
    message: "limit order price is too far from the mark price",
    name: "AppErrLimitOrderPriceTooFarFromMarkPrice",
  },
  21739: { code: 21739, message: "not enough margin to create the order", name: "AppErrNotEnoughOrderMargin" },
};

/** Per-account behaviour switches the exchange needs (the server's variants). */
export interface ExchangeVariants {
  /** deferred: HTTP 200, nonce consumed, verdict only in /tx (live); immediate: HTTP 400 at once */
  app_errors: "deferred" | "immediate";
  /** json: /tx status 2, ae = JSON {code,message} (live); name: status 0, ae = bare name */
  app_error_shape: "json" | "name";
  /** zero: an order that ends canceled* has remaining 0 (live cancel); kept: the unfilled rest stays */
  ended_remaining: "zero" | "kept";
  /** order: an IOC/market order without margin ends `canceled-margin-not-allowed` (L.13.8); deferred: /tx ae 21739 */
  ioc_margin: "order" | "deferred";
}

export interface ExchangeEvents {
  bookChanged(market: number, levels: { isAsk: boolean; price: number }[]): void;
  orderUpdated(order: SimOrder): void;
  trade(trade: SimTrade): void;
  /** A tx is about to execute (the server picks order-selecting faults and REST lag here). */
  txExecuting(tx: SimTx): void;
  /** A tx has executed (its order, if any, is in tx.order). */
  txExecuted(tx: SimTx): void;
}

export interface ExchangeOptions {
  seed: number;
  chainId: number;
  executionDelayMs: number;
  priceBandBps: number;
  levels: number;
  markets?: MarketSpec[];
  now: () => number;
  /** Extra matching delay for an account (late_fill), in ms; 0 for none. */
  matchDelay: (account: bigint) => number;
  /** never_match for an account. */
  neverMatch: (account: bigint) => boolean;
  /** The no_margin fault: every create of the account fails the margin check at execution. */
  noMargin?: (account: bigint) => boolean;
  /** fail_tx_execution for an account: the app error to record, or null. */
  failExecution: (account: bigint) => AppError | null;
  variants: (account: bigint) => ExchangeVariants;
}

export interface SendTxOutcome {
  httpStatus: number;
  body: Record<string, unknown>;
  /** For an accepted tx: starts the execution countdown. Call it once the reply is written. */
  start?: () => void;
}

const MARKET_MAKER = 1n;
// Above 2^53 on purpose (ids must travel exactly), and falling over time like live ones (L.7): an
// order index is not an ordering key.
const ORDER_INDEX_BASE = (1n << 56n) + (1n << 40n);
const ORDER_NONCE_OFFSET = 1n << 49n; // live: an order's own `nonce` is order_index − 2^49
const MAX_EXPIRED_AHEAD_MS = 10 * 60_000 + 5_000;

export class Exchange {
  readonly opts: ExchangeOptions;
  readonly rng: Rng;
  readonly markets = new Map<
    number,
    MarketSpec & { nonce: bigint; asks: Map<number, SimOrder[]>; bids: Map<number, SimOrder[]> }
  >();
  readonly accounts = new Map<bigint, SimAccount>();
  readonly txs = new Map<string, SimTx>();
  readonly trades: SimTrade[] = [];
  private orderSeq = 0n;
  private tradeSeq = 16_164_557_907n;
  private accountSeq = 0n;
  height = 227_535_532;
  events: ExchangeEvents | null = null;
  /** Unresolved creates per (account, API key), at every order state change (GET /_sim/oracle). */
  readonly oracle = new UnresolvedOracle();
  private timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(opts: ExchangeOptions) {
    this.opts = opts;
    this.rng = new Rng(opts.seed);
    this.accounts.set(MARKET_MAKER, {
      index: MARKET_MAKER,
      apiKeys: new Map(),
      collateral: 10n ** 15n,
      positions: new Map(),
      orders: [],
      pendingCois: new Map(),
    });
    for (const spec of opts.markets ?? DEFAULT_MARKETS) {
      const m = {
        ...spec,
        nonce: BigInt(904_845 + spec.id * 1000),
        asks: new Map<number, SimOrder[]>(),
        bids: new Map<number, SimOrder[]>(),
      };
      this.markets.set(spec.id, m);
      for (let k = 1; k <= opts.levels; k++) {
        this.placeMaker(m, true, spec.mid + k * spec.step, this.makerSize(spec));
        this.placeMaker(m, false, spec.mid - k * spec.step, this.makerSize(spec));
      }
    }
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private lastTxTimeUs = 0;
  /** A strictly increasing µs clock for transaction_time. */
  txTime(): number {
    this.lastTxTimeUs = Math.max(this.lastTxTimeUs + 1, this.opts.now() * 1000 + 735);
    return this.lastTxTimeUs;
  }

  private makerSize(spec: MarketSpec): bigint {
    return spec.minBase * BigInt(this.rng.int(4, 60));
  }

  private nextOrderIndex(): bigint {
    this.orderSeq += 1n;
    return ORDER_INDEX_BASE - this.orderSeq * 7n;
  }

  private placeMaker(m: ReturnType<Exchange["market"]>, isAsk: boolean, price: number, size: bigint): void {
    const now = this.opts.now();
    const o: SimOrder = {
      orderIndex: this.nextOrderIndex(),
      clientOrderIndex: 0n,
      market: m.id,
      account: MARKET_MAKER,
      isAsk,
      type: "limit",
      tif: "good-till-time",
      reduceOnly: false,
      price,
      triggerPrice: 0,
      initialBase: size,
      remaining: size,
      filledBase: 0n,
      filledQuoteRaw: 0n,
      status: "open",
      nonce: 0n,
      orderExpiry: BigInt(now + 28 * 86_400_000),
      selfTrade: 0,
      createdAt: now,
      updatedAt: now,
      txTimeUs: this.txTime(),
      txHash: "",
      blockHeight: this.height,
      visibleAt: 0,
      selected: new Set(),
    };
    const side = isAsk ? m.asks : m.bids;
    const q = side.get(price) ?? [];
    q.push(o);
    side.set(price, q);
  }

  market(id: number) {
    const m = this.markets.get(id);
    if (!m) throw new RangeError(`no market ${id}`);
    return m;
  }

  /** Aggregated levels, sorted (asks ascending, bids descending). */
  levels(id: number): { asks: [number, bigint][]; bids: [number, bigint][] } {
    const m = this.market(id);
    const agg = (side: Map<number, SimOrder[]>) =>
      [...side.entries()]
        .map(([p, q]) => [p, q.reduce((s, o) => s + o.remaining, 0n)] as [number, bigint])
        .filter(([, s]) => s > 0n);
    return { asks: agg(m.asks).sort((a, b) => a[0] - b[0]), bids: agg(m.bids).sort((a, b) => b[0] - a[0]) };
  }

  levelSize(id: number, isAsk: boolean, price: number): bigint {
    const q = (isAsk ? this.market(id).asks : this.market(id).bids).get(price) ?? [];
    return q.reduce((s, o) => s + o.remaining, 0n);
  }

  bestPrices(id: number): { bid: number | null; ask: number | null } {
    const l = this.levels(id);
    return { bid: l.bids[0]?.[0] ?? null, ask: l.asks[0]?.[0] ?? null };
  }

  /** One market-maker step: resize a few levels, replenish consumed ones. Returns changed levels. */
  makerStep(id: number, changes: number): { isAsk: boolean; price: number }[] {
    const m = this.market(id);
    const changed: { isAsk: boolean; price: number }[] = [];
    const best = this.bestPrices(id);
    const mid = best.bid !== null && best.ask !== null ? Math.round((best.bid + best.ask) / 2) : m.mid;
    for (let i = 0; i < changes; i++) {
      const isAsk = this.rng.next() < 0.5;
      const k = this.rng.int(1, this.opts.levels);
      const price = isAsk ? Math.max(mid + 1, m.mid + k * m.step) : Math.min(mid - 1, m.mid - k * m.step);
      const side = isAsk ? m.asks : m.bids;
      const q = side.get(price) ?? [];
      const maker = q.find((o) => o.account === MARKET_MAKER);
      if (maker) {
        maker.remaining = this.makerSize(m);
        maker.initialBase = maker.remaining;
      } else {
        // Do not place a maker level that would cross the other side.
        const other = isAsk ? best.bid : best.ask;
        if (other !== null && (isAsk ? price <= other : price >= other)) continue;
        this.placeMaker(m, isAsk, price, this.makerSize(m));
      }
      changed.push({ isAsk, price });
    }
    return changed;
  }

  bumpNonce(id: number): { begin: bigint; nonce: bigint } {
    const m = this.market(id);
    const begin = m.nonce;
    m.nonce += BigInt(this.rng.int(1, 40));
    return { begin, nonce: m.nonce };
  }

  // ---------------------------------------------------------------- accounts

  createAccount(p: {
    accountIndex?: bigint;
    apiKeyIndex?: number;
    publicKey: string;
    collateral?: bigint;
  }): SimAccount {
    const index = p.accountIndex ?? (1n << 47n) + 1000n + ++this.accountSeq * 13n;
    const existing = this.accounts.get(index);
    const acct: SimAccount = existing ?? {
      index,
      apiKeys: new Map(),
      collateral: p.collateral ?? 1_000_000_000n,
      positions: new Map(),
      orders: [],
      pendingCois: new Map(),
    };
    // A freshly registered key's first usable nonce is 1 (live, L.4: the key change used 0).
    acct.apiKeys.set(p.apiKeyIndex ?? DEFAULT_API_KEY_INDEX, {
      publicKey: p.publicKey.replace(/^0x/, "").toLowerCase(),
      nextNonce: 1n,
    });
    this.accounts.set(index, acct);
    return acct;
  }

  position(account: bigint, market: number): bigint {
    return this.accounts.get(account)?.positions.get(market) ?? 0n;
  }

  // ---------------------------------------------------------------- sendTx

  /**
   * Validates and queues a tx. Immediate HTTP 400s: 21104 (replayed or skipped nonce; the nonce
   * stays) and signature / format errors. Application errors (a live order's client order index,
   * margin, price band, reduce-only) are decided at execution: HTTP 200, nonce consumed, no order,
   * no frame, /tx status 2 with event_info.ae (LIVE.md L.2-L.5), unless the account plays the
   * app_errors=immediate variant. `replyMs`: how long the server takes to answer. Execution is
   * counted from `start()`, which the server calls once the reply is out (live answers well before
   * the tx executes).
   */
  sendTx(txType: number, txInfo: string, now: number, replyMs = 0): SendTxOutcome {
    const fail = (code: number, message: string, httpStatus = 400): SendTxOutcome => ({
      httpStatus,
      body: { code, message },
    });
    if (![14, 15, 16, 17].includes(txType)) return fail(21505, "unsupported tx type");
    let info: Record<string, unknown>;
    try {
      const v = parseExact(txInfo);
      if (!v || typeof v !== "object" || Array.isArray(v)) return fail(21501, "invalid tx info");
      info = v as Record<string, unknown>;
    } catch {
      return fail(21501, "invalid tx info");
    }
    const big = (k: string): bigint | null => (typeof info[k] === "bigint" ? (info[k] as bigint) : null);
    const account = big("AccountIndex");
    const apiKeyIndex = big("ApiKeyIndex");
    const nonce = big("Nonce");
    const expiredAt = big("ExpiredAt");
    if (account === null || apiKeyIndex === null || nonce === null || expiredAt === null)
      return fail(21501, "invalid tx info");
    const acct = this.accounts.get(account);
    if (!acct) return fail(21100, "account not found");
    const key = acct.apiKeys.get(Number(apiKeyIndex));
    if (!key) return fail(21109, "api key not found");
    const v = verifyTxSignature(txType, txInfo, key.publicKey, this.opts.chainId);
    if (!v.ok) {
      if (v.reason === "bad_signature") return fail(21120, "invalid signature");
      const field = v.message;
      if (/Price/.test(field) && !/Trigger/.test(field)) return fail(21702, "invalid price");
      if (/BaseAmount/.test(field)) return fail(21701, "invalid base amount");
      if (/MarketIndex/.test(field)) return fail(21602, "invalid market index");
      if (/TimeInForce/.test(field)) return fail(21705, "invalid OrderTimeInForce");
      if (/OrderType|Type is not valid/.test(field)) return fail(21704, "invalid OrderType");
      if (/Expiry/.test(field)) return fail(21711, "invalid expiry");
      if (/ClientOrderIndex/.test(field)) return fail(21727, "invalid client order index");
      return fail(21501, "invalid tx info");
    }
    if (expiredAt < BigInt(now) || expiredAt > BigInt(now + MAX_EXPIRED_AHEAD_MS)) return fail(21711, "invalid expiry");
    const skipNonce = isObj(info.L2TxAttributes) && info.L2TxAttributes["4"] === 1n;
    if (skipNonce ? nonce < key.nextNonce : nonce !== key.nextNonce) return fail(21104, "invalid nonce");
    const variants = this.opts.variants(account);

    let execute: ((tx: SimTx) => AppError | null) | null = null;
    let marginOrder: ((tx: SimTx) => void) | null = null;
    let pendingCoi: bigint | null = null;
    let createCoi: bigint | null = null;
    if (txType === 14) {
      const market = this.markets.get(Number(big("MarketIndex")));
      if (!market) return fail(21602, "invalid market index");
      const p: CreateParams = {
        account,
        market: market.id,
        coi: big("ClientOrderIndex") ?? 0n,
        base: big("BaseAmount") ?? 0n,
        price: Number(big("Price") ?? 0n),
        isAsk: big("IsAsk") === 1n,
        reduceOnly: big("ReduceOnly") === 1n,
        type: Number(big("Type") ?? 0n),
        tif: Number(big("TimeInForce") ?? 0n),
        selfTrade:
          isObj(info.L2TxAttributes) && typeof info.L2TxAttributes["6"] === "bigint"
            ? Number(info.L2TxAttributes["6"])
            : 0,
        triggerPrice: Number(big("TriggerPrice") ?? 0n),
        orderExpiry: big("OrderExpiry") ?? 0n,
        txHash: v.txHash,
      };
      createCoi = p.coi;
      // L.13.7: GTT and post-only orders need an OrderExpiry 5 minutes to 30 days ahead.
      if (
        (p.tif === 1 || p.tif === 2) &&
        (p.orderExpiry < BigInt(now + ORDER_EXPIRY_MIN_MS) || p.orderExpiry > BigInt(now + ORDER_EXPIRY_MAX_MS))
      )
        return fail(21711, "invalid order expiry");
      if (!p.reduceOnly && p.base < market.minBase) return fail(21603, "invalid min amounts for market");
      const quote = (p.base * BigInt(p.price)) / 10n ** BigInt(market.sizeDecimals + market.priceDecimals - 6);
      if (!p.reduceOnly && quote < market.minQuote) return fail(21706, "invalid order base or quote amount");
      if (variants.app_errors === "immediate") {
        const pending = p.coi !== 0n && (acct.pendingCois.get(p.coi) ?? 0) > 0;
        const err = pending ? APP_ERRORS[21728]! : this.appErrorFor(p);
        if (err) return fail(err.code, err.message);
        if (p.coi !== 0n) {
          pendingCoi = p.coi;
          acct.pendingCois.set(p.coi, (acct.pendingCois.get(p.coi) ?? 0) + 1);
        }
      }
      execute = (tx) => {
        const err = this.appErrorFor(p);
        if (err) return err;
        tx.order = this.executeCreate(p, tx);
        return null;
      };
      // L.13.8: an IOC or market order without margin can end as a real order, not as a deferred ae.
      if ((p.tif === 0 || p.type === 1) && variants.ioc_margin === "order")
        marginOrder = (tx) => (tx.order = this.executeCreate(p, tx, "canceled-margin-not-allowed"));
    } else if (txType === 15) {
      const index = big("Index") ?? 0n;
      const target = acct.orders.find(
        (o) => (o.clientOrderIndex === index || o.orderIndex === index) && o.status === "open",
      );
      if (!target) return fail(21600, "given order is not an active limit order");
      execute = () => {
        this.cancel(target, "canceled", false);
        return null;
      };
    } else if (txType === 16) {
      execute = () => {
        this.height++;
        for (const o of acct.orders) if (o.status === "open") this.cancel(o, "canceled", true);
        return null;
      };
    } else if (txType === 17) {
      const index = big("Index") ?? 0n;
      const target = acct.orders.find(
        (o) => (o.clientOrderIndex === index || o.orderIndex === index) && o.status === "open",
      );
      if (!target) return fail(21600, "given order is not an active limit order");
      execute = () => {
        if (target.status !== "open") return null;
        this.removeFromBook(target);
        target.price = Number(big("Price") ?? BigInt(target.price));
        target.remaining = big("BaseAmount") ?? target.remaining;
        this.touch(target, true);
        this.rest(target);
        this.events?.orderUpdated(target);
        return null;
      };
    }
    key.nextNonce = skipNonce ? nonce + 1n : key.nextNonce + 1n;
    const tx: SimTx = {
      hash: v.txHash,
      type: txType,
      info: txInfo,
      account,
      apiKeyIndex: Number(apiKeyIndex),
      nonce,
      status: 1,
      appError: "",
      expiredAt,
      queuedAt: now,
      executedAt: 0,
      blockHeight: 0,
      visibleAt: 0,
      selected: new Set(),
      order: null,
    };
    this.txs.set(v.txHash, tx);
    if (createCoi !== null)
      this.oracle.accepted({
        account,
        apiKeyIndex: Number(apiKeyIndex),
        txHash: v.txHash,
        clientOrderIndex: createCoi,
        at: now,
      });
    const delay = this.opts.executionDelayMs + this.opts.matchDelay(account);
    const run = () => {
      if (pendingCoi !== null) {
        const left = (acct.pendingCois.get(pendingCoi) ?? 1) - 1;
        if (left > 0) acct.pendingCois.set(pendingCoi, left);
        else acct.pendingCois.delete(pendingCoi);
      }
      this.height++;
      tx.executedAt = this.opts.now();
      tx.blockHeight = this.height;
      tx.visibleAt = tx.executedAt;
      this.events?.txExecuting(tx);
      let err = this.opts.failExecution(account);
      if (!err) {
        err = execute?.(tx) ?? null;
        if (err?.code === 21739 && marginOrder) {
          marginOrder(tx);
          err = null;
        }
      }
      tx.status = 2;
      if (err) {
        const shape = this.opts.variants(account).app_error_shape;
        tx.appError = shape === "name" ? err.name : JSON.stringify({ code: err.code, message: err.message });
        if (shape === "name") tx.status = 0;
      }
      if (txType === 14)
        this.oracle.executed({
          txHash: tx.hash,
          orderIndex: tx.order?.orderIndex ?? null,
          status: tx.order?.status ?? null,
          at: tx.executedAt,
        });
      this.events?.txExecuted(tx);
    };
    let started = false;
    return {
      httpStatus: 200,
      body: {
        code: 200,
        message: '{"ratelimit": "Ratelimit is off"}',
        tx_hash: v.txHash,
        predicted_execution_time_ms: now + replyMs + delay,
      },
      start: () => {
        if (started) return;
        started = true;
        this.later(delay, run);
      },
    };
  }

  /** The application-level verdict on a create, against the state now (null = fine). */
  private appErrorFor(p: CreateParams): AppError | null {
    const acct = this.accounts.get(p.account)!;
    const market = this.market(p.market);
    // Unique among the account's live orders only: an ended order's index may be reused (L.5).
    if (p.coi !== 0n && acct.orders.some((o) => o.clientOrderIndex === p.coi && o.status === "open"))
      return APP_ERRORS[21728]!;
    const pos = this.position(p.account, market.id);
    if (p.reduceOnly && (p.isAsk ? pos <= 0n : pos >= 0n)) return APP_ERRORS[21732]!;
    const best = this.bestPrices(market.id);
    const ref = best.bid !== null && best.ask !== null ? (best.bid + best.ask) / 2 : market.mid;
    if (p.type === 0 && Math.abs(p.price - ref) * 10_000 > ref * this.opts.priceBandBps) return APP_ERRORS[21734]!;
    const notional = (p.base * BigInt(Math.round(ref))) / 10n ** BigInt(market.sizeDecimals + market.priceDecimals - 6);
    if (!p.reduceOnly && (notional > acct.collateral * 10n || this.opts.noMargin?.(p.account) === true))
      return APP_ERRORS[21739]!;
    return null;
  }

  /** Executes a create; with `endAs` the order is created and ends at once in that state, unfilled. */
  private executeCreate(p: CreateParams, tx: SimTx, endAs?: string): SimOrder {
    const now = this.opts.now();
    const acct = this.accounts.get(p.account)!;
    const m = this.market(p.market);
    let base = p.base;
    if (p.reduceOnly) {
      const pos = this.position(p.account, p.market);
      const abs = pos < 0n ? -pos : pos;
      if (base === 0n || base > abs) base = abs;
    }
    const orderIndex = this.nextOrderIndex();
    const o: SimOrder = {
      orderIndex,
      clientOrderIndex: p.coi,
      market: p.market,
      account: p.account,
      isAsk: p.isAsk,
      type:
        ["limit", "market", "stop-loss", "stop-loss-limit", "take-profit", "take-profit-limit", "twap"][p.type] ??
        "limit",
      tif: ["immediate-or-cancel", "good-till-time", "post-only"][p.tif] ?? "Unknown",
      reduceOnly: p.reduceOnly,
      price: p.price,
      triggerPrice: p.triggerPrice,
      initialBase: base,
      remaining: base,
      filledBase: 0n,
      filledQuoteRaw: 0n,
      status: "open",
      nonce: orderIndex - ORDER_NONCE_OFFSET,
      orderExpiry: p.orderExpiry,
      selfTrade: p.selfTrade,
      createdAt: now,
      updatedAt: now,
      txTimeUs: this.txTime(),
      txHash: p.txHash,
      blockHeight: this.height,
      visibleAt: tx.visibleAt,
      selected: new Set(tx.selected),
    };
    acct.orders.push(o);
    if (endAs !== undefined) {
      o.remaining = 0n;
      this.finish(o, endAs);
      return o;
    }
    const crosses = (restPrice: number) => (p.isAsk ? restPrice >= p.price : restPrice <= p.price);
    const opposite = p.isAsk ? m.bids : m.asks;
    if (p.tif === 2) {
      const best = this.bestPrices(p.market);
      const top = p.isAsk ? best.bid : best.ask;
      if (top !== null && crosses(top)) {
        this.finish(o, "canceled-post-only");
        return o;
      }
    }
    let stoppedByPrice = false;
    let selfTradeCancel = false;
    const changed: { isAsk: boolean; price: number }[] = [];
    if (!this.opts.neverMatch(p.account)) {
      const prices = [...opposite.keys()].sort((a, b) => (p.isAsk ? b - a : a - b));
      outer: for (const price of prices) {
        if (o.remaining === 0n) break;
        if (!crosses(price)) {
          stoppedByPrice = true;
          break;
        }
        const q = opposite.get(price)!;
        for (const maker of [...q]) {
          if (o.remaining === 0n) break outer;
          if (maker.account === p.account) {
            // Self-trade: 0 expire maker (default), 1 expire taker, 2 cancel both.
            if (p.selfTrade === 1 || p.selfTrade === 2) {
              if (p.selfTrade === 2) this.cancel(maker, "canceled-self-trade", true);
              selfTradeCancel = true;
              break outer;
            }
            this.cancel(maker, "canceled-self-trade", true);
            continue;
          }
          const size = maker.remaining < o.remaining ? maker.remaining : o.remaining;
          this.fill(o, maker, size, price, now);
          changed.push({ isAsk: !p.isAsk, price });
        }
        if ((opposite.get(price) ?? []).length === 0) opposite.delete(price);
      }
    } else {
      stoppedByPrice = true;
    }
    if (changed.length) this.events?.bookChanged(p.market, changed);
    if (o.remaining === 0n) this.finish(o, "filled");
    else if (selfTradeCancel) this.finish(o, "canceled-self-trade");
    else if (p.tif === 0 || p.type === 1) {
      const reason = p.type === 1 && stoppedByPrice ? "canceled-too-much-slippage" : "canceled-not-enough-liquidity";
      this.finish(o, reason);
    } else {
      this.rest(o);
      this.events?.bookChanged(p.market, [{ isAsk: o.isAsk, price: o.price }]);
      this.events?.orderUpdated(o);
    }
    return o;
  }

  private fill(taker: SimOrder, maker: SimOrder, size: bigint, price: number, now: number): void {
    for (const o of [taker, maker]) {
      o.remaining -= size;
      o.filledBase += size;
      o.filledQuoteRaw += size * BigInt(price);
      o.updatedAt = now;
      o.txTimeUs = this.txTime();
      o.blockHeight = this.height;
      const acct = this.accounts.get(o.account)!;
      acct.positions.set(o.market, (acct.positions.get(o.market) ?? 0n) + (o.isAsk ? -size : size));
    }
    if (maker.remaining === 0n) {
      maker.status = "filled";
      this.removeFromBook(maker);
      this.oracle.orderChanged({ txHash: maker.txHash, orderIndex: maker.orderIndex, status: "filled", at: now });
    }
    const ask = taker.isAsk ? taker : maker;
    const bid = taker.isAsk ? maker : taker;
    const trade: SimTrade = {
      tradeId: ++this.tradeSeq,
      txHash: taker.txHash,
      market: taker.market,
      size,
      price,
      ask,
      bid,
      isMakerAsk: !taker.isAsk,
      timestamp: now,
      blockHeight: this.height,
    };
    this.trades.push(trade);
    if (this.trades.length > 5000) this.trades.splice(0, 1000);
    this.events?.trade(trade);
    if (maker.account !== MARKET_MAKER) this.events?.orderUpdated(maker);
  }

  private finish(o: SimOrder, status: string, moveTimes = true): void {
    o.status = status;
    this.oracle.orderChanged({ txHash: o.txHash, orderIndex: o.orderIndex, status, at: this.opts.now() });
    if (status.startsWith("canceled") && this.opts.variants(o.account).ended_remaining === "zero") o.remaining = 0n;
    this.touch(o, moveTimes);
    this.events?.orderUpdated(o);
  }

  /**
   * A transition: transaction_time always moves; the seconds fields and block_height move except
   * on a single CancelOrder (live, L.7: the open and canceled frames kept updated_at and block_height).
   */
  private touch(o: SimOrder, moveTimes: boolean): void {
    o.txTimeUs = this.txTime();
    if (!moveTimes) return;
    o.updatedAt = this.opts.now();
    o.blockHeight = this.height;
  }

  private rest(o: SimOrder): void {
    const side = o.isAsk ? this.market(o.market).asks : this.market(o.market).bids;
    const q = side.get(o.price) ?? [];
    q.push(o);
    side.set(o.price, q);
  }

  private removeFromBook(o: SimOrder): void {
    const side = o.isAsk ? this.market(o.market).asks : this.market(o.market).bids;
    const q = side.get(o.price);
    if (!q) return;
    const i = q.indexOf(o);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) side.delete(o.price);
  }

  cancel(o: SimOrder, status: string, moveTimes: boolean): void {
    if (o.status !== "open") return;
    this.removeFromBook(o);
    this.events?.bookChanged(o.market, [{ isAsk: o.isAsk, price: o.price }]);
    if (o.account === MARKET_MAKER) {
      o.status = status;
      return;
    }
    this.finish(o, status, moveTimes);
  }

  // ---------------------------------------------------------------- views (the real field names)

  /**
   * The Order object as live sends it (L.7, 38 keys): side "", seconds in timestamp / created_at /
   * updated_at, µs transaction_time, base_size = the remaining size, integrator_* "" in snapshots and
   * REST but "0" in update frames.
   */
  orderJson(o: SimOrder, flavor: "snapshot" | "update" | "rest" = "rest"): Record<string, unknown> {
    const m = this.market(o.market);
    const fmt = (v: bigint, d: number) => formatUnits(v, d);
    const quoteScale = m.sizeDecimals + m.priceDecimals;
    const integrator = flavor === "update" ? "0" : "";
    const secs = (ms: number) => Math.floor(ms / 1000);
    return {
      order_index: o.orderIndex,
      client_order_index: o.clientOrderIndex,
      order_id: o.orderIndex.toString(),
      client_order_id: o.clientOrderIndex.toString(),
      market_index: o.market,
      owner_account_index: o.account,
      initial_base_amount: fmt(o.initialBase, m.sizeDecimals),
      price: fmt(BigInt(o.price), m.priceDecimals),
      nonce: o.nonce,
      remaining_base_amount: fmt(o.remaining, m.sizeDecimals),
      is_ask: o.isAsk,
      base_size: Number(o.remaining),
      base_price: o.price,
      filled_base_amount: fmt(o.filledBase, m.sizeDecimals),
      filled_quote_amount: fmt(o.filledQuoteRaw / 10n ** BigInt(Math.max(0, quoteScale - 6)), 6),
      side: "",
      type: o.type,
      time_in_force: o.tif,
      reduce_only: o.reduceOnly,
      trigger_price: fmt(BigInt(o.triggerPrice), m.priceDecimals),
      order_expiry: o.orderExpiry,
      status: o.status,
      trigger_status: "na",
      trigger_time: 0,
      parent_order_index: 0,
      parent_order_id: "0",
      to_trigger_order_id_0: "0",
      to_trigger_order_id_1: "0",
      to_cancel_order_id_0: "0",
      integrator_fee_collector_index: integrator,
      integrator_taker_fee: integrator,
      integrator_maker_fee: integrator,
      block_height: o.blockHeight,
      order_flags: 0,
      timestamp: secs(o.updatedAt),
      created_at: secs(o.createdAt),
      updated_at: secs(o.updatedAt),
      transaction_time: o.txTimeUs,
    };
  }

  /** account_all_positions entries (L.7), keyed by market id string. */
  positionsJson(a: SimAccount, markets?: Iterable<number>): Record<string, Record<string, unknown>> {
    const ids = new Set<number>(markets ?? []);
    if (!markets) {
      for (const m of a.positions.keys()) ids.add(m);
      for (const o of a.orders) if (o.status === "open") ids.add(o.market);
    }
    const out: Record<string, Record<string, unknown>> = {};
    for (const id of [...ids].sort((x, y) => x - y)) {
      const m = this.market(id);
      const pos = a.positions.get(id) ?? 0n;
      out[String(id)] = {
        market_id: id,
        symbol: m.symbol,
        initial_margin_fraction: "5.00",
        open_order_count: a.orders.filter((o) => o.market === id && o.status === "open").length,
        pending_order_count: 0,
        position_tied_order_count: 0,
        sign: pos < 0n ? -1 : 1,
        position: formatUnits(pos < 0n ? -pos : pos, m.sizeDecimals),
        avg_entry_price: "0.0",
        position_value: "0.000000",
        unrealized_pnl: "0.000000",
        realized_pnl: "0.000000",
        liquidation_price: "0",
        margin_mode: 0,
        margin_set_flag: 0,
        allocated_margin: "0.000000",
      };
    }
    return out;
  }

  tradeJson(t: SimTrade): Record<string, unknown> {
    const m = this.market(t.market);
    const usd = (t.size * BigInt(t.price)) / 10n ** BigInt(Math.max(0, m.sizeDecimals + m.priceDecimals - 6));
    return {
      trade_id: t.tradeId,
      trade_id_str: t.tradeId.toString(),
      tx_hash: t.txHash,
      type: "trade",
      market_id: t.market,
      size: formatUnits(t.size, m.sizeDecimals),
      price: formatUnits(BigInt(t.price), m.priceDecimals),
      usd_amount: formatUnits(usd, 6),
      ask_id: t.ask.orderIndex,
      ask_id_str: t.ask.orderIndex.toString(),
      bid_id: t.bid.orderIndex,
      bid_id_str: t.bid.orderIndex.toString(),
      ask_client_id: t.ask.clientOrderIndex,
      ask_client_id_str: t.ask.clientOrderIndex.toString(),
      bid_client_id: t.bid.clientOrderIndex,
      bid_client_id_str: t.bid.clientOrderIndex.toString(),
      ask_account_id: t.ask.account,
      bid_account_id: t.bid.account,
      is_maker_ask: t.isMakerAsk,
      block_height: t.blockHeight,
      timestamp: t.timestamp,
      transaction_time: t.timestamp * 1000 + 65,
    };
  }

  marketJson(m: MarketSpec, detailed: boolean): Record<string, unknown> {
    const best = this.bestPrices(m.id);
    const mid = best.bid !== null && best.ask !== null ? (best.bid + best.ask) / 2 : m.mid;
    const base: Record<string, unknown> = {
      symbol: m.symbol,
      market_id: m.id,
      market_type: "perp",
      base_asset_id: m.id + 1,
      quote_asset_id: 3,
      status: "active",
      taker_fee: "0.0000",
      maker_fee: "0.0000",
      liquidation_fee: "1.0000",
      min_base_amount: formatUnits(m.minBase, m.sizeDecimals),
      min_quote_amount: formatUnits(m.minQuote, 6),
      order_quote_limit: "",
      supported_size_decimals: m.sizeDecimals,
      supported_price_decimals: m.priceDecimals,
      supported_quote_decimals: 6,
      created_at: 1717777777,
    };
    if (!detailed) return base;
    return {
      ...base,
      size_decimals: m.sizeDecimals,
      price_decimals: m.priceDecimals,
      quote_multiplier: 1,
      default_initial_margin_fraction: 500,
      min_initial_margin_fraction: 200,
      maintenance_margin_fraction: 120,
      closeout_margin_fraction: 80,
      last_trade_price: formatUnits(BigInt(Math.round(mid)), m.priceDecimals),
      mark_price: formatUnits(BigInt(Math.round(mid)), m.priceDecimals),
      index_price: formatUnits(BigInt(Math.round(mid)), m.priceDecimals),
      daily_trades_count: this.trades.length,
      open_interest: "0",
    };
  }

  accountJson(a: SimAccount): Record<string, unknown> {
    const positions = [...a.positions.entries()].map(([mid, pos]) => {
      const m = this.market(mid);
      return {
        market_id: mid,
        symbol: m.symbol,
        initial_margin_fraction: "20.00",
        open_order_count: a.orders.filter((o) => o.market === mid && o.status === "open").length,
        pending_order_count: 0,
        position_tied_order_count: 0,
        sign: pos < 0n ? -1 : 1,
        position: formatUnits(pos < 0n ? -pos : pos, m.sizeDecimals),
        avg_entry_price: "0",
        position_value: "0",
        unrealized_pnl: "0",
        realized_pnl: "0",
        liquidation_price: "0",
        margin_mode: 0,
        allocated_margin: "0",
      };
    });
    return {
      code: 0,
      account_type: 0,
      index: a.index,
      account_index: a.index,
      l1_address: `0x${a.index.toString(16).padStart(40, "0")}`,
      cancel_all_time: 0,
      total_order_count: a.orders.length,
      total_isolated_order_count: 0,
      pending_order_count: 0,
      available_balance: formatUnits(a.collateral, 6),
      status: 1,
      collateral: formatUnits(a.collateral, 6),
      positions,
      total_asset_value: formatUnits(a.collateral, 6),
      cross_asset_value: formatUnits(a.collateral, 6),
      assets: [],
    };
  }
}

interface CreateParams {
  account: bigint;
  market: number;
  coi: bigint;
  base: bigint;
  price: number;
  isAsk: boolean;
  reduceOnly: boolean;
  type: number;
  tif: number;
  selfTrade: number;
  triggerPrice: number;
  orderExpiry: bigint;
  txHash: string;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function formatUnits(v: bigint, decimals: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(decimals + 1, "0");
  const s = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return neg ? `-${s}` : s;
}
