/**
 * Human units for API responses (pure). Amounts and prices that fillwatch reports become decimal
 * strings in the market's units, with the integer beside them as `<key>_raw`; every epoch-ms
 * timestamp (`at`, `*_at`, `day_start`) gains an ISO-8601 twin `<key>_iso`. Exchange frames and
 * per-event exchange details are passed through untouched (byte-for-byte as stored).
 */
import { formatDecimal } from "../lighter/decimal.ts";

export interface Units {
  size_decimals: number;
  price_decimals: number;
}

/** Amounts in size units (10^-size_decimals of the base asset). */
const SIZE_KEYS = new Set([
  "base_amount",
  "filled_base",
  "ws_filled_base",
  "rest_filled_base",
  "position_base",
  "min_base",
  "filled_base_amount",
  "cumulative_base",
]);
/** Prices in ticks (10^-price_decimals of the quote asset). */
const PRICE_KEYS = new Set(["price", "reference_price"]);
/** USD figures computed by fillwatch as floats: reported as decimal strings. */
const USD_KEYS = new Set(["notional_usd", "notional_today_usd"]);
/** Kept byte-for-byte: stored exchange frames and exchange-side details. */
const OPAQUE_KEYS = new Set(["frame", "detail", "tx_info", "last_status", "final_status"]);

const INT_RE = /^-?[0-9]+$/;
/** Epoch ms between 2001 and 2286: anything else under a time key is not a timestamp. */
const MIN_EPOCH_MS = 1e12;
const MAX_EPOCH_MS = 1e13;

export function isoOf(ms: unknown): string | null {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < MIN_EPOCH_MS || ms >= MAX_EPOCH_MS) return null;
  return new Date(ms).toISOString();
}

function isTimeKey(k: string): boolean {
  return k === "at" || k.endsWith("_at") || k === "day_start" || k === "since" || k === "until";
}

function rawInt(v: unknown): bigint | null {
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "bigint") return v;
  if (typeof v === "string" && INT_RE.test(v) && v.length < 40) return BigInt(v);
  return null;
}

/** USD float → decimal string (up to 6 places, no exponent, no trailing zeros). */
export function usdString(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const s = v.toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

/**
 * Deep copy of `value` in human units. `units` null (market spec not cached yet): amounts become
 * null and only the `_raw` integer remains meaningful.
 */
export function humanize(value: unknown, units: Units | null, depth = 0): unknown {
  if (depth > 12 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => humanize(v, units, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (OPAQUE_KEYS.has(k)) {
      out[k] = v;
      continue;
    }
    const raw = SIZE_KEYS.has(k) || PRICE_KEYS.has(k) ? rawInt(v) : null;
    if (raw !== null) {
      const scale = units ? (SIZE_KEYS.has(k) ? units.size_decimals : units.price_decimals) : null;
      out[k] = scale === null ? null : formatDecimal(raw, scale);
      out[`${k}_raw`] = raw.toString();
    } else if (USD_KEYS.has(k) && typeof v === "number") {
      out[k] = usdString(v);
    } else {
      out[k] = humanize(v, units, depth + 1);
    }
    if (isTimeKey(k) && !(`${k}_iso` in (value as Record<string, unknown>))) {
      const iso = isoOf(v);
      if (iso !== null || v === null) out[`${k}_iso`] = iso;
    }
  }
  return out;
}

/** `residual` in /status's budget: market index → signed position in size units. */
export function humanizeResidual(
  residual: unknown,
  unitsOf: (market: string) => Units | null,
): { residual: Record<string, string | null>; residual_raw: Record<string, string> } {
  const out: Record<string, string | null> = {};
  const raw: Record<string, string> = {};
  if (residual && typeof residual === "object") {
    for (const [m, v] of Object.entries(residual as Record<string, unknown>)) {
      const n = rawInt(v);
      if (n === null) continue;
      const u = unitsOf(m);
      out[m] = u ? formatDecimal(n, u.size_decimals) : null;
      raw[m] = n.toString();
    }
  }
  return { residual: out, residual_raw: raw };
}

/**
 * An event of /logs with its data in human units: amounts and prices in the market's units with
 * `*_raw` twins (the market is the event's own `market`, else the monitor's only market). Watch
 * events (`watch.*`) already carry the exchange's decimal strings and pass through unchanged.
 */
export function humanizeEvent<T extends { event: string; data: Record<string, unknown> }>(
  e: T,
  unitsOf: (market: string) => Units | null,
  onlyMarket: number | null,
): T {
  if (e.event.startsWith("watch.")) return e;
  const m = typeof e.data.market === "number" ? e.data.market : onlyMarket;
  const units = m === null ? null : unitsOf(String(m));
  return { ...e, data: humanize(e.data, units) as Record<string, unknown> };
}
