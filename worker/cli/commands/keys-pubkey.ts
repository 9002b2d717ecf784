/**
 * `fillwatch keys pubkey`: the public key of a Lighter API private key (never printing the private
 * key), and the private-key flag shared by the commands that sign.
 */
import { PrivateKey } from "../../lighter/keys.ts";
import { UsageError, type Command, type FlagSpec, type Flags } from "../args.ts";
import { out } from "../output.ts";

export const PRIVATE_KEY_FLAG: FlagSpec = {
  name: "private-key",
  value: "HEX",
  help: "the 40-byte API private key (or env FILLWATCH_PRIVATE_KEY; never printed)",
  optional: true,
};

export function privateKey(f: Flags): PrivateKey {
  const hex = f.get("private-key") ?? process.env.FILLWATCH_PRIVATE_KEY;
  if (!hex) throw new UsageError("missing --private-key (or FILLWATCH_PRIVATE_KEY)");
  return PrivateKey.fromHex(hex);
}

export const keysPubkey: Command = {
  name: "keys pubkey",
  summary: "print the public key (80 hex) of an API private key",
  flags: [PRIVATE_KEY_FLAG],
  async run(f) {
    out(privateKey(f).publicKeyHex());
    return 0;
  },
};
