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
