/**
 * The soak's fault catalogue: every fault of the simulator (test/sim/faults.ts) with the parameters
 * the soak draws for it and the outcomes a correct monitor reaches under it (the diagonal of the
 * confusion matrix). An outcome is `verdict` or `verdict:stage/diagnosis`. Any other outcome is an
 * off-diagonal cell, and the summary must explain each one: from `why` here when it is expected
 * (a parameter that makes the fault harmless, say), or as a finding.
 */
import { FAULT_NAMES, type FaultName } from "../sim/faults.ts";
import type { Rng } from "../sim/random.ts";

export interface CatalogueEntry {
  /** Where the fault acts: the socket, the book, the account channels, sendTx, REST. */
  layer: "connect" | "subscribe" | "book" | "frames" | "orders" | "tx" | "rest";
  /** Parameters for the simulator's POST /_sim/faults (scaled durations are in real ms). */
  params(rng: Rng, timeScale: number): Record<string, unknown>;
  /** Outcomes that are correct under this fault. */
  expected: readonly string[];
  /** Outcomes that are also acceptable, with the reason (shown beside the off-diagonal cell). */
  why?: Readonly<Record<string, string>>;
}

const PASS = "pass";
const KEPT_SESSION =
  "the previous check's session was still open (on-demand grace period): no connect happened under the fault";
/** reject_auth / expire_auth off the diagonal (drift-2.md in the session notes). */
const AUTH_AFTER_ORDER =
  "no 20013 came before the order (the session's account subscriptions were made before the fault and kept; " +
  "expire_auth drops them silently): the order filled, REST's authenticated reads were refused, so REST never " +
  "confirmed it (rest_lagging) or nothing showed it (order_status_unknown); the flatten closed it by the position";
const ms = (base: number, timeScale: number) => Math.max(1, Math.round(base * timeScale));

export const CATALOGUE: Readonly<Record<FaultName, CatalogueEntry>> = {
  refuse_connections: {
    layer: "connect",
    params: (rng) => ({ status: rng.pick([503, 429]) }),
    expected: ["fail:connect/connect_failed", "fail:connect/connection_limited"],
    why: { pass: KEPT_SESSION },
  },
  close_after_connect: {
    layer: "connect",
    params: (rng) => ({ code: rng.pick([1011, 1008, 1001]) }),
    expected: ["fail:connect/connection_closed", "fail:connect/connect_failed"],
    why: {
      pass: KEPT_SESSION,
      "fail:book_subscribed/connection_closed":
        "the server closed right after `connected`, while the book subscription was pending: the stage it hit",
      "fail:orders_subscribed/connection_closed":
        "the close arrived after the book's acknowledgement, while the account subscriptions were pending: the stage it hit",
    },
  },
  no_connected_frame: {
    layer: "connect",
    params: () => ({}),
    expected: [PASS],
    why: { "fail:connect/connect_timeout": "the monitor waited for the optional `connected` frame" },
  },
  ignore_subscriptions: {
    layer: "subscribe",
    params: (rng) => ({ channel: rng.pick(["order_book", "account_orders", "account_all_orders"]) }),
    expected: [
      "fail:book_subscribed/book_ack_timeout",
      "fail:fill_seen/filled_not_reported_on_ws",
      "fail:fill_seen/fill_missing_on_channel",
      "fail:orders_subscribed/orders_ack_timeout",
    ],
    why: { pass: KEPT_SESSION },
  },
  reject_auth: {
    layer: "subscribe",
    params: () => ({}),
    expected: ["fail:orders_subscribed/auth_rejected"],
    why: {
      "degraded:-/rest_lagging": AUTH_AFTER_ORDER,
      "fail:order_accepted/order_status_unknown": AUTH_AFTER_ORDER,
    },
  },
  expire_auth: {
    layer: "subscribe",
    params: () => ({}),
    expected: ["fail:orders_subscribed/auth_rejected"],
    why: {
      "degraded:-/rest_lagging": AUTH_AFTER_ORDER,
      "fail:order_accepted/order_status_unknown": AUTH_AFTER_ORDER,
    },
  },
  stall: {
    layer: "connect",
    params: () => ({}),
    expected: [
      "fail:connect/connect_timeout",
      "fail:book_subscribed/book_ack_timeout",
      "fail:connect/connection_closed",
    ],
    why: {
      "fail:fill_seen/filled_not_reported_on_ws":
        "the stall hit the kept session of the previous check: the stream went silent while REST showed the fill",
    },
  },
  stop_book_updates: {
    layer: "book",
    params: () => ({}),
    expected: [PASS, "skipped:preflight/book_stale"],
  },
  book_nonce_gap: { layer: "book", params: () => ({}), expected: [PASS] },
  duplicate_frames: { layer: "frames", params: () => ({}), expected: [PASS] },
  reorder_frames: {
    layer: "frames",
    params: () => ({}),
    expected: [PASS],
    why: { "degraded:-/fill_latency_high": "a swapped pair can move the fill frame behind a later one" },
  },
  delay_frames: {
    layer: "frames",
    params: (rng, ts) => ({ ms: ms(rng.pick([200, 2_000, 8_000]), ts) }),
    expected: [PASS, "degraded:-/fill_latency_high", "degraded:-/late_report", "degraded:-/rest_lagging"],
    why: {
      "fail:fill_seen/filled_not_reported_on_ws": "a delay past the report deadline is a missed report by definition",
      "fail:book_subscribed/book_ack_timeout": "a delay past the book's ack deadline",
    },
  },
  throttle_account_frames: {
    layer: "orders",
    params: () => ({}),
    expected: ["fail:fill_seen/filled_not_reported_on_ws"],
  },
  server_ping: {
    layer: "connect",
    params: (rng, ts) => ({ every_ms: ms(rng.pick([1_000, 5_000]), ts), expect_pong_ms: ms(3_000, ts) }),
    expected: [PASS],
  },
  malformed_frames: { layer: "frames", params: (_rng, ts) => ({ every_ms: ms(500, ts) }), expected: [PASS] },
  oversized_frames: { layer: "frames", params: () => ({ bytes: 256 * 1024 }), expected: [PASS] },
  withhold_account_orders: {
    layer: "orders",
    params: () => ({}),
    expected: ["fail:fill_seen/filled_not_reported_on_ws"],
  },
  late_report: {
    layer: "orders",
    params: (rng, ts) => ({ ms: ms(rng.pick([500, 4_000, 20_000]), ts) }),
    expected: [
      PASS,
      "degraded:-/late_report",
      "degraded:-/fill_latency_high",
      "fail:fill_seen/filled_not_reported_on_ws",
    ],
    why: {},
  },
  late_fill: {
    layer: "orders",
    params: (rng, ts) => ({ ms: ms(rng.pick([500, 4_000]), ts) }),
    expected: [PASS, "degraded:-/fill_latency_high"],
  },
  never_match: { layer: "orders", params: () => ({}), expected: ["fail:fill_seen/not_filled"] },
  reject_tx: {
    layer: "tx",
    params: (rng) => ({ code: rng.pick([21120, 21706, 21739]) }),
    expected: ["fail:order_accepted/tx_rejected"],
  },
  fail_tx_execution: {
    layer: "tx",
    params: (rng) => ({ code: rng.pick([21739, 21729]) }),
    expected: ["fail:order_accepted/tx_rejected"],
  },
  rest_errors: {
    layer: "rest",
    params: (rng) => ({ status: rng.pick([500, 502, 503]) }),
    expected: ["skipped:preflight/rest_unavailable"],
    why: {
      "degraded:-/rest_lagging":
        "a machine without a pre-flight (the pre-#16 core) sends the order; REST then cannot confirm the WebSocket fill",
      "fail:order_accepted/order_status_unknown": "a lost sendTx reply could not be looked up while REST failed",
    },
  },
  slow_rest: {
    layer: "rest",
    params: (rng, ts) => ({ ms: ms(rng.pick([300, 3_000, 15_000]), ts) }),
    expected: [
      PASS,
      "skipped:preflight/rest_unavailable",
      "skipped:preflight/preflight_timeout",
      "degraded:-/rest_lagging",
      "degraded:-/fill_latency_high",
    ],
  },
  drop_connection: {
    layer: "connect",
    params: (rng, ts) => ({ after_ms: ms(rng.pick([0, 500, 2_000]), ts) }),
    expected: [
      PASS,
      "fail:connect/connection_closed",
      "fail:book_subscribed/connection_closed",
      // Every socket closes after_ms after it connects: the session never gets further than the
      // stage it reached when the reconnects run out, at 0 ms that is the connect itself.
      "fail:orders_subscribed/connection_closed",
      "fail:connect/connect_failed",
      // at after_ms 0 a socket can close before its `connected` frame: the connect deadline runs out
      "fail:connect/connect_timeout",
      "degraded:-/reconnect_gap",
      "degraded:-/reconnect_needed",
    ],
  },
  lose_send_reply: {
    layer: "tx",
    params: (rng) => ({ mode: rng.pick(["5xx", "timeout"]) }),
    expected: [PASS, "degraded:-/fill_latency_high"],
    why: { "fail:order_accepted/order_status_unknown": "the look-up after the lost reply stayed unknown" },
  },
  rest_lag_ms: {
    layer: "rest",
    params: (rng, ts) => ({ ms: ms(rng.pick([1_000, 6_000, 30_000]), ts) }),
    expected: [PASS, "degraded:-/rest_lagging"],
  },
  forge_fill: {
    layer: "orders",
    params: (rng) => ({ mode: rng.pick(["other_account", "other_order"]) }),
    expected: [PASS],
  },
  withhold_channel: {
    layer: "orders",
    params: (rng) => ({ channel: rng.pick(["account_orders", "account_all_orders"]) }),
    expected: ["fail:fill_seen/fill_missing_on_channel"],
    why: {
      pass: "a restart between the reports: the new instance saw the fill on REST and on the channel that reported, and cannot know the other skipped it",
    },
  },
  withhold_orders: {
    layer: "orders",
    params: () => ({}),
    expected: ["fail:fill_seen/filled_not_reported_on_ws"],
  },
  no_margin: {
    layer: "tx",
    params: () => ({}),
    // LIVE.md L.13.8: the IOC ends as a real order canceled-margin-not-allowed, nothing filled.
    expected: ["fail:fill_seen/not_filled"],
    why: { pass: "the machine soak's virtual exchange (part a) does not model margin: the fault is a no-op there" },
  },
  rest_forget: {
    layer: "rest",
    params: () => ({}),
    // REST forgets an order it had shown: a known fact is never replaced by an absent answer.
    expected: [PASS],
    why: {
      "degraded:-/rest_lagging":
        "the fault was on before REST ever showed the order: a WebSocket fill REST never confirmed is at best " +
        "degraded; the flatten closed it by the position",
    },
  },
  malformed_order_beside: {
    layer: "orders",
    params: () => ({}),
    // One malformed order beside ours in the same frame is skipped; ours still counts.
    expected: [PASS],
  },
  odd_transaction_time: {
    layer: "orders",
    params: (rng) => ({ as: rng.pick(["absent", "ms", "string"]) }),
    // Delivery latency is a side measurement: no sample (malformed: counted unexpected), same verdict.
    expected: [PASS],
  },
};

/** The outcome label of a check: `pass`, or `verdict:stage/diagnosis` (stage `-` when none). */
export function outcomeLabel(verdict: string | null, stage: string | null, diagnosis: string | null): string {
  if (verdict === "pass" || verdict === null) return verdict ?? "running";
  return `${verdict}:${stage ?? "-"}/${diagnosis ?? "-"}`;
}

/** Draws the fault of one check (null: no fault), seeded. `only` restricts the draw. */
export function drawFault(
  rng: Rng,
  timeScale: number,
  only: readonly FaultName[] = FAULT_NAMES,
  healthyShare = 0.25,
): { name: FaultName; params: Record<string, unknown> } | null {
  if (rng.next() < healthyShare) return null;
  const name = rng.pick(only);
  return { name, params: CATALOGUE[name].params(rng, timeScale) };
}

export function isExpected(fault: FaultName | "none", label: string): boolean {
  if (fault === "none") return label === "pass";
  return CATALOGUE[fault].expected.includes(label);
}
