/**
 * Which changes of the state must be saved before anything else happens (the `save` effect): the
 * facts a crash must not lose. Everything else is rebuilt after a restart (the session, requests in
 * flight, phases and their deadlines, counters of look-ups) or re-derived from REST (a reply, the
 * flatten's progress). The model test restarts from the last SAVED state at any step, with stale
 * alarms, and proves that this is enough.
 */
import type { OrderFacts } from "./order.ts";
import type { MachineState } from "./state.ts";

/**
 * What of an order must survive: the signature and how often it went out (a crash during a send
 * must read as "reply unknown", never as "not sent yet"), a refusal, a fill the WebSocket reported,
 * what REST or /tx proved.
 */
function order(o: OrderFacts | null, derivable = false): unknown {
  if (!o) return null;
  if (derivable) {
    // A flatten order: its fill and end are looked up again after a restart; only its sending matters.
    return { coi: o.coi, txHash: o.txHash, transmissions: o.transmissions, resigns: o.resigns };
  }
  const fills: Record<string, string> = {};
  for (const [idx, c] of Object.entries(o.wsCandidates)) if (c.filled !== "0") fills[idx] = c.filled;
  return {
    coi: o.coi,
    txHash: o.txHash,
    expiredAt: o.expiredAt,
    transmissions: o.transmissions,
    resigns: o.resigns,
    refused: o.firstReply && o.firstReply.kind !== "accepted" && o.firstReply.kind !== "unknown" ? o.firstReply : null,
    fills,
    rest: o.restResult === "found" ? o.restOrder : null,
    tx: o.txResult === "record" ? (o.txAppError ?? "record") : null,
  };
}

/** The projection compared before and after a step: a difference means `save`. */
export function critical(s: MachineState): string {
  const c = s.check;
  const f = c?.flatten ?? null;
  return JSON.stringify({
    check: c && {
      id: c.id,
      boundAt: c.boundAt,
      tx: c.tx?.txHash ?? null,
      facts: order(c.facts),
      connects: c.connects,
      gaps: c.gaps.length,
      interrupted: c.interrupted,
      // An account subscription refused after the order went out: nothing more of ours goes out,
      // not even the same bytes again after a restart.
      refused: c.evidence.subscription_refused ?? null,
      verdict: c.verdict,
      annotated: c.evidence.api_key_check ?? null,
      flatten: f && {
        ownFill: f.ownFill,
        attempts: f.attempts,
        connects: f.connects,
        tx: f.tx?.txHash ?? null,
        facts: order(f.facts, true),
        carried: f.carried ?? null,
        positionBefore: f.positionBefore,
      },
      flattenOutcome: c.flattenOutcome,
    },
    lock: s.lock && { checkId: s.lock.checkId, facts: order(s.lock.facts) },
    last: s.last && { id: s.last.id, late: s.last.lateReportAt, annotated: s.last.evidence.api_key_check ?? null },
    // coiCounter (clock-seeded, saved with every signature) and tradedMarkets ride along with other saves.
    // An unclosed own fill of a failed flatten: it must outlive any restart until the position is back.
    residue: s.residue ?? null,
    budget: s.budget,
    ticks: s.ticks,
    skipStreak: s.skipStreak,
  });
}
