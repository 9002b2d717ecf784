/**
 * The simulator's only door into worker/lighter: cryptography (tx hashing + signature checks and
 * auth-token verification) and key generation for accounts it creates. Frames, JSON and rules are
 * the simulator's own.
 */
import {
  MAX_AUTH_LIFETIME_S,
  parseAuthToken,
  verifyAuthToken,
  type AuthTokenCheck,
} from "../../worker/lighter/auth.ts";
import { bytesToHex } from "../../worker/lighter/hex.ts";
import { PrivateKey } from "../../worker/lighter/keys.ts";
import { verifyTx } from "../../worker/lighter/tx.ts";

export function verifyTxSignature(txType: number, txInfo: string, publicKeyHex: string, chainId: number) {
  return verifyTx(txType, txInfo, publicKeyHex, chainId);
}

/**
 * Token checks already made, by key and token: a client sends the same token with every request for its
 * lifetime, and re-verifying its Schnorr signature each time was a large share of the simulator's CPU in the
 * workerd tests. The signature's verdict is reused; the deadline is judged against `nowSeconds` anew.
 */
const checkedTokens = new Map<string, AuthTokenCheck>();

export function checkAuthToken(token: string, publicKeyHex: string, nowSeconds: number): AuthTokenCheck {
  const key = `${publicKeyHex}|${token}`;
  const known = checkedTokens.get(key);
  if (known?.deadline !== undefined)
    return {
      ...known,
      expired: known.deadline <= nowSeconds,
      tooFarAhead: known.deadline - nowSeconds > MAX_AUTH_LIFETIME_S,
    };
  const check = verifyAuthToken(token, publicKeyHex, nowSeconds);
  if (check.wellFormed) {
    if (checkedTokens.size >= 10_000) checkedTokens.clear();
    checkedTokens.set(key, check);
  }
  return check;
}

export function readAuthToken(token: string) {
  return parseAuthToken(token);
}

/** A fresh random API key: 40 random bytes with the top byte small enough to stay below n. */
export function generateKey(random: () => number): { privateKey: string; publicKey: string } {
  const bytes = new Uint8Array(40);
  for (let i = 0; i < 40; i++) bytes[i] = Math.floor(random() * 256);
  bytes[39] = bytes[39]! & 0x0f;
  if (bytes.every((b) => b === 0)) bytes[0] = 1;
  const privateKey = `0x${bytesToHex(bytes)}`;
  return { privateKey, publicKey: PrivateKey.fromHex(privateKey).publicKeyHex() };
}
