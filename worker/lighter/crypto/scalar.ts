/** Scalars of the ecgfp5 group: integers mod n, 40 bytes little-endian (PROTOCOL.md §9.5). */
import type { Fp5 } from "./field.ts";

export const N = 1067993516717146951041484916571792702745057740581727230159139685185762082554198619328292418486241n;

export function scalarFromBytes(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export function scalarToBytes(k: bigint): Uint8Array {
  const out = new Uint8Array(40);
  let v = k;
  for (let i = 0; i < 40; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function modN(k: bigint): bigint {
  const r = k % N;
  return r < 0n ? r + N : r;
}

/** FromGfp5: the 5 canonical limbs as one 320-bit little-endian integer, reduced mod n. */
export function scalarFromFp5(a: Fp5): bigint {
  let v = 0n;
  for (let i = 4; i >= 0; i--) v = (v << 64n) | a[i]!;
  return v % N;
}

/** A uniform scalar in [1, n): 64 random bytes reduced mod n (bias < 2^-190). */
export function randomScalar(): bigint {
  for (;;) {
    const buf = new Uint8Array(64);
    crypto.getRandomValues(buf);
    const k = scalarFromBytes(buf) % N;
    if (k !== 0n) return k;
  }
}
