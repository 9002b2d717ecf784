/**
 * What watch mode needs from the simulator: `GET /api/v1/trades` (an account's trades by trade id,
 * ascending from a cursor, or the newest first), read-only API tokens (`ro:{account}:all:{expiry}:{hex}`,
 * PROTOCOL.md §5.8) accepted for reads on REST and WebSocket, and the trading bot's control
 * endpoints (`POST /_sim/bot`, `GET /_sim/bot`, `DELETE /_sim/bot[/:account]`, `POST /_sim/read_tokens`),
 * and `POST /_sim/position_shift` (a position change with no trade, as a liquidation or ADL would be:
 * `account_all_positions` reports it, no order or trade channel does, REST trades show nothing).
 */
import { errorMessage } from "../../worker/lighter/errors.ts";
import { SimBot } from "./bot.ts";
import type { Exchange } from "./exchange.ts";

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

  /** `GET /api/v1/trades?account_index&sort_by=trade_id&from&limit[&sort_dir=desc]` for `account`. */
  trades(account: bigint, q: URLSearchParams): Reply {
    const want = q.get("account_index");
    if (want !== null && want !== account.toString())
      return { status: 401, body: { code: 20013, message: "invalid auth: account mismatch" } };
    const sortBy = q.get("sort_by") ?? "trade_id";
    if (!["trade_id", "timestamp", "block_height"].includes(sortBy))
      return { status: 400, body: { code: 20001, message: "invalid param : sort_by" } };
    const limit = Number(q.get("limit") ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return { status: 400, body: { code: 20001, message: "invalid param : limit must be 1 to 100" } };
    const fromRaw = q.get("from");
    if (fromRaw !== null && !/^\d+$/.test(fromRaw))
      return { status: 400, body: { code: 20001, message: "invalid param : from" } };
    const from = fromRaw === null ? null : BigInt(fromRaw);
    const now = this.now();
    // rest_lag_ms: a trade is indexed once its order of this account is.
    let list = this.exchange.trades.filter((t) => {
      const own = t.ask.account === account ? t.ask : t.bid.account === account ? t.bid : null;
      return own !== null && own.visibleAt <= now && (from === null || t.tradeId >= from);
    });
    const market = q.get("market_id");
    if (market !== null) list = list.filter((t) => String(t.market) === market);
    list = q.get("sort_dir") === "desc" ? list.slice(-limit).reverse() : list.slice(0, limit);
    return { status: 200, body: { code: 200, next_cursor: "", trades: list.map((t) => this.exchange.tradeJson(t)) } };
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
