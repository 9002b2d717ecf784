/**
 * `fillwatch tx sign`: signs a Lighter transaction given as JSON (integers above 2^53 read
 * exactly) and prints {tx_type, tx_info, tx_hash}. The private key is never printed.
 */
import { FIELDS, type TxType } from "../../lighter/tx-types.ts";
import { parseExactJson, type ExactJson } from "../../lighter/json.ts";
import { signTx, type Tx } from "../../lighter/tx.ts";
import { UsageError, type Command } from "../args.ts";
import { out } from "../output.ts";
import { PRIVATE_KEY_FLAG, privateKey } from "./keys-pubkey.ts";

const BIG = new Set([
  "AccountIndex",
  "ClientOrderIndex",
  "BaseAmount",
  "OrderExpiry",
  "ExpiredAt",
  "Nonce",
  "Index",
  "Time",
]);
const OPTIONAL_ZERO = new Set(["TriggerPrice", "ReduceOnly", "Time"]);

function txFromJson(text: string): { tx: Tx; chainId: number } {
  let v: ExactJson;
  try {
    v = parseExactJson(text);
  } catch (err) {
    throw new UsageError(`--json is not valid JSON: ${err instanceof Error ? err.message : ""}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new UsageError("--json must be a JSON object");
  const o = v as Record<string, ExactJson>;
  const chain = o.ChainId;
  const type = o.TxType;
  if (typeof chain !== "bigint" || chain < 0n || chain > 0xffffffffn)
    throw new UsageError("ChainId must be an integer (304 mainnet, 300 testnet)");
  if (typeof type !== "bigint" || !FIELDS[Number(type) as TxType])
    throw new UsageError("TxType must be 14 (CreateOrder), 15 (CancelOrder), 16 (CancelAllOrders) or 17 (ModifyOrder)");
  const fields = FIELDS[Number(type) as TxType]!;
  // Sig / SignedHash may be present when a whole tx_info is pasted: they are ignored (we sign anew).
  const allowed = new Set([...fields, "ChainId", "TxType", "L2TxAttributes", "Sig", "SignedHash"]);
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw new UsageError(`unknown field ${k} for tx type ${type}`);
  const tx: Record<string, unknown> = { txType: Number(type) };
  for (const f of fields) {
    let val = o[f];
    if (val === undefined && OPTIONAL_ZERO.has(f)) val = 0n;
    if (val === undefined) throw new UsageError(`missing field ${f}`);
    if (typeof val !== "bigint") throw new UsageError(`${f} must be an integer`);
    if (!BIG.has(f) && (val > 0xffffffffffffn || val < -1n)) throw new UsageError(`${f} is out of range`);
    tx[f] = BIG.has(f) ? val : Number(val);
  }
  const attrs = o.L2TxAttributes;
  if (attrs !== undefined && attrs !== null) {
    if (typeof attrs !== "object" || Array.isArray(attrs))
      throw new UsageError('L2TxAttributes must be an object like {"4":1}');
    const a: Record<string, bigint> = {};
    for (const [k, x] of Object.entries(attrs)) {
      if (typeof x !== "bigint") throw new UsageError(`L2TxAttributes.${k} must be an integer`);
      a[k] = x;
    }
    tx.L2TxAttributes = a;
  } else tx.L2TxAttributes = null;
  return { tx: tx as unknown as Tx, chainId: Number(chain) };
}

export const txSign: Command = {
  name: "tx sign",
  summary: "sign a transaction (CreateOrder, CancelOrder, CancelAllOrders, ModifyOrder)",
  flags: [
    {
      name: "json",
      value: "JSON",
      help: '{"ChainId":304,"TxType":14,"AccountIndex":...,"Nonce":...,"ExpiredAt":...} (a pasted tx_info works)',
    },
    PRIVATE_KEY_FLAG,
  ],
  details: "Static validation only: a rejected field is exit 2 with its name. Sig and SignedHash are ignored.",
  async run(f) {
    const { tx, chainId } = txFromJson(f.need("json"));
    const signed = signTx(tx, privateKey(f), chainId);
    out(JSON.stringify({ tx_type: signed.tx_type, tx_info: signed.tx_info, tx_hash: signed.tx_hash }));
    return 0;
  },
};
