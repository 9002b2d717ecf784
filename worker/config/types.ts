/**
 * The shapes of a validated monitor configuration and of a configuration problem, shared by the
 * MONITORS parser (config.ts), its parts (config/*.ts) and `config check` (config-check.ts).
 */

export type Network = "testnet" | "mainnet" | "custom";
export type Mode = "on-demand" | "continuous" | "watch";

/** The `watch` block (mode "watch"): durations in ms. */
export interface WatchConfig {
  /** Markets subscribed on account_orders/{m}/{account} (account_all_* cover every market). */
  markets: number[];
  windowMs: number;
  reconcileMs: number;
  maxOrdersTracked: number;
  /** Requests a rolling minute on Standard; PROTOCOL.md §5.9 weight units on other tiers. */
  restBudgetPerMin: number;
  tier: "standard" | "premium" | "plus" | "builder";
  /** A `LIGHTER_READ_TOKEN__*` secret (read-only API token, PROTOCOL.md §5.8), or null: auth tokens from the key. */
  readTokenSecret: string | null;
  /** Reconciliation cycles in a row with fills reported in time before a fill_not_reported incident resolves. */
  resolveAfterCycles: number;
}

export interface AlertTarget {
  type: "webhook" | "slack" | "discord" | "telegram" | "pagerduty";
  /** A literal URL (webhook/slack/discord; base URL for telegram/pagerduty), or... */
  url: string | null;
  /** ...the name of an `ALERT_*` secret that holds it (preferred: webhook URLs are credentials). */
  urlSecret: string | null;
  /** `ALERT_*` secret holding the HMAC key (webhook), bot token (telegram) or routing key (pagerduty). */
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
    /** How long REST may take to confirm a WebSocket fill before the verdict is rest_lagging (× time_scale). */
    restConfirmMs: number;
    /** How long the subscribed channels may take to report a fill REST already shows (× time_scale). */
    wsReportToleranceMs: number;
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
  /** true: a read-only public page and SVG badge show this monitor's verdicts (never evidence). */
  publicStatus: boolean;
  /** Always a `LIGHTER_PRIVATE_KEY__*` name. */
  privateKeySecretName: string;
  /** Set in mode "watch" (null otherwise). */
  watch: WatchConfig | null;
  /** Synthetic checks may run on an account a watch monitor watches. */
  allowTestOrdersOnWatchedAccount: boolean;
}

/**
 * A MONITORS entry with at least one error: it runs no check. It still shows in /status with its
 * problems, and the Worker alerts `config_invalid` through the targets that parsed.
 */
export interface InvalidMonitor {
  /** Its place in MONITORS. */
  index: number;
  /** `network:account:apiKey` when those parse (the id it would have), else `MONITORS[i]`. */
  id: string;
  network: string;
  chainId: number;
  accountIndex: bigint | null;
  apiKeyIndex: number | null;
  schedule: string | null;
  locationHint: string | null;
  /** The alert settings with only the targets that parsed. */
  alerts: MonitorConfig["alerts"];
  /** This entry's own problems (errors and warnings). */
  problems: ConfigProblem[];
}

export interface ConfigProblem {
  setting: string;
  message: string;
  fix: string;
  severity: "error" | "warning";
}

/** Reserved for housekeeping (retention, counters): no monitor may be scheduled on it. Equals scheduled.ts's HOUSEKEEPING_CRON. */
export const RESERVED_HOUSEKEEPING_CRON = "17 3 * * *";

/** A cron expression with its fields separated by single spaces. */
export function normalizeCron(cron: string): string {
  return cron.trim().split(/\s+/).join(" ");
}
