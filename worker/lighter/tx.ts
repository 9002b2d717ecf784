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
import { TxError, FIELDS, BIG_FIELDS, type Tx, type TxAttributes, type TxType } from "./tx-types.ts";
import { validate, normalizeAttributes } from "./tx-validate.ts";

export * from "./tx-types.ts";
export { validate } from "./tx-validate.ts";

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
