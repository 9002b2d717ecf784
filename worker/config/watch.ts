/**
 * The `watch` block of a MONITORS entry in `"mode": "watch"` (a monitor that never sends a
 * transaction and checks the account's REAL fills against REST), and the cross-monitor rule that a
 * watched account gets no synthetic checks unless `allow_test_orders_on_watched_account` says so.
 */
import type { ExactJson } from "../lighter/json.ts";
import { describe } from "./alerts.ts";
import { numberReader, warnUnknownKeys } from "./block.ts";
import { secretReferenceProblem } from "./secrets.ts";
import type { ConfigProblem, MonitorConfig, WatchConfig } from "./types.ts";

const WATCH_KEYS = new Set([
  "markets",
  "window_s",
  "reconcile_s",
  "max_orders_tracked",
  "rest_budget_per_min",
  "tier",
  "read_token_secret",
  "resolve_after_cycles",
]);
const TIERS = ["standard", "premium", "plus", "builder"] as const;
/** Standard accounts have 60 requests a minute per L1 address, shared with the user's bot: at most half. */
export const STANDARD_BUDGET_MAX = 30;
/** Weighted tier limits (PROTOCOL.md §5.9): at most half of each for fillwatch. */
const TIER_MAX: Record<WatchConfig["tier"], number> = {
  standard: STANDARD_BUDGET_MAX,
  premium: 12_000,
  plus: 60_000,
  builder: 120_000,
};
/** A trades call weighs 600 on weighted tiers. */
const TRADES_WEIGHT = 600;

function isObject(v: ExactJson | undefined): v is { [key: string]: ExactJson } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses `watch` (at `at`, e.g. "MONITORS[0]"); the defaults when it is absent.
 *
 * @example
 * parseWatch({ window_s: 5n }, [0], "MONITORS[0]", problems).windowMs // 5000
 */
export function parseWatch(
  raw: ExactJson | undefined,
  monitorMarkets: number[],
  at: string,
  problems: ConfigProblem[],
): WatchConfig {
  const err = (setting: string, message: string, fix: string) =>
    problems.push({ severity: "error", setting: `${at}.watch.${setting}`, message, fix });
  const o: { [key: string]: ExactJson } = isObject(raw) ? raw : {};
  if (raw !== undefined && raw !== null && !isObject(raw))
    problems.push({
      severity: "error",
      setting: `${at}.watch`,
      message: "watch must be an object",
      fix: 'e.g. "watch": {"markets": [0], "window_s": 10}',
    });
  warnUnknownKeys(o, WATCH_KEYS, "watch", at, problems);
  const num = numberReader(o, "watch", at, problems);
  let markets = monitorMarkets;
  if (o.markets !== undefined) {
    if (
      Array.isArray(o.markets) &&
      o.markets.every((x) => typeof x === "bigint" && x >= 0n && (x <= 254n || (x >= 2048n && x <= 4094n)))
    )
      markets = (o.markets as bigint[]).map(Number);
    else
      err(
        "markets",
        "watch.markets must be a list of market ids (perp 0 … 254, spot 2048 … 4094)",
        'e.g. "markets": [0, 1]; [] watches account_all_* only',
      );
  }
  const tierRaw = o.tier ?? "standard";
  let tier: WatchConfig["tier"] = "standard";
  if (typeof tierRaw === "string" && (TIERS as readonly string[]).includes(tierRaw)) tier = tierRaw as typeof tier;
  else err("tier", `unknown tier ${describe(tierRaw)}`, `use one of ${TIERS.join(", ")} (GET /api/v1/accountLimits)`);
  const windowS = num("window_s", 0.1, 600, 10);
  const reconcileS = num("reconcile_s", 1, 3600, 10);
  const maxOrders = Math.round(num("max_orders_tracked", 10, 100_000, 1_000));
  const resolveAfter = Math.round(num("resolve_after_cycles", 1, 100, 3));
  const budgetDefault = tier === "standard" ? 12 : 12 * TRADES_WEIGHT;
  const budget = num("rest_budget_per_min", 1, 1e9, budgetDefault);
  if (budget > TIER_MAX[tier])
    err(
      "rest_budget_per_min",
      tier === "standard"
        ? `watch.rest_budget_per_min ${budget} is above ${STANDARD_BUDGET_MAX}: a Standard account has 60 REST requests a minute per L1 address, shared with your bot`
        : `watch.rest_budget_per_min ${budget} is above half of the ${tier} tier's weighted limit (${TIER_MAX[tier] * 2}/min), which your bot shares`,
      `set watch.rest_budget_per_min to at most ${TIER_MAX[tier]} (default ${budgetDefault})`,
    );
  const perCycle = tier === "standard" ? 1 : TRADES_WEIGHT;
  if ((60 / reconcileS) * perCycle > budget)
    err(
      "reconcile_s",
      `a reconciliation every ${reconcileS} s needs ${Math.ceil((60 / reconcileS) * perCycle)} units a minute, above watch.rest_budget_per_min ${budget}`,
      `raise watch.reconcile_s to at least ${Math.ceil((60 * perCycle) / budget)} or raise the budget`,
    );
  let readTokenSecret: string | null = null;
  if (o.read_token_secret !== undefined && o.read_token_secret !== null) {
    if (typeof o.read_token_secret !== "string")
      err("read_token_secret", "watch.read_token_secret must be a secret name", 'e.g. "LIGHTER_READ_TOKEN__MAIN"');
    else {
      const p = secretReferenceProblem("read_token", o.read_token_secret, `${at}.watch.read_token_secret`);
      if (p) problems.push(p);
      else readTokenSecret = o.read_token_secret;
    }
  }
  return {
    markets,
    windowMs: windowS * 1000,
    reconcileMs: reconcileS * 1000,
    maxOrdersTracked: maxOrders,
    restBudgetPerMin: budget,
    tier,
    readTokenSecret,
    resolveAfterCycles: resolveAfter,
  };
}

/**
 * Synthetic checks on an account a watch monitor watches: an error unless one of the two entries
 * sets `allow_test_orders_on_watched_account` (a hedge bot would hedge the test fills, and a shared
 * key slot collides with the bot's nonces).
 */
export function watchedAccountProblems(monitors: { index: number; m: MonitorConfig }[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const w of monitors) {
    if (w.m.mode !== "watch") continue;
    for (const c of monitors) {
      if (c.m.mode === "watch" || c.m.chainId !== w.m.chainId || c.m.accountIndex !== w.m.accountIndex) continue;
      if (c.m.allowTestOrdersOnWatchedAccount || w.m.allowTestOrdersOnWatchedAccount) continue;
      out.push({
        severity: "error",
        setting: `MONITORS[${c.index}].allow_test_orders_on_watched_account`,
        message:
          `MONITORS[${c.index}] (${c.m.id}) places test orders on account ${c.m.accountIndex.toString()}, which ` +
          `MONITORS[${w.index}] (${w.m.id}) watches: a hedge bot would hedge the test fills, and a shared API key ` +
          `collides with the bot's nonces`,
        fix: `use a separate sub-account for synthetic checks, or set "allow_test_orders_on_watched_account": true on MONITORS[${c.index}]`,
      });
    }
  }
  return out;
}
