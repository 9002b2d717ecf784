/**
 * `account_all_positions` frames (LIVE.md L.7) → the signed position per market, exact. The shared
 * frame parser classifies these frames without their payload; watch mode reads them here (they are
 * rare: placements, cancels and fills). Never throws: a malformed frame gives null.
 */
import { formatDecimal, rescale, tryParseDecimal } from "../../lighter/decimal.ts";

export interface PositionReport {
  market: number;
  /** Signed position as an exact decimal string ("-0.0100"). */
  position: string;
  /** The same at 18 decimals, for comparisons. */
  scaled: bigint;
}

/**
 * @example
 * parsePositions('{"type":"update/account_all_positions","positions":{"0":{"market_id":0,"sign":-1,"position":"0.0100"}}}')
 * // { snapshot: false, positions: [{ market: 0, position: "-0.0100", scaled: -10000000000000000n }] }
 */
export function parsePositions(text: string): { snapshot: boolean; positions: PositionReport[] } | null {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof d !== "object" || d === null) return null;
  const o = d as Record<string, unknown>;
  if (typeof o.type !== "string" || !o.type.endsWith("/account_all_positions")) return null;
  const map = o.positions;
  if (typeof map !== "object" || map === null || Array.isArray(map)) return null;
  const out: PositionReport[] = [];
  for (const [key, v] of Object.entries(map as Record<string, unknown>)) {
    if (typeof v !== "object" || v === null) return null;
    const p = v as Record<string, unknown>;
    const market = typeof p.market_id === "number" ? p.market_id : /^\d{1,5}$/.test(key) ? Number(key) : NaN;
    const amount = tryParseDecimal(p.position);
    if (!Number.isInteger(market) || !amount) return null;
    const neg = p.sign === -1 && amount.value !== 0n;
    const value = neg ? -(amount.value < 0n ? -amount.value : amount.value) : amount.value;
    out.push({
      market,
      position: formatDecimal(value, amount.scale),
      scaled: rescale({ value, scale: amount.scale }, 18),
    });
  }
  return { snapshot: o.type.startsWith("subscribed/"), positions: out };
}
