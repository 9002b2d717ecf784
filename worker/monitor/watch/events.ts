/**
 * What the watch machine is told: the clock (`tick`), the session (connect, close, a channel
 * acknowledged, order / trade / position updates, error frames), the answers to its REST effects,
 * the bot's batches (`ingest`) and a configuration change. Frames arrive already parsed
 * (durable-objects/watch/feed.ts); the machine alone decides what they mean.
 */
import type { Order, Trade } from "../../lighter/messages.ts";
import type { SeenReport } from "./bot-ingest.ts";
import type { PositionReport } from "./positions.ts";
import type { FillChannel } from "./rules.ts";
import type { WatchSettings } from "./state.ts";

/** A REST failure as the interpreter saw it: the exchange's rate limit is decided by the machine (budget.ts). */
export interface RestFailure {
  message: string;
  code: number | null;
  /** 0 when no HTTP answer came (timeout, network). */
  httpStatus: number;
}

export type WatchEvent =
  /** Time passed: judge what can be judged, start what is due. */
  | { kind: "tick" }
  | { kind: "settings"; settings: WatchSettings }
  | { kind: "connected"; conn: number }
  | { kind: "connect_failed"; conn: number; message: string }
  /** The session was lost (the peer closed, the socket failed, the silence watchdog). */
  | { kind: "closed"; conn: number; code: number; reason: string }
  /** Order objects of an order channel; `market` the channel's market (account_orders), `snapshot` a `subscribed/…` frame. */
  | { kind: "orders"; channel: FillChannel; market: number | null; orders: Order[]; snapshot: boolean }
  | { kind: "trades"; trades: Trade[]; snapshot: boolean }
  | { kind: "positions"; positions: PositionReport[]; snapshot: boolean }
  /** A positions frame that could not be read (the channel answered). */
  | { kind: "positions_malformed" }
  | { kind: "error_frame"; code: number | null; message: string }
  | { kind: "trades_page"; ref: number; ok: true; trades: Trade[]; nextCursor: string }
  | ({ kind: "trades_page"; ref: number; ok: false } & RestFailure)
  | { kind: "orders_page"; ref: number; ok: true; orders: Order[] }
  | ({ kind: "orders_page"; ref: number; ok: false } & RestFailure)
  /** A batch from the bot (parsed and authenticated by the Worker); [] is a heartbeat. `duplicate`: its key is stored. */
  | { kind: "ingest"; reports: SeenReport[]; key: string; duplicate: boolean }
  /** The session holder is stopping (pause, end of an alarm invocation): coverage ends now. */
  | { kind: "stopping"; reason: string };
