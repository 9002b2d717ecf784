/**
 * Sizing and pricing of the synthetic test order, in exact integers: a marketable IOC at the
 * market's true minimum, max(min_base_amount, ceil(min_quote_amount / price)), with the limit
 * price bounded by a slippage cap from the top of the book.
 */

export interface MarketSpec {
  marketIndex: number;
  sizeDecimals: number;
  priceDecimals: number;
  /** min_base_amount in size units (10^-sizeDecimals). */
  minBase: bigint;
  /** min_quote_amount in quote units with `quoteDecimals` digits. */
  minQuote: bigint;
  quoteDecimals: number;
}

export interface OrderPlan {
  isAsk: boolean;
  /** BaseAmount for the tx, in size units. */
  baseAmount: bigint;
  /** Price for the tx, in price ticks (uint32). */
  price: number;
  /** Best opposite price the plan was computed from, in ticks. */
  referencePrice: bigint;
  /** Notional at the reference price, in USD (display and caps only). */
  notionalUsd: number;
}

const BPS = 10_000n;

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/**
 * Plans the smallest marketable IOC for `isAsk` given the best opposite price (in ticks).
 *
 * @example
 * planTestOrder(eth, false, 235274n, 50) // buy 0.0050 ETH up to 2352.74 × 1.005
 */
export function planTestOrder(
  market: MarketSpec,
  isAsk: boolean,
  bestOpposite: bigint,
  slippageBps: number,
): OrderPlan {
  if (bestOpposite <= 0n) throw new RangeError("no opposite price to trade against");
  const slip = BigInt(Math.max(0, Math.floor(slippageBps)));
  const limit = isAsk ? (bestOpposite * (BPS - slip)) / BPS : ceilDiv(bestOpposite * (BPS + slip), BPS);
  if (limit < 1n || limit > 0xffffffffn) throw new RangeError(`limit price ${limit} outside 1..2^32-1 ticks`);
  // The notional check is made against the lower of the two prices, so the size is large enough
  // whichever price the order executes at.
  const lowPrice = limit < bestOpposite ? limit : bestOpposite;
  const scale = 10n ** BigInt(market.sizeDecimals + market.priceDecimals);
  const quoteScale = 10n ** BigInt(market.quoteDecimals);
  const forQuote = ceilDiv(market.minQuote * scale, lowPrice * quoteScale);
  const baseAmount = forQuote > market.minBase ? forQuote : market.minBase;
  return {
    isAsk,
    baseAmount,
    price: Number(limit),
    referencePrice: bestOpposite,
    notionalUsd: notionalUsd(market, baseAmount, bestOpposite),
  };
}

/** Plans a reduce-only IOC that closes `positionBase` (signed, size units): long → sell. */
export function planFlatten(
  market: MarketSpec,
  positionBase: bigint,
  bestOpposite: bigint,
  slippageBps: number,
): OrderPlan {
  const isAsk = positionBase > 0n;
  const size = positionBase < 0n ? -positionBase : positionBase;
  const slip = BigInt(Math.max(0, Math.floor(slippageBps)));
  const limit = isAsk ? (bestOpposite * (BPS - slip)) / BPS : ceilDiv(bestOpposite * (BPS + slip), BPS);
  const clamped = limit < 1n ? 1n : limit > 0xffffffffn ? 0xffffffffn : limit;
  return {
    isAsk,
    baseAmount: size,
    price: Number(clamped),
    referencePrice: bestOpposite,
    notionalUsd: notionalUsd(market, size, bestOpposite),
  };
}

export function notionalUsd(market: MarketSpec, base: bigint, priceTicks: bigint): number {
  const raw = base * priceTicks;
  const scale = 10 ** (market.sizeDecimals + market.priceDecimals);
  return Number(raw) / scale;
}

/** Spread in basis points of the mid, from ticks. */
export function spreadBps(bestBid: bigint, bestAsk: bigint): number {
  const mid = (bestBid + bestAsk) / 2n;
  if (mid <= 0n) return Number.POSITIVE_INFINITY;
  return Number(((bestAsk - bestBid) * 1_000_000n) / mid) / 100;
}
