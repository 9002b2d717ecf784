/**
 * What the test orders cost in trading: a check buys (or sells) the market's minimum size across
 * the spread and its flatten closes it, so one check pays about the spread on its notional plus the
 * taker fee twice. From the order the pre-flight planned (`planned_order`: notional in USD and the
 * spread in bps, read from the book) and the market's `taker_fee` from `orderBookDetails` (a
 * percentage string such as "0.0000"; standard accounts pay none), per check and per month.
 */

export interface TradingCost {
  notional_usd: number;
  spread_bps: number;
  taker_fee_pct: number | null;
  /** Crossing the spread once over the round trip (buy at the ask, sell back at the bid). */
  spread_usd_per_check: number;
  /** Taker fee on the test order and on its flatten. */
  fees_usd_per_check: number;
  usd_per_check: number;
  usd_per_month: { every_1_min: number; every_5_min: number };
}

const CHECKS_PER_MONTH_1MIN = 30 * 24 * 60;

/** null when the check planned no order (it stopped before pre-flight, or its evidence lacks one). */
export function tradingCost(planned: unknown, takerFeePct: string | null): TradingCost | null {
  if (typeof planned !== "object" || planned === null) return null;
  const p = planned as Record<string, unknown>;
  const notional = Number(p.notional_usd);
  const spread = Number(p.spread_bps);
  if (!Number.isFinite(notional) || notional <= 0 || !Number.isFinite(spread) || spread < 0) return null;
  const fee = takerFeePct === null ? null : Number(takerFeePct);
  const feePct = fee !== null && Number.isFinite(fee) && fee >= 0 ? fee : null;
  const spreadUsd = (notional * spread) / 10_000;
  const feesUsd = feePct === null ? 0 : (2 * notional * feePct) / 100;
  const perCheck = spreadUsd + feesUsd;
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  return {
    notional_usd: notional,
    spread_bps: spread,
    taker_fee_pct: feePct,
    spread_usd_per_check: round(spreadUsd),
    fees_usd_per_check: round(feesUsd),
    usd_per_check: round(perCheck),
    usd_per_month: {
      every_1_min: Math.round(perCheck * CHECKS_PER_MONTH_1MIN * 100) / 100,
      every_5_min: Math.round(((perCheck * CHECKS_PER_MONTH_1MIN) / 5) * 100) / 100,
    },
  };
}
