/**
 * `npm run sim -- --port N --seed S [--chain-id C] [...]`: the simulator standalone. Its FIRST
 * stdout line is exactly one JSON object describing a funded test account; everything else goes
 * after it or to stderr.
 *
 * Flags: --port --seed --chain-id --book-interval-ms --levels-per-delta --idle-timeout-ms
 *        --execution-delay-ms --send-tx-latency-ms --price-band-bps --random-variants
 *        --account INDEX:APIKEY:PUBKEYHEX (repeatable; registers an account from a public key only)
 *        --fault 'name:{"ms":500}' (repeatable)  --variant key=value (repeatable)
 *        --bot-rate-per-min N (a trading bot on the printed account, its own API key; see bot.ts)
 */
import { errorMessage } from "../../worker/lighter/errors.ts";
import { startSimulator, DEFAULT_VARIANTS, VARIANT_VALUES, type SimOptions, type Variants } from "./server.ts";

function fail(msg: string): never {
  process.stderr.write(`sim: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const opts: SimOptions = { port: 8790, seed: 1, log: (l) => process.stderr.write(`sim: ${l}\n`) };
const accounts: NonNullable<SimOptions["accounts"]> = [];
const faults: Record<string, unknown>[] = [];
const variants: Partial<Variants> = {};
let botRate = 0;
const num = (flag: string, v: string | undefined) => {
  if (v === undefined || !/^\d+$/.test(v)) fail(`${flag} needs a non-negative integer`);
  return Number(v);
};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const v = args[i + 1];
  switch (a) {
    case "--port":
      opts.port = num(a, v);
      i++;
      break;
    case "--seed":
      opts.seed = num(a, v);
      i++;
      break;
    case "--chain-id":
      opts.chainId = num(a, v);
      i++;
      break;
    case "--book-interval-ms":
      opts.bookIntervalMs = num(a, v);
      i++;
      break;
    case "--levels-per-delta":
      opts.levelsPerDelta = num(a, v);
      i++;
      break;
    case "--idle-timeout-ms":
      opts.idleTimeoutMs = num(a, v);
      i++;
      break;
    case "--execution-delay-ms":
      opts.executionDelayMs = num(a, v);
      i++;
      break;
    case "--send-tx-latency-ms":
      opts.sendTxLatencyMs = num(a, v);
      i++;
      break;
    case "--price-band-bps":
      opts.priceBandBps = num(a, v);
      i++;
      break;
    case "--bot-rate-per-min":
      botRate = num(a, v);
      i++;
      break;
    case "--random-variants":
      opts.randomVariants = true;
      break;
    case "--account": {
      const m = /^(\d+):(\d+):(0x)?([0-9a-fA-F]{80})$/.exec(v ?? "");
      if (!m) fail("--account needs INDEX:APIKEY:PUBKEYHEX (80 hex)");
      accounts.push({ index: BigInt(m[1]!), apiKeyIndex: Number(m[2]), publicKey: m[4]! });
      i++;
      break;
    }
    case "--fault": {
      const m = /^([a-z_]+)(?::(.*))?$/s.exec(v ?? "");
      if (!m) fail("--fault needs name or name:{json}");
      let params: Record<string, unknown> = {};
      if (m[2]) {
        try {
          params = JSON.parse(m[2]) as Record<string, unknown>;
        } catch {
          fail(`--fault ${m[1]}: parameters are not JSON`);
        }
      }
      faults.push({ name: m[1], ...params });
      i++;
      break;
    }
    case "--variant": {
      const m = /^([a-z_]+)=(.+)$/.exec(v ?? "");
      if (!m || !(m[1]! in DEFAULT_VARIANTS))
        fail(`--variant needs key=value with key one of ${Object.keys(DEFAULT_VARIANTS).join(", ")}`);
      const cur = DEFAULT_VARIANTS[m[1] as keyof Variants];
      const value = typeof cur === "boolean" ? m[2] === "true" : m[2]!;
      const allowed = VARIANT_VALUES[m[1] as keyof Variants];
      if (!allowed.includes(value)) fail(`--variant ${m[1]} must be one of ${allowed.map(String).join(", ")}`);
      (variants as Record<string, unknown>)[m[1]!] = value;
      i++;
      break;
    }
    case "--help":
      process.stderr.write(
        "usage: npm run sim -- --port N --seed S [--chain-id C] [--fault 'name:{json}'] [--variant key=value] [--account INDEX:APIKEY:PUBKEY]\n",
      );
      process.exit(0);
      break;
    default:
      fail(`unknown flag ${a} (try --help)`);
  }
}
opts.accounts = accounts;
opts.faults = faults;
opts.variants = variants;

let sim;
try {
  sim = await startSimulator(opts);
} catch (err) {
  fail(errorMessage(err));
}
const acct = sim.createAccount({ collateral: 1_000_000_000n });
process.stdout.write(
  `${JSON.stringify({ ws: sim.ws, rest: sim.rest, chain_id: sim.chainId, account_index: Number(acct.account_index), api_key_index: acct.api_key_index, private_key: acct.private_key, market_index: 0 })}\n`,
);
if (botRate > 0) {
  const r = sim.watch.control("POST", "bot", undefined, {
    account_index: acct.account_index.toString(),
    rate_per_min: botRate,
    seed: opts.seed,
  });
  if (r?.status !== 201) fail(`--bot-rate-per-min: ${JSON.stringify(r?.body)}`);
  process.stderr.write(`sim: trading bot on account ${acct.account_index} at ${botRate} orders/min\n`);
}
process.stderr.write(
  `sim: Lighter simulator on ${sim.rest} (WebSocket ${sim.ws}, chain id ${sim.chainId}, seed ${opts.seed})\n` +
    `sim:   wscat -c ${sim.ws}   then   {"type":"subscribe","channel":"order_book/0"}\n` +
    `sim:   curl ${sim.rest}/api/v1/orderBookDetails?market_id=0\n` +
    `sim:   curl -X POST ${sim.rest}/_sim/faults -d '{"name":"withhold_account_orders"}'\n` +
    `sim:   curl ${sim.rest}/_sim/state\n`,
);
const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
