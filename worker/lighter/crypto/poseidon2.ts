/**
 * Poseidon2 over Goldilocks, width 12, as Lighter uses it (plonky2 variant; PROTOCOL.md §9.3–9.4):
 * x^7 S-box, 4 full rounds, 22 partial rounds, 4 full rounds, the external layer once before the
 * first round. `hashToQuinticExtension` is the sponge the signer uses for tx hashes, auth tokens
 * and the Schnorr challenge: rate 8, chunks OVERWRITE the state (no padding; a short last chunk
 * keeps the stale lanes), output state[0..5).
 */
import { EXTERNAL_ROUND_CONSTANTS, INTERNAL_DIAGONAL, INTERNAL_ROUND_CONSTANTS } from "./poseidon2-constants.ts";
import { P, fp5ToBytes, fromU64, type Fp5 } from "./field.ts";

const WIDTH = 12;
const RATE = 8;

function sbox(x: bigint): bigint {
  const x2 = (x * x) % P;
  const x3 = (x2 * x) % P;
  const x4 = (x2 * x2) % P;
  return (x3 * x4) % P;
}

function externalLayer(s: bigint[]): void {
  // Each 4-lane block × [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]], then add the column sums.
  for (let b = 0; b < WIDTH; b += 4) {
    const a0 = s[b]!,
      a1 = s[b + 1]!,
      a2 = s[b + 2]!,
      a3 = s[b + 3]!;
    s[b] = 2n * a0 + 3n * a1 + a2 + a3;
    s[b + 1] = a0 + 2n * a1 + 3n * a2 + a3;
    s[b + 2] = a0 + a1 + 2n * a2 + 3n * a3;
    s[b + 3] = 3n * a0 + a1 + a2 + 2n * a3;
  }
  for (let i = 0; i < 4; i++) {
    const sum = s[i]! + s[i + 4]! + s[i + 8]!;
    s[i] = (s[i]! + sum) % P;
    s[i + 4] = (s[i + 4]! + sum) % P;
    s[i + 8] = (s[i + 8]! + sum) % P;
  }
}

function internalLayer(s: bigint[]): void {
  let sum = 0n;
  for (let i = 0; i < WIDTH; i++) sum += s[i]!;
  for (let i = 0; i < WIDTH; i++) s[i] = (s[i]! * INTERNAL_DIAGONAL[i]! + sum) % P;
}

function fullRound(s: bigint[], rc: readonly bigint[]): void {
  for (let i = 0; i < WIDTH; i++) s[i] = sbox((s[i]! + rc[i]!) % P);
  externalLayer(s);
}

/** The Poseidon2 permutation, in place. Inputs may be non-canonical u64 values. */
export function permute(state: bigint[]): void {
  if (state.length !== WIDTH) throw new RangeError("Poseidon2 state has 12 lanes");
  for (let i = 0; i < WIDTH; i++) state[i] = state[i]! % P;
  externalLayer(state);
  for (let r = 0; r < 4; r++) fullRound(state, EXTERNAL_ROUND_CONSTANTS[r]!);
  for (let r = 0; r < 22; r++) {
    state[0] = sbox((state[0]! + INTERNAL_ROUND_CONSTANTS[r]!) % P);
    internalLayer(state);
  }
  for (let r = 4; r < 8; r++) fullRound(state, EXTERNAL_ROUND_CONSTANTS[r]!);
}

/** HashNToMNoPad: overwrite-absorb in chunks of 8, permute after each; squeeze m outputs. */
export function hashNToMNoPad(input: readonly bigint[], m: number): bigint[] {
  const state: bigint[] = new Array<bigint>(WIDTH).fill(0n);
  for (let off = 0; off < input.length; off += RATE) {
    const end = Math.min(off + RATE, input.length);
    for (let i = off; i < end; i++) state[i - off] = fromU64(input[i]!);
    permute(state);
  }
  const out: bigint[] = [];
  for (;;) {
    for (let i = 0; i < RATE; i++) {
      out.push(state[i]!);
      if (out.length === m) return out;
    }
    permute(state);
  }
}

export function hashToQuinticExtensionFp5(input: readonly bigint[]): Fp5 {
  return hashNToMNoPad(input, 5) as unknown as Fp5;
}

/**
 * Lighter's HashToQuinticExtension: 40 bytes, 5 canonical limbs little-endian.
 *
 * @example
 * bytesToHex(hashToQuinticExtension([304n, 14n, ...])) // the tx hash of a CreateOrder
 */
export function hashToQuinticExtension(elements: readonly bigint[]): Uint8Array {
  return fp5ToBytes(hashToQuinticExtensionFp5(elements));
}
