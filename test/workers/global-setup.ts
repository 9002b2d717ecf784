/**
 * Node-side setup for the `workers` project: starts the Lighter simulator and a webhook receiver
 * on 127.0.0.1 (port 0), creates one funded simulator account per test scenario (so scoped faults
 * never cross test files), and provides MONITORS, the private-key secrets and the URLs to the
 * cloudflareTest bindings and to the tests.
 */
import type { TestProject } from "vitest/node";
import { privateKeySecretName } from "../../worker/config.ts";
import { ingestTokenSecretName } from "../../worker/monitor/watch/bot-ingest.ts";
import { startSimulator } from "../sim/server.ts";
import { API_OPS_HMAC_KEY, API_OPS_HMAC_SECRET_NAME, API_OPS_PD_KEY, API_OPS_PD_SECRET_NAME } from "./api-constants.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

declare module "vitest" {
  export interface ProvidedContext {
    simRest: string;
    simWs: string;
    hookUrl: string;
    /** One per scenario; `valid` false for the entries that are broken on purpose (BROKEN_ON_PURPOSE). */
    monitors: { id: string; account_index: number; api_key_index: number; scenario: string; valid: boolean }[];
    monitorsJson: string;
    secrets: Record<string, string>;
    chainId: number;
  }
}

export const SCENARIOS = [
  "pass",
  "duplicate",
  "manual",
  "status",
  "f_connect",
  "f_book",
  "f_auth",
  "f_tx",
  "f_nomatch",
  "f_withhold",
  "late",
  "crash_after_write_ahead",
  "crash_after_send",
  "crash_after_accept",
  "crash_after_seen",
  "crash_after_fill",
  "evict",
  "v_ack_account",
  "v_flat_errors",
  "v_no_ack",
  "v_server_pings",
  "v_no_begin_nonce",
  "v_unsub_family",
  "dup_frames",
  "reorder",
  "gap",
  "paused",
  "dry_run",
  "bad_key",
  "continuous",
  "malformed",
  "f_txfail",
  "mainnet",
  "malformed_key",
  "flatten_fail",
  "api_checks",
  "api_ops",
  "api_history",
  "api_pause",
  "op_lost_lag",
  "op_dup_index",
  "op_overlap",
  "op_forge_account",
  "op_forge_order",
  "op_blind",
  "op_stalled",
  "op_channel",
  "sec_urls",
  "sec_retention",
  "sec_spam",
  "op_drop",
  "page",
  "page_public",
  "page_tail",
  // watch mode (test/workers/watch*.test.ts): a trading bot on each account, a monitor watching it
  "watch_withhold",
  "watch_late",
  "watch_dup",
  "watch_gap",
  "watch_429",
  "watch_rest_down",
  "watch_ro",
  "watch_position",
  "watch_channel",
  "watch_evict",
  "watch_pages",
  "watch_budget",
  "watch_405",
  "watch_ping",
  "watch_margin",
  "watch_position_full",
  "margin_check",
  // issue 18: write statements of healthy checks, and the session closed when no check is due (test/workers/writes.test.ts)
  "writes",
  // issue 16's regression tests (test/workers/regress-*.test.ts), one account each
  "reg_dry_run",
  "reg_position",
  "reg_fresh_auth",
  "reg_evict_flatten",
  "reg_flatten_config",
  "reg_hung_alerts",
  "reg_stale_deadline",
  "reg_drop_gap",
  "reg_forge_lag",
  "reg_storm",
  "reg_broken",
  "reg_time_scale",
  "reg_cron_6h",
  "reg_cron_daily",
  "reg_cron_quarter",
  "reg_evil_url",
  "reg_rest_forgets",
  "reg_malformed_order",
  // test/workers/regress-drift.test.ts: checks that left the account's position moved (soak b)
  "reg_drift_forget",
  "reg_drift_auth",
  "reg_drift_expire",
  "reg_forge_real",
  // bot reconciliation (test/workers/bot*.test.ts): a watch monitor with a bot block and an ingest token
  "bot_ingest",
  "bot_missed",
  "bot_phantom",
  "bot_silent",
  // delivery latency on a check monitor's session (test/workers/latency.test.ts)
  "latency",
  "latency_odd",
  "bot_evict",
  // watch-restart.test.ts: recent misses after an eviction, a watch that never reconciles
  "watch_restart",
  "watch_never",
  // test/workers/regress-residue.test.ts: a failed flatten's residue carried to the next trigger
  "reg_residue",
  // test/workers/adversary-crash.test.ts: a crash at each point of the order path with a position open
  ...["after_write_ahead", "after_send", "after_accept", "after_seen", "after_fill", "before_flatten_send"].flatMap(
    (point) => [`adv_crash_${point}_long`, `adv_crash_${point}_short`],
  ),
];

/** MONITORS entries with a config error on purpose: they run no check, /status lists them invalid. */
export const BROKEN_ON_PURPOSE = ["reg_broken", "reg_time_scale", "reg_evil_url"];

/** Per-scenario settings of the regression tests (issue 16); the BROKEN_ON_PURPOSE ones are broken. */
function regressionConfig(scenario: string, cfg: Record<string, unknown>, hookUrl: string): void {
  const alerts = cfg.alerts as Record<string, unknown>;
  if (scenario === "reg_dry_run") cfg.dry_run = true; // with its private key set
  // Pre-flight REST needs room on a busy 2-core machine (its 4 s deadline at 0.2 was tight).
  if (scenario === "reg_dry_run") cfg.time_scale = 0.5;
  // Defect 7's test stops the object while it waits for a report of a fill REST shows: 4 s at time_scale 0.2,
  // counted from the fill (issue 18), so the test has room to see REST's sighting and stop the object.
  if (scenario === "reg_stale_deadline") cfg.ws_report_tolerance_ms = 20_000;
  if (scenario === "reg_hung_alerts") {
    // Alert targets that accept the connection and never answer; the first failure pages.
    alerts.fail_after = 1;
    alerts.targets = [0, 1, 2, 3].map((i) => ({ type: "webhook", url: `${hookUrl}/hang/reg_hung_alerts/${i}` }));
  }
  // A kept session whose account subscriptions were made before the auth fault (as a check that
  // follows another within the on-demand grace period has).
  if (scenario === "reg_drift_auth" || scenario === "reg_drift_expire") cfg.mode = "continuous";
  // These wait out a flatten's bound (max of 190 s and the test order's ExpiredAt + 5 s + 30 s, × time_scale):
  // at 0.1 that is half of 0.2's 38 s idle; ExpiredAt stays 12 s ahead, well inside what the simulator accepts.
  if (scenario === "reg_flatten_config" || scenario === "reg_residue" || scenario === "reg_drift_forget")
    cfg.time_scale = 0.1;
  // The storm test measures the reconnect back-off (1 s × 2^k × time_scale, jittered to 50-100 %):
  // at 0.5 its second and third waits (>= 0.5 s, >= 1 s) stand above what a reconnect takes without it.
  if (scenario === "reg_storm") cfg.time_scale = 0.5;
  if (scenario === "reg_broken") cfg.max_slippage_bps = 99_999;
  if (scenario === "reg_time_scale") cfg.time_scale = 10;
  if (scenario === "reg_cron_6h") cfg.schedule = "0 */6 * * *";
  if (scenario === "reg_cron_daily") cfg.schedule = "0 12 * * *";
  if (scenario === "reg_cron_quarter") cfg.schedule = "15,45 * * * *";
  if (scenario === "reg_evil_url")
    alerts.targets = [
      { type: "webhook", url: "http://127.0.0.1.evil.example/h" },
      { type: "webhook", url: `${hookUrl}/hook/reg_evil_url` },
    ];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sim = await startSimulator({ port: 0, seed: 7, bookIntervalMs: 40, executionDelayMs: 15 });
  const hook = await startWebhookReceiver();
  const monitors: { id: string; account_index: number; api_key_index: number; scenario: string; valid: boolean }[] = [];
  const configs: Record<string, unknown>[] = [];
  const secrets: Record<string, string> = {};
  for (const scenario of SCENARIOS) {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const account = a.account_index;
    const cfg: Record<string, unknown> = {
      network: "custom",
      rest_url: sim.rest,
      // sim_account lets the simulator scope connection faults to this account from the first byte.
      ws_url: `${sim.ws}?sim_account=${account}`,
      chain_id: sim.chainId,
      account_index: Number(account),
      api_key_index: a.api_key_index,
      markets: [0],
      time_scale: 0.2,
      max_slippage_bps: 100,
      alerts: { fail_after: 2, resolve_after: 1, targets: [{ type: "webhook", url: `${hook.url}/hook/${scenario}` }] },
    };
    if (scenario === "dry_run") cfg.dry_run = true;
    if (scenario === "page_public") cfg.public_status = true;
    if (scenario === "continuous") cfg.mode = "continuous";
    if (scenario === "mainnet") cfg.chain_id = 304;
    // Room for pre-flight REST and the nonce on a loaded machine (they time out at 0.2 × 10 s there).
    if (scenario === "writes") cfg.time_scale = 0.5;
    // Wider windows for the late-report case: seen + fill = 6 s, then a 4 s late window.
    if (scenario === "late") cfg.time_scale = 0.4;
    if (scenario === "api_ops")
      (cfg.alerts as Record<string, unknown>).targets = [
        { type: "webhook", url: `${hook.url}/hook/api_ops`, secret_name: API_OPS_HMAC_SECRET_NAME },
        { type: "slack", url: `${hook.url}/hook/api_ops_slack` },
        { type: "pagerduty", url: `${hook.url}/hook/api_ops_pd`, secret_name: API_OPS_PD_SECRET_NAME },
      ];
    if (scenario === "pass" || scenario === "op_overlap" || scenario === "op_blind")
      (cfg.alerts as Record<string, unknown>).heartbeat_url = `${hook.url}/heartbeat/${scenario}`;
    if (scenario.startsWith("reg_")) regressionConfig(scenario, cfg, hook.url);
    // adversary-crash.test.ts runs six crash cases at once: room for pre-flight on a loaded machine.
    if (scenario.startsWith("adv_crash_")) cfg.time_scale = 0.3;
    if (scenario.startsWith("watch_") || scenario.startsWith("bot_")) {
      // window 1 s, reconciliation every 1 s, budget 12 per (scaled) minute of 6 s
      cfg.mode = "watch";
      cfg.time_scale = 0.1;
      cfg.watch = { window_s: scenario === "watch_dup" ? 30 : 10, reconcile_s: 10, rest_budget_per_min: 12 };
      // watch-evict.test.ts: a budget of 2 a (scaled) minute gives a trades walk one page, so more than 100
      // trades since the last read make a watch_gap.
      if (scenario === "watch_budget") Object.assign(cfg.watch as object, { reconcile_s: 30, rest_budget_per_min: 2 });
      if (scenario.startsWith("bot_")) {
        // window 2 s, silence 5 s at time_scale 0.1
        cfg.bot = { window_s: 20, silence_s: 50 };
        // bot.test.ts groups misses into one incident: 3 quiet cycles (3 s) between two withheld fills
        // happen when the simulator's bot slows under load, and would rightly resolve and reopen it.
        if (scenario === "bot_missed") (cfg.watch as Record<string, unknown>).resolve_after_cycles = 8;
        secrets[ingestTokenSecretName(`custom:${account}:${a.api_key_index}`)] = `ingest-token-${scenario}-0123456789`;
      }
      if (scenario === "watch_ro") {
        (cfg.watch as Record<string, unknown>).read_token_secret = "LIGHTER_READ_TOKEN__WATCH_RO";
        secrets.LIGHTER_READ_TOKEN__WATCH_RO = sim.watch.issueReadToken(account);
      }
    }
    configs.push(cfg);
    const id = `custom:${account}:${a.api_key_index}`;
    const valid = !BROKEN_ON_PURPOSE.includes(scenario);
    monitors.push({ id, account_index: Number(account), api_key_index: a.api_key_index, scenario, valid });
    if (scenario === "bad_key")
      secrets[privateKeySecretName("custom", account, a.api_key_index)] = `0x${"12".repeat(40)}`;
    else if (scenario === "malformed_key")
      secrets[privateKeySecretName("custom", account, a.api_key_index)] = "0xthis-is-not-a-key-but-a-secret-value-77";
    else if (scenario !== "dry_run" && scenario !== "watch_ro")
      secrets[privateKeySecretName("custom", account, a.api_key_index)] = a.private_key!;
  }
  secrets[API_OPS_HMAC_SECRET_NAME] = API_OPS_HMAC_KEY;
  secrets[API_OPS_PD_SECRET_NAME] = API_OPS_PD_KEY;
  project.provide("simRest", sim.rest);
  project.provide("simWs", sim.ws);
  project.provide("hookUrl", hook.url);
  project.provide("monitors", monitors);
  project.provide("monitorsJson", JSON.stringify(configs));
  project.provide("secrets", secrets);
  project.provide("chainId", sim.chainId);
  return async () => {
    await sim.close();
    await hook.close();
  };
}
