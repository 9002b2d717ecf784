/**
 * The market specs the check caches in meta (`market_<index>`, from orderBookDetails: see
 * monitor/check/carrier.ts), reduced to what the API needs to print amounts and prices in the
 * market's units.
 */

export interface MarketUnits {
  size_decimals: number;
  price_decimals: number;
}

/** Units per market index from the cached rows; a malformed row is left out (the next fetch rewrites it). */
export function marketUnitsOf(rows: readonly { key: string; value: string }[]): Record<string, MarketUnits> {
  const out: Record<string, MarketUnits> = {};
  for (const r of rows) {
    try {
      const v = JSON.parse(r.value) as { spec?: { sizeDecimals?: unknown; priceDecimals?: unknown } };
      const s = Number(v.spec?.sizeDecimals);
      const p = Number(v.spec?.priceDecimals);
      if (Number.isInteger(s) && Number.isInteger(p))
        out[r.key.slice("market_".length)] = { size_decimals: s, price_decimals: p };
    } catch {
      // left out
    }
  }
  return out;
}
