/** Lighter's decimal strings ("0.0050", "2352.74") as exact scaled bigints; never floats. */

export interface Decimal {
  /** The digits as an integer: "0.0050" → 50n. */
  value: bigint;
  /** Digits after the point: "0.0050" → 4. */
  scale: number;
}

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * @example
 * parseDecimal("0.0050") // { value: 50n, scale: 4 }
 */
export function parseDecimal(text: string): Decimal {
  if (typeof text !== "string") throw new RangeError("decimal must be a string");
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal string: ${JSON.stringify(text.slice(0, 40))}`);
  const frac = m[3] ?? "";
  const v = BigInt(`${m[2]}${frac}`);
  return { value: m[1] ? -v : v, scale: frac.length };
}

export function tryParseDecimal(text: unknown): Decimal | null {
  if (typeof text !== "string") return null;
  try {
    return parseDecimal(text);
  } catch {
    return null;
  }
}

/** The same amount at another scale (truncating toward zero when the scale shrinks). */
export function rescale(d: Decimal, scale: number): bigint {
  if (scale === d.scale) return d.value;
  if (scale > d.scale) return d.value * 10n ** BigInt(scale - d.scale);
  return d.value / 10n ** BigInt(d.scale - scale);
}

export function formatDecimal(value: bigint, scale: number): string {
  const neg = value < 0n;
  const digits = (neg ? -value : value).toString().padStart(scale + 1, "0");
  const s = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${s}` : s;
}
