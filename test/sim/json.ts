/**
 * The simulator's own JSON helpers (independent of worker/lighter so a misunderstanding in our
 * client is not mirrored here): `exactJson` writes bigints as bare integer literals (Lighter
 * sends order indexes above 2^53 as exact JSON numbers), `parseExact` reads integers exactly via
 * the reviver's source text (Node ≥ 21).
 */

export function exactJson(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(exactJson).join(",")}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${exactJson(v)}`);
  }
  return `{${parts.join(",")}}`;
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

export function parseExact(text: string): unknown {
  const reviver: Reviver = (_key, value, context) => {
    if (typeof value === "number" && context?.source !== undefined && /^-?\d+$/.test(context.source))
      return BigInt(context.source);
    return value;
  };
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}
