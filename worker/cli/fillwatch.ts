/**
 * The `fillwatch` CLI: the Lighter library from a shell, for debugging your own account and for
 * checking the library from outside. Results go to stdout only (one hex line, or exactly one JSON
 * object; `replay` prints JSON lines); everything else to stderr. Exit 0 success/valid, 1 invalid
 * signature, 2 usage or input error. A private key is never printed.
 */
import { createAuthToken, verifyAuthToken } from "../lighter/auth.ts";
import { parseExactJson, type ExactJson } from "../lighter/json.ts";
import { KeyError, PrivateKey } from "../lighter/keys.ts";
import { authPolicy } from "../lighter/policy.ts";
import { replayFrames } from "../lighter/replay.ts";
import { TxError, signTx, verifyTx, type Tx } from "../lighter/tx.ts";
import { runConfigCheck } from "../config/read-file.ts";

class UsageError extends Error {}

const HELP = `fillwatch — Lighter fill-detection health checker (CLI)

Usage:
  fillwatch keys pubkey --private-key HEX
  fillwatch tx sign --json '{"ChainId":304,"TxType":14,"AccountIndex":...,"Nonce":...,"ExpiredAt":...}' --private-key HEX
  fillwatch tx verify --tx-type N --tx-info JSON --public-key HEX --chain-id N
  fillwatch auth-token create --private-key HEX --account N --api-key N --deadline UNIX_SECONDS
  fillwatch auth-token verify --token T --public-key HEX
  fillwatch replay [--account N] < frames.ndjson
  fillwatch config check [--wrangler wrangler.toml] [--dev-vars .dev.vars]

Results go to stdout; messages to stderr. Exit codes: 0 ok/valid, 1 invalid signature,
2 usage or input error. The private key may also come from the env var FILLWATCH_PRIVATE_KEY.
`;

function flags(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(a.slice(0, 40))}`);
    const eq = a.indexOf("=");
    if (eq > 0) {
      out.set(a.slice(2, eq), a.slice(eq + 1));
      continue;
    }
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
    out.set(a.slice(2), v);
    i++;
  }
  return out;
}

function need(f: Map<string, string>, name: string): string {
  const v = f.get(name);
  if (v === undefined || v === "") throw new UsageError(`missing --${name}`);
  return v;
}

function privateKey(f: Map<string, string>): PrivateKey {
  const hex = f.get("private-key") ?? process.env.FILLWATCH_PRIVATE_KEY;
  if (!hex) throw new UsageError("missing --private-key (or FILLWATCH_PRIVATE_KEY)");
  return PrivateKey.fromHex(hex);
}

function int(text: string, name: string, min: bigint, max: bigint): bigint {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name} must be an integer`);
  const v = BigInt(text);
  if (v < min || v > max) throw new UsageError(`--${name} must be from ${min} to ${max}`);
  return v;
}

const TX_FIELDS: Record<number, string[]> = {
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
  if (typeof type !== "bigint" || !TX_FIELDS[Number(type)])
    throw new UsageError("TxType must be 14 (CreateOrder), 15 (CancelOrder), 16 (CancelAllOrders) or 17 (ModifyOrder)");
  const fields = TX_FIELDS[Number(type)]!;
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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    (cmd ? process.stdout : process.stderr).write(HELP);
    return cmd ? 0 : 2;
  }
  const key2 = `${cmd} ${sub ?? ""}`.trim();
  switch (key2) {
    case "keys pubkey": {
      const f = flags(rest);
      out(privateKey(f).publicKeyHex());
      return 0;
    }
    case "tx sign": {
      const f = flags(rest);
      const { tx, chainId } = txFromJson(need(f, "json"));
      const signed = signTx(tx, privateKey(f), chainId);
      out(JSON.stringify({ tx_type: signed.tx_type, tx_info: signed.tx_info, tx_hash: signed.tx_hash }));
      return 0;
    }
    case "tx verify": {
      const f = flags(rest);
      const txType = Number(int(need(f, "tx-type"), "tx-type", 0n, 255n));
      const chainId = Number(int(need(f, "chain-id"), "chain-id", 0n, 0xffffffffn));
      const r = verifyTx(txType, need(f, "tx-info"), need(f, "public-key"), chainId);
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
    }
    case "auth-token create": {
      const f = flags(rest);
      const key = privateKey(f);
      const account = int(need(f, "account"), "account", 0n, (1n << 48n) - 1n);
      const apiKey = Number(int(need(f, "api-key"), "api-key", 0n, 254n));
      const deadline = Number(int(need(f, "deadline"), "deadline", 0n, 99_999_999_999n));
      const problems = authPolicy(deadline, Math.floor(Date.now() / 1000));
      const refused = problems.filter((p) => p.severity !== "warning");
      if (refused.length) throw new UsageError(refused.map((p) => p.message).join("; "));
      for (const p of problems) err(`warning: ${p.message}`);
      out(createAuthToken(key, { deadline, accountIndex: account, apiKeyIndex: apiKey }));
      return 0;
    }
    case "auth-token verify": {
      const f = flags(rest);
      const r = verifyAuthToken(need(f, "token"), need(f, "public-key"), Math.floor(Date.now() / 1000));
      if (!r.wellFormed) throw new UsageError("not an auth token (expected deadline:account:apiKey:160-hex-signature)");
      if (!r.signatureValid) {
        err("invalid signature");
        return 1;
      }
      err(
        `signature valid; deadline ${r.deadline} ${r.expired ? "has passed (expired)" : "has not passed"}${r.tooFarAhead ? "; more than 8 hours ahead: Lighter refuses it (20013)" : ""}`,
      );
      return 0;
    }
    case "config check": {
      const f = flags(rest);
      const r = runConfigCheck(f.get("wrangler") ?? "wrangler.toml", f.get("dev-vars") ?? ".dev.vars");
      for (const n of r.notes) err(n);
      out(JSON.stringify({ ok: r.ok, problems: r.problems }));
      for (const p of r.problems) err(`${p.severity}: ${p.setting}: ${p.message} — fix: ${p.fix}`);
      return r.ok ? 0 : 2;
    }
    default:
      if (cmd === "replay") {
        const f = flags(sub === undefined ? [] : [sub, ...rest]);
        const account = f.has("account") ? int(f.get("account")!, "account", 0n, (1n << 48n) - 1n) : undefined;
        const text = await readStdin();
        const { events, summary } = replayFrames(text.split("\n"), account === undefined ? {} : { account });
        for (const e of events) out(JSON.stringify(e));
        out(JSON.stringify({ summary }));
        return 0;
      }
      throw new UsageError(`unknown command ${JSON.stringify(key2.slice(0, 60))} (try --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof KeyError || e instanceof TxError || e instanceof RangeError) {
      err(`fillwatch: ${e.message}`);
    } else {
      err(`fillwatch: unexpected error: ${e instanceof Error ? e.message : "unknown"}`);
    }
    process.exitCode = 2;
  },
);
