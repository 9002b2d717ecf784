/**
 * `fillwatch auth-token verify`: checks a WebSocket auth token's signature and deadline. Exit 0
 * valid and unexpired, 1 invalid signature or expired (with the reason), 2 malformed input.
 */
import { verifyAuthToken } from "../../lighter/auth.ts";
import { KeyError, parsePublicKey, publicKeyPoint } from "../../lighter/keys.ts";
import { UsageError, type Command } from "../args.ts";
import { err } from "../output.ts";

/** A --public-key value that decodes to a curve point, else a usage error naming the flag. */
export function publicKeyFlag(hex: string): string {
  let bytes: Uint8Array;
  try {
    bytes = parsePublicKey(hex);
  } catch (e) {
    throw new UsageError(`--public-key: ${e instanceof KeyError ? e.message : "not 80 hex characters"}`);
  }
  if (publicKeyPoint(bytes) === null) throw new UsageError("--public-key: not a valid public key (not a curve point)");
  return hex;
}

export const authTokenVerify: Command = {
  name: "auth-token verify",
  summary: "verify an auth token's signature and deadline",
  flags: [
    { name: "token", value: "T", help: "the token, deadline:account:apiKey:signature" },
    { name: "public-key", value: "HEX", help: "the API key's public key (80 hex)" },
  ],
  exit1: "invalid signature or expired (the reason goes to stderr)",
  async run(f) {
    const token = f.need("token");
    const pub = publicKeyFlag(f.need("public-key"));
    const now = Math.floor(Date.now() / 1000);
    const r = verifyAuthToken(token, pub, now);
    if (!r.wellFormed)
      throw new UsageError("--token: not an auth token (expected deadline:account:apiKey:160-hex-signature)");
    if (!r.signatureValid) {
      err("invalid signature");
      return 1;
    }
    if (r.expired) {
      err(`expired: signature valid, but the deadline ${r.deadline} passed ${now - r.deadline!} s ago`);
      return 1;
    }
    err(
      `signature valid; deadline ${r.deadline} has not passed${r.tooFarAhead ? "; more than 8 hours ahead: Lighter refuses it (20013)" : ""}`,
    );
    return 0;
  },
};
