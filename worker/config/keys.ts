/**
 * The settings a MONITORS entry may have, and the location hints Durable Objects accept; anything
 * else is reported (an unknown key is a warning, an unknown hint an error).
 */

export const LOCATION_HINTS = new Set(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"]);
export const KNOWN_KEYS = new Set([
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
]);
