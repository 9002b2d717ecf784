/**
 * Fill detection for our own orders (PROTOCOL.md §4), as a pure reducer. The cumulative
 * `filled_base_amount` is the source of truth and a fill is its INCREASE — not
 * `status == "filled"`: partial fills stay `open`, IOC remainders end `canceled-*` with a fill.
 * Trades are evidence, de-duplicated by trade id; their sum per order never exceeds the
 * cumulative amount, and a mismatch is reported.
 */
import type { Order, Trade } from "./messages.ts";
import { rescale, type Decimal } from "./decimal.ts";

export type StatusReason =
  | "open"
  | "filled"
  | "canceled"
  | "in-progress"
  | "pending"
  | "unknown"
  | "post-only"
  | "reduce-only"
  | "position-not-allowed"
  | "margin-not-allowed"
  | "too-much-slippage"
  | "not-enough-liquidity"
  | "self-trade"
  | "expired"
  | "oco"
  | "child"
  | "liquidation"
  | "invalid-balance";

/**
 * @example
 * classifyStatus("canceled-too-much-slippage") // { terminal: true, reason: "too-much-slippage" }
 */
export function classifyStatus(status: string): { terminal: boolean; reason: StatusReason } {
  switch (status) {
    case "open":
      return { terminal: false, reason: "open" };
    case "in-progress":
      return { terminal: false, reason: "in-progress" };
    case "pending":
      return { terminal: false, reason: "pending" };
    case "filled":
      return { terminal: true, reason: "filled" };
    case "canceled":
      return { terminal: true, reason: "canceled" };
  }
  if (status.startsWith("canceled-")) {
    const r = status.slice("canceled-".length);
    const known: StatusReason[] = [
      "post-only",
      "reduce-only",
      "position-not-allowed",
      "margin-not-allowed",
      "too-much-slippage",
      "not-enough-liquidity",
      "self-trade",
      "expired",
      "oco",
      "child",
      "liquidation",
      "invalid-balance",
    ];
    return { terminal: true, reason: (known as string[]).includes(r) ? (r as StatusReason) : "canceled" };
  }
  return { terminal: false, reason: "unknown" };
}

export interface TrackedOrder {
  clientOrderIndex: bigint;
  orderIndex: bigint | null;
  market: number;
  status: string | null;
  /** Cumulative filled base, in the scale of `scale`. */
  filledBase: bigint;
  filledQuote: bigint;
  scale: number;
  quoteScale: number;
  tradeIds: Set<bigint>;
  tradeBase: bigint;
  terminal: boolean;
}

export type FillEvent =
  | { kind: "seen"; clientOrderIndex: bigint; orderIndex: bigint; status: string }
  | {
      kind: "fill";
      clientOrderIndex: bigint;
      deltaBase: bigint;
      cumulativeBase: bigint;
      cumulativeQuote: bigint;
      status: string;
    }
  | { kind: "status"; clientOrderIndex: bigint; status: string; terminal: boolean; reason: StatusReason }
  | {
      kind: "anomaly";
      clientOrderIndex: bigint;
      anomaly: "filled_decreased" | "trade_sum_exceeds_cumulative" | "unknown_status";
      detail: string;
    }
  | { kind: "trade"; clientOrderIndex: bigint; tradeId: bigint; size: bigint; duplicate: boolean };

/** State over our orders, keyed by client order index (and by order index once seen). */
export class FillTracker {
  private byCoi = new Map<bigint, TrackedOrder>();
  private byIndex = new Map<bigint, bigint>();

  track(clientOrderIndex: bigint, market: number): TrackedOrder {
    let t = this.byCoi.get(clientOrderIndex);
    if (!t) {
      t = {
        clientOrderIndex,
        orderIndex: null,
        market,
        status: null,
        filledBase: 0n,
        filledQuote: 0n,
        scale: 0,
        quoteScale: 0,
        tradeIds: new Set(),
        tradeBase: 0n,
        terminal: false,
      };
      this.byCoi.set(clientOrderIndex, t);
    }
    return t;
  }

  get(clientOrderIndex: bigint): TrackedOrder | undefined {
    return this.byCoi.get(clientOrderIndex);
  }

  /** One order object from a frame or from REST. Unknown orders (not tracked) yield nothing. */
  applyOrder(o: Order): FillEvent[] {
    const coi = o.clientOrderIndex !== 0n ? o.clientOrderIndex : this.byIndex.get(o.orderIndex);
    if (coi === undefined) return [];
    const t = this.byCoi.get(coi);
    if (!t) return [];
    const out: FillEvent[] = [];
    if (t.orderIndex === null) {
      t.orderIndex = o.orderIndex;
      this.byIndex.set(o.orderIndex, coi);
      out.push({ kind: "seen", clientOrderIndex: coi, orderIndex: o.orderIndex, status: o.status });
    }
    const scale = Math.max(t.scale, o.filledBase.scale);
    const prev = rescale({ value: t.filledBase, scale: t.scale }, scale);
    const now = rescale(o.filledBase, scale);
    t.scale = scale;
    t.filledBase = prev;
    if (now > prev) {
      t.filledBase = now;
      const qs = Math.max(t.quoteScale, o.filledQuote.scale);
      t.filledQuote = rescale(o.filledQuote, qs);
      t.quoteScale = qs;
      out.push({
        kind: "fill",
        clientOrderIndex: coi,
        deltaBase: now - prev,
        cumulativeBase: now,
        cumulativeQuote: t.filledQuote,
        status: o.status,
      });
    } else if (now < prev) {
      out.push({
        kind: "anomaly",
        clientOrderIndex: coi,
        anomaly: "filled_decreased",
        detail: `filled_base went from ${prev} to ${now} (scale ${scale})`,
      });
    }
    if (o.status !== t.status) {
      const c = classifyStatus(o.status);
      t.status = o.status;
      t.terminal = t.terminal || c.terminal;
      if (c.reason === "unknown")
        out.push({ kind: "anomaly", clientOrderIndex: coi, anomaly: "unknown_status", detail: o.status });
      out.push({ kind: "status", clientOrderIndex: coi, status: o.status, terminal: c.terminal, reason: c.reason });
    }
    return out;
  }

  /** A trade touching our orders: evidence, de-duplicated by trade id. */
  applyTrade(tr: Trade): FillEvent[] {
    const out: FillEvent[] = [];
    for (const [clientId, id] of [
      [tr.askClientId, tr.askId],
      [tr.bidClientId, tr.bidId],
    ] as const) {
      const coi = clientId !== 0n && this.byCoi.has(clientId) ? clientId : this.byIndex.get(id);
      if (coi === undefined) continue;
      const t = this.byCoi.get(coi)!;
      const duplicate = t.tradeIds.has(tr.tradeId);
      if (!duplicate) {
        t.tradeIds.add(tr.tradeId);
        t.tradeBase += rescaleTo(tr.size, t.scale || tr.size.scale);
        if (!t.scale) t.scale = tr.size.scale;
      }
      out.push({ kind: "trade", clientOrderIndex: coi, tradeId: tr.tradeId, size: tr.size.value, duplicate });
      if (!duplicate && t.tradeBase > t.filledBase && t.filledBase > 0n) {
        out.push({
          kind: "anomaly",
          clientOrderIndex: coi,
          anomaly: "trade_sum_exceeds_cumulative",
          detail: `trades sum ${t.tradeBase} > cumulative ${t.filledBase}`,
        });
      }
    }
    return out;
  }
}

function rescaleTo(d: Decimal, scale: number): bigint {
  return rescale(d, scale);
}
