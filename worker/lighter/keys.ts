/**
 * Lighter API keys: a private key is an ecgfp5 scalar, 40 bytes little-endian written as 80 hex
 * characters (usually with 0x), reduced mod n as the reference does; the public key is
 * encode(sk·G), 40 bytes (PROTOCOL.md §8). Key material never appears in an error message or in
 * any string form of a PrivateKey.
 */
import { decodeBytes, encodeToBytes, multiplyGenerator, type Point } from "./crypto/curve.ts";
import { modN, scalarFromBytes } from "./crypto/scalar.ts";
import { bytesToHex } from "./hex.ts";

export class KeyError extends Error {
  override name = "KeyError";
}

const secrets = new WeakMap<PrivateKey, bigint>();

function parseHex40(hex: string, what: string): Uint8Array {
  if (typeof hex !== "string") throw new KeyError(`${what} must be a string of 80 hex characters`);
  const h = hex.trim().replace(/^0x/i, "");
  if (h.length !== 80) throw new KeyError(`${what} must be 80 hex characters (40 bytes), got ${h.length} characters`);
  if (!/^[0-9a-fA-F]{80}$/.test(h)) throw new KeyError(`${what} contains characters that are not hex`);
  const out = new Uint8Array(40);
  for (let i = 0; i < 40; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * An API private key. Opaque: printing it shows "[redacted]".
 *
 * @example
 * const key = PrivateKey.fromHex(env.LIGHTER_PRIVATE_KEY);
 * key.publicKeyHex(); // "710c8cd2…"
 */
export class PrivateKey {
  private pub: Uint8Array | null = null;

  private constructor(scalar: bigint) {
    secrets.set(this, scalar);
  }

  static fromHex(hex: string): PrivateKey {
    return new PrivateKey(modN(scalarFromBytes(parseHex40(hex, "private key"))));
  }

  /** @internal the scalar, for the signer only. */
  static scalarOf(key: PrivateKey): bigint {
    const s = secrets.get(key);
    if (s === undefined) throw new KeyError("not a PrivateKey");
    return s;
  }

  isZero(): boolean {
    return PrivateKey.scalarOf(this) === 0n;
  }

  publicKey(): Uint8Array {
    if (!this.pub) this.pub = encodeToBytes(multiplyGenerator(PrivateKey.scalarOf(this)));
    return this.pub;
  }

  publicKeyHex(): string {
    return bytesToHex(this.publicKey());
  }

  toString(): string {
    return "PrivateKey([redacted])";
  }

  toJSON(): string {
    return "[redacted]";
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "PrivateKey([redacted])";
  }
}

/** 80 hex characters (optional 0x) → 40 bytes. The point itself is checked when verifying. */
export function parsePublicKey(hex: string): Uint8Array {
  return parseHex40(hex, "public key");
}

const decoded = new Map<string, Point | null>();

/** Decodes (and caches) a public key point; null when it is not a valid encoding. */
export function publicKeyPoint(pub: Uint8Array): Point | null {
  const k = bytesToHex(pub);
  if (decoded.has(k)) return decoded.get(k)!;
  const p = decodeBytes(pub, true);
  if (decoded.size > 256) decoded.clear();
  decoded.set(k, p);
  return p;
}
