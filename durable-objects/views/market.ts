/**
 * The market specs the check runner caches in meta (`market_<index>`, from orderBookDetails),
 * reduced to what the API needs to print amounts and prices in the market's units.
 */

export interface MarketUnits {
  size_decimals: number;
  price_decimals: number;
}

export function marketUnits(sql: SqlStorage): Record<string, MarketUnits> {
  const out: Record<string, MarketUnits> = {};
  const rows = sql
    .exec<{ key: string; value: string }>(`SELECT key, value FROM meta WHERE key GLOB 'market_[0-9]*'`)
    .toArray();
  for (const r of rows) {
    try {
      const v = JSON.parse(r.value) as { spec?: { sizeDecimals?: unknown; priceDecimals?: unknown } };
      const s = Number(v.spec?.sizeDecimals);
      const p = Number(v.spec?.priceDecimals);
      if (Number.isInteger(s) && Number.isInteger(p))
        out[r.key.slice("market_".length)] = { size_decimals: s, price_decimals: p };
    } catch {
      // A malformed cache row is ignored: the runner rewrites it on its next fetch.
    }
  }
  return out;
}
