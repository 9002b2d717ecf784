/**
 * The Goldilocks field p = 2^64 − 2^32 + 1 and its quintic extension GF(p^5) = GF(p)[z]/(z^5 − 3),
 * as Lighter's signer uses them (elliottech/poseidon_crypto; PROTOCOL.md §9.1–9.2).
 *
 * Elements are canonical bigints (0 ≤ x < p); GF(p^5) elements are 5-tuples, limb 0 first.
 * Square roots and inverses in GF(p^5) go through the norm to GF(p) with Frobenius maps, so no
 * 320-bit exponentiation is needed.
 */

export const P = 0xffffffff00000001n;
const MASK64 = (1n << 64n) - 1n;

export function mod(x: bigint): bigint {
  const r = x % P;
  return r < 0n ? r + P : r;
}

export function add(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s >= P ? s - P : s;
}

export function sub(a: bigint, b: bigint): bigint {
  const d = a - b;
  return d < 0n ? d + P : d;
}

export function mul(a: bigint, b: bigint): bigint {
  return (a * b) % P;
}

export function neg(a: bigint): bigint {
  return a === 0n ? 0n : P - a;
}

export function pow(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

export function inv(a: bigint): bigint {
  if (a === 0n) return 0n;
  return pow(a, P - 2n);
}

/** Legendre symbol in GF(p): 1, −1 (as −1n) or 0. */
export function legendre(a: bigint): bigint {
  if (a === 0n) return 0n;
  const l = pow(a, (P - 1n) / 2n);
  return l === 1n ? 1n : -1n;
}

const TWO_ADICITY = 32n;
const ODD = (P - 1n) >> TWO_ADICITY;
/** 7 is a quadratic non-residue mod p (generator of the multiplicative group). */
const NON_RESIDUE = 7n;

/** A square root in GF(p) (Tonelli–Shanks), or null when `a` is not a square. */
export function sqrt(a: bigint): bigint | null {
  if (a === 0n) return 0n;
  if (legendre(a) !== 1n) return null;
  let m = TWO_ADICITY;
  let c = pow(NON_RESIDUE, ODD);
  let t = pow(a, ODD);
  let r = pow(a, (ODD + 1n) / 2n);
  while (t !== 1n) {
    let i = 0n;
    let t2 = t;
    while (t2 !== 1n) {
      t2 = (t2 * t2) % P;
      i++;
    }
    let b = c;
    for (let j = 0n; j < m - i - 1n; j++) b = (b * b) % P;
    m = i;
    c = (b * b) % P;
    t = (t * c) % P;
    r = (r * b) % P;
  }
  return r;
}

/** Reads a uint64 (as the reference does with a plain cast) and reduces it mod p. */
export function fromU64(x: bigint): bigint {
  return mod(x & MASK64);
}

// ------------------------------------------------------------------------------ GF(p^5)

export type Fp5 = readonly [bigint, bigint, bigint, bigint, bigint];

export const FP5_ZERO: Fp5 = [0n, 0n, 0n, 0n, 0n];
export const FP5_ONE: Fp5 = [1n, 0n, 0n, 0n, 0n];
const W = 3n;
/** 3^((p−1)/5): z^p = DTH_ROOT · z. */
const DTH_ROOT = 1041288259238279555n;
const FROB1: readonly bigint[] = [1n, DTH_ROOT, mul(DTH_ROOT, DTH_ROOT), pow(DTH_ROOT, 3n), pow(DTH_ROOT, 4n)];
const FROB2: readonly bigint[] = FROB1.map((g) => mul(g, g));

export function fp5(limbs: readonly (bigint | number | string)[]): Fp5 {
  if (limbs.length !== 5) throw new RangeError("GF(p^5) element needs 5 limbs");
  return limbs.map((l) => mod(BigInt(l))) as unknown as Fp5;
}

export function fp5IsZero(a: Fp5): boolean {
  return a[0] === 0n && a[1] === 0n && a[2] === 0n && a[3] === 0n && a[4] === 0n;
}

export function fp5Eq(a: Fp5, b: Fp5): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4];
}

export function fp5Add(a: Fp5, b: Fp5): Fp5 {
  return [add(a[0], b[0]), add(a[1], b[1]), add(a[2], b[2]), add(a[3], b[3]), add(a[4], b[4])];
}

export function fp5Sub(a: Fp5, b: Fp5): Fp5 {
  return [sub(a[0], b[0]), sub(a[1], b[1]), sub(a[2], b[2]), sub(a[3], b[3]), sub(a[4], b[4])];
}

export function fp5Neg(a: Fp5): Fp5 {
  return [neg(a[0]), neg(a[1]), neg(a[2]), neg(a[3]), neg(a[4])];
}

/** Multiplication folding z^5 = 3: one reduction per output limb. */
export function fp5Mul(a: Fp5, b: Fp5): Fp5 {
  const [a0, a1, a2, a3, a4] = a;
  const [b0, b1, b2, b3, b4] = b;
  const c0 = a0 * b0 + W * (a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1);
  const c1 = a0 * b1 + a1 * b0 + W * (a2 * b4 + a3 * b3 + a4 * b2);
  const c2 = a0 * b2 + a1 * b1 + a2 * b0 + W * (a3 * b4 + a4 * b3);
  const c3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + W * (a4 * b4);
  const c4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  return [c0 % P, c1 % P, c2 % P, c3 % P, c4 % P];
}

export function fp5Square(a: Fp5): Fp5 {
  const [a0, a1, a2, a3, a4] = a;
  const c0 = a0 * a0 + 2n * W * (a1 * a4 + a2 * a3);
  const c1 = 2n * a0 * a1 + W * (2n * a2 * a4 + a3 * a3);
  const c2 = 2n * a0 * a2 + a1 * a1 + 2n * W * (a3 * a4);
  const c3 = 2n * (a0 * a3 + a1 * a2) + W * (a4 * a4);
  const c4 = 2n * (a0 * a4 + a1 * a3) + a2 * a2;
  return [c0 % P, c1 % P, c2 % P, c3 % P, c4 % P];
}

export function fp5Scale(a: Fp5, k: bigint): Fp5 {
  return [mul(a[0], k), mul(a[1], k), mul(a[2], k), mul(a[3], k), mul(a[4], k)];
}

/** a^p (Frobenius). */
export function fp5Frobenius(a: Fp5): Fp5 {
  return [a[0], mul(a[1], FROB1[1]!), mul(a[2], FROB1[2]!), mul(a[3], FROB1[3]!), mul(a[4], FROB1[4]!)];
}

/** a^(p^2). */
export function fp5Frobenius2(a: Fp5): Fp5 {
  return [a[0], mul(a[1], FROB2[1]!), mul(a[2], FROB2[2]!), mul(a[3], FROB2[3]!), mul(a[4], FROB2[4]!)];
}

export function fp5Pow(a: Fp5, e: bigint): Fp5 {
  let r: Fp5 = FP5_ONE;
  let b = a;
  let x = e;
  while (x > 0n) {
    if (x & 1n) r = fp5Mul(r, b);
    b = fp5Square(b);
    x >>= 1n;
  }
  return r;
}

/** a^(p + p^2 + p^3 + p^4), so that a · this = N(a) ∈ GF(p). */
function normComplement(a: Fp5): Fp5 {
  const f1 = fp5Frobenius(a);
  const f2 = fp5Frobenius2(a);
  const f12 = fp5Mul(f1, f2); // a^(p + p^2)
  const f34 = fp5Frobenius2(f12); // a^(p^3 + p^4)
  return fp5Mul(f12, f34);
}

/** The norm N(a) = a^(1 + p + ... + p^4), an element of GF(p). */
export function fp5Norm(a: Fp5): bigint {
  const t = normComplement(a);
  return fp5Mul(a, t)[0];
}

/** Inverse (the inverse of 0 is 0, as in the reference). */
export function fp5Inv(a: Fp5): Fp5 {
  if (fp5IsZero(a)) return FP5_ZERO;
  const t = normComplement(a);
  const n = fp5Mul(a, t)[0];
  return fp5Scale(t, inv(n));
}

export function fp5Div(a: Fp5, b: Fp5): Fp5 {
  return fp5Mul(a, fp5Inv(b));
}

/** Legendre symbol of a in GF(p^5): that of its norm in GF(p). */
export function fp5Legendre(a: Fp5): bigint {
  return legendre(fp5Norm(a));
}

/**
 * A square root in GF(p^5), or null. With y = a^((p^4 + p^3 + p^2 + p)/2) we have
 * a · y^2 = N(a), so sqrt(a) = sqrt_p(N(a)) / y.
 */
export function fp5Sqrt(a: Fp5): Fp5 | null {
  if (fp5IsZero(a)) return FP5_ZERO;
  const h = fp5Pow(a, (P + 1n) / 2n); // a^((p+1)/2)
  const h2 = fp5Mul(h, fp5Frobenius2(h)); // a^((p+1)(1+p^2)/2)
  const y = fp5Frobenius(h2); // a^(p(p+1)(1+p^2)/2) = a^((p^4+p^3+p^2+p)/2)
  const n = fp5Mul(a, fp5Square(y))[0];
  const s = sqrt(n);
  if (s === null) return null;
  const root = fp5Scale(fp5Inv(y), s);
  return fp5Eq(fp5Square(root), a) ? root : null;
}

/** The reference's Sgn0: true iff limb 0 is even (not RFC 9380's convention). */
export function fp5Sgn0(a: Fp5): boolean {
  return (a[0] & 1n) === 0n;
}

/** The square root whose limb 0 is odd (the reference negates when Sgn0 is true). */
export function fp5CanonicalSqrt(a: Fp5): Fp5 | null {
  const r = fp5Sqrt(a);
  if (r === null) return null;
  return fp5Sgn0(r) ? fp5Neg(r) : r;
}

export function fp5ToBytes(a: Fp5): Uint8Array {
  const out = new Uint8Array(40);
  for (let i = 0; i < 5; i++) {
    let v = a[i]!;
    for (let j = 0; j < 8; j++) {
      out[i * 8 + j] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  return out;
}

/** Reads 5 little-endian u64 limbs; `canonical` rejects limbs ≥ p, otherwise they are reduced. */
export function fp5FromBytes(bytes: Uint8Array, canonical: boolean): Fp5 | null {
  if (bytes.length !== 40) return null;
  const limbs: bigint[] = [];
  for (let i = 0; i < 5; i++) {
    const v = u64le(bytes, i * 8);
    if (canonical && v >= P) return null;
    limbs.push(mod(v));
  }
  return limbs as unknown as Fp5;
}

export function u64le(bytes: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(bytes[offset + j]!);
  return v;
}
