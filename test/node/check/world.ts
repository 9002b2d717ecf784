/**
 * A small model of Lighter for the check machine's model test: one account on one market with a
 * position (possibly already open, long or short), a nonce sequence, IOC orders that execute after
 * a latency and fill or cancel, deferred rejections (`ae`), reduce-only refusals; WebSocket
 * connections whose frames (real JSON text) can be withheld, forged or lost with a dropped socket;
 * REST that lags, fails, flaps from found to unknown, refuses our auth token, or forgets our orders. Time is a number the harness advances.
 */

export const ACCOUNT = "77";
export const MARKET = 0;
export const SIZE_DECIMALS = 4;
/** 0.0050 ETH minimum; bid 2350.00 / ask 2350.10 → a test order of 50 size units (≈ 11.75 USD). */
export const MIN_BASE = 50n;
export const BID = 235_000n;
export const ASK = 235_010n;

export interface WorldTx {
  hash: string;
  nonce: number;
  coi: string;
  isAsk: boolean;
  base: bigint;
  price: number;
  reduceOnly: boolean;
  expiredAt: number;
}

interface Executed {
  tx: WorldTx;
  at: number;
  ae: { code: number; message: string } | null;
  filled: bigint;
  orderIndex: string;
  status: string;
}

export interface Knobs {
  execLatency: number;
  restLag: number;
  restDown: boolean;
  /** A found order answers unknown every other look-up. */
  restFlap: boolean;
  /**
   * Authenticated REST refuses our token (20013, as when the account's auth expired): order look-ups
   * answer unknown; `/tx` and the position (public endpoints) still answer.
   */
  restAuthRefused: boolean;
  /** REST forgets the account's orders: order look-ups answer absent and `/tx` unknown (not found). */
  restForget: boolean;
  replyMode: "ok" | "5xx" | "timeout";
  appReject: boolean;
  fills: boolean;
  withholdWs: boolean;
  /** Account subscriptions answered 20013 "invalid auth". */
  rejectAuth: boolean;
  /** A stray `30003 Already Subscribed to : order_book:0` after each account subscribe. */
  stray30003: boolean;
  refuseConnections: boolean;
  /** Account frames about our orders arrive this much later (a late report). */
  wsDelay: number;
  /** IOCs fill only 3/5 of their size (a partial fill, below the market minimum). */
  partial: boolean;
}

export const DEFAULT_KNOBS: Knobs = {
  execLatency: 50,
  restLag: 0,
  restDown: false,
  restFlap: false,
  restAuthRefused: false,
  restForget: false,
  replyMode: "ok",
  appReject: false,
  fills: true,
  withholdWs: false,
  rejectAuth: false,
  stray30003: false,
  refuseConnections: false,
  wsDelay: 0,
  partial: false,
};

export type Frame = { at: number; conn: number; text: string };

export class World {
  now = 0;
  nextNonce = 1;
  position = 0n;
  knobs: Knobs = { ...DEFAULT_KNOBS };
  /** When someone else's trading moved the position (the model's `position` action). */
  readonly userMovesAt: number[] = [];
  readonly queue: { tx: WorldTx; at: number }[] = [];
  readonly executed = new Map<string, Executed>();
  /** Every sendTx that reached the exchange (with the bytes' hash), in order. */
  readonly sends: { at: number; hash: string; coi: string }[] = [];
  /** Frames waiting to be delivered. */
  readonly frames: Frame[] = [];
  /** Open connections and their subscriptions. */
  readonly conns = new Map<number, Set<string>>();
  private seq = 0;
  private flap = 0;

  connect(conn: number): boolean {
    if (this.knobs.refuseConnections) return false;
    this.conns.set(conn, new Set());
    return true;
  }

  drop(conn: number): void {
    this.conns.delete(conn);
  }

  private push(conn: number, at: number, frame: object): void {
    this.frames.push({ at, conn, text: JSON.stringify(frame) });
  }

  subscribe(conn: number, channel: string, resubscribe: boolean): void {
    const subs = this.conns.get(conn);
    if (!subs) return;
    const at = this.now + 2;
    if (channel === "order_book") {
      if (subs.has(channel) && !resubscribe) {
        this.push(conn, at, { error: { code: 30003, message: `Already Subscribed to : order_book:${MARKET}` } });
        return;
      }
      subs.add(channel);
      this.push(conn, at, {
        type: "subscribed/order_book",
        channel: `order_book:${MARKET}`,
        order_book: {
          asks: [{ price: "2350.10", size: "1.0000" }],
          bids: [{ price: "2350.00", size: "1.0000" }],
          nonce: 1,
          begin_nonce: 0,
        },
      });
      return;
    }
    if (this.knobs.rejectAuth) {
      this.push(conn, at, { error: { code: 20013, message: "invalid auth: invalid deadline" } });
      return;
    }
    subs.add(channel);
    if (channel === "account_orders") {
      this.push(conn, at, {
        type: "subscribed/account_orders",
        channel: `account_orders:${MARKET}:${ACCOUNT}`,
        account: Number(ACCOUNT),
        orders: {},
      });
    } else {
      this.push(conn, at, {
        type: "subscribed/account_all_orders",
        channel: `account_all_orders:${ACCOUNT}`,
        orders: {},
      });
    }
    if (this.knobs.stray30003) {
      this.push(conn, at + 1, { error: { code: 30003, message: `Already Subscribed to : order_book:${MARKET}` } });
    }
  }

  /** The exchange receives the bytes: refused at once on a nonce gap, else queued for execution. */
  transmit(tx: WorldTx): { kind: "http"; status: number; code: number | null; message: string } | "no_reply" {
    this.run();
    this.sends.push({ at: this.now, hash: tx.hash, coi: tx.coi });
    const pendingSame = this.queue.some((q) => q.tx.hash === tx.hash) || this.executed.has(tx.hash);
    if (tx.nonce !== this.nextNonce || pendingSame || this.now > tx.expiredAt) {
      return { kind: "http", status: 400, code: 21104, message: "invalid nonce" };
    }
    this.nextNonce++;
    this.queue.push({ tx, at: this.now + this.knobs.execLatency });
    if (this.knobs.replyMode === "5xx") return { kind: "http", status: 502, code: null, message: "bad gateway" };
    if (this.knobs.replyMode === "timeout") return "no_reply";
    return { kind: "http", status: 200, code: 200, message: "{}" };
  }

  /** Executes what is due (never after ExpiredAt); IOCs end at once. */
  run(): void {
    for (let i = 0; i < this.queue.length;) {
      const q = this.queue[i]!;
      if (q.at > this.now) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      if (q.at > q.tx.expiredAt) continue;
      const increases = q.tx.isAsk ? this.position <= 0n : this.position >= 0n;
      const tooBig = (q.tx.isAsk ? this.position : -this.position) < q.tx.base;
      let ae: Executed["ae"] = this.knobs.appReject ? { code: 21739, message: "not enough margin" } : null;
      if (!ae && q.tx.reduceOnly && (increases || tooBig))
        ae = { code: 21732, message: "reduce only increases position" };
      const orderIndex = String(2n ** 60n - BigInt(++this.seq));
      const filled = ae === null && this.knobs.fills ? (this.knobs.partial ? (q.tx.base * 3n) / 5n : q.tx.base) : 0n;
      this.position += q.tx.isAsk ? -filled : filled;
      const status =
        filled === q.tx.base ? "filled" : filled > 0n ? "canceled-not-enough-liquidity" : "canceled-too-much-slippage";
      const e: Executed = { tx: q.tx, at: q.at, ae, filled, orderIndex, status };
      this.executed.set(q.tx.hash, e);
      if (ae === null && !this.knobs.withholdWs) {
        this.report(e, q.at + 5 + this.knobs.wsDelay, "open", 0n);
        this.report(e, q.at + 10 + this.knobs.wsDelay, status, filled);
      }
    }
  }

  private order(e: { coi: string; orderIndex: string; status: string; filled: bigint }, account = ACCOUNT): object {
    return {
      order_index: Number(BigInt(e.orderIndex) % 2n ** 50n),
      order_id: e.orderIndex,
      client_order_index: Number(e.coi),
      client_order_id: e.coi,
      market_index: MARKET,
      owner_account_index: Number(account),
      initial_base_amount: "0.0050",
      remaining_base_amount: "0.0000",
      filled_base_amount: (Number(e.filled) / 10 ** SIZE_DECIMALS).toFixed(SIZE_DECIMALS),
      filled_quote_amount: "0.00",
      price: "2350.10",
      status: e.status,
    };
  }

  private report(e: Executed, at: number, status: string, filled: bigint): void {
    const o = { coi: e.tx.coi, orderIndex: e.orderIndex, status, filled };
    this.emit(at, o, ACCOUNT);
  }

  private emit(at: number, o: { coi: string; orderIndex: string; status: string; filled: bigint }, account: string) {
    for (const [conn, subs] of this.conns) {
      if (subs.has("account_orders")) {
        this.push(conn, at, {
          type: "update/account_orders",
          channel: `account_orders:${MARKET}:${account}`,
          account: Number(account),
          orders: { [MARKET]: [this.order(o, account), { broken: true }] },
        });
      }
      if (subs.has("account_all_orders")) {
        this.push(conn, at, {
          type: "update/account_all_orders",
          channel: `account_all_orders:${account}`,
          orders: { [MARKET]: [this.order(o, account)] },
        });
      }
    }
  }

  /** A forged fill for our client order index: from another account, or under another order index. */
  forge(coi: string, how: "account" | "order_index"): void {
    const o = { coi, orderIndex: String(2n ** 55n + 12345n), status: "filled", filled: 50n };
    this.emit(this.now, o, how === "account" ? "999" : ACCOUNT);
  }

  /** Frames due now for open connections (frames to a dropped socket are lost). */
  due(): Frame[] {
    this.run();
    const out = this.frames.filter((f) => f.at <= this.now && this.conns.has(f.conn));
    const keep = this.frames.filter((f) => f.at > this.now && this.conns.has(f.conn));
    this.frames.splice(0, this.frames.length, ...keep);
    return out;
  }

  nextFrameAt(): number | null {
    let min: number | null = null;
    for (const f of this.frames) if (this.conns.has(f.conn) && (min === null || f.at < min)) min = f.at;
    for (const q of this.queue) if (min === null || q.at < min) min = q.at;
    return min;
  }

  lookupOrder(coi: string):
    | {
        kind: "found";
        order: {
          account: string | null;
          owner: string | null;
          market: number;
          clientOrderIndex: string;
          orderIndex: string;
          status: string;
          filled: string;
          /** The execution's time (transaction_time). */
          at: number;
        };
      }
    | { kind: "absent" }
    | { kind: "unknown"; reason: string } {
    this.run();
    if (this.knobs.restDown) return { kind: "unknown", reason: "HTTP 503" };
    if (this.knobs.restAuthRefused) return { kind: "unknown", reason: "HTTP 401 20013 invalid auth" };
    if (this.knobs.restForget) return { kind: "absent" };
    for (const e of this.executed.values()) {
      if (e.tx.coi !== coi || e.ae || this.now < e.at + this.knobs.restLag) continue;
      if (this.knobs.restFlap && this.flap++ % 2 === 1) return { kind: "unknown", reason: "HTTP 502 (flap)" };
      return {
        kind: "found",
        order: {
          account: null,
          owner: ACCOUNT,
          market: MARKET,
          clientOrderIndex: coi,
          orderIndex: e.orderIndex,
          status: e.status,
          filled: e.filled.toString(),
          at: e.at,
        },
      };
    }
    return { kind: "absent" };
  }

  lookupTx(
    hash: string,
  ):
    | { kind: "record"; status: number; ae: { code: number; message: string } | null }
    | { kind: "unknown"; reason: string } {
    this.run();
    if (this.knobs.restDown) return { kind: "unknown", reason: "HTTP 503" };
    const e = this.executed.get(hash);
    if (!e || this.now < e.at + this.knobs.restLag || this.knobs.restForget)
      return { kind: "unknown", reason: "21500 tx not found" };
    return { kind: "record", status: 2, ae: e.ae };
  }

  /** Txs of ours that could still create an order (queued and not expired). */
  inFlight(): number {
    return this.queue.filter((q) => q.tx.expiredAt >= this.now && q.at <= q.tx.expiredAt).length;
  }

  /** The executed order of a client order index (if any). */
  executedFor(coi: string): Executed[] {
    return [...this.executed.values()].filter((e) => e.tx.coi === coi && !e.ae);
  }
}
