/**
 * What watch mode needs from the simulator: `GET /api/v1/trades` (an account's trades newest first,
 * paged by `next_cursor`, LIVE.md L.13.1), read-only API tokens (`ro:{account}:all:{expiry}:{hex}`,
 * PROTOCOL.md §5.8) accepted for reads on REST and WebSocket, and the trading bot's control
 * endpoints (`POST /_sim/bot`, `GET /_sim/bot`, `DELETE /_sim/bot[/:account]`, `POST /_sim/read_tokens`),
 * and `POST /_sim/position_shift` (a position change with no trade, as a liquidation or ADL would be:
 * `account_all_positions` reports it, no order or trade channel does, REST trades show nothing).
 */
import { errorMessage } from "../../worker/lighter/errors.ts";
import { SimBot } from "./bot.ts";
import type { Exchange, SimTrade } from "./exchange.ts";

/** The opaque `next_cursor`: where the last row of a page was, by sort key and trade id. */
function encodeCursor(key: bigint, id: bigint): string {
  return Buffer.from(JSON.stringify({ k: key.toString(), t: id.toString() })).toString("base64url");
}

function decodeCursor(c: string): { key: bigint; id: bigint } | null {
  try {
    const o = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as { k?: unknown; t?: unknown };
    if (typeof o.k !== "string" || typeof o.t !== "string" || !/^-?\d+$/.test(o.k) || !/^\d+$/.test(o.t)) return null;
    return { key: BigInt(o.k), id: BigInt(o.t) };
  } catch {
    return null;
  }
}

/**
 * A trade row as `/trades` serves it live (L.13.2): client ids 0 and a `tx_hash` made from the trade
 * id and the ms timestamp, not the signed tx's hash.
 */
function liveTradeRow(exchange: Exchange, t: SimTrade): Record<string, unknown> {
  const row = exchange.tradeJson(t);
  const hash = `${t.tradeId.toString(16).padStart(16, "0")}${t.timestamp.toString(16).padStart(16, "0")}`;
  return {
    ...row,
    tx_hash: hash.padEnd(80, "0"),
    ask_client_id: 0,
    ask_client_id_str: "0",
    bid_client_id: 0,
    bid_client_id_str: "0",
  };
}

type Reply = { status: number; body: unknown };

export class WatchSupport {
  private readonly exchange: Exchange;
  private readonly chainId: number;
  private readonly now: () => number;
  private readonly readTokens = new Map<string, bigint>();
  readonly bots = new Map<bigint, SimBot>();
  private tokenSeq = 0;

  private readonly positionsChanged: (account: bigint, market: number) => void;

  constructor(
    exchange: Exchange,
    chainId: number,
    now: () => number,
    positionsChanged: (account: bigint, market: number) => void,
  ) {
    this.exchange = exchange;
    this.chainId = chainId;
    this.now = now;
    this.positionsChanged = positionsChanged;
  }

  issueReadToken(account: bigint): string {
    const expiry = Math.floor(this.now() / 1000) + 30 * 86_400;
    const hex = (++this.tokenSeq).toString(16).padStart(8, "0").repeat(8);
    const token = `ro:${account.toString()}:all:${expiry}:${hex}`;
    this.readTokens.set(token, account);
    return token;
  }

  /** The account a read-only token was issued for, or null when it is not one of ours. */
  readTokenAccount(token: string | null | undefined): bigint | null {
    if (!token || !token.startsWith("ro:")) return null;
    return this.readTokens.get(token) ?? null;
  }

  /**
   * `GET /api/v1/trades` for `account` as LIVE.md L.13.1 has it: `sort_by` (`trade_id` | `timestamp`
   * | `block_height`), `sort_dir` `desc` only (`asc` → 20001), `limit` 1–100, `from` an upper bound
   * on the sort key (−1: none), newest first, `next_cursor` (opaque; "" on the last page) to page
   * back; rows carry client ids 0 and a `tx_hash` of their own (L.13.2). The `trades_rest=asc`
   * variant keeps the older, kinder reading: ascending from trade id `from` (inclusive) unless
   * `sort_dir=desc`, the signed tx's hash and real client ids, no cursor.
   */
  trades(account: bigint, q: URLSearchParams, variant: "desc" | "asc" = "desc"): Reply {
    const bad = (what: string) => ({ status: 400, body: { code: 20001, message: `invalid param : ${what}` } });
    const want = q.get("account_index");
    if (want !== null && want !== account.toString())
      return { status: 401, body: { code: 20013, message: "invalid auth: account mismatch" } };
    const sortBy = q.get("sort_by") ?? (variant === "asc" ? "trade_id" : null);
    if (sortBy === null || !["trade_id", "timestamp", "block_height"].includes(sortBy)) return bad("sort_by");
    const dir = q.get("sort_dir") ?? (variant === "asc" ? "asc" : "desc");
    if (dir !== "desc" && !(variant === "asc" && dir === "asc")) return bad("sort_dir");
    const limitRaw = q.get("limit") ?? (variant === "asc" ? "100" : null);
    const limit = Number(limitRaw);
    if (limitRaw === null || !/^\d+$/.test(limitRaw) || limit < 1 || limit > 100) return bad("limit must be 1 to 100");
    const fromRaw = q.get("from");
    if (fromRaw !== null && !/^-?\d+$/.test(fromRaw)) return bad("from");
    const from = fromRaw === null ? -1n : BigInt(fromRaw);
    const now = this.now();
    const key = (t: SimTrade): bigint =>
      sortBy === "timestamp" ? BigInt(t.timestamp) : sortBy === "block_height" ? BigInt(t.blockHeight) : t.tradeId;
    // rest_lag_ms: a trade is indexed once its order of this account is.
    let list = this.exchange.trades.filter((t) => {
      const own = t.ask.account === account ? t.ask : t.bid.account === account ? t.bid : null;
      return own !== null && own.visibleAt <= now;
    });
    const market = q.get("market_id");
    if (market !== null && market !== "255") list = list.filter((t) => String(t.market) === market);
    if (variant === "asc") {
      const fromId = fromRaw === null ? null : from;
      list = list.filter((t) => fromId === null || t.tradeId >= fromId);
      list = dir === "desc" ? list.slice(-limit).reverse() : list.slice(0, limit);
      return { status: 200, body: { code: 200, next_cursor: "", trades: list.map((t) => this.exchange.tradeJson(t)) } };
    }
    const cmp = (a: SimTrade, b: SimTrade) => ((key(a) !== key(b) ? key(b) > key(a) : b.tradeId > a.tradeId) ? 1 : -1);
    list = list.filter((t) => from < 0n || key(t) <= from).sort(cmp);
    const cursor = q.get("cursor");
    if (cursor !== null && cursor !== "") {
      const at = decodeCursor(cursor);
      if (!at) return bad("cursor");
      list = list.filter((t) => key(t) < at.key || (key(t) === at.key && t.tradeId < at.id));
    }
    const rows = list.slice(0, limit);
    const last = rows[rows.length - 1];
    const next = last && list.length > limit ? encodeCursor(key(last), last.tradeId) : "";
    return {
      status: 200,
      body: { code: 200, next_cursor: next, trades: rows.map((t) => liveTradeRow(this.exchange, t)) },
    };
  }

  /** Control endpoints; null when the path is not one of them. */
  control(
    method: string,
    resource: string | undefined,
    arg: string | undefined,
    payload: Record<string, unknown>,
  ): Reply | null {
    if (resource === "read_tokens" && method === "POST") {
      const a = payload.account_index;
      if (a === undefined || !/^\d+$/.test(String(a)))
        return { status: 400, body: { error: "account_index is required" } };
      const account = BigInt(String(a));
      if (!this.exchange.accounts.has(account)) return { status: 404, body: { error: `no account ${account}` } };
      return { status: 201, body: { api_token: this.issueReadToken(account) } };
    }
    if (resource === "position_shift" && method === "POST") {
      const a = payload.account_index;
      const acct =
        a !== undefined && /^\d+$/.test(String(a)) ? this.exchange.accounts.get(BigInt(String(a))) : undefined;
      const market = Number(payload.market ?? 0);
      const delta = String(payload.delta ?? "");
      if (!acct) return { status: 400, body: { error: "account_index must name an account" } };
      if (!this.exchange.markets.has(market)) return { status: 400, body: { error: `no market ${market}` } };
      if (!/^-?\d+$/.test(delta)) return { status: 400, body: { error: "delta must be an integer in size units" } };
      acct.positions.set(market, (acct.positions.get(market) ?? 0n) + BigInt(delta));
      this.positionsChanged(acct.index, market);
      return { status: 200, body: { position: (acct.positions.get(market) ?? 0n).toString() } };
    }
    if (resource !== "bot") return null;
    if (method === "GET") return { status: 200, body: { bots: [...this.bots.values()].map((b) => b.stats) } };
    if (method === "DELETE") {
      for (const [k, b] of this.bots)
        if (arg === undefined || arg === k.toString()) {
          b.stop();
          this.bots.delete(k);
        }
      return { status: 200, body: { stopped: arg ?? "all" } };
    }
    if (method !== "POST") return null;
    const a = payload.account_index;
    if (a === undefined || !/^\d+$/.test(String(a)))
      return { status: 400, body: { error: "account_index is required" } };
    const account = BigInt(String(a));
    const rate = payload.rate_per_min === undefined ? 12 : Number(payload.rate_per_min);
    if (!Number.isFinite(rate) || rate <= 0 || rate > 6000)
      return { status: 400, body: { error: "rate_per_min must be a number from 0 (exclusive) to 6000" } };
    this.bots.get(account)?.stop();
    try {
      const bot = new SimBot(this.exchange, this.chainId, {
        account,
        ratePerMin: rate,
        seed: Number(payload.seed ?? 1),
        market: Number(payload.market ?? 0),
      });
      this.bots.set(account, bot);
      if (payload.paused !== true) bot.start();
      return { status: 201, body: bot.stats };
    } catch (err) {
      return { status: 400, body: { error: errorMessage(err) } };
    }
  }

  close(): void {
    for (const b of this.bots.values()) b.stop();
    this.bots.clear();
  }
}
