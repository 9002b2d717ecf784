/**
 * Lighter auth tokens (PROTOCOL.md §7): "deadline:account:apiKey:sigHex" where deadline is unix
 * SECONDS and the signature is over HashToQuinticExtension of the ASCII message
 * "deadline:account:apiKey" cut into 8-byte little-endian chunks (last one zero-padded).
 */
import { hashToQuinticExtension } from "./crypto/poseidon2.ts";
import { schnorrSign, schnorrVerify } from "./crypto/schnorr.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
import { KeyError, PrivateKey, parsePublicKey } from "./keys.ts";

/** Lighter refuses deadlines more than 8 hours ahead (20013 invalid deadline). */
export const MAX_AUTH_LIFETIME_S = 8 * 3600;

export function authMessageElements(message: string): bigint[] {
  const bytes = new TextEncoder().encode(message);
  const out: bigint[] = [];
  for (let off = 0; off < bytes.length; off += 8) {
    let v = 0n;
    for (let j = Math.min(7, bytes.length - off - 1); j >= 0; j--) v = (v << 8n) | BigInt(bytes[off + j]!);
    out.push(v);
  }
  return out;
}

export function authMessageHash(message: string): Uint8Array {
  return hashToQuinticExtension(authMessageElements(message));
}

/**
 * @example
 * createAuthToken(key, { deadline: Math.floor(Date.now() / 1000) + 3600, accountIndex: 12345n, apiKeyIndex: 3 })
 * // "1767225600:12345:3:6f30…"
 */
export function createAuthToken(
  key: PrivateKey,
  p: { deadline: number; accountIndex: bigint | number; apiKeyIndex: number },
): string {
  if (!Number.isSafeInteger(p.deadline) || p.deadline < 0)
    throw new RangeError("deadline must be a unix time in seconds");
  if (!Number.isInteger(p.apiKeyIndex) || p.apiKeyIndex < 0 || p.apiKeyIndex > 255)
    throw new RangeError("apiKeyIndex must be 0 … 255");
  const message = `${p.deadline}:${BigInt(p.accountIndex).toString()}:${p.apiKeyIndex}`;
  const sig = schnorrSign(key, authMessageHash(message));
  return `${message}:${bytesToHex(sig)}`;
}

export interface ParsedAuthToken {
  deadline: number;
  accountIndex: bigint;
  apiKeyIndex: number;
  signature: Uint8Array;
  message: string;
}

export function parseAuthToken(token: string): ParsedAuthToken | null {
  if (typeof token !== "string") return null;
  const m = /^(\d{1,15}):(-?\d{1,19}):(\d{1,3}):([0-9a-f]{160})$/i.exec(token.trim());
  if (!m) return null;
  return {
    deadline: Number(m[1]),
    accountIndex: BigInt(m[2]!),
    apiKeyIndex: Number(m[3]),
    signature: hexToBytes(m[4]!),
    message: `${m[1]}:${m[2]}:${m[3]}`,
  };
}

export interface AuthTokenCheck {
  wellFormed: boolean;
  signatureValid: boolean;
  expired: boolean;
  tooFarAhead: boolean;
  deadline?: number;
  accountIndex?: bigint;
  apiKeyIndex?: number;
}

/**
 * Checks a token: the signature against `publicKeyHex`, and the deadline against `nowSeconds`.
 *
 * @example
 * verifyAuthToken(token, pubHex, Math.floor(Date.now() / 1000)).signatureValid
 */
export function verifyAuthToken(token: string, publicKeyHex: string, nowSeconds: number): AuthTokenCheck {
  const t = parseAuthToken(token);
  if (!t) return { wellFormed: false, signatureValid: false, expired: false, tooFarAhead: false };
  let pub: Uint8Array | null = null;
  try {
    pub = parsePublicKey(publicKeyHex);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
  }
  const signatureValid = pub !== null && schnorrVerify(pub, authMessageHash(t.message), t.signature);
  return {
    wellFormed: true,
    signatureValid,
    expired: t.deadline <= nowSeconds,
    tooFarAhead: t.deadline - nowSeconds > MAX_AUTH_LIFETIME_S,
    deadline: t.deadline,
    accountIndex: t.accountIndex,
    apiKeyIndex: t.apiKeyIndex,
  };
}

/** Keeps "deadline:account:apiKey:" and hides the signature (for logs). */
export function redactAuthToken(token: string): string {
  const i = token.lastIndexOf(":");
  return i < 0 ? "[redacted]" : `${token.slice(0, i + 1)}[redacted]`;
}
