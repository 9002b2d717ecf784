/**
 * The soak's virtual exchange for the check machine: one Lighter account on one perp market, on a
 * virtual clock. It speaks in real Lighter frame texts (book snapshot and deltas, account_orders and
 * account_all_orders updates, error frames) and answers sendTx and REST look-ups, and it carries the
 * simulator's fault catalogue (test/sim/faults.ts) at the same points: the socket, subscriptions,
 * frames, matching, sendTx and REST. Everything is a scheduled callback; the soak loop runs them in
 * time order. The position of the account is kept exactly, so the soak can check that a check
 * leaves it as found.
 */
import type { FaultName } from "../../sim/faults.ts";
import { Rng } from "../../sim/random.ts";

export const ACCOUNT = "281474976710677";
export const MARKET = 0;
/** Size decimals 4, price decimals 2 (ETH-like). */
export const SIZE_DECIMALS = 4;
export const PRICE_DECIMALS = 2;
export const MIN_BASE = 50n;

export interface ActiveFault {
  name: FaultName;
  params: Record<string, unknown>;
}

export interface ConnHandler {
  /** The upgrade succeeded (before any frame). */
  opened?(): void;
  frame(text: string): void;
  closed(code: number, reason: string): void;
  failed(status: number | null, message: string): void;
}

/** A signed CreateOrder as the exchange receives it. */
export interface WireTx {
  hash: string;
  nonce: number;
  coi: string;
  isAsk: boolean;
  base: bigint;
  /** Limit price in ticks. */
  price: number;
  reduceOnly: boolean;
  expiredAt: number;
}

export type WireReply =
  { kind: "http"; status: number; code: number | null; message: string } | { kind: "no_reply"; reason: "timeout" };

export interface RestOrder {
  kind: "found" | "absent" | "unknown";
  status?: string;
  filled?: string;
  orderIndex?: string;
  coi?: string;
  account?: string;
  reason?: string;
}

interface Executed {
  tx: WireTx;
  at: number;
  orderIndex: string;
  ae: { code: number; message: string } | null;
  filled: bigint;
  status: string;
}

interface Conn {
  id: number;
  h: ConnHandler;
  open: boolean;
  subs: Set<string>;
  bookTimer: boolean;
  bookNonce: number;
  gapPending: boolean;
  held: string | null;
}

type Task = { at: number; seq: number; fn: () => void };

export class SoakWorld {
  now = 0;
  readonly rng: Rng;
  /** The fault of the current check (the soak sets and clears it). */
  fault: ActiveFault | null = null;
  /** The account's position, base units, signed. */
  position = 0n;
  nextNonce = 0;
  readonly executed = new Map<string, Executed>();
  /** Counters the report reads. */
  readonly stats = { frames: 0, bookFrames: 0, orderFrames: 0, ordersCreated: 0, connects: 0, restCalls: 0 };
  /** Orders created (not rejected) per virtual ms bucket of a tick key: set by the soak. */
  ordersByTick = new Map<string, number>();
  currentTick = "";
  private readonly bookIntervalMs: number;
  private readonly execLatencyMs: number;
  private readonly queue: Task[] = [];
  private seq = 0;
  private conns = new Map<number, Conn>();
  private connSeq = 0;
  private bid = 237_300;
  private ask = 237_320;
  private orderSeq = 0n;

  constructor(o: { seed: number; bookIntervalMs: number; execLatencyMs: number }) {
    this.rng = new Rng(o.seed);
    this.bookIntervalMs = o.bookIntervalMs;
    this.execLatencyMs = o.execLatencyMs;
  }

  // ------------------------------------------------------------------ the clock
  at(at: number, fn: () => void): void {
    const t: Task = { at: Math.max(at, this.now), seq: ++this.seq, fn };
    // Binary insertion keeps the queue sorted by (at, seq).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.at < t.at || (q.at === t.at && q.seq < t.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, t);
  }

  /** Runs the next task due by `until` (false when none is left: the clock is then `until`). */
  step(until: number): boolean {
    const t = this.queue[0];
    if (!t || t.at > until) {
      this.now = Math.max(this.now, until);
      return false;
    }
    this.queue.shift();
    this.now = t.at;
    t.fn();
    return true;
  }

  private has(name: FaultName): ActiveFault | null {
    return this.fault?.name === name ? this.fault : null;
  }

  private num(f: ActiveFault | null, key: string, def: number): number {
    const v = f?.params[key];
    return typeof v === "number" ? v : def;
  }

  // ------------------------------------------------------------------ the socket
  connect(h: ConnHandler): number {
    const id = ++this.connSeq;
    this.stats.connects++;
    const refuse = this.has("refuse_connections");
    if (refuse) {
      this.at(this.now + 20, () => h.failed(this.num(refuse, "status", 503), "refused"));
      return id;
    }
    const c: Conn = {
      id,
      h,
      open: true,
      subs: new Set(),
      bookTimer: false,
      bookNonce: 1,
      gapPending: false,
      held: null,
    };
    this.conns.set(id, c);
    this.at(this.now + 3, () => {
      if (c.open) h.opened?.();
    });
    this.at(this.now + 5, () => {
      if (!c.open) return;
      if (!this.has("no_connected_frame") && !this.has("stall"))
        this.send(c, `{"session_id":"s${id}","type":"connected"}`);
      const close = this.has("close_after_connect");
      if (close) this.closeConn(c, this.num(close, "code", 1011), "closed by server");
      const drop = this.has("drop_connection");
      if (drop) this.at(this.now + this.num(drop, "after_ms", 0), () => this.closeConn(c, 1006, ""));
      const ping = this.has("server_ping");
      if (ping) this.pingLoop(c, this.num(ping, "every_ms", 1000));
    });
    return id;
  }

  private pingLoop(c: Conn, every: number): void {
    this.at(this.now + every, () => {
      if (!c.open) return;
      this.send(c, `{"type":"ping"}`);
      this.pingLoop(c, every);
    });
  }

  /** The client's pong (a client that never answers is closed 1008 by the server). */
  pong(_conn: number): void {}

  close(conn: number): void {
    const c = this.conns.get(conn);
    if (c) {
      c.open = false;
      this.conns.delete(conn);
    }
  }

  private closeConn(c: Conn, code: number, reason: string): void {
    if (!c.open) return;
    c.open = false;
    this.conns.delete(c.id);
    c.h.closed(code, reason);
  }

  subscribe(conn: number, channel: string): void {
    const c = this.conns.get(conn);
    if (!c || !c.open || this.has("stall")) return;
    const ignore = this.has("ignore_subscriptions");
    if (ignore && channel.startsWith(String(ignore.params.channel ?? ""))) return;
    const isAccount = channel.startsWith("account_");
    if (isAccount && (this.has("reject_auth") || this.has("expire_auth"))) {
      this.at(this.now + 5, () =>
        this.send(c, `{"error":{"code":20013,"message":"invalid auth: couldnt find account"},"type":"error"}`),
      );
      return;
    }
    c.subs.add(channel.split("/")[0]!);
    this.at(this.now + 10, () => {
      if (channel.startsWith("order_book")) {
        this.send(c, this.bookFrame("subscribed", c));
        this.bookLoop(c);
      } else {
        const ch = channel.replaceAll("/", ":");
        this.send(c, `{"channel":"${ch}","orders":{},"type":"subscribed/${channel.split("/")[0]}"}`);
      }
    });
  }

  private bookLoop(c: Conn): void {
    if (c.bookTimer) return;
    c.bookTimer = true;
    const tick = () => {
      if (!c.open) return;
      if (!this.has("stop_book_updates")) {
        if (this.has("book_nonce_gap") && !c.gapPending) {
          c.gapPending = true;
          c.bookNonce += 7;
        }
        // The mid walks a little; the spread stays 2 ticks wide; the levels left behind are removed.
        const step = this.rng.int(-2, 2);
        const prev = { bid: this.bid, ask: this.ask };
        this.bid += step;
        this.ask += step;
        this.send(c, this.bookFrame("update", c, step === 0 ? null : prev));
      }
      this.at(this.now + this.bookIntervalMs, tick);
    };
    this.at(this.now + this.bookIntervalMs, tick);
  }

  private bookFrame(
    kind: "subscribed" | "update",
    c: Conn,
    removed: { bid: number; ask: number } | null = null,
  ): string {
    const begin = c.bookNonce;
    c.bookNonce += this.rng.int(1, 3);
    const p = (t: number) => `${Math.floor(t / 100)}.${String(t % 100).padStart(2, "0")}`;
    const size = `${this.rng.int(1, 9)}.${String(this.rng.int(0, 9999)).padStart(4, "0")}`;
    const gone = (t: number | undefined) => (t === undefined ? "" : `{"price":"${p(t)}","size":"0.0000"},`);
    this.stats.bookFrames++;
    return (
      `{"channel":"order_book:0","offset":${c.bookNonce},"order_book":{"code":0,` +
      `"asks":[${gone(removed?.ask)}{"price":"${p(this.ask)}","size":"${size}"}],` +
      `"bids":[${gone(removed?.bid)}{"price":"${p(this.bid)}","size":"${size}"}],` +
      `"offset":${c.bookNonce},"nonce":${c.bookNonce},"begin_nonce":${kind === "subscribed" ? 0 : begin}},` +
      `"timestamp":${this.now},"type":"${kind}/order_book"}`
    );
  }

  /** The best prices in ticks. */
  top(): { bid: number; ask: number } {
    return { bid: this.bid, ask: this.ask };
  }

  private send(c: Conn, text: string): void {
    if (!c.open) return;
    const delay = this.num(this.has("delay_frames"), "ms", 0);
    const deliver = (t: string) => {
      if (!c.open) return;
      this.stats.frames++;
      c.h.frame(t);
    };
    const go = (t: string) => {
      if (this.has("reorder_frames")) {
        if (c.held === null) {
          c.held = t;
          // A held frame is flushed after a short while if no partner comes.
          this.at(this.now + 200, () => {
            if (c.held !== null) {
              const h = c.held;
              c.held = null;
              deliver(h);
            }
          });
          return;
        }
        const h = c.held;
        c.held = null;
        deliver(t);
        deliver(h);
        return;
      }
      deliver(t);
      if (this.has("duplicate_frames")) deliver(t);
    };
    if (delay > 0) this.at(this.now + delay, () => go(text));
    else go(text);
    if (this.has("malformed_frames") && this.rng.next() < 0.05)
      deliver(this.rng.pick(['{"type":', '{"type":"update/unknown"}', '{"type":"update/order_book","order_book":7}']));
  }

  // ------------------------------------------------------------------ sendTx and matching
  sendTx(tx: WireTx, reply: (r: WireReply) => void): void {
    const rej = this.has("reject_tx");
    const lose = this.has("lose_send_reply");
    this.at(this.now + 40, () => {
      if (rej && (!rej.params.reduce_only || tx.reduceOnly)) {
        reply({ kind: "http", status: 400, code: this.num(rej, "code", 21120), message: "rejected" });
        return;
      }
      if (tx.nonce !== this.nextNonce || this.executed.has(tx.hash) || this.now > tx.expiredAt) {
        reply({ kind: "http", status: 400, code: 21104, message: "invalid nonce" });
        return;
      }
      this.nextNonce++;
      const lateFill = this.num(this.has("late_fill"), "ms", 0);
      this.at(this.now + this.execLatencyMs + (tx.reduceOnly ? 0 : lateFill), () => this.execute(tx));
      if (lose && !tx.reduceOnly) {
        if (lose.params.mode === "timeout") reply({ kind: "no_reply", reason: "timeout" });
        else reply({ kind: "http", status: 500, code: null, message: "internal error" });
        return;
      }
      reply({ kind: "http", status: 200, code: 200, message: "{}" });
    });
  }

  private execute(tx: WireTx): void {
    const fail = this.has("fail_tx_execution");
    const orderIndex = (2n ** 56n + ++this.orderSeq).toString();
    const ae = fail && !tx.reduceOnly ? { code: this.num(fail, "code", 21739), message: "not enough margin" } : null;
    let filled = 0n;
    let status = "canceled-too-much-slippage";
    if (!ae) {
      this.stats.ordersCreated++;
      this.ordersByTick.set(this.currentTick, (this.ordersByTick.get(this.currentTick) ?? 0) + 1);
      const crosses = tx.isAsk ? tx.price <= this.bid : tx.price >= this.ask;
      const size = tx.reduceOnly ? this.reduceOnlySize(tx) : tx.base;
      if (crosses && size > 0n && !(this.has("never_match") && !tx.reduceOnly)) {
        filled = size;
        status = "filled";
        this.position += tx.isAsk ? -size : size;
      } else if (size === 0n) status = "canceled-reduce-only";
    }
    const e: Executed = { tx, at: this.now, orderIndex, ae, filled, status };
    this.executed.set(tx.hash, e);
    if (!ae && !tx.reduceOnly) this.reportOrder(e);
  }

  private reduceOnlySize(tx: WireTx): bigint {
    const reducible = tx.isAsk ? (this.position > 0n ? this.position : 0n) : this.position < 0n ? -this.position : 0n;
    return tx.base < reducible ? tx.base : reducible;
  }

  private orderText(e: Executed, status: string, filled: bigint, o: { account?: string; index?: string } = {}): string {
    const f = `${filled / 10_000n}.${String(filled % 10_000n).padStart(4, "0")}`;
    return (
      `{"order_index":${o.index ?? e.orderIndex},"order_id":"${o.index ?? e.orderIndex}",` +
      `"client_order_index":${e.tx.coi},"client_order_id":"${e.tx.coi}","market_index":0,` +
      `"owner_account_index":${o.account ?? ACCOUNT},"initial_base_amount":"0.0050","price":"2373.20",` +
      `"remaining_base_amount":"0.0000","is_ask":${e.tx.isAsk},"filled_base_amount":"${f}",` +
      `"filled_quote_amount":"0.000000","type":"limit","time_in_force":"immediate-or-cancel",` +
      `"reduce_only":${e.tx.reduceOnly},"status":"${status}","timestamp":${this.now}}`
    );
  }

  private reportOrder(e: Executed): void {
    if (this.has("withhold_account_orders") || this.has("withhold_orders") || this.has("throttle_account_frames"))
      return;
    const late = this.num(this.has("late_report"), "ms", 0);
    const withheld = this.has("withhold_channel")?.params.channel;
    const forge = this.has("forge_fill");
    for (const c of [...this.conns.values()]) {
      for (const family of ["account_orders", "account_all_orders"] as const) {
        if (!c.subs.has(family)) continue;
        const ch = family === "account_orders" ? `account_orders:0:${ACCOUNT}` : `account_all_orders:${ACCOUNT}`;
        const frame = (body: string) =>
          `{"account":${ACCOUNT},"channel":"${ch}","orders":{"0":[${body}]},"type":"update/${family}"}`;
        if (forge && family === "account_orders") {
          const other = forge.params.mode === "other_account" ? { account: "999" } : { index: String(2n ** 55n + 7n) };
          this.send(c, frame(this.orderText(e, "filled", e.tx.base, other)));
        }
        const withholdFill = withheld === family;
        this.at(this.now + 5 + late, () => {
          this.stats.orderFrames++;
          this.send(c, frame(this.orderText(e, "open", 0n)));
          if (!withholdFill) this.send(c, frame(this.orderText(e, e.status, e.filled)));
        });
      }
    }
  }

  // ------------------------------------------------------------------ REST
  /** Any REST call: `answer` when it is served, `fail(status)` under rest_errors. */
  rest<T>(answer: () => T, fail: (status: number) => T, cb: (v: T) => void): void {
    this.stats.restCalls++;
    const slow = this.num(this.has("slow_rest"), "ms", 0);
    const err = this.has("rest_errors");
    this.at(this.now + 30 + slow, () => cb(err ? fail(this.num(err, "status", 500)) : answer()));
  }

  private lag(): number {
    return this.num(this.has("rest_lag_ms"), "ms", 0);
  }

  lookupOrder(coi: string, cb: (r: RestOrder) => void): void {
    this.rest<RestOrder>(
      () => {
        for (const e of this.executed.values()) {
          if (e.tx.coi !== coi || e.ae || this.now < e.at + this.lag()) continue;
          const filled = `${e.filled}`;
          return { kind: "found", status: e.status, filled, orderIndex: e.orderIndex, coi, account: ACCOUNT };
        }
        return { kind: "absent" };
      },
      (s) => ({ kind: "unknown", reason: `HTTP ${s}` }),
      cb,
    );
  }

  lookupTx(
    hash: string,
    cb: (
      r:
        | { kind: "record"; status: number; ae: { code: number; message: string } | null }
        | { kind: "unknown"; reason: string },
    ) => void,
  ): void {
    this.rest(
      () => {
        const e = this.executed.get(hash);
        if (!e || this.now < e.at + this.lag()) return { kind: "unknown" as const, reason: "21500 tx not found" };
        return { kind: "record" as const, status: 2, ae: e.ae };
      },
      (s) => ({ kind: "unknown" as const, reason: `HTTP ${s}` }),
      cb,
    );
  }

  lookupPosition(cb: (r: { kind: "ok"; position: bigint } | { kind: "unknown"; reason: string }) => void): void {
    this.rest(
      () => ({ kind: "ok" as const, position: this.position }),
      (s) => ({ kind: "unknown" as const, reason: `HTTP ${s}` }),
      cb,
    );
  }

  /** Our txs that could still create an order (sent, not executed, not expired). */
  openConnections(): number {
    return this.conns.size;
  }
}
