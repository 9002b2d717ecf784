/**
 * Schnorr signatures over ecgfp5 as Lighter's signer makes them (PROTOCOL.md §9.6):
 * r = encode(k·G), e = H(r ‖ m) read as a scalar, s = k − e·sk; signature = s ‖ e (80 bytes LE).
 * k comes from crypto.getRandomValues, uniform mod n, fresh for every signature.
 */
import { add, encode, isNeutral, multiply, multiplyGenerator } from "./curve.ts";
import { fp5FromBytes, type Fp5 } from "./field.ts";
import { hashToQuinticExtensionFp5 } from "./poseidon2.ts";
import { N, modN, randomScalar, scalarFromBytes, scalarFromFp5, scalarToBytes } from "./scalar.ts";
import { KeyError, PrivateKey, publicKeyPoint } from "../keys.ts";

function challenge(r: Fp5, m: Fp5): bigint {
  return scalarFromFp5(hashToQuinticExtensionFp5([...r, ...m]));
}

function messageElement(message: Uint8Array): Fp5 {
  // The reference reads the 40 bytes as 5 u64 limbs without a range check; we reduce them.
  const m = message.length === 40 ? fp5FromBytes(message, false) : null;
  if (!m) throw new RangeError("a Schnorr message is 40 bytes");
  return m;
}

/**
 * Signs a 40-byte message (a tx hash or an auth-token hash).
 *
 * @example
 * const sig = schnorrSign(key, hexToBytes(txHashHex)); // 80 bytes
 */
export function schnorrSign(key: PrivateKey, message: Uint8Array, fixedNonceForTests?: Uint8Array): Uint8Array {
  const sk = PrivateKey.scalarOf(key);
  if (sk === 0n) throw new KeyError("refusing to sign with the zero private key");
  const m = messageElement(message);
  const k = fixedNonceForTests ? modN(scalarFromBytes(fixedNonceForTests)) : randomScalar();
  const r = encode(multiplyGenerator(k));
  const e = challenge(r, m);
  const s = modN(k - e * sk);
  const out = new Uint8Array(80);
  out.set(scalarToBytes(s), 0);
  out.set(scalarToBytes(e), 40);
  return out;
}

/** Verifies like the reference (s and e are reduced mod n). Never throws on bad input. */
export function schnorrVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (publicKey.length !== 40 || message.length !== 40 || signature.length !== 80) return false;
    const pk = publicKeyPoint(publicKey);
    if (!pk) return false;
    const s = scalarFromBytes(signature.subarray(0, 40)) % N;
    const e = scalarFromBytes(signature.subarray(40, 80)) % N;
    const rv = add(multiplyGenerator(s), multiply(pk, e));
    if (isNeutral(rv) && e === 0n) return false;
    return challenge(encode(rv), messageElement(message)) === e;
  } catch {
    return false;
  }
}
