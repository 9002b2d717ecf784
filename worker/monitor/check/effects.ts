/**
 * What the machine asks the world to do. The interpreter (the Durable Object, the CLI, the model
 * test) carries effects out in the order given and turns each answer into an Event with the same
 * `ref`. The contract: `save` comes first when present and is done before anything else (the
 * signed tx is in storage before it can be transmitted); `transmit` puts the stored bytes on the
 * wire unchanged; `wake_at` replaces the one alarm; alerts and heartbeats are delivered outside
 * the step loop and never delay an event.
 */
import type { Diagnosis, FlattenOutcome, Stage, Verdict } from "../diagnosis.ts";
import type { CheckRecord, Evidence, SubChannel } from "./state.ts";

/** One alert for a stream (check verdicts, flatten outcomes, the monitor's own health). */
export interface AlertResult {
  /** `<checkId>`, `<checkId>:flatten` or `<checkId>:monitor`. */
  checkId: string;
  at: number;
  verdict: Verdict;
  firstFailingStage: Stage | null;
  diagnosis: Diagnosis | null;
  flatten: FlattenOutcome | null;
  action: string | null;
  evidence: Evidence;
}

export type Effect =
  /** Persist the returned state now, before any other effect of this step. */
  | { kind: "save" }
  /** Arm the one alarm at `at` (replacing any other); null: no alarm needed. Then send `wake`. */
  | { kind: "wake_at"; at: number | null }
  // ------------------------------------------------------------------ the WebSocket session
  /** Open connection `conn` to the monitor's ws_url; answer `connected` or `connect_failed`. Give up after `timeoutMs`. */
  | { kind: "open"; conn: number; timeoutMs: number }
  /** Close connection `conn` from our side (no `closed` event is expected). */
  | { kind: "close"; conn: number; reason: string }
  /**
   * Subscribe `channel` on `conn` (account channels with a fresh auth token). `resubscribe`: send
   * unsubscribe first (a held channel answers 30003 and no new snapshot, PROTOCOL.md §2.9).
   */
  | { kind: "subscribe"; conn: number; channel: SubChannel; market: number; resubscribe: boolean }
  // ------------------------------------------------------------------ REST and signing
  /** Pre-flight REST: market spec (cached is fine), the position (if `position`), the API key (if `apiKey`). */
  | { kind: "preflight_fetch"; ref: string; market: number; position: boolean; apiKey: boolean }
  /**
   * Sign this CreateOrder with the monitor's key (nonce from the cache, or `freshNonce`: ask the
   * exchange), answer `signed` with the exact bytes or `sign_failed`. `dryRun`: sign and verify
   * locally only; the nonce cache is not advanced.
   */
  | {
      kind: "sign";
      ref: string;
      coi: string;
      market: number;
      isAsk: boolean;
      baseAmount: string;
      price: number;
      reduceOnly: boolean;
      expiredAt: number;
      freshNonce: boolean;
      dryRun: boolean;
    }
  /** sendTx with exactly these bytes (the stored signed tx); answer `send_reply`. */
  | { kind: "transmit"; ref: string; coi: string; txType: number; txInfo: string; txHash: string }
  /** REST: the order by client order index (scaled to `sizeDecimals`) and the tx by hash; answer `looked_up`. */
  | { kind: "lookup"; ref: string; coi: string; txHash: string; sizeDecimals: number }
  /** REST: the account's position on `market` in size units; answer `position`. */
  | { kind: "fetch_position"; ref: string; market: number; sizeDecimals: number }
  // ------------------------------------------------------------------ reporting (never awaited by the machine)
  /** Deliver an alert on `stream` (outside the step loop, with its own timeout); answer `alert_done`. */
  | { kind: "alert"; ref: string; stream: "check" | "flatten" | "monitor"; result: AlertResult }
  /** Ping the heartbeat URL for a concluded check; answer `alert_done`. */
  | { kind: "heartbeat"; ref: string; checkId: string; verdict: Verdict }
  /**
   * Write this check's history row (stages, verdict, evidence, flatten): sent when the verdict is
   * written and again when the check ends (its flatten outcome). The record is a copy.
   */
  | { kind: "record"; check: CheckRecord }
  /** Write one event-log row. */
  | { kind: "log"; level: "info" | "warn" | "error"; event: string; data: Evidence; checkId: string | null };

export type EffectKind = Effect["kind"];
