/** signer-vectors.json: keys, and every recorded signature verifies; tampering fails. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { schnorrSign, schnorrVerify } from "../../../worker/lighter/crypto/schnorr.ts";
import { bytesToHex, hexToBytes } from "../../../worker/lighter/hex.ts";
import { KeyError, PrivateKey, parsePublicKey } from "../../../worker/lighter/keys.ts";
import { loadVectors, type Json } from "../../support/vectors.ts";

const v = loadVectors("signer-vectors.json");
const signed: Json[] = [...v.create_order, ...v.cancel_order, ...v.cancel_all_orders, ...v.modify_order];

describe("keys", () => {
  it("derives every public key, edge keys and non-canonical keys included", () => {
    for (const k of v.keys as Json[]) {
      if (k.source !== "private_key") continue;
      const key = PrivateKey.fromHex(k.input_private_key_hex);
      expect(key.publicKeyHex(), k.id).toBe(k.public_key_hex);
    }
  });
  it("rejects malformed keys without echoing them", () => {
    const secretish = "0xzz75ea097c43940afa48dfb2202f5a95292a554eb900a2cbcd607e4bafb91e04b27bc2c015e38b2b";
    for (const bad of [secretish, "0x1234", "", "ad".repeat(41)]) {
      let err: unknown;
      try {
        PrivateKey.fromHex(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyError);
      if (bad.length > 8) expect(String((err as Error).message)).not.toContain(bad.slice(4, 20));
    }
    expect(() => parsePublicKey("00")).toThrow(KeyError);
  });
  it("never prints a private key", () => {
    const hex = (v.keys as Json[])[0].private_key_hex as string;
    const key = PrivateKey.fromHex(hex);
    expect(String(key)).not.toContain(hex.slice(0, 16));
    expect(JSON.stringify({ key })).not.toContain(hex.slice(0, 16));
  });
  it("refuses to sign with the zero key (n ≡ 0)", () => {
    const zero = (v.keys as Json[]).find((k) => k.public_key_hex === "00".repeat(40));
    expect(zero).toBeDefined();
    const key = PrivateKey.fromHex(zero.input_private_key_hex);
    expect(key.isZero()).toBe(true);
    expect(() => schnorrSign(key, new Uint8Array(40))).toThrow(KeyError);
  });
});

describe("recorded signatures", () => {
  it("every tx signature verifies against its tx hash", () => {
    for (const c of signed) {
      expect(
        schnorrVerify(hexToBytes(c.public_key_hex), hexToBytes(c.outputs.tx_hash), hexToBytes(c.outputs.signature_hex)),
        c.id,
      ).toBe(true);
    }
  });
  it("every auth-token signature verifies against its message hash", () => {
    for (const c of v.auth_token as Json[]) {
      expect(
        schnorrVerify(
          hexToBytes(c.public_key_hex),
          hexToBytes(c.derived.signed_message_hex),
          hexToBytes(c.outputs.signature_hex),
        ),
        c.id,
      ).toBe(true);
    }
  });
  it("tampered hash, signature or key fails", () => {
    const c = signed[0];
    const pk = hexToBytes(c.public_key_hex);
    const msg = hexToBytes(c.outputs.tx_hash);
    const sig = hexToBytes(c.outputs.signature_hex);
    const flip = (b: Uint8Array, i: number) => {
      const x = b.slice();
      x[i] = x[i]! ^ 1;
      return x;
    };
    expect(schnorrVerify(pk, flip(msg, 3), sig)).toBe(false);
    expect(schnorrVerify(pk, msg, flip(sig, 5))).toBe(false);
    expect(schnorrVerify(pk, msg, flip(sig, 45))).toBe(false);
    expect(
      schnorrVerify(
        hexToBytes(
          signed[1].public_key_hex === c.public_key_hex
            ? (v.keys as Json[]).at(-1).public_key_hex
            : signed[1].public_key_hex,
        ),
        msg,
        sig,
      ),
    ).toBe(false);
    expect(schnorrVerify(flip(pk, 0), msg, sig)).toBe(false);
    expect(schnorrVerify(pk, msg, new Uint8Array(79))).toBe(false);
  });
});

describe("sign → verify round trips", () => {
  it("random keys and messages", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        (keyBytes, msg) => {
          keyBytes[39] = keyBytes[39]! & 0x0f;
          const key = PrivateKey.fromHex(bytesToHex(keyBytes));
          if (key.isZero()) return;
          const sig = schnorrSign(key, msg);
          expect(schnorrVerify(key.publicKey(), msg, sig)).toBe(true);
          const other = msg.slice();
          other[0] = other[0]! ^ 0x80;
          expect(schnorrVerify(key.publicKey(), other, sig)).toBe(false);
        },
      ),
      { numRuns: 12 },
    );
  });
  it("two signatures of the same message differ (fresh nonces)", () => {
    const key = PrivateKey.fromHex((v.keys as Json[])[0].private_key_hex);
    const m = new Uint8Array(40).fill(7);
    expect(bytesToHex(schnorrSign(key, m))).not.toBe(bytesToHex(schnorrSign(key, m)));
  });
});
