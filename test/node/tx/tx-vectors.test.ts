/** Every signed case of signer-vectors.json and deterministic.json: hash, tx_info, signature. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createAuthToken,
  parseAuthToken,
  verifyAuthToken,
  authMessageElements,
  redactAuthToken,
} from "../../../worker/lighter/auth.ts";
import { bytesToHex, hexToBytes } from "../../../worker/lighter/hex.ts";
import { PrivateKey } from "../../../worker/lighter/keys.ts";
import { policy, authPolicy } from "../../../worker/lighter/tx-policy.ts";
import {
  attributesPreimage,
  encodeTxInfo,
  hashPreimage,
  parseTxInfo,
  signTx,
  txHash,
  validate,
  verifyTx,
  TxError,
  type Tx,
} from "../../../worker/lighter/tx.ts";
import { loadVectors, type Json } from "../../support/vectors.ts";

const v = loadVectors("signer-vectors.json");
const det = loadVectors("deterministic.json");
const kinds = ["create_order", "cancel_order", "cancel_all_orders", "modify_order"] as const;
const keyHex = (id: string) => (v.keys as Json[]).find((k) => k.id === id).private_key_hex as string;
const stripSig = (s: string) => s.replace(/"Sig":"[^"]*"/, '"Sig":""');

describe("signed vectors", () => {
  for (const kind of kinds) {
    it(`${kind}: pre-image, tx hash, tx_info bytes, signature`, () => {
      for (const c of v[kind] as Json[]) {
        const chain = c.inputs.chain_id as number;
        const tx = parseTxInfo(c.outputs.tx_type, c.outputs.tx_info);
        expect(hashPreimage(tx, chain).map(String), c.id).toEqual(c.derived.hash_preimage_u64);
        expect(attributesPreimage(tx.L2TxAttributes)?.map(String) ?? null).toEqual(c.derived.attributes_preimage_u64);
        expect(txHash(tx, chain), c.id).toBe(c.outputs.tx_hash);
        // Re-encoding the parsed tx gives the reference's bytes exactly (Sig included).
        expect(encodeTxInfo(tx, tx.Sig)).toBe(c.outputs.tx_info);
        const r = verifyTx(c.outputs.tx_type, c.outputs.tx_info, c.public_key_hex, chain);
        expect(r.ok, `${c.id}: ${r.ok ? "" : r.message}`).toBe(true);
        // Our own signature over the same tx: same bytes apart from Sig, and it verifies.
        const ours = signTx(tx, PrivateKey.fromHex(keyHex(c.key_id)), chain);
        expect(ours.tx_hash).toBe(c.outputs.tx_hash);
        expect(stripSig(ours.tx_info)).toBe(stripSig(c.outputs.tx_info));
        expect(verifyTx(ours.tx_type, ours.tx_info, c.public_key_hex, chain).ok).toBe(true);
      }
    });
  }

  it("deterministic vectors (fixed nonce) and chain ids", () => {
    const co = parseTxInfo(14, det.create_order.tx_info);
    expect(txHash(co, 304)).toBe(det.create_order.hash_hex);
    expect(txHash(co, 300)).toBe(det.create_order_chain300_hash_hex);
    expect(encodeTxInfo(co, co.Sig)).toBe(det.create_order.tx_info);
    expect(verifyTx(14, det.create_order.tx_info, det.public_key_hex, 304).ok).toBe(true);
    const wrongChain = verifyTx(14, det.create_order.tx_info, det.public_key_hex, 300);
    expect(wrongChain.ok).toBe(false);
    expect(!wrongChain.ok && wrongChain.reason).toBe("bad_signature");
    for (const [k, type] of [
      ["create_market_ioc_order", 14],
      ["cancel_order", 15],
      ["cancel_all_orders", 16],
    ] as const) {
      const t = parseTxInfo(type, det[k].tx_info);
      expect(txHash(t, 304)).toBe(det[k].hash_hex);
      expect(verifyTx(type, det[k].tx_info, det.public_key_hex, 304).ok).toBe(true);
    }
    expect(txHash({ ...co, L2TxAttributes: { 4: 1 } }, 304)).toBe(
      det.create_order_skipnonce.hash_hex ?? det.create_order_skipnonce,
    );
  });

  it("tampered tx_info, wrong key or wrong chain is a bad signature", () => {
    const c = (v.create_order as Json[])[0];
    const tampered = c.outputs.tx_info.replace(/"Nonce":(\d+)/, (_: string, n: string) => `"Nonce":${BigInt(n) + 1n}`);
    const r1 = verifyTx(14, tampered, c.public_key_hex, c.inputs.chain_id);
    expect(r1.ok === false && r1.reason).toBe("bad_signature");
    const other = (v.keys as Json[]).find(
      (k) => k.public_key_hex !== c.public_key_hex && k.public_key_hex !== "00".repeat(40),
    ).public_key_hex;
    expect(verifyTx(14, c.outputs.tx_info, other, c.inputs.chain_id).ok).toBe(false);
    expect(verifyTx(14, "{not json", c.public_key_hex, 304)).toMatchObject({ ok: false, reason: "malformed" });
    expect(
      verifyTx(14, c.outputs.tx_info.replace('"Nonce"', '"Bogus":1,"Nonce"'), c.public_key_hex, 304),
    ).toMatchObject({ ok: false, reason: "malformed" });
    expect(verifyTx(99, c.outputs.tx_info, c.public_key_hex, 304)).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("order indexes above 2^53 survive parse → encode exactly", () => {
    const c = (v.cancel_order as Json[]).find((x) => BigInt(x.inputs.index) > 1n << 53n);
    expect(c).toBeDefined();
    const tx = parseTxInfo(15, c.outputs.tx_info);
    expect((tx as { Index: bigint }).Index.toString()).toBe(c.inputs.index);
    expect(encodeTxInfo(tx, tx.Sig)).toBe(c.outputs.tx_info);
  });
});

function txFromRejected(r: Json): Tx {
  const [a, ...rest] = r.wasm_call.args as (number | string)[];
  const base = {
    AccountIndex: BigInt(a!),
    ApiKeyIndex: r.api_key_index as number,
    ExpiredAt: 1_800_000_000_000n,
    L2TxAttributes: null,
  };
  switch (r.wasm_call.fn) {
    case "_signCreateOrder": {
      const [market, coi, baseAmount, price, isAsk, type, tif, ro, trig, expiry, nonce] = rest;
      return {
        ...base,
        txType: 14,
        MarketIndex: Number(market),
        ClientOrderIndex: BigInt(coi!),
        BaseAmount: BigInt(baseAmount!),
        Price: Number(price),
        IsAsk: Number(isAsk),
        Type: Number(type),
        TimeInForce: Number(tif),
        ReduceOnly: Number(ro),
        TriggerPrice: Number(trig),
        OrderExpiry: BigInt(expiry!),
        Nonce: BigInt(nonce!),
      };
    }
    case "_signCancelOrder": {
      const [market, index, nonce] = rest;
      return { ...base, txType: 15, MarketIndex: Number(market), Index: BigInt(index!), Nonce: BigInt(nonce!) };
    }
    case "_signCancelAllOrders": {
      const [tif, time, nonce, market] = rest;
      return {
        ...base,
        txType: 16,
        TimeInForce: Number(tif),
        Time: BigInt(time!),
        Nonce: BigInt(nonce!),
        L2TxAttributes: market === undefined ? null : { 5: Number(market) },
      };
    }
    default:
      throw new Error(`unknown fn ${r.wasm_call.fn}`);
  }
}

describe("validate", () => {
  it("rejects every case the reference rejects", () => {
    for (const r of v.rejected as Json[]) {
      const tx = txFromRejected(r);
      expect(() => validate(tx), r.description).toThrow(TxError);
    }
  });
  it("accepts every signed vector", () => {
    for (const kind of kinds)
      for (const c of v[kind] as Json[])
        expect(() => validate(parseTxInfo(c.outputs.tx_type, c.outputs.tx_info))).not.toThrow();
  });
  it("field boundaries", () => {
    const ok: Tx = {
      txType: 14,
      AccountIndex: 1n,
      ApiKeyIndex: 3,
      MarketIndex: 0,
      ClientOrderIndex: 1n,
      BaseAmount: 1n,
      Price: 1,
      IsAsk: 0,
      Type: 0,
      TimeInForce: 0,
      ReduceOnly: 0,
      TriggerPrice: 0,
      OrderExpiry: 0n,
      ExpiredAt: 1n,
      Nonce: 0n,
      L2TxAttributes: null,
    };
    expect(() => validate(ok)).not.toThrow();
    const bad: [Partial<Tx>, string][] = [
      [{ Price: 0 }, "Price"],
      [{ Price: 2 ** 32 }, "Price"],
      [{ BaseAmount: 1n << 48n }, "BaseAmount"],
      [{ BaseAmount: 0n }, "BaseAmount"],
      [{ MarketIndex: 255 }, "MarketIndex"],
      [{ MarketIndex: 4095 }, "MarketIndex"],
      [{ ApiKeyIndex: 255 }, "ApiKeyIndex"],
      [{ AccountIndex: -2n }, "AccountIndex"],
      [{ ClientOrderIndex: 1n << 48n }, "ClientOrderIndex"],
      [{ IsAsk: 2 }, "IsAsk"],
      [{ TimeInForce: 3 }, "TimeInForce"],
      [{ OrderExpiry: 5n }, "OrderExpiry"],
      [{ TriggerPrice: 1 }, "TriggerPrice"],
      [{ L2TxAttributes: { 1: 1, 2: 1, 3: 1, 4: 1, 6: 1 } }, "L2TxAttributes"],
      [{ L2TxAttributes: { 4: 2 } }, "L2TxAttributes"],
    ];
    for (const [patch, field] of bad) {
      try {
        validate({ ...ok, ...patch } as Tx);
        throw new Error(`accepted ${JSON.stringify(patch, (_, x) => (typeof x === "bigint" ? String(x) : x))}`);
      } catch (err) {
        expect(err).toBeInstanceOf(TxError);
        expect((err as TxError).field).toBe(field);
      }
    }
    expect(() => validate({ ...ok, BaseAmount: 0n, ReduceOnly: 1 } as Tx)).not.toThrow();
    // L2TxAttributes rules of the reference: ranges, fees need an integrator, no self-trade modes with fees.
    for (const attrs of [
      { 4: 0 },
      { 2: 1_000_001, 1: 5 },
      { 2: 10 },
      { 1: 5, 2: 10, 6: 1 },
      { 6: 3, 7: 1 },
      { 5: 256 },
      { 6: 4 },
    ]) {
      expect(() => validate({ ...ok, L2TxAttributes: attrs } as Tx), JSON.stringify(attrs)).toThrow(TxError);
    }
    for (const attrs of [{ 1: 5, 2: 10, 3: 5 }, { 6: 1 }, { 6: 3 }, { 7: 1 }, { 4: 1 }]) {
      expect(() => validate({ ...ok, L2TxAttributes: attrs } as Tx), JSON.stringify(attrs)).not.toThrow();
    }
    expect(() => validate({ ...ok, OrderExpiry: 1n << 62n, TimeInForce: 1 } as Tx)).not.toThrow();
    const cancelAll: Tx = {
      txType: 16,
      AccountIndex: 1n,
      ApiKeyIndex: 255,
      TimeInForce: 0,
      Time: 0n,
      ExpiredAt: 1n,
      Nonce: 0n,
      L2TxAttributes: null,
    };
    expect(() => validate(cancelAll)).not.toThrow();
    expect(() => validate({ ...cancelAll, TimeInForce: 1, Time: 0n } as Tx)).toThrow(TxError);
    expect(() => validate({ ...cancelAll, TimeInForce: 1, Time: 1n, L2TxAttributes: { 5: 3 } } as Tx)).toThrow(TxError);
    expect(() => validate({ ...cancelAll, TimeInForce: 1, Time: 1n, L2TxAttributes: { 5: 255 } } as Tx)).not.toThrow();
  });
});

describe("policy (clock rules, kept apart)", () => {
  const now = 1_800_000_000_000;
  const tx: Tx = {
    txType: 14,
    AccountIndex: 1n,
    ApiKeyIndex: 3,
    MarketIndex: 0,
    ClientOrderIndex: 0n,
    BaseAmount: 1n,
    Price: 1,
    IsAsk: 0,
    Type: 0,
    TimeInForce: 0,
    ReduceOnly: 0,
    TriggerPrice: 0,
    OrderExpiry: 0n,
    ExpiredAt: BigInt(now + 11 * 60_000),
    Nonce: 0n,
  };
  it("flags ExpiredAt beyond 10 minutes and client order index 0, which validate accepts", () => {
    expect(() => validate(tx)).not.toThrow();
    expect(
      policy(tx, now)
        .map((p) => p.field)
        .sort(),
    ).toEqual(["ClientOrderIndex", "ExpiredAt"]);
    expect(policy({ ...tx, ClientOrderIndex: 5n, ExpiredAt: BigInt(now + 599_000) }, now)).toEqual([]);
  });
  it("auth deadlines at most 8 hours ahead", () => {
    expect(authPolicy(now / 1000 + 8 * 3600, now / 1000)).toEqual([]);
    expect(authPolicy(now / 1000 + 8 * 3600 + 1, now / 1000)).toHaveLength(1);
    expect(authPolicy(now / 1000 - 1, now / 1000)).toEqual([expect.objectContaining({ severity: "warning" })]);
  });
});

describe("auth tokens", () => {
  it("vector tokens verify; message elements match", () => {
    for (const c of v.auth_token as Json[]) {
      expect(authMessageElements(c.derived.message).map(String)).toEqual(c.derived.message_field_elements_u64);
      const deadline = Number(c.outputs.deadline);
      const r = verifyAuthToken(c.outputs.token, c.public_key_hex, deadline - 100);
      expect(r, c.id).toMatchObject({ wellFormed: true, signatureValid: true, expired: false, tooFarAhead: false });
      expect(verifyAuthToken(c.outputs.token, c.public_key_hex, deadline + 1).expired).toBe(true);
      expect(verifyAuthToken(c.outputs.token, c.public_key_hex, deadline - 9 * 3600).tooFarAhead).toBe(true);
    }
    expect(verifyAuthToken(det.auth_token.token, det.public_key_hex, 1767225000).signatureValid).toBe(true);
    expect(authMessageElements(det.auth_token.message).map(String)).toEqual(det.auth_token.elements);
  });
  it("create → verify, tamper → invalid, redaction keeps the prefix only", () => {
    const key = PrivateKey.fromHex(det.private_key_hex);
    const token = createAuthToken(key, { deadline: 1_900_000_000, accountIndex: 281474976710000n, apiKeyIndex: 7 });
    expect(parseAuthToken(token)).toMatchObject({
      deadline: 1_900_000_000,
      accountIndex: 281474976710000n,
      apiKeyIndex: 7,
    });
    expect(verifyAuthToken(token, det.public_key_hex, 1_899_999_000).signatureValid).toBe(true);
    const tampered = token.replace(":7:", ":8:");
    expect(verifyAuthToken(tampered, det.public_key_hex, 1_899_999_000).signatureValid).toBe(false);
    expect(verifyAuthToken("garbage", det.public_key_hex, 0).wellFormed).toBe(false);
    const red = redactAuthToken(token);
    expect(red).toBe("1900000000:281474976710000:7:[redacted]");
  });
});

describe("round trips", () => {
  it("sign → verify over random create orders", () => {
    const key = PrivateKey.fromHex(det.private_key_hex);
    fc.assert(
      fc.property(
        fc.record({
          account: fc.bigInt({ min: 0n, max: (1n << 48n) - 2n }),
          market: fc.integer({ min: 0, max: 254 }),
          coi: fc.bigInt({ min: 1n, max: (1n << 48n) - 1n }),
          base: fc.bigInt({ min: 1n, max: (1n << 48n) - 1n }),
          price: fc.integer({ min: 1, max: 0xffffffff }),
          isAsk: fc.integer({ min: 0, max: 1 }),
          nonce: fc.bigInt({ min: 0n, max: 1n << 48n }),
          chain: fc.constantFrom(300, 304),
          selfTrade: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        }),
        (r) => {
          const tx: Tx = {
            txType: 14,
            AccountIndex: r.account,
            ApiKeyIndex: 3,
            MarketIndex: r.market,
            ClientOrderIndex: r.coi,
            BaseAmount: r.base,
            Price: r.price,
            IsAsk: r.isAsk,
            Type: 0,
            TimeInForce: 0,
            ReduceOnly: 0,
            TriggerPrice: 0,
            OrderExpiry: 0n,
            ExpiredAt: 1_800_000_000_000n,
            Nonce: r.nonce,
            L2TxAttributes: r.selfTrade ? { 6: r.selfTrade } : null,
          };
          const s = signTx(tx, key, r.chain);
          expect(verifyTx(14, s.tx_info, key.publicKeyHex(), r.chain)).toMatchObject({ ok: true, txHash: s.tx_hash });
          expect(bytesToHex(hexToBytes(s.tx_hash))).toBe(s.tx_hash);
        },
      ),
      { numRuns: 15 },
    );
  });
});
