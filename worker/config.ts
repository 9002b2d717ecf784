/**
 * Monitor configuration: the `MONITORS` JSON var, validated with problems that name the setting
 * and the fix. Cached per isolate by the raw string. Secrets are referenced by NAME only
 * (`LIGHTER_PRIVATE_KEY__<NETWORK>_<ACCOUNT>_<APIKEY>` unless `private_key_secret` names another).
 *
 * Example MONITORS (wrangler.toml [vars]):
 *   [{"network":"testnet","account_index":123456,"api_key_index":3,"markets":[0],
 *     "alerts":{"targets":[{"type":"slack","url_secret":"ALERT_SLACK_WEBHOOK_URL"}]}}]
 *
 * A monitor's identity is (chain id, account, API key): that key's nonce sequence has one owner, so
 * the same identity under two entries is an error. Secret references are checked per field
 * (config/secrets.ts).
 */
import { JsonSyntaxError, parseExactJson, type ExactJson } from "./lighter/json.ts";
import { describe, parseAlerts } from "./config/alerts.ts";
import { secretReferenceProblem } from "./config/secrets.ts";
import { KNOWN_KEYS, LOCATION_HINTS } from "./config/keys.ts";
import { type ConfigProblem, type InvalidMonitor, type MonitorConfig, type Network } from "./config/types.ts";
import { checkSchedule } from "./config/schedule.ts";
import { MAX_TIME_SCALE, timeScaleProblem } from "./config/time-scale.ts";
import { isLoopback } from "./config/urls.ts";
import { parseWatch, watchedAccountProblems } from "./config/watch.ts";

export type {
  AlertTarget,
  ConfigProblem,
  InvalidMonitor,
  Mode,
  MonitorConfig,
  Network,
  WatchConfig,
} from "./config/types.ts";
export { RESERVED_HOUSEKEEPING_CRON } from "./config/types.ts";

export const NETWORKS = {
  testnet: {
    rest: "https://testnet.zklighter.elliot.ai",
    ws: "wss://testnet.zklighter.elliot.ai/stream",
    chainId: 300,
  },
  mainnet: {
    rest: "https://mainnet.zklighter.elliot.ai",
    ws: "wss://mainnet.zklighter.elliot.ai/stream",
    chainId: 304,
  },
} as const;

/** The secret holding a monitor's private key. Non-alphanumerics become "_". */
export function privateKeySecretName(network: string, account: bigint, apiKeyIndex: number): string {
  return `LIGHTER_PRIVATE_KEY__${network.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${account.toString()}_${apiKeyIndex}`;
}

export interface ParseOptions {
  /** wrangler.toml's [triggers] crons, when known (`config check`): a schedule must be one of them. */
  crons?: readonly string[];
}

/**
 * The parsed MONITORS: the valid monitors, every problem, and the entries with an error (they run
 * no check, but /status lists them and the Worker alerts through the targets they have).
 */
type Parsed = {
  monitors: MonitorConfig[];
  problems: ConfigProblem[];
  invalid: InvalidMonitor[];
  /** Each valid monitor's own problems (warnings, missing secrets), by id. */
  problemsOf: Record<string, ConfigProblem[]>;
};
const cache = new Map<string, Parsed>();

function rawMonitors(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) return "";
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return "\u0000not serializable";
  }
}

/**
 * Parses and validates MONITORS from the Worker's env.
 *
 * @example
 * const { monitors, problems } = loadConfig(env);
 */
export function loadConfig(env: Record<string, unknown>, opts: ParseOptions = {}): Parsed {
  const raw = rawMonitors(env.MONITORS);
  const key = opts.crons ? `${JSON.stringify(opts.crons)}\u0000${raw}` : raw;
  let result = cache.get(key);
  if (!result) {
    result = parseMonitors(raw, opts);
    if (cache.size > 16) cache.clear();
    cache.set(key, result);
  }
  // Referenced names are ALERT_* or LIGHTER_PRIVATE_KEY__* only (config/secrets.ts), never inherited properties.
  const has = (name: string) => typeof env[name] === "string";
  // Secret presence can change without MONITORS changing: check it on every call.
  const problems = [...result.problems];
  const problemsOf: Record<string, ConfigProblem[]> = {};
  for (const m of result.monitors) {
    const mine: ConfigProblem[] = [];
    if (m.watch?.readTokenSecret && !has(m.watch.readTokenSecret))
      mine.push({
        severity: "error",
        setting: m.watch.readTokenSecret,
        message: `watch monitor ${m.id} names the read-only token secret ${m.watch.readTokenSecret}, which is not set`,
        fix: `wrangler secret put ${m.watch.readTokenSecret}`,
      });
    else if (m.mode === "watch" && !m.watch?.readTokenSecret && !has(m.privateKeySecretName))
      mine.push({
        severity: "error",
        setting: m.privateKeySecretName,
        message: `watch monitor ${m.id} has neither an API key (to sign auth tokens; it never signs a transaction) nor watch.read_token_secret`,
        fix: `wrangler secret put ${m.privateKeySecretName}, or set watch.read_token_secret to a LIGHTER_READ_TOKEN__* secret`,
      });
    else if (m.mode !== "watch" && !m.dryRun && !has(m.privateKeySecretName)) {
      mine.push({
        severity: "warning",
        setting: m.privateKeySecretName,
        message: `no private key for monitor ${m.id}: it runs as a dry run (everything but sendTx)`,
        fix: `wrangler secret put ${m.privateKeySecretName}   (or set "dry_run": true to silence this)`,
      });
    }
    for (const t of m.alerts.targets) {
      for (const s of [t.urlSecret, t.secretName]) {
        if (s && !has(s))
          mine.push({
            severity: "error",
            setting: s,
            message: `alert target ${t.type} of ${m.id} names secret ${s}, which is not set`,
            fix: `wrangler secret put ${s}`,
          });
      }
    }
    problems.push(...mine);
    problemsOf[m.id] = [...(result.problemsOf[m.id] ?? []), ...mine];
  }
  if (typeof env.API_TOKEN !== "string" || env.API_TOKEN === "") {
    problems.push({
      severity: "warning",
      setting: "API_TOKEN",
      message: "API_TOKEN is not set: every protected route answers 503",
      fix: "wrangler secret put API_TOKEN",
    });
  }
  return { monitors: result.monitors, problems, invalid: result.invalid, problemsOf };
}

/**
 * Parses MONITORS and reports every problem (not just the first). Never throws.
 *
 * @example
 * parseMonitors('[{"account_index":5,"api_key_index":3}]').monitors[0].id // "testnet:5:3"
 */
export function parseMonitors(raw: string, opts: ParseOptions = {}): Parsed {
  const problems: ConfigProblem[] = [];
  if (raw.trim() === "") {
    problems.push({
      severity: "error",
      setting: "MONITORS",
      message: "MONITORS is empty: no monitor is configured",
      fix: 'set MONITORS in wrangler.toml [vars], e.g. [{"network":"testnet","account_index":123,"api_key_index":3}]',
    });
    return { monitors: [], problems, invalid: [], problemsOf: {} };
  }
  let parsed: ExactJson;
  try {
    parsed = parseExactJson(raw);
  } catch (err) {
    const message = err instanceof Error ? err.message : "syntax error";
    const forbidden = err instanceof JsonSyntaxError && /is not allowed/.test(message);
    const at = forbidden ? `MONITORS${err.path}` : "MONITORS";
    problems.push({
      severity: "error",
      setting: at,
      message: `MONITORS is not valid JSON (${message})`,
      fix: forbidden
        ? `remove ${at}: __proto__, constructor and prototype are never settings`
        : "fix the JSON (a list of monitor objects)",
    });
    return { monitors: [], problems, invalid: [], problemsOf: {} };
  }
  const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === "object" ? [parsed] : null;
  if (!list) {
    problems.push({
      severity: "error",
      setting: "MONITORS",
      message: "MONITORS must be a JSON list of monitor objects",
      fix: 'e.g. [{"network":"testnet","account_index":123,"api_key_index":3}]',
    });
    return { monitors: [], problems, invalid: [], problemsOf: {} };
  }
  const monitors: MonitorConfig[] = [];
  const ids = new Map<string, number>();
  const identities = new Map<string, { index: number; id: string }>();
  const indexed: { index: number; m: MonitorConfig }[] = [];
  const invalid: InvalidMonitor[] = [];
  const problemsOf: Record<string, ConfigProblem[]> = {};
  list.forEach((item, i) => {
    const before = problems.length;
    const { monitor: m, partial } = parseMonitor(item, `MONITORS[${i}]`, problems, opts);
    if (!m) {
      if (partial) invalid.push({ ...partial, index: i, problems: problems.slice(before) });
      return;
    }
    const identity = `${m.chainId}:${m.accountIndex.toString()}:${m.apiKeyIndex}`;
    const first = identities.get(identity);
    const duplicate = (problem: ConfigProblem) => {
      problems.push(problem);
      invalid.push({ ...identify(m, `MONITORS[${i}]`), index: i, problems: [problem] });
    };
    if (first) {
      duplicate({
        severity: "error",
        setting: `MONITORS[${i}]`,
        message:
          `MONITORS[${first.index}] (${first.id}) and MONITORS[${i}] (${m.id}) are the same key: account ` +
          `${m.accountIndex.toString()}, API key ${m.apiKeyIndex} on chain ${m.chainId}; one key's nonces need one owner`,
        fix: `remove MONITORS[${i}] or merge its markets into MONITORS[${first.index}]`,
      });
      return;
    }
    const sameId = ids.get(m.id);
    if (sameId !== undefined) {
      duplicate({
        severity: "error",
        setting: `MONITORS[${i}]`,
        message: `MONITORS[${sameId}] and MONITORS[${i}] have the same id ${m.id}`,
        fix: "give each custom network entry its own account or API key, or remove the duplicate",
      });
      return;
    }
    identities.set(identity, { index: i, id: m.id });
    ids.set(m.id, i);
    problemsOf[m.id] = problems.slice(before);
    monitors.push(m);
    indexed.push({ index: i, m });
  });
  problems.push(...watchedAccountProblems(indexed));
  return { monitors, problems, invalid, problemsOf };
}

type Identified = Omit<InvalidMonitor, "index" | "problems">;

/** A valid entry that cannot run (a duplicate), identified by its place since its id is taken. */
function identify(m: MonitorConfig, at: string): Identified {
  const { network, chainId, accountIndex, apiKeyIndex, schedule, locationHint, alerts } = m;
  return { id: at, network, chainId, accountIndex, apiKeyIndex, schedule, locationHint, alerts };
}

function parseMonitor(
  item: ExactJson,
  at: string,
  problems: ConfigProblem[],
  opts: ParseOptions,
): { monitor: MonitorConfig | null; partial: Identified | null } {
  if (!item || typeof item !== "object" || Array.isArray(item)) {
    problems.push({
      severity: "error",
      setting: at,
      message: "a monitor must be a JSON object",
      fix: 'e.g. {"network":"testnet","account_index":123,"api_key_index":3}',
    });
    return { monitor: null, partial: null };
  }
  const o = item;
  const before = problems.length;
  const err = (setting: string, message: string, fix: string) =>
    problems.push({ severity: "error", setting: `${at}.${setting}`, message, fix });
  const warn = (setting: string, message: string, fix: string) =>
    problems.push({ severity: "warning", setting: `${at}.${setting}`, message, fix });
  for (const k of Object.keys(o))
    if (!KNOWN_KEYS.has(k))
      warn(
        k,
        `unknown setting ${k} is ignored`,
        `remove it or check its spelling (known: ${[...KNOWN_KEYS].join(", ")})`,
      );

  const int = (k: string, min: number, max: number, def: number | null): number | null => {
    const v = o[k];
    if (v === undefined || v === null) return def;
    if (typeof v === "bigint" && v >= BigInt(min) && v <= BigInt(max)) return Number(v);
    err(k, `${k} must be an integer from ${min} to ${max}`, `set ${k} to a whole number in range`);
    return def;
  };
  const numv = (k: string, min: number, max: number, def: number | null): number | null => {
    const v = o[k];
    if (v === undefined || v === null) return def;
    const n = typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : NaN;
    if (Number.isFinite(n) && n >= min && n <= max) return n;
    err(k, `${k} must be a number from ${min} to ${max}`, `set ${k} to a number in range`);
    return def;
  };
  const bool = (k: string, def: boolean): boolean => {
    const v = o[k];
    if (v === undefined || v === null) return def;
    if (typeof v === "boolean") return v;
    err(k, `${k} must be true or false`, `set ${k} to true or false`);
    return def;
  };
  const str = (k: string): string | null => {
    const v = o[k];
    if (v === undefined || v === null) return null;
    if (typeof v === "string") return v;
    err(k, `${k} must be a string`, `quote ${k}`);
    return null;
  };

  const network = (str("network") ?? "testnet") as Network;
  let restUrl: string = NETWORKS.testnet.rest;
  let wsUrl: string = NETWORKS.testnet.ws;
  let chainId: number = NETWORKS.testnet.chainId;
  if (network === "testnet" || network === "mainnet") {
    restUrl = str("rest_url") ?? NETWORKS[network].rest;
    wsUrl = str("ws_url") ?? NETWORKS[network].ws;
    chainId = int("chain_id", 0, 2 ** 31 - 1, NETWORKS[network].chainId) ?? NETWORKS[network].chainId;
  } else if (network === "custom") {
    const r = str("rest_url");
    const w = str("ws_url");
    const c = int("chain_id", 0, 2 ** 31 - 1, null);
    if (!r) err("rest_url", "a custom network needs rest_url", 'set "rest_url": "https://…"');
    if (!w) err("ws_url", "a custom network needs ws_url", 'set "ws_url": "wss://…/stream"');
    if (c === null) err("chain_id", "a custom network needs chain_id (304 mainnet, 300 testnet)", 'set "chain_id"');
    restUrl = r ?? "";
    wsUrl = w ?? "";
    chainId = c ?? 0;
  } else {
    err(
      "network",
      `unknown network ${describe(network)}`,
      'use "testnet" (default), "mainnet" or "custom" with rest_url, ws_url and chain_id',
    );
  }
  for (const [k, u, schemes] of [
    ["rest_url", restUrl, ["http:", "https:"]],
    ["ws_url", wsUrl, ["ws:", "wss:"]],
  ] as const) {
    if (!u) continue;
    try {
      const p = new URL(u);
      if (!(schemes as readonly string[]).includes(p.protocol))
        err(k, `${k} must use ${schemes.join(" or ")}`, `fix the scheme of ${k}`);
      if (k === "ws_url" && !p.pathname.endsWith("/stream"))
        warn(k, "Lighter's WebSocket path is /stream", "end ws_url with /stream");
    } catch {
      err(k, `${k} is not a URL`, `set ${k} to a full URL`);
    }
  }

  const acctRaw = o.account_index;
  let accountIndex = 0n;
  if (typeof acctRaw === "bigint" && acctRaw >= 1n && acctRaw <= (1n << 48n) - 2n) accountIndex = acctRaw;
  else if (typeof acctRaw === "string" && /^\d{1,15}$/.test(acctRaw) && BigInt(acctRaw) >= 1n)
    accountIndex = BigInt(acctRaw);
  else
    err(
      "account_index",
      "account_index must be an integer from 1 to 2^48-2",
      "find it with GET /api/v1/accountsByL1Address?l1_address=0x…",
    );
  const apiKeyIndex = int("api_key_index", 0, 254, null);
  if (apiKeyIndex === null)
    err(
      "api_key_index",
      "api_key_index is required (0 … 254)",
      "use the index of the API key you registered (3 or above)",
    );
  else if (apiKeyIndex <= 2)
    warn(
      "api_key_index",
      `API key index ${apiKeyIndex} is reserved for Lighter's own apps (0 desktop, 1 PWA, 2 mobile)`,
      "register a key at index 3 … 254 for fillwatch",
    );

  let markets: number[] = [0];
  if (o.markets !== undefined) {
    if (
      Array.isArray(o.markets) &&
      o.markets.length > 0 &&
      o.markets.every((x) => typeof x === "bigint" && (x <= 254n || (x >= 2048n && x <= 4094n)) && x >= 0n)
    ) {
      markets = (o.markets as bigint[]).map(Number);
    } else
      err("markets", "markets must be a non-empty list of market ids (perp 0 … 254)", 'e.g. "markets": [0] for ETH');
  }
  const modeRaw = str("mode") ?? "on-demand";
  if (modeRaw !== "on-demand" && modeRaw !== "continuous" && modeRaw !== "watch")
    err("mode", `unknown mode ${describe(modeRaw)}`, 'use "on-demand" (default), "continuous" or "watch"');
  const watch = modeRaw === "watch" ? parseWatch(o.watch, markets, at, problems) : null;
  if (modeRaw !== "watch" && o.watch !== undefined)
    warn("watch", 'watch is ignored unless "mode" is "watch"', 'set "mode": "watch" or remove watch');
  const timeScale = numv("time_scale", 0.001, 100, 1) ?? 1;
  const tooSlow = timeScaleProblem(timeScale);
  if (tooSlow) err("time_scale", tooSlow, `set time_scale to ${MAX_TIME_SCALE} or less (tests use 0.2)`);
  const locationHint = str("location_hint");
  const schedule = checkSchedule(str("schedule"), opts.crons, err);
  if (locationHint && !LOCATION_HINTS.has(locationHint))
    err(
      "location_hint",
      `unknown location hint ${describe(locationHint)}`,
      `use one of ${[...LOCATION_HINTS].join(", ")}`,
    );
  const allowMainnet = bool("allow_mainnet", false);
  if (chainId === 304 && !allowMainnet)
    warn(
      "allow_mainnet",
      `monitor trades on mainnet (chain id 304) only with "allow_mainnet": true; its checks are skipped until then`,
      'add "allow_mainnet": true after reading the safety notes',
    );
  if (network === "mainnet" || chainId === 304) {
    for (const [k, u] of [
      ["rest_url", restUrl],
      ["ws_url", wsUrl],
    ] as const)
      if (isLoopback(u)) warn(k, "a mainnet monitor points at a loopback address", `check ${k}`);
  }

  const alerts = parseAlerts(o.alerts, at, problems);
  const keySecret = str("private_key_secret");
  if (keySecret !== null) {
    const p = secretReferenceProblem("private_key", keySecret, `${at}.private_key_secret`);
    if (p) problems.push(p);
  }
  const caps: MonitorConfig["caps"] = {
    maxNotionalPerOrderUsd: numv("max_notional_per_order_usd", 0, 1e9, 50),
    maxOrdersPerDay: int("max_orders_per_day", 1, 100_000, 400),
    maxDailyNotionalUsd: numv("max_daily_notional_usd", 0, 1e12, 5_000),
    maxResidualBase: numv("max_residual_base", 0, 1e12, null),
  };
  const thresholds: MonitorConfig["thresholds"] = {
    maxSpreadBps: numv("max_spread_bps", 0, 10_000, 100),
    maxSlippageBps: numv("max_slippage_bps", 0, 5_000, 50) ?? 50,
    fillLatencyDegradedMs: numv("fill_latency_degraded_ms", 1, 3_600_000, 5_000),
    bookStaleMs: numv("book_stale_ms", 1, 3_600_000, 30_000),
    restConfirmMs: numv("rest_confirm_ms", 100, 600_000, 5_000) ?? 5_000,
    wsReportToleranceMs: numv("ws_report_tolerance_ms", 0, 600_000, 3_000) ?? 3_000,
  };
  const dryRun = bool("dry_run", false);
  const allowNonflatStart = bool("allow_nonflat_start", false);
  const publicStatus = bool("public_status", false);
  const allowTestOrdersOnWatchedAccount = bool("allow_test_orders_on_watched_account", false);
  if (problems.slice(before).some((p) => p.severity === "error")) {
    // Identified as far as its fields allow, with the targets that parsed: it shows and alerts.
    const known = accountIndex > 0n && apiKeyIndex !== null;
    return {
      monitor: null,
      partial: {
        id: known ? `${network}:${accountIndex.toString()}:${apiKeyIndex}` : at,
        network,
        chainId,
        accountIndex: accountIndex > 0n ? accountIndex : null,
        apiKeyIndex,
        schedule,
        locationHint: locationHint && LOCATION_HINTS.has(locationHint) ? locationHint : null,
        alerts,
      },
    };
  }
  const monitor: MonitorConfig = {
    id: `${network}:${accountIndex.toString()}:${apiKeyIndex}`,
    network,
    chainId,
    restUrl,
    wsUrl,
    accountIndex,
    apiKeyIndex: apiKeyIndex!,
    markets,
    mode: modeRaw as MonitorConfig["mode"],
    caps,
    thresholds,
    timeScale,
    alerts,
    locationHint,
    schedule,
    dryRun,
    allowMainnet,
    allowNonflatStart,
    publicStatus,
    privateKeySecretName: keySecret ?? privateKeySecretName(network, accountIndex, apiKeyIndex!),
    watch,
    allowTestOrdersOnWatchedAccount,
  };
  return { monitor, partial: null };
}
