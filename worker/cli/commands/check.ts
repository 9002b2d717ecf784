/**
 * `fillwatch check --once`: one synthetic check by the same machine the Worker runs, from Node
 * against a network given by flags (testnet, mainnet only with --allow-mainnet, or a custom one such
 * as the local simulator). Prints the stage table and the verdict (or the check record with --json).
 * Exit 0 pass or degraded (and a dry run), 1 fail or skipped, 2 usage.
 */
import { readFileSync } from "node:fs";
import { NETWORKS } from "../../config.ts";
import { createAuthToken } from "../../lighter/auth.ts";
import { PrivateKey } from "../../lighter/keys.ts";
import { LighterRestClient } from "../../lighter/rest.ts";
import { EffectCarrier, type Identity } from "../../monitor/check/carrier.ts";
import { ACTIONS, STAGES } from "../../monitor/diagnosis.ts";
import { boundMs, DEFAULT_WS_REPORT_TOLERANCE_MS } from "../../monitor/check/start.ts";
import { MS } from "../../monitor/check/ctx.ts";
import type { CheckRecord, CheckSettings } from "../../monitor/check/state.ts";
import { viewOf } from "../../monitor/check/view.ts";
import { UsageError, intFlag, type Command, type Flags } from "../args.ts";
import { err, out } from "../output.ts";
import { runOnce } from "../check/loop.ts";

const REST_TIMEOUT_MS = 10_000;

function num(f: Flags, name: string, min: number, max: number, dflt: number | null): number | null {
  const v = f.get(name);
  if (v === undefined) return dflt;
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new UsageError(`--${name} must be a number`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${min} to ${max}`);
  return n;
}

function url(f: Flags, name: string, fallback: string | undefined, schemes: string[]): string {
  const v = f.get(name) ?? fallback;
  if (!v) throw new UsageError(`missing --${name} (needed with --network custom)`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--${name} is not a URL`);
  }
  if (!schemes.includes(u.protocol)) throw new UsageError(`--${name} must start with ${schemes.join(" or ")}//`);
  if (u.username || u.password) throw new UsageError(`--${name} must not hold credentials`);
  return v;
}

function readKey(f: Flags): PrivateKey | null {
  const file = f.get("private-key-file");
  let hex: string | undefined;
  if (file !== undefined) {
    try {
      hex = readFileSync(file, "utf8").trim();
    } catch {
      throw new UsageError(`--private-key-file: cannot read ${JSON.stringify(file.slice(0, 200))}`);
    }
  } else hex = process.env.FILLWATCH_PRIVATE_KEY?.trim();
  if (!hex) return null;
  const key = PrivateKey.fromHex(hex);
  if (key.isZero()) throw new UsageError("the private key is the zero key");
  return key;
}

/** The stage table: each stage with its time, the failing one marked. */
function table(c: CheckRecord): string[] {
  const v = viewOf(c);
  const rows = STAGES.map((st) => {
    const m = c.stages[st];
    const mark = m ? `ok   ${String(m.ms).padStart(6)} ms` : v.first_failing_stage === st ? "FAIL" : "-";
    return `  ${st.padEnd(18)} ${mark}`;
  });
  const lines = [`check ${c.id} on market ${c.market}`, ...rows, ""];
  lines.push(`verdict: ${v.verdict ?? "none"}${v.diagnosis ? ` (${v.diagnosis})` : ""}`);
  if (v.reasons.length > 0) lines.push(`reasons: ${v.reasons.join(", ")}`);
  if (v.action) lines.push(`action: ${v.action}`);
  const ev = c.evidence;
  for (const k of ["tx_hash", "client_order_index", "exchange_code", "exchange_message", "error"]) {
    if (ev[k] !== undefined && ev[k] !== null) lines.push(`${k}: ${String(ev[k])}`);
  }
  lines.push(
    `flatten: ${v.flatten ?? "none"}${v.flatten_detail?.reason ? ` (${String(v.flatten_detail.reason)})` : ""}`,
  );
  return lines;
}

export const check: Command = {
  name: "check",
  summary: "run one synthetic check with the monitor's own machine, from here (try before you deploy)",
  flags: [
    { name: "once", help: "run one check and exit (required: the only mode)" },
    { name: "network", value: "NET", help: "testnet (default), mainnet or custom", optional: true },
    { name: "rest-url", value: "URL", help: "REST base URL (custom network, or to override)", optional: true },
    {
      name: "ws-url",
      value: "URL",
      help: "WebSocket URL, ws(s)://…/stream (custom network, or to override)",
      optional: true,
    },
    { name: "chain-id", value: "N", help: "chain id (300 testnet, 304 mainnet; needed with custom)", optional: true },
    { name: "account", value: "N", help: "account index" },
    { name: "api-key", value: "N", help: "API key index" },
    { name: "market", value: "N", help: "market id (default 0)", optional: true },
    {
      name: "private-key-file",
      value: "PATH",
      help: "file holding the API private key (or env FILLWATCH_PRIVATE_KEY; none: a dry run)",
      optional: true,
    },
    { name: "allow-mainnet", help: "allow test orders with real money (chain id 304)", optional: true },
    { name: "dry-run", help: "build, sign and verify the order, never send it", optional: true },
    { name: "time-scale", value: "X", help: "multiply every deadline by X (default 1)", optional: true },
    { name: "max-notional-per-order-usd", value: "USD", help: "cap per order (default 50)", optional: true },
    { name: "max-slippage-bps", value: "BPS", help: "limit price slippage (default 50)", optional: true },
    { name: "max-spread-bps", value: "BPS", help: "refuse wider spreads (default 100)", optional: true },
    { name: "rest-confirm-ms", value: "MS", help: "REST confirmation window (default 5000)", optional: true },
    {
      name: "ws-report-tolerance-ms",
      value: "MS",
      help: "how long the channels may take to report a fill REST shows (default 3000)",
      optional: true,
    },
    { name: "fill-latency-degraded-ms", value: "MS", help: "slower fills are degraded (default 5000)", optional: true },
    { name: "json", help: "print the check record as JSON", optional: true },
    { name: "verbose", help: "log every step to stderr", optional: true },
  ],
  exit1: "the check failed (or was skipped)",
  details:
    "The same check machine as the deployed Worker, with its effects over fetch and a WebSocket. The private key\n" +
    "is read from --private-key-file or FILLWATCH_PRIVATE_KEY and never printed. Without one, the check is a dry run.",
  async run(f) {
    if (!f.has("once")) throw new UsageError("check needs --once (one check, then exit)");
    const network = f.get("network") ?? "testnet";
    if (network !== "testnet" && network !== "mainnet" && network !== "custom") {
      throw new UsageError("--network must be testnet, mainnet or custom");
    }
    const preset = network === "custom" ? null : NETWORKS[network];
    const restUrl = url(f, "rest-url", preset?.rest, ["http:", "https:"]);
    const wsUrl = url(f, "ws-url", preset?.ws, ["ws:", "wss:"]);
    const chainText = f.get("chain-id");
    const chainId = chainText !== undefined ? Number(intFlag(chainText, "chain-id", 0n, 0xffffffffn)) : preset?.chainId;
    if (chainId === undefined) throw new UsageError("missing --chain-id (needed with --network custom)");
    const allowMainnet = f.has("allow-mainnet");
    if ((network === "mainnet" || chainId === 304) && !allowMainnet) {
      throw new UsageError("mainnet (chain id 304) trades real money: add --allow-mainnet to run a check there");
    }
    const account = intFlag(f.need("account"), "account", 0n, (1n << 63n) - 1n);
    const apiKeyIndex = Number(intFlag(f.need("api-key"), "api-key", 0n, 254n));
    const market = Number(intFlag(f.get("market") ?? "0", "market", 0n, 65535n));
    const timeScale = num(f, "time-scale", 0.01, 10, 1)!;
    const key = readKey(f);
    const settings: CheckSettings = {
      monitorId: `${network}:${account}:${apiKeyIndex}`,
      chainId,
      account: account.toString(),
      apiKeyIndex,
      markets: [market],
      mode: "on-demand",
      timeScale,
      dryRun: f.has("dry-run"),
      allowMainnet,
      allowNonflatStart: false,
      caps: {
        maxNotionalPerOrderUsd: num(f, "max-notional-per-order-usd", 0, 1e9, 50),
        maxOrdersPerDay: 400,
        maxDailyNotionalUsd: 5_000,
        maxResidualBase: null,
      },
      thresholds: {
        maxSpreadBps: num(f, "max-spread-bps", 0, 10_000, 100),
        maxSlippageBps: num(f, "max-slippage-bps", 0, 5_000, 50)!,
        fillLatencyDegradedMs: num(f, "fill-latency-degraded-ms", 1, 3_600_000, 5_000),
        bookStaleMs: 30_000,
        restConfirmMs: num(f, "rest-confirm-ms", 100, 600_000, 5_000)!,
        wsReportToleranceMs: num(f, "ws-report-tolerance-ms", 0, 600_000, DEFAULT_WS_REPORT_TOLERANCE_MS)!,
      },
    };
    const verbose = f.has("verbose") ? (line: string) => err(line) : () => undefined;
    const rest = new LighterRestClient({
      baseUrl: restUrl,
      timeoutMs: Math.max(1_000, Math.round(REST_TIMEOUT_MS * Math.max(timeScale, 0.1))),
      authToken: key
        ? () =>
            // REST tokens are short-lived (10 minutes), minted per request from the key.
            mintToken(key, account, apiKeyIndex)
        : undefined,
    });
    const limitMs = boundMs(settings) + Math.round(MS.flattenBound * timeScale) + 15_000;
    const id: Identity = { account, apiKeyIndex, chainId, key, keyError: null };
    const io = new EffectCarrier({
      rest: () => rest,
      identity: () => id,
      now: () => Date.now(),
      log: (level, event, data) =>
        verbose(`${level} ${event} ${JSON.stringify(data, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))}`),
    });
    const r = await runOnce({
      io,
      id,
      wsUrl,
      setup: { settings, problems: [], key: { present: key !== null, error: null }, paused: false },
      limitMs,
      verbose,
    });
    const c = r.record;
    if (!c || !c.verdict) {
      err("fillwatch: the check did not reach a verdict within its bound");
      return 1;
    }
    if (f.has("json")) out(JSON.stringify({ ...viewOf(c), lock: r.state.lock }, null, 2));
    else for (const line of table(c)) out(line);
    if (r.state.lock) {
      err(
        `warning: the test order ${r.state.lock.facts.coi} (tx ${r.state.lock.facts.txHash}) is not resolved yet; look it up before the next check`,
      );
    }
    if (r.timedOut) err("warning: stopped before the flatten ended; check the account's position");
    const v = c.verdict;
    if (v.verdict === "pass" || v.verdict === "degraded") return 0;
    if (v.verdict === "skipped" && v.diagnosis === "dry_run") return 0;
    if (v.diagnosis) verbose(ACTIONS[v.diagnosis]);
    return 1;
  },
};

function mintToken(key: PrivateKey, account: bigint, apiKeyIndex: number): string {
  return createAuthToken(key, { deadline: Math.floor(Date.now() / 1000) + 600, accountIndex: account, apiKeyIndex });
}
