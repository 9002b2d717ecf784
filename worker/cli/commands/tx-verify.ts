/**
 * `fillwatch tx verify`: checks a signed tx_info against a public key and chain id (static
 * validation only); prints the tx hash. Exit 1 on a bad signature, 2 on a malformed input.
 */
import { verifyTx } from "../../lighter/tx.ts";
import { UsageError, intFlag, type Command } from "../args.ts";
import { err, out } from "../output.ts";
import { publicKeyFlag } from "./auth-token-verify.ts";

export const txVerify: Command = {
  name: "tx verify",
  summary: "verify a signed tx_info's signature and print its hash",
  exit1: "invalid signature",
  flags: [
    { name: "tx-type", value: "N", help: "14 CreateOrder, 15 CancelOrder, 16 CancelAllOrders, 17 ModifyOrder" },
    { name: "tx-info", value: "JSON", help: "the signed tx_info JSON, as sent to Lighter" },
    { name: "public-key", value: "HEX", help: "the API key's public key (80 hex)" },
    { name: "chain-id", value: "N", help: "304 mainnet, 300 testnet" },
  ],
  async run(f) {
    const txType = Number(intFlag(f.need("tx-type"), "tx-type", 0n, 255n));
    const chainId = Number(intFlag(f.need("chain-id"), "chain-id", 0n, 0xffffffffn));
    const txInfo = f.need("tx-info");
    const pub = publicKeyFlag(f.need("public-key"));
    const r = verifyTx(txType, txInfo, pub, chainId);
    if (r.ok) {
      out(r.txHash);
      err("signature valid");
      return 0;
    }
    if (r.reason === "bad_signature") {
      if (r.txHash) out(r.txHash);
      err(`invalid signature: ${r.message}`);
      return 1;
    }
    throw new UsageError(`${r.reason === "malformed" ? "malformed tx" : "invalid tx"}: ${r.message}`);
  },
};
