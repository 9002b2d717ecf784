/**
 * The vocabulary of a synthetic check: stages, verdicts, diagnoses, and the action text a person
 * should follow for each diagnosis (from shared/lighter/DIAGNOSTICS.md, with its corrections).
 */

export const STAGES = [
  "connect",
  "book_subscribed",
  "orders_subscribed",
  "preflight",
  "order_accepted",
  "order_seen",
  "fill_seen",
  "processed",
] as const;
export type Stage = (typeof STAGES)[number];

export type Verdict = "pass" | "degraded" | "fail" | "skipped";
export type FlattenOutcome = "ok" | "residual" | "failed" | "skipped";

export type Diagnosis =
  // connect (DIAGNOSTICS 1, 1b)
  | "connect_failed"
  | "connect_timeout"
  | "connection_limited"
  | "connection_closed"
  // book_subscribed (2)
  | "book_subscribe_rejected"
  | "book_ack_timeout"
  | "message_rate_limited"
  // orders_subscribed (3)
  | "auth_rejected"
  | "auth_missing"
  | "orders_subscribe_rejected"
  | "orders_ack_timeout"
  // preflight (skipped)
  | "dry_run"
  | "paused"
  | "config_invalid"
  | "mainnet_not_allowed"
  | "api_key_mismatch"
  | "api_key_unverified"
  | "book_stale"
  | "book_crossed"
  | "spread_too_wide"
  | "position_not_flat"
  | "residual_over_cap"
  | "orders_per_day_cap"
  | "daily_notional_cap"
  | "notional_cap"
  | "market_unknown"
  | "preflight_timeout"
  | "rest_unavailable"
  | "previous_order_unresolved"
  | "residue_open"
  // order_accepted (4)
  | "tx_rejected"
  | "send_failed"
  | "rest_rate_limited"
  // order_seen (4)
  | "order_not_found"
  | "order_status_unknown"
  // fill_seen (5, 5b)
  | "filled_not_reported_on_ws"
  | "not_filled"
  | "fill_timeout"
  | "ws_rest_mismatch"
  | "fill_missing_on_channel"
  // degraded
  | "late_report"
  | "fill_latency_high"
  | "rest_lagging"
  | "reconnect_needed"
  | "reconnect_gap"
  // interruption and scheduling
  | "check_interrupted"
  | "check_already_running"
  // the monitor itself (alerted on their own streams)
  | "monitor_blind"
  | "monitor_stalled"
  // flatten (alerted separately from the verdict)
  | "flatten_failed"
  | "flatten_residual"
  // watch mode (the account's real fills; each on its own alert stream)
  | "fill_not_reported"
  | "position_moved_without_fill"
  | "exchange_rate_limited"
  | "watch_gap"
  // bot reconciliation (what the user's bot reported to POST /watch/{monitor}/seen)
  | "bot_missed_fill"
  | "bot_phantom_fill"
  | "bot_late"
  | "bot_ingest_silent";

/** Which stage a diagnosis belongs to when it is the reason a check failed or was skipped. */
export const DIAGNOSIS_STAGE: Record<Diagnosis, Stage | null> = {
  connect_failed: "connect",
  connect_timeout: "connect",
  connection_limited: "connect",
  connection_closed: "connect",
  book_subscribe_rejected: "book_subscribed",
  book_ack_timeout: "book_subscribed",
  message_rate_limited: "book_subscribed",
  auth_rejected: "orders_subscribed",
  auth_missing: "orders_subscribed",
  orders_subscribe_rejected: "orders_subscribed",
  orders_ack_timeout: "orders_subscribed",
  dry_run: "preflight",
  paused: "preflight",
  config_invalid: "preflight",
  mainnet_not_allowed: "preflight",
  api_key_mismatch: "preflight",
  api_key_unverified: "preflight",
  book_stale: "preflight",
  book_crossed: "preflight",
  spread_too_wide: "preflight",
  position_not_flat: "preflight",
  residual_over_cap: "preflight",
  orders_per_day_cap: "preflight",
  daily_notional_cap: "preflight",
  notional_cap: "preflight",
  market_unknown: "preflight",
  preflight_timeout: "preflight",
  rest_unavailable: "preflight",
  previous_order_unresolved: "preflight",
  residue_open: "preflight",
  tx_rejected: "order_accepted",
  send_failed: "order_accepted",
  rest_rate_limited: "order_accepted",
  order_not_found: "order_seen",
  order_status_unknown: "order_accepted",
  filled_not_reported_on_ws: "fill_seen",
  not_filled: "fill_seen",
  fill_timeout: "fill_seen",
  ws_rest_mismatch: "fill_seen",
  fill_missing_on_channel: "fill_seen",
  late_report: null,
  fill_latency_high: null,
  rest_lagging: null,
  reconnect_needed: null,
  reconnect_gap: null,
  check_interrupted: null,
  check_already_running: "preflight",
  monitor_blind: null,
  monitor_stalled: null,
  flatten_failed: null,
  flatten_residual: null,
  fill_not_reported: null,
  position_moved_without_fill: null,
  exchange_rate_limited: null,
  watch_gap: null,
  bot_missed_fill: null,
  bot_phantom_fill: null,
  bot_late: null,
  bot_ingest_silent: null,
};

/** Meanings of Lighter codes a person may meet in evidence (PROTOCOL.md §2.9, §5.10). */
export const EXCHANGE_CODES: Record<number, string> = {
  20001: "invalid param (e.g. auth field is required)",
  20013: "invalid auth (deadline absolute vs relative, more than 8 h ahead, clock skew, wrong key)",
  21104: "invalid nonce",
  21105: "batch nonce not increasing",
  21108: "invalid public key: run changePubKey",
  21109: "API key not found",
  21110: "invalid API key index",
  21120: "invalid signature",
  21301: "not enough collateral",
  21505: "unsupported tx type",
  21506: "too many pending txs",
  21602: "invalid market index",
  21603: "invalid min amounts for market",
  21702: "invalid price",
  21706: "invalid order base or quote amount",
  21711: "invalid expiry",
  21727: "invalid client order index",
  21728: "client order index already exists",
  21732: "reduce only increases position",
  21733: "order price flagged as an accidental price",
  21734: "limit order price is too far from the mark price",
  21739: "not enough margin to create the order",
  23000: "too many requests",
  23001: "too many subscriptions",
  23002: "too many different accounts",
  23003: "too many connections",
  30000: "invalid JSON",
  30001: "invalid type",
  30002: "not subscribed",
  30003: "already subscribed (no new snapshot is sent)",
  30005: "invalid channel (send order_book/{m}; frames say order_book:{m})",
  30009: "too many websocket messages",
  30010: "too many inflight messages",
  30012: "failed to subscribe",
};

/** What a person should do, per diagnosis. Plain text, names the likely causes in order. */
export const ACTIONS: Record<Diagnosis, string> = {
  connect_failed:
    "No WebSocket connection to Lighter. Check the URL for this network (wss://<host>/stream), the exchange status (GET / on the REST host), and retry; if it persists the exchange may be down or redeploying.",
  connect_timeout:
    "The WebSocket did not open (or sent no 'connected' frame) before the deadline. Check the exchange status (GET /) and network reachability from the Worker's colo; fillwatch retries with backoff.",
  connection_limited:
    "Lighter refused the connection with a connection or region limit (23003 Too Many Connections / 403). Cloudflare's egress IPs are shared, so the limit may not be yours: set locationHint to move the Durable Object, and retry later.",
  connection_closed:
    "The exchange closed the WebSocket during the check. Look at the close code in the evidence; fillwatch reconnects with backoff. Repeated closes point to keepalive or rate-limit problems.",
  book_subscribe_rejected:
    "Lighter refused the order_book subscription. Subscribe with 'order_book/{market}' (frames answer 'order_book:{market}'), use the market id from orderBooks (perp ETH is 0; 2048 is spot), and see the exchange code in the evidence.",
  book_ack_timeout:
    "Connected, but no order book snapshot arrived before the deadline. Check the market id (orderBooks), the channel spelling order_book/{market}, and message rate limits (30009: the channel can be throttled silently).",
  message_rate_limited:
    "Lighter rate-limited the connection's messages (30009/30010). Reduce subscribe/ping traffic on this IP; throttling can also look like a quiet market.",
  auth_rejected:
    "account_orders was refused: the auth token is invalid or expired (20013). Tokens are 'deadline:account:apiKey:sig' with the deadline in unix seconds at most 8 h ahead (not a relative number), signed by the API key registered on the exchange. Check the clock, the account index and the API key index.",
  auth_missing:
    'account_orders was refused because the auth field was missing (20001). Private channels need {"type":"subscribe","channel":"account_orders/{m}/{account}","auth":"<token>"}.',
  orders_subscribe_rejected:
    "Lighter refused the account_orders subscription. Check the exchange code in the evidence, the account index and the channel 'account_orders/{market}/{account}'.",
  orders_ack_timeout:
    "The check reached its hard bound while waiting for the account_orders subscription. Check the token (deadline in seconds, at most 8 h ahead), the account and API key indexes, and the exchange status.",
  dry_run:
    "Dry run: no private key is configured for this monitor, so everything but sendTx ran. Set the secret LIGHTER_PRIVATE_KEY__<monitor> to place test orders.",
  paused: "Checks are paused over the API. POST /resume to continue.",
  config_invalid: "The monitor's configuration is invalid; /status lists each setting and its fix.",
  mainnet_not_allowed:
    "The network's chain id is 304 (mainnet) but allow_mainnet is not set. fillwatch trades real money there only when configured explicitly.",
  api_key_mismatch:
    "The public key registered for this API key on the exchange (apikeys) differs from the configured private key's. Use the key pair registered for this account and API key index, or register it with changePubKey.",
  api_key_unverified:
    "The API key could not be checked against apikeys (REST error). Trading is refused until the key is verified; see the REST error in the evidence.",
  book_stale:
    "The order book has not updated recently, so a marketable price cannot be trusted. Check the order_book subscription and the exchange status.",
  book_crossed:
    "The local order book is crossed (best bid >= best ask). fillwatch resubscribes for a fresh snapshot; no order was placed.",
  spread_too_wide: "The spread is wider than max_spread_bps; a test order would pay too much. No order was placed.",
  position_not_flat:
    "On mainnet the account's position on this market is not flat at start. Use a dedicated sub-account, flatten it, or set allow_nonflat_start.",
  residual_over_cap:
    "The residual position left by earlier checks is above max_residual_base. Flatten it by hand or raise the cap; checks are refused until then.",
  orders_per_day_cap: "The daily cap on test orders is reached; checks resume tomorrow (UTC).",
  daily_notional_cap: "The daily notional budget is used up; checks resume tomorrow (UTC).",
  notional_cap:
    "The market's minimum order is above max_notional_per_order_usd. Raise the cap or choose a market with a smaller minimum.",
  preflight_timeout:
    "The check reached its hard bound during pre-flight: a REST call (market spec, position, apikeys) did not answer. Check the exchange status; no order was placed.",
  rest_unavailable:
    "Lighter's REST API did not answer (HTTP 5xx, timeout or network error), so pre-flight could not verify the market, the position or the API key. This is an exchange outage, not a bad key: check the exchange status (GET /) and wait; repeated skips open monitor_blind.",
  previous_order_unresolved:
    "An earlier test order of this API key is not resolved yet (its reply was lost or REST has not shown it terminal). No new order is signed until it is: fillwatch looks it up until REST shows it ended, /tx shows a rejection, or its ExpiredAt passes with nothing on record. The tx hash and what is awaited are in the evidence.",
  residue_open:
    "An earlier check's flatten failed and left that check's own fill on the account (the open residue: market, signed base amount, check id and the position expected are in the evidence). No new test order is sent while it is open: each trigger first retries closing it (reduce-only, never more than the residue, within the caps), and the flatten alert stays open until the REST position is back where that check found it. If it keeps failing, close the residue by hand; fillwatch sees it closed by the position and resumes.",
  market_unknown:
    "The configured market id is not in orderBookDetails. Use a perp market id from orderBooks (ETH is 0).",
  tx_rejected:
    "The exchange rejected the test order; the code and message in the evidence say why. It may come at once from sendTx (HTTP 400) or later from /tx event_info.ae while sendTx said 200 (Lighter's deferred rejection). 21104 nonce: fillwatch re-signs once, only after an immediate refusal; 21120 signature: wrong key or chain id; 21603/21706 minimum size; 21728: a live order of this account already uses the client order index; 21739 margin.",
  send_failed:
    "sendTx failed at the HTTP level (see status and body in the evidence). Check the REST URL and exchange status.",
  rest_rate_limited:
    "The REST API rate-limited fillwatch (HTTP 429 / 23000). Standard accounts have 60 requests a minute; lengthen the schedule.",
  order_not_found:
    "sendTx accepted the tx, but past its ExpiredAt neither REST (accountOrders by client order index) nor /tx shows it: it never executed. Look the tx hash up in the explorer; if this repeats, report it to Lighter with the hash.",
  order_status_unknown:
    "The test order's fate could not be established within the check's bound (lost sendTx reply, REST silent or lagging). No second order was or will be placed until this one is resolved; fillwatch keeps looking it up (REST by client order index, /tx by hash) and the lock clears when REST shows it ended, /tx shows a rejection, or its ExpiredAt passes with nothing on record. The tx hash is in the evidence.",
  ws_rest_mismatch:
    "The WebSocket and REST disagree about our order (amount, status, owner or order index); both versions are in the evidence. Either a frame was forged or foreign, or the exchange is inconsistent: report it to Lighter with the tx hash and both versions.",
  fill_missing_on_channel:
    "The fill was reported on one of our subscribed channels but not on another (see reported_on / missing_on in the evidence). The exchange delivered the fill, so this points at the subscription of the silent channel (its channel name, account index or auth token), not at the exchange: a bot that listens only there misses fills.",
  filled_not_reported_on_ws:
    "The test order FILLED on the exchange (REST shows it) but no WebSocket frame reported the fill. This is the failure that loses money for bots: the account_orders subscription was dropped, throttled or sent to the wrong channel, or the exchange did not deliver. Resubscribe, compare the time of the last account frame in the evidence, and escalate to Lighter with the tx hash.",
  not_filled:
    "The test order was seen but did not fill; its final status in the evidence gives the reason (canceled-too-much-slippage, canceled-not-enough-liquidity, canceled-post-only, canceled-margin-not-allowed). Check the book at submit time, max_slippage_bps and the account's margin.",
  fill_timeout:
    "The order was seen but neither the WebSocket nor REST showed it finished before the deadline. The exchange may be slow; check the evidence for the last status.",
  late_report:
    "The fill was reported on the WebSocket, but only after the deadline. Fills arrive late on this connection; watch for throttling (30009) and exchange delays.",
  fill_latency_high: "The fill arrived on the WebSocket but slower than fill_latency_degraded_ms.",
  rest_lagging:
    "The WebSocket reported the fill, but REST had not confirmed it within rest_confirm_ms. The fill stands; this is informational unless it persists (then REST or its indexer is slow).",
  reconnect_needed:
    "The WebSocket dropped during the check and fillwatch reconnected; the order was followed through REST across the gap. Frequent drops point to keepalive, rate limits or exchange redeploys.",
  reconnect_gap:
    "REST shows the test order filled, but the WebSocket was down (dropped and reconnecting) between the send and the fill, so no channel could report it. The fill itself was not missed by a live subscription; frequent drops point to keepalive, rate limits or exchange redeploys (close codes in the evidence).",
  check_interrupted:
    "The check was interrupted (eviction or deploy) and concluded from the state saved before the interruption.",
  check_already_running:
    "A trigger arrived while a check (or its flatten) was still running. It was counted as a skipped tick and did not touch the running check, which concludes within its bound. Occasional overlaps are harmless; if every trigger overlaps, look at /status for a check that takes unusually long.",
  monitor_blind:
    "Several checks in a row were skipped for the same reason, so fillwatch cannot see whether fills are detected. The cause is in the evidence: a REST 5xx or timeout is an exchange outage (not a bad key); a stale book points at the order_book subscription.",
  monitor_stalled:
    "Sent by the Worker itself: the monitor's Durable Object did not answer its watchdog, or has not concluded a check for three schedule periods. Look at /status and /logs for the object; POST /checks/run forces a new check once the running one concludes.",
  flatten_failed:
    "fillwatch could not flatten the test position; close it by hand (position in the evidence) and check the account's margin.",
  flatten_residual:
    "A position below the market minimum remains; fillwatch nets it with the next check's side. Above max_residual_base it needs a manual close.",
  fill_not_reported:
    "A REAL fill of this account (REST shows the trade) was reported by none of the subscribed channels within window_s. Your bot may not know about this fill: reconcile its position and open orders against REST now (GET /api/v1/trades and accountActiveOrders), then find why the channels were silent — compare the last frame time per channel in the evidence with the REST time (a dropped or throttled subscription, 30009, an expired token, or the exchange did not deliver), and escalate to Lighter with the order index and trade id.",
  position_moved_without_fill:
    "The account's position changed (account_all_positions) but no fill explains it: no channel reported one and REST trades show none on that market in the window. Check for liquidations, ADL or funding settlements, and reconcile your bot's position against REST (GET /api/v1/account); the positions before and after and the open orders are in the evidence.",
  exchange_rate_limited:
    "Lighter's REST API answered 429 or 405 (23000-23003) to fillwatch's watch monitor. All of the monitor's REST calls stop for at least 60 s (the exchange's cooldown); fills stay unverified meanwhile. The limit is per L1 address and shared with your bot: lower watch.rest_budget_per_min, raise watch.reconcile_s, or reduce the bot's request rate.",
  watch_gap:
    "More trades happened since the watch last read REST than its REST budget can page back through (100 trades a page, at most 40 pages a minute on a Standard account, fewer within watch.rest_budget_per_min): the fills in the time range in the evidence were NOT checked. Reconcile your bot against REST for that range (GET /api/v1/trades, paging next_cursor), and if this repeats raise watch.rest_budget_per_min or shorten outages (the watch stopped or was rate-limited for a long time).",
  bot_missed_fill:
    "The exchange filled an order of this account (REST shows the trade) and your bot did not report it within bot.window_s: your bot probably does not know about this fill. Reconcile the bot's position and open orders against REST now, then find why its session missed the fill (its subscriptions, auth token expiry, reconnect handling, how it parses filled_base_amount); the order index, client order index, amount and trade time are in the evidence.",
  bot_phantom_fill:
    "Your bot reported a fill the exchange never made: REST (read up to the newest trade after bot.window_s) shows less filled for that order than the bot reported. The bot's idea of its position is wrong; reconcile it against REST, and check how it computes filled_base (human units, cumulative per order) and which order it attributes fills to.",
  bot_late:
    "Your bot reported this fill only after bot.window_s; the delay is in the evidence. Check the bot's WebSocket session (reconnects, backlog) and its reporter's batching.",
  bot_ingest_silent:
    "fillwatch received nothing from your bot (no batch and no heartbeat) for bot.silence_s, so it cannot tell which fills the bot saw; missed-fill alerts are held back meanwhile. Check that the bot is running and that its reporter reaches POST /watch/{monitor}/seen with the ingest token (WATCH_INGEST_TOKEN__<monitor>).",
};

/** Human text for an exchange code, e.g. "21104 invalid nonce". */
export function describeCode(code: number | null | undefined): string | null {
  if (code === null || code === undefined) return null;
  const text = EXCHANGE_CODES[code];
  return text ? `${code} ${text}` : String(code);
}
