/**
 * Lighter L2 transactions fillwatch signs: CreateOrder (14), CancelOrder (15),
 * CancelAllOrders (16), ModifyOrder (17) — exact hash pre-images, L2TxAttributes aggregation,
 * tx_info JSON byte-for-byte as the official signer emits it, the tx hash, signing and
 * verification (PROTOCOL.md §6; vectors README "What is hashed and what is signed").
 *
 * Two layers of checks are kept apart: `validate` is the reference's own static rules (no clock),
 * used everywhere; `policy` (tx-policy.ts) holds fillwatch's clock-dependent product rules.
 */
import { errorMessage } from "./errors.ts";
import { hashToQuinticExtension } from "./crypto/poseidon2.ts";
import { schnorrSign, schnorrVerify } from "./crypto/schnorr.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
import { JsonSyntaxError, parseExactJson, type ExactJson } from "./json.ts";
import { KeyError, PrivateKey, parsePublicKey } from "./keys.ts";

export type TxType = 14 | 15 | 16 | 17;
export const TX_CREATE_ORDER = 14;
export const TX_CANCEL_ORDER = 15;
export const TX_CANCEL_ALL_ORDERS = 16;
export const TX_MODIFY_ORDER = 17;

/** Attribute type → value; keys 1..7 (PROTOCOL.md §6.7). */
export type TxAttributes = Partial<Record<1 | 2 | 3 | 4 | 5 | 6 | 7, number | bigint>>;

interface TxCommon {
  AccountIndex: bigint;
  ApiKeyIndex: number;
  ExpiredAt: bigint;
  Nonce: bigint;
  L2TxAttributes?: TxAttributes | null;
}

export interface CreateOrderTx extends TxCommon {
  txType: 14;
  MarketIndex: number;
  ClientOrderIndex: bigint;
  BaseAmount: bigint;
  Price: number;
  IsAsk: number;
  Type: number;
  TimeInForce: number;
  ReduceOnly: number;
  TriggerPrice: number;
  OrderExpiry: bigint;
}

export interface CancelOrderTx extends TxCommon {
  txType: 15;
  MarketIndex: number;
  Index: bigint;
}

export interface CancelAllOrdersTx extends TxCommon {
  txType: 16;
  TimeInForce: number;
  Time: bigint;
}

export interface ModifyOrderTx extends TxCommon {
  txType: 17;
  MarketIndex: number;
  Index: bigint;
  BaseAmount: bigint;
  Price: number;
  TriggerPrice: number;
}

export type Tx = CreateOrderTx | CancelOrderTx | CancelAllOrdersTx | ModifyOrderTx;

export class TxError extends Error {
  override name = "TxError";
  readonly field: string | null;
  constructor(message: string, field: string | null = null) {
    super(message);
    this.field = field;
  }
}

// Field order of the Go structs (tx_info is Go's encoding/json of them).
const FIELDS: Record<TxType, readonly string[]> = {
  14: [
    "AccountIndex",
    "ApiKeyIndex",
    "MarketIndex",
    "ClientOrderIndex",
    "BaseAmount",
    "Price",
    "IsAsk",
    "Type",
    "TimeInForce",
    "ReduceOnly",
    "TriggerPrice",
    "OrderExpiry",
    "ExpiredAt",
    "Nonce",
  ],
  15: ["AccountIndex", "ApiKeyIndex", "MarketIndex", "Index", "ExpiredAt", "Nonce"],
  16: ["AccountIndex", "ApiKeyIndex", "TimeInForce", "Time", "ExpiredAt", "Nonce"],
  17: [
    "AccountIndex",
    "ApiKeyIndex",
    "MarketIndex",
    "Index",
    "BaseAmount",
    "Price",
    "TriggerPrice",
    "ExpiredAt",
    "Nonce",
  ],
};
const BIG_FIELDS = new Set([
  "AccountIndex",
  "ClientOrderIndex",
  "BaseAmount",
  "OrderExpiry",
  "ExpiredAt",
  "Nonce",
  "Index",
  "Time",
]);

// ------------------------------------------------------------------------------ ranges

const U48 = (1n << 48n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const MAX_ORDER_INDEX = (1n << 60n) - 1n;
const MAX_U32 = 0xffffffff;
const ATTR_NIL: Record<number, bigint> = { 1: 0n, 2: 0n, 3: 0n, 4: 0n, 5: 255n, 6: 0n, 7: 0n };
const MAX_ATTRIBUTES = 4;

function isPerp(m: number): boolean {
  return m >= 0 && m <= 254;
}
function isSpot(m: number): boolean {
  return m >= 2048 && m <= 4094;
}

/**
 * The reference signer's static rules (lighter-go `Validate`), no clock. Throws TxError naming
 * the field. Unlike the reference's WASM, prices above 2^32−1 are rejected, not truncated.
 */
export function validate(tx: Tx): void {
  const f = (cond: boolean, field: string, message: string) => {
    if (!cond) throw new TxError(message, field);
  };
  f(tx.AccountIndex >= -1n && tx.AccountIndex <= U48 - 1n, "AccountIndex", "AccountIndex must be -1 … 2^48-2");
  f(
    Number.isInteger(tx.ApiKeyIndex) &&
      tx.ApiKeyIndex >= 0 &&
      (tx.ApiKeyIndex <= 254 || (tx.txType === 16 && tx.ApiKeyIndex === 255)),
    "ApiKeyIndex",
    "ApiKeyIndex must be 0 … 254 (255 only for cancel-all)",
  );
  f(tx.Nonce >= 0n && tx.Nonce <= I64_MAX, "Nonce", "Nonce must be ≥ 0");
  f(tx.ExpiredAt >= 0n && tx.ExpiredAt <= U48, "ExpiredAt", "ExpiredAt must be 0 … 2^48-1 (ms)");
  const attrs = normalizeAttributes(tx.L2TxAttributes ?? null);
  switch (tx.txType) {
    case 14: {
      const perp = isPerp(tx.MarketIndex);
      f(
        Number.isInteger(tx.MarketIndex) && (perp || isSpot(tx.MarketIndex)),
        "MarketIndex",
        "MarketIndex is not valid (perp 0 … 254, spot 2048 … 4094)",
      );
      f(
        tx.ClientOrderIndex >= 0n && tx.ClientOrderIndex <= U48,
        "ClientOrderIndex",
        "ClientOrderIndex must be 0 (nil) or 1 … 2^48-1",
      );
      f(tx.BaseAmount <= U48, "BaseAmount", `BaseAmount should not be larger than ${U48}`);
      f(
        tx.BaseAmount >= 1n || (tx.BaseAmount === 0n && tx.ReduceOnly === 1),
        "BaseAmount",
        "BaseAmount must be ≥ 1 (0 only with ReduceOnly)",
      );
      f(Number.isInteger(tx.Price) && tx.Price >= 1, "Price", "OrderPrice should not be less than 1");
      f(tx.Price <= MAX_U32, "Price", "OrderPrice should not be larger than 2^32-1");
      f(tx.IsAsk === 0 || tx.IsAsk === 1, "IsAsk", "IsAsk must be 0 or 1");
      f(Number.isInteger(tx.Type) && tx.Type >= 0 && tx.Type <= 6, "Type", "OrderType is not valid (0 … 6)");
      f(
        Number.isInteger(tx.TimeInForce) && tx.TimeInForce >= 0 && tx.TimeInForce <= 2,
        "TimeInForce",
        "OrderTimeInForce is not valid",
      );
      f(tx.ReduceOnly === 0 || tx.ReduceOnly === 1, "ReduceOnly", "ReduceOnly is invalid");
      f(!(tx.ReduceOnly === 1 && !perp), "ReduceOnly", "ReduceOnly is invalid (spot orders cannot be reduce-only)");
      f(
        Number.isInteger(tx.TriggerPrice) && tx.TriggerPrice >= 0 && tx.TriggerPrice <= MAX_U32,
        "TriggerPrice",
        "TriggerPrice is invalid",
      );
      f(tx.OrderExpiry >= 0n && tx.OrderExpiry <= I64_MAX, "OrderExpiry", "OrderExpiry is invalid");
      const IOC = 0,
        GTT = 1;
      switch (tx.Type) {
        case 0: // limit
          f(tx.TriggerPrice === 0, "TriggerPrice", "TriggerPrice is invalid (limit orders have none)");
          if (tx.TimeInForce === IOC)
            f(tx.OrderExpiry === 0n, "OrderExpiry", "OrderExpiry is invalid (IOC orders have none)");
          else f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (GTT and post-only orders need one)");
          break;
        case 1: // market
          f(tx.TimeInForce === IOC, "TimeInForce", "OrderTimeInForce is not valid (market orders are IOC)");
          f(tx.OrderExpiry === 0n, "OrderExpiry", "OrderExpiry is invalid (market orders have none)");
          f(tx.TriggerPrice === 0, "TriggerPrice", "TriggerPrice is invalid (market orders have none)");
          break;
        case 2:
        case 4: // stop-loss, take-profit
          f(perp, "MarketIndex", "MarketIndex is not valid (trigger orders are perps only)");
          f(tx.TimeInForce === IOC, "TimeInForce", "OrderTimeInForce is not valid (must be IOC)");
          f(tx.TriggerPrice !== 0, "TriggerPrice", "TriggerPrice is invalid (must be set)");
          f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (must be set)");
          break;
        case 3:
        case 5: // stop-loss-limit, take-profit-limit
          f(perp, "MarketIndex", "MarketIndex is not valid (trigger orders are perps only)");
          f(tx.TriggerPrice !== 0, "TriggerPrice", "TriggerPrice is invalid (must be set)");
          f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (must be set)");
          break;
        case 6: // TWAP
          f(tx.TimeInForce === GTT, "TimeInForce", "OrderTimeInForce is not valid (TWAP is GTT)");
          f(tx.TriggerPrice === 0, "TriggerPrice", "TriggerPrice is invalid (TWAP has none)");
          f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (must be set)");
          break;
      }
      break;
    }
    case 15:
      f(
        Number.isInteger(tx.MarketIndex) && (isPerp(tx.MarketIndex) || isSpot(tx.MarketIndex)),
        "MarketIndex",
        "MarketIndex is not valid",
      );
      f(
        tx.Index >= 1n && tx.Index <= MAX_ORDER_INDEX,
        "Index",
        "OrderIndex must be a client order index (1 … 2^48-1) or an order index (2^48 … 2^60-1)",
      );
      break;
    case 16:
      f(
        Number.isInteger(tx.TimeInForce) && tx.TimeInForce >= 0 && tx.TimeInForce <= 2,
        "TimeInForce",
        "CancelAll TimeInForce is not valid",
      );
      f(tx.Time >= 0n && tx.Time <= I64_MAX, "Time", "CancelAllTime is invalid");
      if (tx.TimeInForce !== 1) f(tx.Time === 0n, "Time", "CancelAllTime should be nil");
      else f(tx.Time !== 0n, "Time", "CancelAllTime is required for a scheduled cancel-all");
      if (attrs.has(5) && attrs.get(5) !== 255n)
        f(
          tx.TimeInForce === 0,
          "L2TxAttributes",
          "Cancel all for market index can't be scheduled, TimeInforce must be ImmediateCancelAll",
        );
      break;
    case 17:
      f(
        Number.isInteger(tx.MarketIndex) && (isPerp(tx.MarketIndex) || isSpot(tx.MarketIndex)),
        "MarketIndex",
        "MarketIndex is not valid",
      );
      f(tx.Index >= 1n && tx.Index <= MAX_ORDER_INDEX, "Index", "OrderIndex must be 1 … 2^60-1");
      f(tx.BaseAmount >= 0n && tx.BaseAmount <= U48, "BaseAmount", `BaseAmount should not be larger than ${U48}`);
      f(Number.isInteger(tx.Price) && tx.Price >= 1 && tx.Price <= MAX_U32, "Price", "OrderPrice must be 1 … 2^32-1");
      f(
        Number.isInteger(tx.TriggerPrice) && tx.TriggerPrice >= 0 && tx.TriggerPrice <= MAX_U32,
        "TriggerPrice",
        "TriggerPrice is invalid",
      );
      break;
    default:
      throw new TxError(`unsupported tx type ${String((tx as { txType: unknown }).txType)}`, "TxType");
  }
}

/** Allowed value range per attribute type (lighter-go AttributeTypeToConfig). */
const ATTR_RANGE: Record<number, readonly [bigint, bigint]> = {
  1: [0n, U48 - 1n], // integrator account index
  2: [0n, 1_000_000n], // integrator taker fee (FeeTick)
  3: [0n, 1_000_000n], // integrator maker fee
  4: [1n, 1n], // skip tx nonce
  5: [0n, 255n], // cancel-all market index (255 = nil)
  6: [0n, 3n], // self-trade behaviour: expire maker, expire taker, cancel both, reduce
  7: [0n, 1n], // self-trade equality: account index, master account index
};

/**
 * The attributes as given, validated like the reference's L2TxAttributes.Validate: every present
 * type is range-checked (so {"4":0} is refused), at most 4, fees need an integrator, self-trade
 * modes cannot be combined with fees, "reduce" cannot be combined with master-account equality.
 */
function normalizeAttributes(attrs: TxAttributes | null): Map<number, bigint> {
  const out = new Map<number, bigint>();
  if (!attrs) return out;
  for (const [k, v] of Object.entries(attrs)) {
    const t = Number(k);
    if (v === undefined) continue;
    const range = ATTR_RANGE[t];
    if (!Number.isInteger(t) || !range) throw new TxError(`unknown L2TxAttributes type ${k}`, "L2TxAttributes");
    const val = BigInt(v);
    if (val < range[0] || val > range[1])
      throw new TxError(`L2TxAttributes ${k} must be ${range[0]} … ${range[1]}`, "L2TxAttributes");
    out.set(t, val);
  }
  if (out.size > MAX_ATTRIBUTES) throw new TxError(`at most ${MAX_ATTRIBUTES} L2TxAttributes`, "L2TxAttributes");
  const isSet = (t: number) => (out.get(t) ?? ATTR_NIL[t]!) !== ATTR_NIL[t];
  const fees = isSet(2) || isSet(3);
  if (fees && !isSet(1))
    throw new TxError("integrator fees need an integrator account index (attribute 1)", "L2TxAttributes");
  if (fees && (isSet(6) || isSet(7)))
    throw new TxError("self-trade modes cannot be combined with integrator fees", "L2TxAttributes");
  if (out.get(6) === 3n && out.get(7) === 1n)
    throw new TxError("self-trade mode reduce cannot be combined with master-account equality", "L2TxAttributes");
  return out;
}

// ------------------------------------------------------------------------------ hashing

/** Go's GoldilocksField(x) cast: the two's-complement uint64 of an int64. */
function u64(x: bigint | number): bigint {
  return BigInt.asUintN(64, BigInt(x));
}

export function hashPreimage(tx: Tx, chainId: number): bigint[] {
  const head = [
    u64(chainId),
    u64(tx.txType),
    u64(tx.Nonce),
    u64(tx.ExpiredAt),
    u64(tx.AccountIndex),
    u64(tx.ApiKeyIndex),
  ];
  switch (tx.txType) {
    case 14:
      return [
        ...head,
        u64(tx.MarketIndex),
        u64(tx.ClientOrderIndex),
        u64(tx.BaseAmount),
        u64(tx.Price),
        u64(tx.IsAsk),
        u64(tx.Type),
        u64(tx.TimeInForce),
        u64(tx.ReduceOnly),
        u64(tx.TriggerPrice),
        u64(tx.OrderExpiry),
      ];
    case 15:
      return [...head, u64(tx.MarketIndex), u64(tx.Index)];
    case 16:
      return [...head, u64(tx.TimeInForce), u64(tx.Time)];
    case 17:
      return [...head, u64(tx.MarketIndex), u64(tx.Index), u64(tx.BaseAmount), u64(tx.Price), u64(tx.TriggerPrice)];
  }
}

/** [t1, v1, …, t4, v4] over the non-zero attributes sorted by type, zero-padded; null if none. */
export function attributesPreimage(attrs: TxAttributes | null | undefined): bigint[] | null {
  const m = normalizeAttributes(attrs ?? null);
  const types = [...m.keys()].filter((t) => m.get(t) !== 0n).sort((a, b) => a - b);
  if (types.length === 0) return null;
  const out: bigint[] = [];
  for (const t of types) out.push(BigInt(t), m.get(t)!);
  while (out.length < 8) out.push(0n);
  return out;
}

function leLimbs(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < 5; i++) {
    let v = 0n;
    for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(bytes[i * 8 + j]!);
    out.push(v);
  }
  return out;
}

/** The 40-byte signed message (= the tx hash). */
export function txMessage(tx: Tx, chainId: number): Uint8Array {
  const base = hashToQuinticExtension(hashPreimage(tx, chainId));
  const attrPre = attributesPreimage(tx.L2TxAttributes);
  if (!attrPre) return base;
  const attrHash = hashToQuinticExtension(attrPre);
  return hashToQuinticExtension([...leLimbs(base), ...leLimbs(attrHash)]);
}

/** The tx hash Lighter reports: 80 lowercase hex characters. */
export function txHash(tx: Tx, chainId: number): string {
  return bytesToHex(txMessage(tx, chainId));
}

// ------------------------------------------------------------------------------ tx_info

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function attributesJson(attrs: TxAttributes | null | undefined): string {
  const m = normalizeAttributes(attrs ?? null);
  if (m.size === 0) return "null";
  // Go marshals map keys sorted as strings.
  const keys = [...m.keys()].map(String).sort();
  return `{${keys.map((k) => `"${k}":${m.get(Number(k))!.toString()}`).join(",")}}`;
}

/** tx_info exactly as the reference emits it (Go struct order, `Sig` base64, attributes last). */
export function encodeTxInfo(tx: Tx, signature: Uint8Array | null): string {
  const rec = tx as unknown as Record<string, bigint | number>;
  const parts = FIELDS[tx.txType].map((f) => `"${f}":${BigInt(rec[f]!).toString()}`);
  parts.push(`"Sig":${signature ? `"${base64(signature)}"` : "null"}`);
  parts.push(`"L2TxAttributes":${attributesJson(tx.L2TxAttributes)}`);
  return `{${parts.join(",")}}`;
}

export interface SignedTx {
  tx_type: TxType;
  tx_info: string;
  tx_hash: string;
}

/**
 * Validates (static rules only), hashes and signs.
 *
 * @example
 * const { tx_info, tx_hash } = signTx({ txType: 14, AccountIndex: 12345n, ... }, key, 300);
 */
export function signTx(tx: Tx, key: PrivateKey, chainId: number): SignedTx {
  validate(tx);
  const msg = txMessage(tx, chainId);
  const sig = schnorrSign(key, msg);
  return { tx_type: tx.txType, tx_info: encodeTxInfo(tx, sig), tx_hash: bytesToHex(msg) };
}

function asInt(v: ExactJson | undefined, field: string): bigint {
  if (typeof v === "bigint") return v;
  throw new TxError(`${field} must be an integer`, field);
}

function smallInt(v: ExactJson | undefined, field: string): number {
  const b = asInt(v, field);
  if (b < -(1n << 53n) || b > 1n << 53n) throw new TxError(`${field} is out of range`, field);
  return Number(b);
}

/**
 * Parses a tx_info JSON (integers exact). Unknown or missing fields are errors.
 *
 * @example
 * parseTxInfo(14, txInfoJson).ClientOrderIndex // bigint
 */
export function parseTxInfo(txType: number, txInfoJson: string): Tx & { Sig: Uint8Array | null } {
  if (txType !== 14 && txType !== 15 && txType !== 16 && txType !== 17)
    throw new TxError(`unsupported tx type ${txType}`, "TxType");
  let parsed: ExactJson;
  try {
    parsed = parseExactJson(txInfoJson);
  } catch (err) {
    throw new TxError(
      err instanceof JsonSyntaxError ? `tx_info is not valid JSON: ${err.message}` : "tx_info is not valid JSON",
      null,
    );
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new TxError("tx_info must be a JSON object", null);
  const obj = parsed as Record<string, ExactJson>;
  const fields = FIELDS[txType as TxType];
  const allowed = new Set([...fields, "Sig", "L2TxAttributes", "SignedHash"]);
  for (const k of Object.keys(obj))
    if (!allowed.has(k)) throw new TxError(`unknown field ${k} for tx type ${txType}`, k);
  const out: Record<string, unknown> = { txType };
  for (const f of fields) {
    if (!(f in obj)) throw new TxError(`missing field ${f}`, f);
    out[f] = BIG_FIELDS.has(f) ? asInt(obj[f], f) : smallInt(obj[f], f);
  }
  const sig = obj.Sig;
  if (sig === undefined || sig === null) out.Sig = null;
  else if (typeof sig === "string") {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(sig);
    } catch {
      throw new TxError("Sig is not base64", "Sig");
    }
    if (bytes.length !== 80) throw new TxError(`Sig must be 80 bytes, got ${bytes.length}`, "Sig");
    out.Sig = bytes;
  } else throw new TxError("Sig must be a base64 string", "Sig");
  const attrs = obj.L2TxAttributes;
  if (attrs === undefined || attrs === null) out.L2TxAttributes = null;
  else if (typeof attrs === "object" && !Array.isArray(attrs)) {
    const a: TxAttributes = {};
    for (const [k, v] of Object.entries(attrs)) {
      const t = Number(k);
      if (!/^[1-7]$/.test(k)) throw new TxError(`unknown L2TxAttributes type ${k}`, "L2TxAttributes");
      (a as Record<number, bigint>)[t] = asInt(v, `L2TxAttributes.${k}`);
    }
    out.L2TxAttributes = a;
  } else throw new TxError("L2TxAttributes must be an object or null", "L2TxAttributes");
  return out as unknown as Tx & { Sig: Uint8Array | null };
}

export type VerifyTxResult =
  | { ok: true; txHash: string; tx: Tx }
  | { ok: false; reason: "malformed" | "invalid" | "bad_signature"; message: string; txHash?: string };

/**
 * Verifies a signed tx_info against a public key and chain id (static validation only).
 *
 * @example
 * const r = verifyTx(14, txInfo, publicKeyHex, 300);
 * if (r.ok) console.log(r.txHash);
 */
export function verifyTx(txType: number, txInfoJson: string, publicKeyHex: string, chainId: number): VerifyTxResult {
  let pub: Uint8Array;
  try {
    pub = parsePublicKey(publicKeyHex);
  } catch (err) {
    return { ok: false, reason: "malformed", message: err instanceof KeyError ? err.message : "bad public key" };
  }
  let tx: Tx & { Sig: Uint8Array | null };
  try {
    tx = parseTxInfo(txType, txInfoJson);
  } catch (err) {
    return { ok: false, reason: "malformed", message: errorMessage(err) };
  }
  let hash: string;
  try {
    validate(tx);
    hash = txHash(tx, chainId);
  } catch (err) {
    return { ok: false, reason: "invalid", message: errorMessage(err) };
  }
  if (!tx.Sig) return { ok: false, reason: "bad_signature", message: "tx_info has no Sig", txHash: hash };
  if (!schnorrVerify(pub, hexToBytes(hash), tx.Sig))
    return { ok: false, reason: "bad_signature", message: "signature does not verify", txHash: hash };
  const { Sig: _sig, ...plain } = tx;
  return { ok: true, txHash: hash, tx: plain as Tx };
}
