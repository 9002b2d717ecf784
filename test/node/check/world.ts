/**
 * A small model of one Lighter API key for the check core's model test: a nonce sequence, a queue
 * of transmitted txs that execute after a random latency, IOC orders that fill or cancel at once,
 * deferred rejections (status 2 + `ae`), lost replies, REST lag and outages, and WebSocket frames
 * that may be late, withheld or forged. Time is a number the test advances.
 */
import type { SendReply, TxLookup } from "../../../worker/monitor/check/send.ts";
import type { ObservedOrder, OrderLookup } from "../../../worker/monitor/check/order.ts";

export interface SignedTx {
  hash: string;
  nonce: number;
  coi: string;
  expiredAt: number;
  checkId: string;
}

interface Queued {
  tx: SignedTx;
  at: number;
}

interface Executed {
  tx: SignedTx;
  at: number;
  ae: { code: number; message: string } | null;
  filled: boolean;
  orderIndex: string;
}

export interface WorldKnobs {
  execLatency: number;
  restLag: number;
  restDown: boolean;
  replyMode: "ok" | "5xx" | "timeout";
  appReject: boolean;
  fills: boolean;
  withholdWs: boolean;
}

export const ACCOUNT = "77";
export const MARKET = 0;

export class World {
  now = 0;
  nextNonce = 1;
  knobs: WorldKnobs = {
    execLatency: 50,
    restLag: 0,
    restDown: false,
    replyMode: "ok",
    appReject: false,
    fills: true,
    withholdWs: false,
  };
  readonly queue: Queued[] = [];
  readonly executed = new Map<string, Executed>();
  /** Frames waiting to be delivered: [deliverAt, frame]. */
  readonly frames: { at: number; order: ObservedOrder }[] = [];
  private seq = 0;

  /** The exchange receives the bytes: refused at once on a nonce gap, else queued for execution. */
  transmit(tx: SignedTx): SendReply | "no_reply" {
    this.run();
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

  /** Executes what is due: a live client order index is a deferred 21728; IOCs end at once. */
  run(): void {
    for (let i = 0; i < this.queue.length;) {
      const q = this.queue[i]!;
      if (q.at > this.now) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      const ae = this.knobs.appReject ? { code: 21739, message: "not enough margin" } : null;
      const orderIndex = String(2n ** 60n - BigInt(++this.seq));
      const e: Executed = { tx: q.tx, at: q.at, ae, filled: ae === null && this.knobs.fills, orderIndex };
      this.executed.set(q.tx.hash, e);
      if (ae === null && !this.knobs.withholdWs) {
        this.frames.push({ at: q.at + 5, order: this.observed(e, "open", "0") });
        this.frames.push({
          at: q.at + 10,
          order: this.observed(e, e.filled ? "filled" : "canceled-too-much-slippage", e.filled ? "50" : "0"),
        });
      }
    }
  }

  forge(coi: string, how: "account" | "order_index"): void {
    this.frames.push({
      at: this.now,
      order: {
        account: how === "account" ? "999" : ACCOUNT,
        owner: how === "account" ? "999" : ACCOUNT,
        market: MARKET,
        clientOrderIndex: coi,
        orderIndex: String(2n ** 55n + 12345n),
        status: "filled",
        filled: "50",
      },
    });
  }

  private observed(e: Executed, status: string, filled: string): ObservedOrder {
    return {
      account: ACCOUNT,
      owner: ACCOUNT,
      market: MARKET,
      clientOrderIndex: e.tx.coi,
      orderIndex: e.orderIndex,
      status,
      filled,
    };
  }

  lookupOrder(coi: string): OrderLookup {
    this.run();
    if (this.knobs.restDown) return { kind: "unknown", reason: "HTTP 503" };
    for (const e of this.executed.values()) {
      if (e.tx.coi !== coi || e.ae || this.now < e.at + this.knobs.restLag) continue;
      return {
        kind: "found",
        order: this.observed(e, e.filled ? "filled" : "canceled-too-much-slippage", e.filled ? "50" : "0"),
      };
    }
    return { kind: "absent" };
  }

  lookupTx(hash: string): TxLookup {
    this.run();
    if (this.knobs.restDown) return { kind: "unknown", reason: "HTTP 503" };
    const e = this.executed.get(hash);
    if (!e || this.now < e.at + this.knobs.restLag) return { kind: "unknown", reason: "21500 tx not found" };
    return { kind: "record", status: 2, ae: e.ae };
  }

  /** Executed CreateOrders that created an order, per check. */
  ordersPerCheck(): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.executed.values()) {
      if (!e.ae) m.set(e.tx.checkId, (m.get(e.tx.checkId) ?? 0) + 1);
    }
    return m;
  }

  /** Our txs that could still create an order (queued and not expired). */
  inFlight(): number {
    return this.queue.filter((q) => q.tx.expiredAt >= this.now).length;
  }

  filledFor(checkId: string): boolean {
    for (const e of this.executed.values()) if (e.tx.checkId === checkId && e.filled) return true;
    return false;
  }
}
