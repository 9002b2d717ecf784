/**
 * The one alert wiring of watch mode, watch and bot streams alike: a failing result (re)opens its
 * stream's incident; passing results are sent only while one is open and close it after the
 * stream's resolve count, so a healthy watch writes no alert state. Also the small helpers every
 * watch verdict uses: a log effect, a counter, a bounded recent list.
 */
import { ACTIONS, type Diagnosis } from "../diagnosis.ts";
import type { WatchEffect, WatchStream } from "./effects.ts";
import { resolveAfter, type WatchState } from "./state.ts";

export const MAX_RECENT = 20;
export const MAX_IN_EVIDENCE = 10;

/** One result on `stream` at `now`, or nothing (a pass with no incident open). */
export function alert(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  stream: WatchStream,
  verdict: "pass" | "fail",
  diagnosis: Diagnosis,
  evidence: Record<string, unknown>,
): void {
  const after = resolveAfter(s.cfg, stream);
  if (verdict === "pass") {
    const left = s.streams[stream];
    if (left === undefined) return;
    if (left <= 1) delete s.streams[stream];
    else s.streams[stream] = left - 1;
  } else s.streams[stream] = after;
  const tag = stream.startsWith("bot") ? "-bot" : "";
  fx.push({
    kind: "alert",
    stream,
    resolveAfter: after,
    result: {
      checkId: `${now}${tag}-${++s.seq}`,
      at: now,
      verdict,
      firstFailingStage: null,
      diagnosis: verdict === "fail" ? diagnosis : null,
      flatten: null,
      action: verdict === "fail" ? ACTIONS[diagnosis] : null,
      evidence,
    },
  });
}

export function log(
  fx: WatchEffect[],
  level: "info" | "warn" | "error",
  name: string,
  data: Record<string, unknown>,
): void {
  fx.push({ kind: "log", level, name, data });
}

export function count(fx: WatchEffect[], name: string, by = 1): void {
  fx.push({ kind: "count", name, by });
}

export function pushRecent<T>(list: T[], v: T): void {
  list.push(v);
  if (list.length > MAX_RECENT) list.shift();
}

/** The fields of a missed fill an incident leads with (watch and bot alike). */
export interface MissHead {
  order_index: unknown;
  client_order_index: unknown;
  market: unknown;
  side: unknown;
  amount: unknown;
  trade_id: unknown;
  trade_at: unknown;
}

/**
 * A pass's result on a miss stream: "fail" leads with the first miss and lists up to
 * MAX_IN_EVIDENCE; "pass" counts the fills reported in time.
 */
export function missResult(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  stream: "watch" | "bot",
  result: "pass" | "fail",
  missed: MissHead[],
  reported: number,
  extra: Record<string, unknown>,
): void {
  const first = missed[0];
  const diagnosis = stream === "watch" ? "fill_not_reported" : "bot_missed_fill";
  const evidence = first
    ? {
        order_index: first.order_index,
        client_order_index: first.client_order_index,
        market: first.market,
        side: first.side,
        amount: first.amount,
        trade_id: first.trade_id,
        trade_at: first.trade_at,
        ...extra,
        missed_fills: missed.slice(0, MAX_IN_EVIDENCE),
        missed_count: missed.length,
      }
    : { reported };
  alert(s, fx, now, stream, result, diagnosis, evidence);
}
