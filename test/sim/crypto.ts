/**
 * The simulator's only door into worker/lighter: cryptography (tx hashing + signature checks and
 * auth-token verification) and key generation for accounts it creates. Frames, JSON and rules are
 * the simulator's own.
 */
import { parseAuthToken, verifyAuthToken } from "../../worker/lighter/auth.ts";
import { bytesToHex } from "../../worker/lighter/hex.ts";
import { PrivateKey } from "../../worker/lighter/keys.ts";
import { verifyTx } from "../../worker/lighter/tx.ts";

export function verifyTxSignature(txType: number, txInfo: string, publicKeyHex: string, chainId: number) {
  return verifyTx(txType, txInfo, publicKeyHex, chainId);
}

export function checkAuthToken(token: string, publicKeyHex: string, nowSeconds: number) {
  return verifyAuthToken(token, publicKeyHex, nowSeconds);
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
