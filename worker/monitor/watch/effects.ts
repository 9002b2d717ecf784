/**
 * What the watch machine asks the world to do. The interpreter (durable-objects/watch/, or the
 * model test) carries effects out in the order given and answers REST effects with an event that
 * carries the same `ref`. `save` comes first when present: the record is stored before anything
 * else of the step happens. Alerts are queued to the monitor's outbox (delivered outside the step).
 */
import type { CheckResult } from "../../alerts/alert-policy.ts";
import type { ExchangeFill } from "./bot-ledger.ts";
import type { SeenReport } from "./bot-ingest.ts";

/** The alert streams of a watch monitor (each its own incident). */
export type WatchStream =
  "watch" | "watch_channel" | "watch_position" | "watch_rest" | "bot" | "bot_phantom" | "bot_ingest";

export type IngestOutcome =
  | { kind: "accepted"; reports: number; duplicate: boolean }
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "not_enabled"; reason: string };

export type WatchEffect =
  /** Store the record (state.rec) now, before the other effects. */
  | { kind: "save" }
  /** Open a session (connection `conn`) and subscribe the account's channels; answer `connected` / `connect_failed`. */
  | { kind: "open"; conn: number }
  /** Close the session from our side (no `closed` event follows). */
  | { kind: "close"; reason: string }
  /** One page of the account's trades, newest first; answer `trades_page`. */
  | { kind: "rest_trades"; ref: number; cursor: string | null; limit: number }
  /** The account's recently ended orders on `market`; answer `orders_page`. */
  | { kind: "rest_orders"; ref: number; market: number; orderIndexes: string[] }
  /** Queue one alert result on `stream` (resolveAfter passes close its incident). */
  | { kind: "alert"; stream: WatchStream; result: CheckResult; resolveAfter: number }
  | { kind: "log"; level: "info" | "warn" | "error"; name: string; data: Record<string, unknown> }
  /** Add to a counter (buffered). */
  | { kind: "count"; name: string; by: number }
  /** The answer to an `ingest` event. */
  | { kind: "ingest_reply"; outcome: IngestOutcome }
  // ------------------------------------------------------------------ bot reconciliation's tables
  | { kind: "bot_store_batch"; key: string; reports: readonly SeenReport[]; at: number }
  | { kind: "bot_store_fill"; fill: ExchangeFill; at: number }
  | { kind: "bot_fill_state"; key: string; state: "missed" | "done" }
  | { kind: "bot_store_ws"; orderIndex: string; cum: bigint; clientOrderIndex: string; market: number; at: number }
  | { kind: "bot_prune"; at: number }
  /** The bot saw a fill of `market` `lagMs` after the trade (the delivery latency book). */
  | { kind: "bot_lag"; market: number; lagMs: number };
