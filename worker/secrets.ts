/**
 * Secrets by name. The generated `Env` (worker-configuration.d.ts) types only the bindings and
 * plain vars; secrets (API_TOKEN, private keys, alert URLs and tokens) are read through this one
 * function, so nothing else indexes the environment with a computed name. A monitor's private key
 * is read and judged here too: absent, malformed or the zero key, each said plainly.
 */
import { PrivateKey } from "./lighter/keys.ts";

export type SecretReader = (name: string) => string | null;

/** A reader over the Worker's environment: a non-empty string binding, or null. */
export function secretReader(env: object): SecretReader {
  return (name) => {
    const v = (env as Record<string, unknown>)[name];
    return typeof v === "string" && v !== "" ? v : null;
  };
}

/**
 * A monitor's private key from the secret `name`: `raw` (trimmed) is what to redact from the log.
 * Absent: no key and no error (the check runs dry). Malformed or zero: no key, and an error naming
 * the secret (never its value).
 */
export function privateKeyFrom(
  read: SecretReader,
  name: string,
): { key: PrivateKey | null; error: string | null; raw: string | null } {
  const raw = read(name)?.trim() || null;
  if (!raw) return { key: null, error: null, raw: null };
  try {
    const key = PrivateKey.fromHex(raw);
    return key.isZero() ? { key: null, error: `${name} is the zero key`, raw } : { key, error: null, raw };
  } catch (err) {
    return { key: null, error: `${name}: ${err instanceof Error ? err.message : "malformed private key"}`, raw };
  }
}
