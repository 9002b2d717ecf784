/**
 * A local order book for one market from `order_book` frames (PROTOCOL.md §3): snapshot, then
 * deltas carrying absolute sizes ("0" removes a level). Continuity is begin_nonce == previous
 * nonce — never `offset`, which is per API server and jumps on reconnect. On a gap the book drops
 * its state and asks the caller to resubscribe (unsubscribe, then subscribe).
 */
import type { Level, LighterEvent } from "./messages.ts";

export type BookApplyResult =
  | { kind: "ok"; continuity: "checked" | "unchecked" | "snapshot" }
  | { kind: "ignored"; reason: "no snapshot yet" | "other market" | "duplicate" }
  | { kind: "gap"; expected: bigint; got: bigint | null };

export interface BookTop {
  bestBid?: Level;
  bestAsk?: Level;
}

type BookFrame = Extract<LighterEvent, { kind: "order_book_snapshot" | "order_book_update" }>;

export class OrderBook {
  readonly market: number;
  private bids = new Map<bigint, Level>();
  private asks = new Map<bigint, Level>();
  private bestBidCache: Level | null | undefined = undefined;
  private bestAskCache: Level | null | undefined = undefined;
  private lastNonce: bigint | null = null;
  private ready = false;
  private counters = { snapshots: 0, deltas: 0, gaps: 0, ignored: 0, unchecked: 0, duplicates: 0 };

  constructor(market: number) {
    this.market = market;
  }

  get isReady(): boolean {
    return this.ready;
  }

  apply(ev: BookFrame): BookApplyResult {
    if (ev.market !== this.market) return { kind: "ignored", reason: "other market" };
    if (ev.kind === "order_book_snapshot") {
      this.bids.clear();
      this.asks.clear();
      for (const l of ev.bids) if (l.size !== 0n) this.bids.set(l.price, l);
      for (const l of ev.asks) if (l.size !== 0n) this.asks.set(l.price, l);
      this.bestBidCache = undefined;
      this.bestAskCache = undefined;
      this.lastNonce = ev.nonce;
      this.ready = true;
      this.counters.snapshots++;
      return { kind: "ok", continuity: "snapshot" };
    }
    if (!this.ready) {
      this.counters.ignored++;
      return { kind: "ignored", reason: "no snapshot yet" };
    }
    let continuity: "checked" | "unchecked" = "unchecked";
    // A delta whose nonce was already applied is a duplicate delivery, not a gap.
    if (
      ev.nonce !== null &&
      this.lastNonce !== null &&
      ev.nonce <= this.lastNonce &&
      ev.beginNonce !== this.lastNonce
    ) {
      this.counters.duplicates++;
      return { kind: "ignored", reason: "duplicate" };
    }
    if (ev.beginNonce !== null && this.lastNonce !== null) {
      if (ev.beginNonce !== this.lastNonce) {
        const expected = this.lastNonce;
        this.reset();
        this.counters.gaps++;
        return { kind: "gap", expected, got: ev.beginNonce };
      }
      continuity = "checked";
    } else {
      this.counters.unchecked++;
    }
    for (const l of ev.bids) this.setLevel(this.bids, l, "bid");
    for (const l of ev.asks) this.setLevel(this.asks, l, "ask");
    if (ev.nonce !== null) this.lastNonce = ev.nonce;
    this.counters.deltas++;
    return { kind: "ok", continuity };
  }

  private setLevel(side: Map<bigint, Level>, l: Level, which: "bid" | "ask"): void {
    const cache = which === "bid" ? this.bestBidCache : this.bestAskCache;
    if (l.size === 0n) {
      side.delete(l.price);
      if (cache && cache.price === l.price) this.invalidate(which);
      return;
    }
    side.set(l.price, l);
    if (cache === undefined) return;
    if (cache === null || (which === "bid" ? l.price >= cache.price : l.price <= cache.price)) {
      if (which === "bid") this.bestBidCache = l;
      else this.bestAskCache = l;
    }
  }

  private invalidate(which: "bid" | "ask"): void {
    if (which === "bid") this.bestBidCache = undefined;
    else this.bestAskCache = undefined;
  }

  reset(): void {
    this.bids.clear();
    this.asks.clear();
    this.bestBidCache = undefined;
    this.bestAskCache = undefined;
    this.lastNonce = null;
    this.ready = false;
  }

  top(): BookTop {
    if (this.bestBidCache === undefined) {
      let best: Level | null = null;
      for (const l of this.bids.values()) if (!best || l.price > best.price) best = l;
      this.bestBidCache = best;
    }
    if (this.bestAskCache === undefined) {
      let best: Level | null = null;
      for (const l of this.asks.values()) if (!best || l.price < best.price) best = l;
      this.bestAskCache = best;
    }
    const out: BookTop = {};
    if (this.bestBidCache) out.bestBid = this.bestBidCache;
    if (this.bestAskCache) out.bestAsk = this.bestAskCache;
    return out;
  }

  /** Sorted levels: bids descending, asks ascending. */
  levels(side: "bids" | "asks", depth = Infinity): Level[] {
    const list = [...(side === "bids" ? this.bids : this.asks).values()];
    list.sort((a, b) => (side === "bids" ? (a.price > b.price ? -1 : 1) : a.price < b.price ? -1 : 1));
    return list.slice(0, depth);
  }

  crossed(): boolean {
    const t = this.top();
    return !!(t.bestBid && t.bestAsk && t.bestBid.price >= t.bestAsk.price);
  }

  /** Mid and spread in integer ticks of the price's own scale (mid rounded down). */
  midTicks(): bigint | null {
    const t = this.top();
    return t.bestBid && t.bestAsk ? (t.bestBid.price + t.bestAsk.price) / 2n : null;
  }

  spreadTicks(): bigint | null {
    const t = this.top();
    return t.bestBid && t.bestAsk ? t.bestAsk.price - t.bestBid.price : null;
  }

  get nonce(): bigint | null {
    return this.lastNonce;
  }

  stats(): {
    levels: number;
    snapshots: number;
    deltas: number;
    gaps: number;
    ignored: number;
    unchecked: number;
    duplicates: number;
  } {
    return { levels: this.bids.size + this.asks.size, ...this.counters };
  }
}
