/** Every applicable known-answer vector of primitives.json and deterministic.json. */
import { describe, expect, it } from "vitest";
import * as F from "../../../worker/lighter/crypto/field.ts";
import { hashNToMNoPad, hashToQuinticExtension, permute } from "../../../worker/lighter/crypto/poseidon2.ts";
import {
  GENERATOR,
  add,
  decode,
  double,
  encode,
  encodeToBytes,
  equals,
  multiply,
  multiplyGenerator,
  multiplyGeneratorComb,
  toAffine,
  type Point,
} from "../../../worker/lighter/crypto/curve.ts";
import { N, scalarFromFp5 } from "../../../worker/lighter/crypto/scalar.ts";
import { schnorrSign, schnorrVerify } from "../../../worker/lighter/crypto/schnorr.ts";
import { PrivateKey } from "../../../worker/lighter/keys.ts";
import { bytesToHex, hexToBytes } from "../../../worker/lighter/hex.ts";
import { loadVectors, type Json } from "../../support/vectors.ts";

const prim = loadVectors("primitives.json");
const det = loadVectors("deterministic.json");
const big = (xs: string[]) => xs.map((x) => BigInt(x));
const fp5 = (xs: string[]) => F.fp5(xs);
const limbsToScalar = (xs: string[]) => xs.reduceRight((acc, l) => (acc << 64n) | BigInt(l), 0n);

function wPoint(p: Json): Point | null {
  if (p.is_inf) return null;
  return { x: fp5(p.X), y: fp5(p.Y), z: F.FP5_ONE };
}

function expectAffine(p: Point, want: Json) {
  if (want.is_inf) {
    expect(toAffine(p)).toBeNull();
    return;
  }
  const a = toAffine(p)!;
  expect(a.x.map(String)).toEqual(want.X);
  expect(a.y.map(String)).toEqual(want.Y);
}

describe("Goldilocks field", () => {
  it("add/sub/mul over every ordered pair of the reference inputs", () => {
    for (const v of prim.goldilocks_binary as Json[]) {
      const a = F.mod(BigInt(v.a));
      const b = F.mod(BigInt(v.b));
      expect(String(F.add(a, b))).toBe(v.add);
      expect(String(F.sub(a, b))).toBe(v.sub);
      expect(String(F.mul(a, b))).toBe(v.mul);
    }
  });
  it("neg/square/reduce", () => {
    for (const v of prim.goldilocks_unary as Json[]) {
      const a = F.mod(BigInt(v.a));
      expect(String(F.neg(a))).toBe(v.neg);
      expect(String(F.mul(a, a))).toBe(v.square);
      expect(String(a)).toBe(v.reduced);
    }
    for (const v of prim.goldilocks_reduce_u128 as Json[]) {
      expect(String(F.mod((BigInt(v.hi) << 64n) + BigInt(v.lo)))).toBe(v.reduced);
    }
  });
});

describe("GF(p^5)", () => {
  it("arithmetic and Frobenius", () => {
    for (const v of prim.gfp5_arith as Json[]) {
      const a = fp5(v.a);
      const b = fp5(v.b);
      expect(F.fp5Add(a, b).map(String)).toEqual(v.add);
      expect(F.fp5Sub(a, b).map(String)).toEqual(v.sub);
      expect(F.fp5Mul(a, b).map(String)).toEqual(v.mul);
      expect(F.fp5Square(a).map(String)).toEqual(v.square_a);
    }
    for (const v of prim.gfp5_frobenius as Json[]) {
      let x = fp5(v.input);
      for (let i = 0; i < v.count; i++) x = F.fp5Frobenius(x);
      expect(x.map(String)).toEqual(v.output);
    }
  });
  it("inverse and square root round trips", () => {
    const a = fp5([
      "1311768467294899695",
      "1147797409030816545",
      "1234605616436508552",
      "9833440827789222417",
      "12302652060662169617",
    ]);
    expect(F.fp5Mul(a, F.fp5Inv(a))).toEqual(F.FP5_ONE);
    expect(F.fp5Inv(F.FP5_ZERO)).toEqual(F.FP5_ZERO);
    const sq = F.fp5Square(a);
    const r = F.fp5CanonicalSqrt(sq)!;
    expect(F.fp5Square(r)).toEqual(sq);
    expect(r[0] & 1n).toBe(1n);
    // Exactly one of a and 3a... is a square; a non-square has no root.
    const nonSquare = F.fp5Legendre(a) === 1n ? F.fp5Scale(a, 7n) : a;
    expect(F.fp5Sqrt(nonSquare)).toBeNull();
  });
});

describe("Poseidon2", () => {
  it("permutation", () => {
    for (const v of prim.poseidon2_permutation as Json[]) {
      const s = big(v.input);
      permute(s);
      expect(s.map(String)).toEqual(v.output);
    }
    const z = new Array<bigint>(12).fill(0n);
    permute(z);
    expect(z.map(String)).toEqual(det["permute(zero_state)"]);
  });
  it("sponge hashes, including non-canonical inputs and short chunks", () => {
    for (const v of prim.poseidon2_hash_n_to_hash_no_pad as Json[])
      expect(hashNToMNoPad(big(v.input), 4).map(String)).toEqual(v.output);
    for (const v of prim.poseidon2_hash_two_to_one as Json[])
      expect(hashNToMNoPad(big([...v.left, ...v.right]), 4).map(String)).toEqual(v.output);
    for (const group of ["poseidon2_hash_to_quintic_extension", "hash_to_quintic_extension_wasm"]) {
      for (const v of prim[group] as Json[])
        expect(bytesToHex(hashToQuinticExtension(big(v.input)))).toBe(v.output_le_hex);
    }
    expect(bytesToHex(hashToQuinticExtension([]))).toBe("00".repeat(40));
    expect(hashNToMNoPad([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n], 5).map(String)).toEqual(det["hash_to_quintic([1..8])"]);
    expect(bytesToHex(hashToQuinticExtension(big(det.create_order_elements)))).toBe(det.create_order.hash_hex);
  });
});

describe("ecgfp5", () => {
  it("the generator encodes to w = 4 and decodes back", () => {
    expect(bytesToHex(encodeToBytes(GENERATOR))).toBe(det.generator_encoded_hex);
    expect(equals(decode([4n, 0n, 0n, 0n, 0n])!, GENERATOR)).toBe(true);
  });
  it("decodes as the reference's Weierstrass copy, and rejects invalid encodings", () => {
    for (const v of prim.ecgfp5_decode_as_weierstrass as Json[]) {
      const p = decode(fp5(v.w));
      expect(p).not.toBeNull();
      expectAffine(p!, v);
      expect(encode(p!).map(String)).toEqual(v.w.map((x: string) => String(F.mod(BigInt(x)))));
    }
    for (const v of prim.ecgfp5_decode_invalid as Json[]) expect(decode(fp5(v.w))).toBeNull();
  });
  it("Weierstrass double, add and window multiples", () => {
    for (const v of prim.weierstrass_double as Json[]) expectAffine(double(wPoint(v.point)!), v.doubled);
    for (const v of prim.weierstrass_add as Json[]) expectAffine(add(wPoint(v.a)!, wPoint(v.b)!), v.sum);
    for (const v of prim.weierstrass_precompute_window as Json[]) {
      const p = wPoint(v.point)!;
      for (const m of v.multiples as Json[]) expectAffine(multiply(p, BigInt(m.multiple)), m);
    }
  });
  it("encoded point relations hold (group law agrees with the reference's)", () => {
    const v = prim.ecgfp5_encoded_point_relations[0] as Json;
    const [p0, p1, p2, p3, p4, p5, p6, p7] = (v.w as string[][]).map((w) => decode(fp5(w))!);
    expect(toAffine(p0!)).toBeNull();
    expect(equals(add(p1!, p2!), p3!)).toBe(true);
    expect(equals(double(p1!), p4!)).toBe(true);
    expect(equals(double(p2!), p5!)).toBe(true);
    expect(equals(add(double(p1!), p2!), p6!)).toBe(true);
    expect(equals(add(p1!, double(p2!)), p7!)).toBe(true);
  });
  it("fixed-base and variable-base multiplication agree; n·G is the neutral element", () => {
    const k = 0x1234567890abcdef1234567890abcdefn;
    expect(equals(multiplyGenerator(k), multiply(GENERATOR, k))).toBe(true);
    for (const x of [
      1n,
      2n,
      N - 1n,
      (1n << 319n) + 12345n,
      0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefn,
    ]) {
      expect(equals(multiplyGeneratorComb(x), multiply(GENERATOR, x)), String(x)).toBe(true);
    }
    expect(toAffine(multiplyGeneratorComb(0n))).toBeNull();
    expect(toAffine(multiply(GENERATOR, N))).toBeNull();
  });
});

describe("scalars, keys and Schnorr", () => {
  it("scalar from GF(p^5) and sub mod n", () => {
    for (const v of prim.scalar_from_gfp5 as Json[])
      expect(scalarFromFp5(fp5(v.gfp5))).toBe(limbsToScalar(v.scalar_limbs));
    for (const v of prim.scalar_sub_mod_n as Json[]) {
      const r = (((limbsToScalar(v.a_limbs) - limbsToScalar(v.b_limbs)) % N) + N) % N;
      expect(r).toBe(limbsToScalar(v.result_limbs));
    }
  });
  it("public keys from private keys (WASM)", () => {
    for (const v of prim.sk_to_pk_wasm as Json[]) expect(PrivateKey.fromHex(v.sk_le_hex).publicKeyHex()).toBe(v.pk_hex);
    expect(PrivateKey.fromHex(det.private_key_hex).publicKeyHex()).toBe(det.public_key_hex);
  });
  it("fixed-nonce signatures are byte-exact", () => {
    for (const v of prim.schnorr_sign_fixed_nonce as Json[]) {
      const key = PrivateKey.fromHex(v.sk_le_hex);
      expect(key.publicKeyHex()).toBe(v.pk_hex_from_wasm);
      const k = limbsToScalar(v.k_limbs);
      const kBytes = new Uint8Array(40);
      for (let i = 0, x = k; i < 40; i++, x >>= 8n) kBytes[i] = Number(x & 0xffn);
      const sig = schnorrSign(key, hexToBytes(v.hashed_message_le_hex), kBytes);
      expect(bytesToHex(sig)).toBe(v.signature_hex);
      expect(schnorrVerify(key.publicKey(), hexToBytes(v.hashed_message_le_hex), sig)).toBe(true);
    }
    const key = PrivateKey.fromHex(det.private_key_hex);
    const sig = schnorrSign(key, hexToBytes(det.create_order.hash_hex), hexToBytes(det.fixed_k_hex));
    expect(bytesToHex(sig)).toBe(det.create_order.sig_hex);
    expect(
      bytesToHex(
        encodeToBytes(
          multiplyGenerator(BigInt(`0x${Buffer.from(hexToBytes(det.fixed_k_hex)).reverse().toString("hex")}`)),
        ),
      ),
    ).toBe(det.fixed_k_times_G_encoded_hex);
  });
});
