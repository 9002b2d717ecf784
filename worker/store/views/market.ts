/** The cached market specs in meta, as units the API prints with (worker/views/market.ts). */
import { marketUnitsOf, type MarketUnits } from "../../views/market.ts";

export function marketUnits(sql: SqlStorage): Record<string, MarketUnits> {
  return marketUnitsOf(
    sql.exec<{ key: string; value: string }>(`SELECT key, value FROM meta WHERE key GLOB 'market_[0-9]*'`).toArray(),
  );
}
