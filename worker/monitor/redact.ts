/**
 * Redaction for everything the event log stores: secret-looking fields, auth-token signatures in
 * free text (raw frames), and the private key wherever it appears; bigints become strings.
 */

const SECRET_KEYS = /^(auth|authorization|private_?key|secret|token|api_token|routing_key|password)$/i;
/** deadline:account:apiKey:<160 hex signature> */
const AUTH_TOKEN_RE = /\b(\d{9,12}:\d{1,19}:\d{1,3}:)[0-9a-f]{160}\b/gi;
const LONG_HEX_KEY_RE = /\b(0x)?[0-9a-f]{80}\b/gi;

/** Redacts auth-token signatures inside a free text (e.g. a raw frame). Tx hashes (80 hex) are kept. */
export function redactText(text: string): string {
  return text.replace(AUTH_TOKEN_RE, "$1[redacted]");
}

/** Deep copy with secret-looking fields replaced; bigints become strings. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[depth]";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEYS.test(k)
        ? typeof v === "string" && v.length > 0
          ? "[redacted]"
          : v
        : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Private keys are 80 hex chars, like tx hashes: only the caller knows which is which. */
export function redactKeyMaterial(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 16) out = out.split(s).join("[redacted]");
    const bare = s.replace(/^0x/i, "");
    if (bare.length >= 16 && bare !== s) out = out.split(bare).join("[redacted]");
  }
  return out.replace(LONG_HEX_KEY_RE, (m) =>
    secrets.some((s) => s.replace(/^0x/i, "").toLowerCase() === m.replace(/^0x/i, "").toLowerCase()) ? "[redacted]" : m,
  );
}
