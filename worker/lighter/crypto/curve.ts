/**
 * The ecgfp5 group (PROTOCOL.md §9.5). Pornin's curve y^2 = x(x^2 + 2x + 263z) over GF(p^5) has
 * order 2n; the reference works in the coset of the 2-torsion point with a twisted law. We use the
 * isomorphic prime-order subgroup on the short-Weierstrass model Y^2 = X^3 + A·X + B
 * (X = x + a/3), in Jacobian coordinates, and agree with the reference exactly where it matters:
 * `encode` (w = Y / (a/3 − X); neutral → 0) and `decode`.
 *
 * Timing: scalar multiplication by a secret uses a fixed 4-bit window (the same sequence of
 * doublings and additions for every scalar of the same length) and reads the window table by
 * scanning every entry. JavaScript gives no constant-time guarantee beyond that: BigInt
 * arithmetic takes time that depends on operand sizes, and the JIT may branch; a signer whose
 * timing an attacker can measure precisely should run in an environment that tolerates that.
 */
import {
  P,
  FP5_ONE,
  FP5_ZERO,
  fp5,
  fp5Add,
  fp5Div,
  fp5Eq,
  fp5FromBytes,
  fp5IsZero,
  fp5Legendre,
  fp5Mul,
  fp5Neg,
  fp5Scale,
  fp5Sqrt,
  fp5Square,
  fp5Sub,
  fp5ToBytes,
  inv,
  type Fp5,
} from "./field.ts";
import { GENERATOR_COMB } from "./generator-comb.ts";

const A_PORNIN: Fp5 = [2n, 0n, 0n, 0n, 0n];
const B_PORNIN: Fp5 = [0n, 263n, 0n, 0n, 0n];
const A_THIRD: Fp5 = fp5Scale(A_PORNIN, inv(3n));
/** A = b − a^2/3 */
const A_W: Fp5 = fp5Sub(B_PORNIN, fp5Scale(fp5Square(A_PORNIN), inv(3n)));

const AW0 = A_W[0];
const AW1 = A_W[1];
/** x · A_W, where A_W = [a0, 263, 0, 0, 0] has two non-zero limbs (10 products instead of 25). */
function mulByAW(x: Fp5): Fp5 {
  const [x0, x1, x2, x3, x4] = x;
  return [
    (AW0 * x0 + AW1 * 3n * x4) % P,
    (AW0 * x1 + AW1 * x0) % P,
    (AW0 * x2 + AW1 * x1) % P,
    (AW0 * x3 + AW1 * x2) % P,
    (AW0 * x4 + AW1 * x3) % P,
  ];
}

/** Jacobian point (X/Z^2, Y/Z^3); Z = 0 is the neutral element. */
export interface Point {
  readonly x: Fp5;
  readonly y: Fp5;
  readonly z: Fp5;
}

export const NEUTRAL: Point = { x: FP5_ONE, y: FP5_ONE, z: FP5_ZERO };

export const GENERATOR: Point = {
  x: fp5([
    "11712523173042564207",
    "14090224426659529053",
    "13197813503519687414",
    "16280770174934269299",
    "15998333998318935536",
  ]),
  y: fp5([
    "14639054205878357578",
    "17426078571020221072",
    "2548978194165003307",
    "8663895577921260088",
    "9793640284382595140",
  ]),
  z: FP5_ONE,
};

export function isNeutral(p: Point): boolean {
  return fp5IsZero(p.z);
}

export function double(p: Point): Point {
  if (isNeutral(p) || fp5IsZero(p.y)) return NEUTRAL;
  // dbl-2007-bl for a general A.
  const xx = fp5Square(p.x);
  const yy = fp5Square(p.y);
  const yyyy = fp5Square(yy);
  const zz = fp5Square(p.z);
  const t = fp5Sub(fp5Sub(fp5Square(fp5Add(p.x, yy)), xx), yyyy);
  const s = fp5Add(t, t);
  const m = fp5Add(fp5Add(fp5Add(xx, xx), xx), mulByAW(fp5Square(zz)));
  const x3 = fp5Sub(fp5Square(m), fp5Add(s, s));
  const y8 = fp5Scale(yyyy, 8n);
  const y3 = fp5Sub(fp5Mul(m, fp5Sub(s, x3)), y8);
  const z3 = fp5Sub(fp5Sub(fp5Square(fp5Add(p.y, p.z)), yy), zz);
  return { x: x3, y: y3, z: z3 };
}

export function add(p: Point, q: Point): Point {
  if (isNeutral(p)) return q;
  if (isNeutral(q)) return p;
  // add-2007-bl
  const z1z1 = fp5Square(p.z);
  const z2z2 = fp5Square(q.z);
  const u1 = fp5Mul(p.x, z2z2);
  const u2 = fp5Mul(q.x, z1z1);
  const s1 = fp5Mul(fp5Mul(p.y, q.z), z2z2);
  const s2 = fp5Mul(fp5Mul(q.y, p.z), z1z1);
  const h = fp5Sub(u2, u1);
  const rr = fp5Sub(s2, s1);
  if (fp5IsZero(h)) {
    if (fp5IsZero(rr)) return double(p);
    return NEUTRAL;
  }
  const h2 = fp5Add(h, h);
  const i = fp5Square(h2);
  const j = fp5Mul(h, i);
  const r = fp5Add(rr, rr);
  const v = fp5Mul(u1, i);
  const x3 = fp5Sub(fp5Sub(fp5Square(r), j), fp5Add(v, v));
  const s1j = fp5Mul(s1, j);
  const y3 = fp5Sub(fp5Mul(r, fp5Sub(v, x3)), fp5Add(s1j, s1j));
  const z3 = fp5Mul(fp5Sub(fp5Sub(fp5Square(fp5Add(p.z, q.z)), z1z1), z2z2), h);
  return { x: x3, y: y3, z: z3 };
}

/** P + Q where Q is affine (Z = 1): madd-2007-bl, 7M + 4S. */
function addAffine(p: Point, q: Point): Point {
  if (isNeutral(q)) return p;
  if (isNeutral(p)) return q;
  const z1z1 = fp5Square(p.z);
  const u2 = fp5Mul(q.x, z1z1);
  const s2 = fp5Mul(fp5Mul(q.y, p.z), z1z1);
  const h = fp5Sub(u2, p.x);
  const rr = fp5Sub(s2, p.y);
  if (fp5IsZero(h)) return fp5IsZero(rr) ? double(p) : NEUTRAL;
  const hh = fp5Square(h);
  const i = fp5Scale(hh, 4n);
  const j = fp5Mul(h, i);
  const r = fp5Add(rr, rr);
  const v = fp5Mul(p.x, i);
  const x3 = fp5Sub(fp5Sub(fp5Square(r), j), fp5Add(v, v));
  const y1j = fp5Mul(p.y, j);
  const y3 = fp5Sub(fp5Mul(r, fp5Sub(v, x3)), fp5Add(y1j, y1j));
  const z3 = fp5Sub(fp5Sub(fp5Square(fp5Add(p.z, h)), z1z1), hh);
  return { x: x3, y: y3, z: z3 };
}

/** Converts points to affine (Z = 1) with one shared inversion (Montgomery's trick). */
function batchToAffine(points: readonly Point[]): Point[] {
  const zs = points.map((pt) => (isNeutral(pt) ? FP5_ONE : pt.z));
  const prefix: Fp5[] = [];
  let acc: Fp5 = FP5_ONE;
  for (const z of zs) {
    prefix.push(acc);
    acc = fp5Mul(acc, z);
  }
  let inv = fp5Div(FP5_ONE, acc);
  const out: Point[] = new Array<Point>(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const pt = points[i]!;
    const zi = fp5Mul(inv, prefix[i]!);
    inv = fp5Mul(inv, zs[i]!);
    if (isNeutral(pt)) {
      out[i] = NEUTRAL;
      continue;
    }
    const zi2 = fp5Square(zi);
    out[i] = { x: fp5Mul(pt.x, zi2), y: fp5Mul(pt.y, fp5Mul(zi2, zi)), z: FP5_ONE };
  }
  return out;
}

export function toAffine(p: Point): { x: Fp5; y: Fp5 } | null {
  if (isNeutral(p)) return null;
  const zi = fp5Div(FP5_ONE, p.z);
  const zi2 = fp5Square(zi);
  return { x: fp5Mul(p.x, zi2), y: fp5Mul(p.y, fp5Mul(zi2, zi)) };
}

export function equals(p: Point, q: Point): boolean {
  if (isNeutral(p) || isNeutral(q)) return isNeutral(p) && isNeutral(q);
  const z1z1 = fp5Square(p.z);
  const z2z2 = fp5Square(q.z);
  return (
    fp5Eq(fp5Mul(p.x, z2z2), fp5Mul(q.x, z1z1)) && fp5Eq(fp5Mul(fp5Mul(p.y, q.z), z2z2), fp5Mul(fp5Mul(q.y, p.z), z1z1))
  );
}

/** The reference's encoding: w = Y / (a/3 − X), neutral → 0. */
export function encode(p: Point): Fp5 {
  const a = toAffine(p);
  if (!a) return FP5_ZERO;
  return fp5Div(a.y, fp5Sub(A_THIRD, a.x));
}

export function encodeToBytes(p: Point): Uint8Array {
  return fp5ToBytes(encode(p));
}

/**
 * Decodes w (PROTOCOL.md §9.5): x^2 − (w^2 − a)x + b = 0 has roots x1·x2 = b; the reference keeps
 * the non-square root (its coset), we keep the square one (the prime-order subgroup) and map
 * Y = −w·x. Returns null when w is not an encoding. w = 0 is the neutral element.
 */
export function decode(w: Fp5): Point | null {
  if (fp5IsZero(w)) return NEUTRAL;
  const e = fp5Sub(fp5Square(w), A_PORNIN);
  const disc = fp5Sub(fp5Square(e), fp5Scale(B_PORNIN, 4n));
  const r = fp5Sqrt(disc);
  if (r === null) return null;
  const half = inv(2n);
  const x1 = fp5Scale(fp5Add(e, r), half);
  const x2 = fp5Scale(fp5Sub(e, r), half);
  const xs = fp5Legendre(x1) === 1n ? x1 : x2;
  if (fp5Legendre(xs) !== 1n) return null;
  return { x: fp5Add(xs, A_THIRD), y: fp5Neg(fp5Mul(w, xs)), z: FP5_ONE };
}

export function decodeBytes(bytes: Uint8Array, canonical = true): Point | null {
  const w = fp5FromBytes(bytes, canonical);
  return w === null ? null : decode(w);
}

/** Scalar digits, 4 bits each, least significant first (64 nibbles cover 256 bits; we use 80). */
function nibbles(k: bigint, count: number): number[] {
  const out: number[] = [];
  let v = k;
  for (let i = 0; i < count; i++) {
    out.push(Number(v & 0xfn));
    v >>= 4n;
  }
  return out;
}

/** [O, P, 2P, …, 15P], affine. */
function windowTable(p: Point): Point[] {
  const t: Point[] = [NEUTRAL, p];
  for (let i = 2; i < 16; i++) t.push(i % 2 === 0 ? double(t[i / 2]!) : add(t[i - 1]!, p));
  return batchToAffine(t);
}

function select(table: readonly Point[], digit: number): Point {
  // Scan every entry so the memory access pattern does not depend on the digit.
  let out = table[0]!;
  for (let i = 0; i < table.length; i++) if (i === digit) out = table[i]!;
  return out;
}

/** k·P with a fixed 4-bit window over 320 bits (80 doublings of 4 and 80 additions). */
export function multiply(p: Point, k: bigint): Point {
  const table = windowTable(p);
  const digits = nibbles(k, 80);
  let acc = NEUTRAL;
  for (let i = digits.length - 1; i >= 0; i--) {
    acc = double(double(double(double(acc))));
    acc = addAffine(acc, select(table, digits[i]!));
  }
  return acc;
}

let combTable: Point[] | null = null;

/** k·G with the embedded 4-tooth comb: 80 doublings and 80 mixed additions, no table to build. */
export function multiplyGeneratorComb(k: bigint): Point {
  if (!combTable)
    combTable = [
      NEUTRAL,
      ...GENERATOR_COMB.map(([x, y]) => ({ x: x as unknown as Fp5, y: y as unknown as Fp5, z: FP5_ONE })),
    ];
  const mask = (1n << 80n) - 1n;
  const k0 = k & mask;
  const k1 = (k >> 80n) & mask;
  const k2 = (k >> 160n) & mask;
  const k3 = (k >> 240n) & mask;
  let acc = NEUTRAL;
  for (let i = 79n; i >= 0n; i--) {
    acc = double(acc);
    const idx = Number(
      ((k0 >> i) & 1n) | (((k1 >> i) & 1n) << 1n) | (((k2 >> i) & 1n) << 2n) | (((k3 >> i) & 1n) << 3n),
    );
    acc = addAffine(acc, select(combTable, idx));
  }
  return acc;
}

let generatorTable: Point[][] | null = null;
let generatorUses = 0;
/**
 * The fixed-base table costs about 30 ms to build and then saves a few ms per multiplication, so it
 * is built on the third use: a cold Worker's first signatures (one auth token, one order) stay
 * fast, and a process that keeps signing gets the table (cold start vs steady state).
 */
const TABLE_AFTER_USES = 2;

/** k·G: the embedded comb for the first uses, then a fixed-base table (80 additions, no doublings). */
export function multiplyGenerator(k: bigint): Point {
  if (!generatorTable && ++generatorUses <= TABLE_AFTER_USES) return multiplyGeneratorComb(k);
  if (!generatorTable) {
    generatorTable = [];
    let base = GENERATOR;
    for (let i = 0; i < 80; i++) {
      generatorTable.push(windowTable(base));
      base = double(double(double(double(base))));
    }
  }
  const digits = nibbles(k, 80);
  let acc = NEUTRAL;
  for (let i = 0; i < 80; i++) acc = addAffine(acc, select(generatorTable[i]!, digits[i]!));
  return acc;
}
