/**
 * Everything that can happen to a monitor's checks, as data: triggers, the WebSocket session
 * (turned from frames by the interpreter's feed), the answers to the machine's own requests
 * (each carrying the `ref` of its effect), alarms, restarts and alert deliveries. Events never
 * carry a decision: the feed says which frame arrived, the machine says what it means.
 */
import type { SendReply, TxLookup } from "./send.ts";
import type { OrderLookup } from "./order.ts";
import type { Fetched } from "./preflight.ts";
import type { Setup, SpecJson, SubChannel, TopLevel } from "./state.ts";

/**
 * One order of an account frame, as parsed (ids as decimal text, never through a JS number), its
 * filled amount as the exchange's decimal text: the machine scales it to the order's size decimals.
 */
export interface WireOrder {
  /** The account the frame belongs to (channel suffix or `account` field); null when it does not say. */
  account: string | null;
  /** `owner_account_index`; null when absent. */
  owner: string | null;
  market: number;
  clientOrderIndex: string;
  orderIndex: string;
  status: string;
  /** `filled_base_amount` as sent, e.g. "0.0050". */
  filledBase: string;
}

export type Event =
  /** A trigger (cron or manual) with its idempotency key and the configuration at that moment. */
  | {
      type: "tick";
      key: string;
      trigger: "cron" | "manual";
      setup: Setup;
      /** When this trigger fires next (ms), from its cron; absent when unknown (a manual run). */
      nextAt?: number | null;
    }
  /** The configuration, key or pause switch changed (or the entry was removed: settings null). */
  | { type: "config"; setup: Setup }
  /** The alarm fired. Carries nothing: the machine reads its own deadlines against `now`. */
  | { type: "wake"; jitter?: number }
  /**
   * The object started with this stored state (after an eviction, crash or deploy): nothing of
   * what was in flight will answer (the requests are in `state.pending`, the socket is gone).
   * Sent once, before any other event of the new instance.
   */
  | { type: "restarted" }
  // ------------------------------------------------------------------ the WebSocket session
  /**
   * The interpreter starts opening connection `conn` now (optional: when an `open` cannot start at
   * once, e.g. it must wait for an alarm). The connect deadline counts from here.
   */
  | { type: "connecting"; conn: number }
  /** Connection `conn` (from the `open` effect) is open (the `connected` frame, or the upgrade when none comes). */
  | { type: "connected"; conn: number }
  /** Connection `conn` could not be opened. `jitter` in [0, 1) spreads the retry. */
  | { type: "connect_failed"; conn: number; status: number | null; message: string; timeout: boolean; jitter: number }
  /** Connection `conn` closed (by the peer, an error or the silence watchdog). `jitter` in [0, 1). */
  | { type: "closed"; conn: number; code: number; reason: string; jitter: number }
  /**
   * A frame acknowledged a subscription: its own `subscribed/...` frame ("ack"), a 30003 whose
   * message names this channel ("already"), or the first data frame of the channel ("data").
   */
  | { type: "subscribed"; conn: number; channel: SubChannel; market: number | null; via: "ack" | "already" | "data" }
  /**
   * An error frame. `channel` is the channel its message names (e.g. "Already Subscribed to :
   * order_book:0" names order_book), or null: Lighter's refusals usually name none.
   */
  | { type: "refused"; conn: number; code: number | null; message: string; channel: SubChannel | null }
  /** The local order book changed: a snapshot, a delta, or a nonce gap (the book dropped its state). */
  | {
      type: "book";
      conn: number;
      market: number;
      kind: "snapshot" | "update" | "gap";
      bestBid: TopLevel | null;
      bestAsk: TopLevel | null;
      bids: number;
      asks: number;
    }
  /**
   * Orders from one account frame, each parsed on its own: `malformed` counts the orders of the
   * frame that could not be parsed (skipped, the rest kept).
   */
  | {
      type: "orders";
      conn: number;
      channel: "account_orders" | "account_all_orders";
      orders: WireOrder[];
      malformed: number;
    }
  // ------------------------------------------------------------------ answers to the machine's requests
  /** Pre-flight REST answers (market spec, position in size units as signed decimal text, API key check). */
  | {
      type: "preflight_data";
      ref: string;
      spec: Fetched<SpecJson | null>;
      position: Fetched<string> | null;
      apiKey: Fetched<{ matches: boolean; detail: Record<string, string | number | null> }> | null;
    }
  /** The order was signed (and, unless a dry run, will be stored with the state before it is sent). */
  | { type: "signed"; ref: string; txType: number; txInfo: string; txHash: string; nonce: string; expiredAt: number }
  /** Signing failed: no key, no config, the nonce could not be fetched, or the signer refused. */
  | { type: "sign_failed"; ref: string; reason: "no_key" | "no_config" | "nonce" | "signer"; message: string }
  /** The sendTx round trip of a `transmit` effect. */
  | { type: "send_reply"; ref: string; reply: SendReply }
  /** A REST look-up: the order by client order index (scaled), the tx by hash. */
  | { type: "looked_up"; ref: string; order: OrderLookup; tx: TxLookup }
  /** The REST position on a market (size units, signed decimal text). */
  | { type: "position"; ref: string; position: Fetched<string> }
  /** An alert (or heartbeat) was delivered or gave up. The machine records it; it never waits for it. */
  | { type: "alert_done"; ref: string; ok: boolean; error: string | null };

export type EventType = Event["type"];
