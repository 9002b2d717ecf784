/**
 * Rules around a check rather than inside it: whether a trigger may start a check, what verdict a
 * check gets when its hard bound passes, and when repeated skips mean the monitor is blind.
 */
import type { Diagnosis } from "../diagnosis.ts";
import { resolution, type OrderFacts } from "./order.ts";
import type { Outcome } from "./decide.ts";
import type { Phase } from "./phases.ts";

export type TickDecision =
  /** Start a check. */
  | { kind: "run" }
  /** A check is running: count the tick, touch nothing. */
  | { kind: "skip_tick"; runningCheckId: string }
  /** Record a check that concludes skipped at once (an earlier order is unresolved). */
  | { kind: "skip_check"; diagnosis: Diagnosis; evidence: Outcome["evidence"] };

/**
 * @example
 * admitTick({ runningCheckId: "c1", unresolved: null, now: 0 }) // { kind: "skip_tick", runningCheckId: "c1" }
 */
export function admitTick(x: {
  runningCheckId: string | null;
  unresolved: OrderFacts | null;
  now: number;
}): TickDecision {
  if (x.runningCheckId !== null) return { kind: "skip_tick", runningCheckId: x.runningCheckId };
  if (x.unresolved) {
    const r = resolution(x.unresolved, x.now);
    if (!r.resolved) {
      return {
        kind: "skip_check",
        diagnosis: "previous_order_unresolved",
        evidence: {
          client_order_index: x.unresolved.coi,
          tx_hash: x.unresolved.txHash,
          expired_at: x.unresolved.expiredAt,
          waiting_for: r.waitingFor,
        },
      };
    }
  }
  return { kind: "run" };
}

const PHASE_TIMEOUT: Partial<Record<Phase, Diagnosis>> = {
  connect: "connect_timeout",
  book: "book_ack_timeout",
  orders: "orders_ack_timeout",
  preflight: "preflight_timeout",
};

/** The verdict a check gets when its hard bound passes, whatever its phase logic was doing. */
export function boundOutcome(phase: Phase, order: OrderFacts | null, now: number): Outcome {
  const evidence: Outcome["evidence"] = { forced_by: "check bound", phase };
  if (!order || order.transmissions === 0) {
    return { verdict: "fail", diagnosis: PHASE_TIMEOUT[phase] ?? "order_status_unknown", reasons: [], evidence };
  }
  const r = resolution(order, now);
  return {
    verdict: "fail",
    diagnosis: r.resolved ? "fill_timeout" : "order_status_unknown",
    reasons: [],
    evidence: {
      ...evidence,
      tx_hash: order.txHash,
      client_order_index: order.coi,
      waiting_for: r.resolved ? null : r.waitingFor,
    },
  };
}

/** Skips that say nothing about the exchange or the monitor's sight: they never make it blind. */
const NEUTRAL_SKIPS: ReadonlySet<string> = new Set(["paused", "dry_run", "maintenance"]);

/**
 * N consecutive skips for the same reason open `monitor_blind`.
 * @example
 * blindAfter(["api_key_unverified", "api_key_unverified", "api_key_unverified"], 3) // "api_key_unverified"
 */
export function blindAfter(recentSkipReasons: readonly string[], threshold: number): string | null {
  if (recentSkipReasons.length < threshold) return null;
  const last = recentSkipReasons.slice(-threshold);
  const reason = last[0]!;
  if (NEUTRAL_SKIPS.has(reason)) return null;
  return last.every((r) => r === reason) ? reason : null;
}
