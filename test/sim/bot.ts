/**
 * The simulator's trading bot: a background API key on a watched account that trades at a
 * configurable, seeded rate, as a user's bot would (IOC orders that take from the market maker,
 * alternating sides so the position stays small). It signs real CreateOrder txs with its own key
 * and hands them to the exchange directly (no REST request, so the request log shows only the
 * watch monitor's calls). Order-selecting faults (`every_n`) count its orders like any other.
 */
import { PrivateKey } from "../../worker/lighter/keys.ts";
import { signTx } from "../../worker/lighter/tx.ts";
import { generateKey } from "./crypto.ts";
import type { Exchange } from "./exchange.ts";
import { Rng } from "./random.ts";

/** The bot's API key index on the account (one key slot, its own nonces). */
export const BOT_API_KEY_INDEX = 200;

export interface BotOptions {
  account: bigint;
  /** Orders a minute (seeded jitter around it). */
  ratePerMin: number;
  seed: number;
  market: number;
  /** How far through the best price the IOC order may go, in bps. */
  slippageBps?: number;
}

export interface BotStats {
  account: string;
  rate_per_min: number;
  market: number;
  orders_sent: number;
  orders_refused: number;
  last_error: string | null;
  client_order_indexes: string[];
}

export class SimBot {
  readonly o: BotOptions;
  private readonly exchange: Exchange;
  private readonly chainId: number;
  private readonly key: PrivateKey;
  private readonly rng: Rng;
  private nonce: bigint;
  private coi: bigint;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private isAsk = false;
  readonly stats: BotStats;

  constructor(exchange: Exchange, chainId: number, o: BotOptions) {
    this.o = o;
    this.exchange = exchange;
    this.chainId = chainId;
    this.rng = new Rng(o.seed ^ 0xb07);
    const acct = exchange.accounts.get(o.account);
    if (!acct) throw new Error(`no account ${o.account}`);
    if (!exchange.markets.has(o.market)) throw new Error(`no market ${o.market}`);
    const k = generateKey(() => this.rng.next());
    this.key = PrivateKey.fromHex(k.privateKey);
    acct.apiKeys.set(BOT_API_KEY_INDEX, { publicKey: k.publicKey, nextNonce: 1n });
    this.nonce = 1n;
    // Client order indexes far from the monitors' own (they count up from small numbers).
    this.coi = 7_000_000_000n + BigInt(this.rng.int(0, 1_000_000)) * 1000n;
    this.stats = {
      account: o.account.toString(),
      rate_per_min: o.ratePerMin,
      market: o.market,
      orders_sent: 0,
      orders_refused: 0,
      last_error: null,
      client_order_indexes: [],
    };
  }

  start(): void {
    if (this.timer === null) this.schedule();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const mean = 60_000 / Math.max(0.001, this.o.ratePerMin);
    this.timer = setTimeout(
      () => {
        this.tradeOnce();
        if (this.timer !== null) this.schedule();
      },
      Math.max(1, Math.round(mean * (0.5 + this.rng.next()))),
    );
  }

  /** One IOC order through the best price; returns its client order index, or null when refused. */
  tradeOnce(): string | null {
    const m = this.exchange.markets.get(this.o.market)!;
    const best = this.exchange.bestPrices(this.o.market);
    const isAsk = this.isAsk;
    this.isAsk = !this.isAsk;
    const top = isAsk ? best.bid : best.ask;
    if (top === null) {
      this.stats.last_error = "empty book side";
      return null;
    }
    const slip = Math.ceil((top * (this.o.slippageBps ?? 50)) / 10_000);
    const price = isAsk ? top - slip : top + slip;
    const scale = 10n ** BigInt(m.sizeDecimals + m.priceDecimals - 6);
    const forQuote = (m.minQuote * scale + BigInt(price) - 1n) / BigInt(price);
    const base = (forQuote > m.minBase ? forQuote : m.minBase) + BigInt(this.rng.int(0, 3)) * m.minBase;
    const coi = ++this.coi;
    const now = Date.now();
    const signed = signTx(
      {
        txType: 14,
        AccountIndex: this.o.account,
        ApiKeyIndex: BOT_API_KEY_INDEX,
        MarketIndex: this.o.market,
        ClientOrderIndex: coi,
        BaseAmount: base,
        Price: price,
        IsAsk: isAsk ? 1 : 0,
        Type: 0,
        TimeInForce: 0,
        ReduceOnly: 0,
        TriggerPrice: 0,
        OrderExpiry: 0n,
        ExpiredAt: BigInt(now + 300_000),
        Nonce: this.nonce,
        L2TxAttributes: null,
      },
      this.key,
      this.chainId,
    );
    const out = this.exchange.sendTx(14, signed.tx_info, now);
    if (out.httpStatus !== 200) {
      this.stats.orders_refused++;
      this.stats.last_error = `${String(out.body.code)} ${String(out.body.message)}`;
      if (out.body.code === 21104)
        this.nonce = this.exchange.accounts.get(this.o.account)!.apiKeys.get(BOT_API_KEY_INDEX)!.nextNonce;
      return null;
    }
    this.nonce++;
    out.start?.();
    this.stats.orders_sent++;
    this.stats.client_order_indexes.push(coi.toString());
    if (this.stats.client_order_indexes.length > 50) this.stats.client_order_indexes.shift();
    return coi.toString();
  }
}
