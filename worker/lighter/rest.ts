/**
 * Lighter REST over an injected `fetch` (PROTOCOL.md §5). Every response carries `code` (200 on
 * success); anything else — a non-200 code, a non-2xx status, a body that is not JSON, a timeout —
 * becomes a `LighterApiError` with the code, message, HTTP status and endpoint. Auth tokens are
 * sent only in the `Authorization` header: never in a URL (URLs end up in logs and proxies), never
 * in an error.
 */
import { errorMessage } from "./errors.ts";
import { parseOrder, parseTrade, type Order, type Trade } from "./messages.ts";

export class LighterApiError extends Error {
  override name = "LighterApiError";
  readonly code: number | null;
  readonly httpStatus: number;
  readonly endpoint: string;
  constructor(p: { code: number | null; message: string; httpStatus: number; endpoint: string }) {
    super(p.message);
    this.code = p.code;
    this.httpStatus = p.httpStatus;
    this.endpoint = p.endpoint;
  }
}

export interface RestOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** Mints an auth token for authenticated endpoints. */
  authToken?: () => string | Promise<string>;
}

export interface MarketDetails {
  marketId: number;
  symbol: string;
  marketType: string;
  status: string;
  sizeDecimals: number;
  priceDecimals: number;
  minBaseAmount: string;
  minQuoteAmount: string;
  /** `taker_fee` / `maker_fee` as the exchange writes them (a percentage string, "0.0000" on standard accounts). */
  takerFee?: string | null;
  makerFee?: string | null;
}

export interface Position {
  marketId: number;
  sign: number;
  position: string;
}

export interface ApiKeyInfo {
  accountIndex: bigint;
  apiKeyIndex: number;
  nonce: bigint;
  publicKey: string;
}

export interface TxInfo {
  hash: string;
  type: number | null;
  status: number | null;
  appError: string | null;
  eventInfo: string | null;
  info: string | null;
}

export interface SendTxResult {
  code: number;
  message: string | null;
  txHash: string | null;
  predictedExecutionTimeMs: number | null;
}

type Obj = Record<string, unknown>;

function redactAuth(text: string): string {
  return text.replace(/(\d{1,15}:-?\d{1,19}:\d{1,3}:)[0-9a-fA-F]{160}/g, "$1[redacted]");
}

/**
 * @example
 * const rest = new LighterRestClient({ baseUrl: "https://testnet.zklighter.elliot.ai" });
 * const nonce = await rest.nextNonce(12345n, 3);
 */
export class LighterRestClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly authToken: (() => string | Promise<string>) | undefined;

  constructor(opts: RestOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.authToken = opts.authToken;
  }

  private async request(
    endpoint: string,
    query: Record<string, string | undefined>,
    init: { method?: string; body?: string; auth?: boolean } = {},
  ): Promise<Obj> {
    const url = new URL(`${this.base}${endpoint}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: "application/json" };
    if (init.auth) {
      if (!this.authToken)
        throw new LighterApiError({
          code: null,
          message: `${endpoint} needs an auth token and none is configured`,
          httpStatus: 0,
          endpoint,
        });
      headers.authorization = await this.authToken();
    }
    if (init.body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    let res: Response;
    try {
      res = await this.fetchFn(url.toString(), {
        method: init.method ?? "GET",
        headers,
        body: init.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      const timeout = name === "TimeoutError" || name === "AbortError";
      throw new LighterApiError({
        code: null,
        message: timeout
          ? `${endpoint} timed out after ${this.timeoutMs} ms`
          : `${endpoint} failed: ${redactAuth(errorMessage(err))}`,
        httpStatus: 0,
        endpoint,
      });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new LighterApiError({
        code: null,
        message: `${endpoint} answered HTTP ${res.status} with a body that is not JSON: ${redactAuth(text.slice(0, 200))}`,
        httpStatus: res.status,
        endpoint,
      });
    }
    const obj = (typeof body === "object" && body !== null ? body : {}) as Obj;
    const code = typeof obj.code === "number" ? obj.code : null;
    if (!res.ok || (code !== null && code !== 200)) {
      const message = typeof obj.message === "string" ? obj.message : `HTTP ${res.status}`;
      throw new LighterApiError({
        code: code ?? (res.status === 429 ? 23000 : null),
        message: redactAuth(message),
        httpStatus: res.status,
        endpoint,
      });
    }
    return obj;
  }

  async status(): Promise<Obj> {
    return this.request("/", {});
  }

  async nextNonce(accountIndex: bigint | number, apiKeyIndex: number): Promise<bigint> {
    const r = await this.request("/api/v1/nextNonce", {
      account_index: String(accountIndex),
      api_key_index: String(apiKeyIndex),
    });
    const n = r.nonce;
    if (typeof n !== "number" && typeof n !== "string")
      throw new LighterApiError({
        code: null,
        message: "nextNonce has no nonce",
        httpStatus: 200,
        endpoint: "/api/v1/nextNonce",
      });
    return BigInt(n);
  }

  async sendTx(txType: number, txInfo: string, opts: { priceProtection?: boolean } = {}): Promise<SendTxResult> {
    const form = new URLSearchParams({ tx_type: String(txType), tx_info: txInfo });
    if (opts.priceProtection !== undefined) form.set("price_protection", String(opts.priceProtection));
    const r = await this.request("/api/v1/sendTx", {}, { method: "POST", body: form.toString() });
    return {
      code: typeof r.code === "number" ? r.code : 200,
      message: typeof r.message === "string" ? r.message : null,
      txHash: typeof r.tx_hash === "string" ? r.tx_hash : null,
      predictedExecutionTimeMs:
        typeof r.predicted_execution_time_ms === "number" ? r.predicted_execution_time_ms : null,
    };
  }

  async orderBooks(marketId?: number): Promise<MarketDetails[]> {
    const r = await this.request("/api/v1/orderBooks", {
      market_id: marketId === undefined ? undefined : String(marketId),
    });
    return listOf(r.order_books).map((d) => marketDetails(d, "supported_"));
  }

  async orderBookDetails(marketId?: number): Promise<MarketDetails[]> {
    const r = await this.request("/api/v1/orderBookDetails", {
      market_id: marketId === undefined ? undefined : String(marketId),
    });
    return [...listOf(r.order_book_details), ...listOf(r.spot_order_book_details)].map((d) => marketDetails(d, ""));
  }

  async apikeys(accountIndex: bigint | number, apiKeyIndex = 255): Promise<ApiKeyInfo[]> {
    const r = await this.request("/api/v1/apikeys", {
      account_index: String(accountIndex),
      api_key_index: String(apiKeyIndex),
    });
    return listOf(r.api_keys).map((k) => ({
      accountIndex: BigInt(String(k.account_index ?? accountIndex)),
      apiKeyIndex: Number(k.api_key_index),
      nonce: BigInt(String(k.nonce ?? 0)),
      publicKey: String(k.public_key ?? ""),
    }));
  }

  async account(accountIndex: bigint | number): Promise<{ index: bigint; positions: Position[]; raw: Obj }> {
    const r = await this.request("/api/v1/account", { by: "index", value: String(accountIndex) });
    const acct = listOf(r.accounts)[0];
    if (!acct)
      throw new LighterApiError({
        code: null,
        message: `account ${accountIndex} not found`,
        httpStatus: 200,
        endpoint: "/api/v1/account",
      });
    return {
      index: BigInt(String(acct.account_index ?? acct.index ?? accountIndex)),
      positions: listOf(acct.positions).map((p) => ({
        marketId: Number(p.market_id),
        sign: Number(p.sign ?? 1),
        position: String(p.position ?? "0"),
      })),
      raw: acct,
    };
  }

  async accountActiveOrders(accountIndex: bigint | number, marketId: number): Promise<Order[]> {
    const r = await this.request(
      "/api/v1/accountActiveOrders",
      { account_index: String(accountIndex), market_id: String(marketId) },
      { auth: true },
    );
    return listOf(r.orders).map((o) => parseOrder(o));
  }

  async accountInactiveOrders(
    accountIndex: bigint | number,
    opts: { limit?: number; marketId?: number; cursor?: string } = {},
  ): Promise<{ orders: Order[]; nextCursor: string | null }> {
    const r = await this.request(
      "/api/v1/accountInactiveOrders",
      {
        account_index: String(accountIndex),
        limit: String(opts.limit ?? 50),
        market_id: opts.marketId === undefined ? undefined : String(opts.marketId),
        cursor: opts.cursor,
      },
      { auth: true },
    );
    return {
      orders: listOf(r.orders).map((o) => parseOrder(o)),
      nextCursor: typeof r.next_cursor === "string" && r.next_cursor ? r.next_cursor : null,
    };
  }

  async accountOrders(accountIndex: bigint | number, clientOrderIndexes: bigint[]): Promise<Order[]> {
    const r = await this.request(
      "/api/v1/accountOrders",
      { account_index: String(accountIndex), client_order_indexes: clientOrderIndexes.map(String).join(",") },
      { auth: true },
    );
    return listOf(r.orders).map((o) => parseOrder(o));
  }

  /**
   * One page of an account's trades as LIVE.md L.13.1 has it: newest first (`sort_dir=desc`, the
   * only direction), `limit` 1–100, `cursor` the previous page's `next_cursor` ("" when there is
   * no older page). Authenticated; weight 600 on weighted tiers.
   */
  async tradesPage(
    accountIndex: bigint | number,
    opts: { cursor?: string | null; limit?: number } = {},
  ): Promise<{ trades: Trade[]; nextCursor: string }> {
    const r = await this.request(
      "/api/v1/trades",
      {
        account_index: String(accountIndex),
        sort_by: "trade_id",
        sort_dir: "desc",
        limit: String(opts.limit ?? 100),
        cursor: opts.cursor ?? undefined,
      },
      { auth: true },
    );
    const next = typeof r.next_cursor === "string" ? r.next_cursor : "";
    return { trades: listOf(r.trades).map((t) => parseTrade(t)), nextCursor: next };
  }

  /** A tx by hash, or null when the exchange does not know it. */
  async tx(hash: string): Promise<TxInfo | null> {
    let r: Obj;
    try {
      r = await this.request("/api/v1/tx", { by: "hash", value: hash });
    } catch (err) {
      if (err instanceof LighterApiError && (err.httpStatus === 404 || /not found/i.test(err.message))) return null;
      throw err;
    }
    const eventInfo = typeof r.event_info === "string" ? r.event_info : null;
    let appError: string | null = null;
    if (eventInfo) {
      try {
        const ev = JSON.parse(eventInfo) as Obj;
        if (typeof ev.ae === "string" && ev.ae) appError = ev.ae;
      } catch {
        // event_info is informative only
      }
    }
    return {
      hash: typeof r.hash === "string" ? r.hash : hash,
      type: typeof r.type === "number" ? r.type : null,
      status: typeof r.status === "number" ? r.status : null,
      appError,
      eventInfo,
      info: typeof r.info === "string" ? r.info : null,
    };
  }
}

function listOf(v: unknown): Obj[] {
  return Array.isArray(v) ? (v.filter((x) => typeof x === "object" && x !== null) as Obj[]) : [];
}

function marketDetails(d: Obj, prefix: string): MarketDetails {
  const sizeDecimals = Number(d[`${prefix}size_decimals`] ?? d.size_decimals ?? d.supported_size_decimals);
  const priceDecimals = Number(d[`${prefix}price_decimals`] ?? d.price_decimals ?? d.supported_price_decimals);
  return {
    marketId: Number(d.market_id),
    symbol: String(d.symbol ?? ""),
    marketType: String(d.market_type ?? ""),
    status: String(d.status ?? ""),
    sizeDecimals,
    priceDecimals,
    minBaseAmount: String(d.min_base_amount ?? "0"),
    minQuoteAmount: String(d.min_quote_amount ?? "0"),
    takerFee: typeof d.taker_fee === "string" ? d.taker_fee : null,
    makerFee: typeof d.maker_fee === "string" ? d.maker_fee : null,
  };
}
