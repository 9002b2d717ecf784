/**
 * Monitor configuration: the `MONITORS` JSON var, validated with problems that name the setting
 * and the fix. Memoized per isolate by MONITORS and the secrets' presence (config/memo.ts). Secrets are referenced by NAME only
 * (`LIGHTER_PRIVATE_KEY__<NETWORK>_<ACCOUNT>_<APIKEY>` unless `private_key_secret` names another).
 *
 * Example MONITORS (wrangler.toml [vars]):
 *   [{"network":"testnet","account_index":123456,"api_key_index":4,"markets":[0],
 *     "alerts":{"targets":[{"type":"slack","url_secret":"ALERT_SLACK_WEBHOOK_URL"}]}}]
 *
 * A monitor's identity is (chain id, account, API key): that key's nonce sequence has one owner, so
 * the same identity under two entries is an error. Secret references are checked per field
 * (config/secrets.ts).
 */
import { JsonSyntaxError, parseExactJson, type ExactJson } from "./lighter/json.ts";
import { describe, parseAlerts } from "./config/alerts.ts";
import { secretReferenceProblem } from "./config/secrets.ts";
import type { ConfigProblem, InvalidMonitor, MonitorConfig } from "./config/types.ts";
import { parseNetwork } from "./config/network.ts";
import { checkSchedule } from "./config/schedule.ts";
import { MAX_TIME_SCALE, timeScaleProblem } from "./config/time-scale.ts";
import { isLoopback } from "./config/urls.ts";
import { parseWatch, watchedAccountProblems } from "./config/watch.ts";
import { parseBot } from "./config/bot.ts";
import { ingestTokenSecretName } from "./monitor/watch/bot-ingest.ts";
import { ReadMemo, type EnvState } from "./config/memo.ts";

export { NETWORKS } from "./config/network.ts";
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

const LOCATION_HINTS = new Set(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"]);
const KNOWN_KEYS = new Set([
  "network",
  "rest_url",
  "ws_url",
  "chain_id",
  "account_index",
  "api_key_index",
  "markets",
  "mode",
  "max_notional_per_order_usd",
  "max_orders_per_day",
  "max_daily_notional_usd",
  "max_residual_base",
  "max_spread_bps",
  "max_slippage_bps",
  "fill_latency_degraded_ms",
  "book_stale_ms",
  "rest_confirm_ms",
  "ws_report_tolerance_ms",
  "time_scale",
  "alerts",
  "location_hint",
  "dry_run",
  "allow_mainnet",
  "allow_nonflat_start",
  "private_key_secret",
  "name",
  "schedule",
  "public_status",
  "watch",
  "allow_test_orders_on_watched_account",
  "bot",
]);

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
const loaded = new ReadMemo<Parsed>(16, 4);

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
  // One result per distinct input: MONITORS (and crons) plus the state of every secret it looked at.
  return loaded.get(key, env, (state) => withSecrets(parseMonitors(raw, opts), state));
}

/** The problems that depend on which secrets are set; the lists are frozen: the result is shared. */
function withSecrets(result: Parsed, state: (name: string) => EnvState): Parsed {
  // Referenced names are ALERT_* or LIGHTER_PRIVATE_KEY__* only (config/secrets.ts), never inherited properties.
  const has = (name: string) => state(name) !== "unset";
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
    if (m.bot && !has(ingestTokenSecretName(m.id)))
      problems.push({
        severity: "warning",
        setting: ingestTokenSecretName(m.id),
        message: `watch monitor ${m.id} has a bot block but no ingest token: POST /watch/${m.id}/seen answers 503`,
        fix: `wrangler secret put ${ingestTokenSecretName(m.id)}   (a long random string your bot sends as its bearer token)`,
      });
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
    problemsOf[m.id] = Object.freeze([...(result.problemsOf[m.id] ?? []), ...mine]) as ConfigProblem[];
  }
  if (state("API_TOKEN") !== "set") {
    problems.push({
      severity: "warning",
      setting: "API_TOKEN",
      message: "API_TOKEN is not set: every protected route answers 503",
      fix: "wrangler secret put API_TOKEN",
    });
  }
  return {
    monitors: result.monitors,
    problems: Object.freeze(problems) as ConfigProblem[],
    invalid: result.invalid,
    problemsOf: Object.freeze(problemsOf),
  };
}

/**
 * Parses MONITORS and reports every problem (not just the first). Never throws.
 *
 * @example
 * parseMonitors('[{"account_index":5,"api_key_index":4}]').monitors[0].id // "testnet:5:4"
 */
export function parseMonitors(raw: string, opts: ParseOptions = {}): Parsed {
  const problems: ConfigProblem[] = [];
  if (raw.trim() === "") {
    problems.push({
      severity: "error",
      setting: "MONITORS",
      message: "MONITORS is empty: no monitor is configured",
      fix: 'set MONITORS in wrangler.toml [vars], e.g. [{"network":"testnet","account_index":123,"api_key_index":4}]',
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
      fix: 'e.g. [{"network":"testnet","account_index":123,"api_key_index":4}]',
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
      fix: 'e.g. {"network":"testnet","account_index":123,"api_key_index":4}',
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

  const { network, restUrl, wsUrl, chainId } = parseNetwork({ str, int, err, warn });

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
      "use the index of the API key you registered (4 or above)",
    );
  else if (apiKeyIndex <= 3)
    // LIVE.md L.13.5: indexes 0-3 are reserved (0 desktop, 1 PWA, 2 mobile, 3 reserved); CCXT refuses them too.
    err(
      "api_key_index",
      `API key index ${apiKeyIndex} is reserved: Lighter keeps indexes 0-3 for its own apps (0 desktop, 1 PWA, 2 mobile, 3 reserved)`,
      "register a key at index 4 … 254 for fillwatch",
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
  const bot = modeRaw === "watch" ? parseBot(o.bot, at, problems) : null;
  if (modeRaw !== "watch" && o.bot !== undefined)
    warn("bot", 'bot is ignored unless "mode" is "watch"', 'set "mode": "watch" or remove bot');
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
    bot,
  };
  return { monitor, partial: null };
}
