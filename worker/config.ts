/**
 * Monitor configuration: the `MONITORS` JSON var, validated with problems that name the setting
 * and the fix. Cached per isolate by the raw string. Secrets are referenced by NAME only
 * (`LIGHTER_PRIVATE_KEY__<NETWORK>_<ACCOUNT>_<APIKEY>` unless `private_key_secret` names another).
 *
 * Example MONITORS (wrangler.toml [vars]):
 *   [{"network":"testnet","account_index":123456,"api_key_index":3,"markets":[0],
 *     "alerts":{"targets":[{"type":"slack","url_secret":"SLACK_WEBHOOK_URL"}]}}]
 */
import { parseExactJson, type ExactJson } from "./lighter/json.ts";

export type Network = "testnet" | "mainnet" | "custom";
export type Mode = "on-demand" | "continuous";

export interface AlertTarget {
  type: "webhook" | "slack" | "discord" | "telegram" | "pagerduty";
  /** A literal URL (webhook/slack/discord; base URL for telegram/pagerduty), or... */
  url: string | null;
  /** ...the name of a secret that holds it (preferred: webhook URLs are credentials). */
  urlSecret: string | null;
  /** Secret holding the HMAC key (webhook), bot token (telegram) or routing key (pagerduty). */
  secretName: string | null;
  chatId: string | null;
}

export interface MonitorConfig {
  id: string;
  network: Network;
  chainId: number;
  restUrl: string;
  wsUrl: string;
  accountIndex: bigint;
  apiKeyIndex: number;
  markets: number[];
  mode: Mode;
  caps: {
    maxNotionalPerOrderUsd: number | null;
    maxOrdersPerDay: number | null;
    maxDailyNotionalUsd: number | null;
    maxResidualBase: number | null;
  };
  thresholds: {
    maxSpreadBps: number | null;
    maxSlippageBps: number;
    fillLatencyDegradedMs: number | null;
    bookStaleMs: number | null;
  };
  timeScale: number;
  alerts: {
    failAfter: number;
    resolveAfter: number;
    degradedCounts: boolean;
    remindEveryMs: number;
    targets: AlertTarget[];
    heartbeatUrl: string | null;
  };
  locationHint: string | null;
  /** The cron expression (one of wrangler.toml's [triggers] crons) this monitor runs on; null = every check trigger. */
  schedule: string | null;
  dryRun: boolean;
  allowMainnet: boolean;
  allowNonflatStart: boolean;
  privateKeySecretName: string;
}

export interface ConfigProblem {
  setting: string;
  message: string;
  fix: string;
  severity: "error" | "warning";
}

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
  "time_scale",
  "alerts",
  "location_hint",
  "dry_run",
  "allow_mainnet",
  "allow_nonflat_start",
  "private_key_secret",
  "name",
  "schedule",
]);

/** The secret holding a monitor's private key. Non-alphanumerics become "_". */
export function privateKeySecretName(network: string, account: bigint, apiKeyIndex: number): string {
  return `LIGHTER_PRIVATE_KEY__${network.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${account.toString()}_${apiKeyIndex}`;
}

function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "localhost" || h.startsWith("127.") || h === "[::1]" || h === "::1";
  } catch {
    return false;
  }
}

const cache = new Map<string, { monitors: MonitorConfig[]; problems: ConfigProblem[] }>();

/**
 * Parses and validates MONITORS from the Worker's env.
 *
 * @example
 * const { monitors, problems } = loadConfig(env);
 */
export function loadConfig(env: Record<string, unknown>): { monitors: MonitorConfig[]; problems: ConfigProblem[] } {
  const raw =
    typeof env.MONITORS === "string" ? env.MONITORS : env.MONITORS === undefined ? "" : JSON.stringify(env.MONITORS);
  const key = raw;
  let result = cache.get(key);
  if (!result) {
    result = parseMonitors(raw);
    if (cache.size > 16) cache.clear();
    cache.set(key, result);
  }
  // Secret presence can change without MONITORS changing: check it on every call.
  const problems = [...result.problems];
  for (const m of result.monitors) {
    if (!m.dryRun && typeof env[m.privateKeySecretName] !== "string") {
      problems.push({
        severity: "warning",
        setting: m.privateKeySecretName,
        message: `no private key for monitor ${m.id}: it runs as a dry run (everything but sendTx)`,
        fix: `wrangler secret put ${m.privateKeySecretName}   (or set "dry_run": true to silence this)`,
      });
    }
    for (const t of m.alerts.targets) {
      for (const s of [t.urlSecret, t.secretName]) {
        if (s && typeof env[s] !== "string")
          problems.push({
            severity: "error",
            setting: s,
            message: `alert target ${t.type} of ${m.id} names secret ${s}, which is not set`,
            fix: `wrangler secret put ${s}`,
          });
      }
    }
  }
  if (typeof env.API_TOKEN !== "string" || env.API_TOKEN === "") {
    problems.push({
      severity: "warning",
      setting: "API_TOKEN",
      message: "API_TOKEN is not set: every protected route answers 503",
      fix: "wrangler secret put API_TOKEN",
    });
  }
  return { monitors: result.monitors, problems };
}

export function parseMonitors(raw: string): { monitors: MonitorConfig[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  if (raw.trim() === "") {
    problems.push({
      severity: "error",
      setting: "MONITORS",
      message: "MONITORS is empty: no monitor is configured",
      fix: 'set MONITORS in wrangler.toml [vars], e.g. [{"network":"testnet","account_index":123,"api_key_index":3}]',
    });
    return { monitors: [], problems };
  }
  let parsed: ExactJson;
  try {
    parsed = parseExactJson(raw);
  } catch (err) {
    problems.push({
      severity: "error",
      setting: "MONITORS",
      message: `MONITORS is not valid JSON (${err instanceof Error ? err.message : "syntax error"})`,
      fix: "fix the JSON (a list of monitor objects)",
    });
    return { monitors: [], problems };
  }
  const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === "object" ? [parsed] : null;
  if (!list) {
    problems.push({
      severity: "error",
      setting: "MONITORS",
      message: "MONITORS must be a JSON list of monitor objects",
      fix: 'e.g. [{"network":"testnet","account_index":123,"api_key_index":3}]',
    });
    return { monitors: [], problems };
  }
  const monitors: MonitorConfig[] = [];
  const ids = new Set<string>();
  list.forEach((item, i) => {
    const m = parseMonitor(item, `MONITORS[${i}]`, problems);
    if (!m) return;
    if (ids.has(m.id)) {
      problems.push({
        severity: "error",
        setting: `MONITORS[${i}]`,
        message: `duplicate monitor ${m.id}: one monitor per (network, account, API key) owns that key's nonces`,
        fix: "remove the duplicate or merge its markets",
      });
      return;
    }
    ids.add(m.id);
    monitors.push(m);
  });
  return { monitors, problems };
}

function parseMonitor(item: ExactJson, at: string, problems: ConfigProblem[]): MonitorConfig | null {
  if (!item || typeof item !== "object" || Array.isArray(item)) {
    problems.push({
      severity: "error",
      setting: at,
      message: "a monitor must be a JSON object",
      fix: 'e.g. {"network":"testnet","account_index":123,"api_key_index":3}',
    });
    return null;
  }
  const o = item as Record<string, ExactJson>;
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
      `unknown network ${JSON.stringify(network)}`,
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
  if (modeRaw !== "on-demand" && modeRaw !== "continuous")
    err("mode", `unknown mode ${JSON.stringify(modeRaw)}`, 'use "on-demand" (default) or "continuous"');
  const timeScale = numv("time_scale", 0.001, 100, 1) ?? 1;
  const locationHint = str("location_hint");
  const schedule = str("schedule");
  if (schedule !== null && schedule.trim().split(/\s+/).length !== 5)
    err(
      "schedule",
      `schedule ${JSON.stringify(schedule)} is not a 5-field cron expression`,
      'use one of the crons in wrangler.toml [triggers], e.g. "*/5 * * * *"',
    );
  if (locationHint && !LOCATION_HINTS.has(locationHint))
    err("location_hint", `unknown location hint ${locationHint}`, `use one of ${[...LOCATION_HINTS].join(", ")}`);
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

  const alertsRaw = o.alerts;
  const alerts: MonitorConfig["alerts"] = {
    failAfter: 2,
    resolveAfter: 1,
    degradedCounts: false,
    remindEveryMs: 3_600_000,
    targets: [],
    heartbeatUrl: null,
  };
  if (alertsRaw !== undefined && alertsRaw !== null) {
    if (typeof alertsRaw !== "object" || Array.isArray(alertsRaw))
      err("alerts", "alerts must be an object", 'e.g. "alerts": {"fail_after": 2, "targets": [...]}');
    else {
      const a = alertsRaw as Record<string, ExactJson>;
      const ai = (k: string, min: number, max: number, def: number) => {
        const v = a[k];
        if (v === undefined) return def;
        if (typeof v === "bigint" && v >= BigInt(min) && v <= BigInt(max)) return Number(v);
        err(`alerts.${k}`, `alerts.${k} must be an integer from ${min} to ${max}`, `fix alerts.${k}`);
        return def;
      };
      alerts.failAfter = ai("fail_after", 1, 100, 2);
      alerts.resolveAfter = ai("resolve_after", 1, 100, 1);
      alerts.remindEveryMs = ai("remind_every_minutes", 1, 10_080, 60) * 60_000;
      if (a.degraded_counts !== undefined) alerts.degradedCounts = a.degraded_counts === true;
      if (typeof a.heartbeat_url === "string") alerts.heartbeatUrl = a.heartbeat_url;
      if (a.targets !== undefined) {
        if (!Array.isArray(a.targets))
          err("alerts.targets", "alerts.targets must be a list", 'e.g. [{"type":"webhook","url":"https://…"}]');
        else
          a.targets.forEach((t, j) => {
            const where = `alerts.targets[${j}]`;
            if (!t || typeof t !== "object" || Array.isArray(t))
              return err(
                where,
                "an alert target must be an object",
                'e.g. {"type":"slack","url_secret":"SLACK_WEBHOOK_URL"}',
              );
            const tt = t as Record<string, ExactJson>;
            const type = tt.type;
            if (
              type !== "webhook" &&
              type !== "slack" &&
              type !== "discord" &&
              type !== "telegram" &&
              type !== "pagerduty"
            ) {
              return err(
                `${where}.type`,
                `unknown alert target type ${JSON.stringify(type)}`,
                "use webhook, slack, discord, telegram or pagerduty",
              );
            }
            const target: AlertTarget = {
              type,
              url: typeof tt.url === "string" ? tt.url : null,
              urlSecret: typeof tt.url_secret === "string" ? tt.url_secret : null,
              secretName: typeof tt.secret_name === "string" ? tt.secret_name : null,
              chatId:
                typeof tt.chat_id === "string"
                  ? tt.chat_id
                  : typeof tt.chat_id === "bigint"
                    ? tt.chat_id.toString()
                    : null,
            };
            if ((type === "webhook" || type === "slack" || type === "discord") && !target.url && !target.urlSecret)
              err(
                where,
                `a ${type} target needs url or url_secret`,
                'add "url_secret": "<SECRET NAME>" (the URL is a credential)',
              );
            if (type === "telegram" && (!target.secretName || !target.chatId))
              err(
                where,
                "a telegram target needs secret_name (bot token) and chat_id",
                'add "secret_name" and "chat_id"',
              );
            if (type === "pagerduty" && !target.secretName)
              err(
                where,
                "a pagerduty target needs secret_name (the routing key)",
                'add "secret_name": "PAGERDUTY_ROUTING_KEY"',
              );
            alerts.targets.push(target);
          });
      }
    }
  }
  if (problems.slice(before).some((p) => p.severity === "error")) return null;
  const id = `${network}:${accountIndex.toString()}:${apiKeyIndex}`;
  return {
    id,
    network,
    chainId,
    restUrl,
    wsUrl,
    accountIndex,
    apiKeyIndex: apiKeyIndex!,
    markets,
    mode: modeRaw as Mode,
    caps: {
      maxNotionalPerOrderUsd: numv("max_notional_per_order_usd", 0, 1e9, 50),
      maxOrdersPerDay: int("max_orders_per_day", 1, 100_000, 400),
      maxDailyNotionalUsd: numv("max_daily_notional_usd", 0, 1e12, 5_000),
      maxResidualBase: numv("max_residual_base", 0, 1e12, null),
    },
    thresholds: {
      maxSpreadBps: numv("max_spread_bps", 0, 10_000, 100),
      maxSlippageBps: numv("max_slippage_bps", 0, 5_000, 50) ?? 50,
      fillLatencyDegradedMs: numv("fill_latency_degraded_ms", 1, 3_600_000, 5_000),
      bookStaleMs: numv("book_stale_ms", 1, 3_600_000, 30_000),
    },
    timeScale,
    alerts,
    locationHint,
    schedule: schedule?.trim() ?? null,
    dryRun: bool("dry_run", false),
    allowMainnet,
    allowNonflatStart: bool("allow_nonflat_start", false),
    privateKeySecretName: str("private_key_secret") ?? privateKeySecretName(network, accountIndex, apiKeyIndex!),
  };
}

// ------------------------------------------------------------------------------ config check (CLI)

/** The MONITORS string from wrangler.toml's [vars] ('…', "…", '''…''' or """…"""). */
export function monitorsFromToml(toml: string): string | null {
  const vars = /^\s*\[vars\]\s*$/m.exec(toml);
  if (!vars) return null;
  const rest = toml.slice(vars.index + vars[0].length);
  const end = /^\s*\[/m.exec(rest);
  const section = end ? rest.slice(0, end.index) : rest;
  const m = /^\s*MONITORS\s*=\s*('''[\s\S]*?'''|"""[\s\S]*?"""|'[^'\n]*'|"(?:[^"\\\n]|\\.)*")/m.exec(section);
  if (!m) return null;
  const lit = m[1]!;
  if (lit.startsWith("'''") || lit.startsWith('"""')) return lit.slice(3, -3);
  if (lit.startsWith("'")) return lit.slice(1, -1);
  return JSON.parse(lit) as string;
}

export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith("#")) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/**
 * `fillwatch config check`: validates wrangler.toml's MONITORS and the secrets in .dev.vars.
 *
 * @example
 * checkConfigFiles(readFileSync("wrangler.toml", "utf8"), null).ok
 */
export function checkConfigFiles(
  wranglerTomlText: string,
  devVarsText: string | null,
): { ok: boolean; problems: ConfigProblem[] } {
  const monitors = monitorsFromToml(wranglerTomlText);
  const problems: ConfigProblem[] = [];
  if (monitors === null) {
    problems.push({
      severity: "error",
      setting: "wrangler.toml [vars] MONITORS",
      message: "no MONITORS in wrangler.toml [vars]",
      fix: 'add MONITORS = \'[{"network":"testnet","account_index":…,"api_key_index":…}]\'',
    });
    return { ok: false, problems };
  }
  const env: Record<string, unknown> = { MONITORS: monitors, ...(devVarsText ? parseDevVars(devVarsText) : {}) };
  const r = loadConfig(env);
  problems.push(...r.problems);
  for (const m of r.monitors) {
    for (const [k, u] of [
      ["rest_url", m.restUrl],
      ["ws_url", m.wsUrl],
    ] as const) {
      if (isLoopback(u))
        problems.push({
          severity: "error",
          setting: `MONITORS ${m.id} ${k}`,
          message: "wrangler.toml ships a loopback URL to production",
          fix: "keep local URLs out of wrangler.toml; npm start passes the simulator's URLs with --var",
        });
    }
  }
  const cronsMatch = /^\s*crons\s*=\s*\[([^\]]*)\]/m.exec(wranglerTomlText);
  if (!/^\s*\[triggers\][\s\S]*?crons\s*=/m.test(wranglerTomlText) || !cronsMatch) {
    problems.push({
      severity: "error",
      setting: "wrangler.toml [triggers] crons",
      message: "no cron trigger: no check will ever run",
      fix: 'add [triggers] crons = ["*/5 * * * *"]',
    });
  } else {
    const crons = [...cronsMatch[1]!.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => (m[1] ?? m[2] ?? "").trim());
    for (const m of r.monitors) {
      if (m.schedule && !crons.includes(m.schedule)) {
        problems.push({
          severity: "error",
          setting: `MONITORS ${m.id} schedule`,
          message: `schedule "${m.schedule}" is not one of the cron triggers (${crons.join(", ")}): this monitor would never run`,
          fix: "add it to [triggers] crons or use one that is there",
        });
      }
    }
  }
  return { ok: !problems.some((p) => p.severity === "error"), problems };
}
