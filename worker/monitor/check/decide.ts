/**
 * The order path's rules as one pure function: from the check's phase and the facts about our
 * order, the next step — transmit, re-sign, look up, enter a phase, wait, or conclude. Every rule
 * that guards money is here: a resend is the same bytes; a fresh nonce only after an immediate
 * 21104 to the first transmission; an unknown answer is never read as "absent"; a WebSocket fill
 * counts only after REST confirms it (or the confirmation window closes: `rest_lagging`).
 */
import { classifyStatus } from "../../lighter/fills.ts";
import type { Diagnosis, Verdict } from "../diagnosis.ts";
import { phaseDeadlineMs, RECONCILE_ROUNDS, type Phase, type PhaseOverrides } from "./phases.ts";
import { nextPollAt, reportClockStart, slowPollMs } from "./polling.ts";
import { resolution, type OrderFacts } from "./order.ts";

/** The part of a running check the order path owns. */
export interface OrderPathState {
  phase: Phase;
  /** When the current phase (or reconcile round) began. */
  phaseSince: number;
  /** Reconcile round, from 1. */
  round: number;
  /** The object was evicted or crashed during the check (frames may have been missed). */
  interrupted: boolean;
}

export interface DecideOptions {
  timeScale: number;
  /** Most transmissions of one signature (first send plus resends of the same bytes). */
  maxTransmissions: number;
  fillLatencyDegradedMs: number | null;
  /** When the order was signed: fill latency is measured from here. */
  orderCreatedAt: number;
  /** The WebSocket channels subscribed for our orders: each must report the fill. */
  channels: readonly string[];
  /** Per-monitor phase deadlines (base ms), e.g. `{ confirm: rest_confirm_ms, late_watch: ws_report_tolerance_ms }`. */
  phaseMs?: PhaseOverrides;
  /** REST polls still allowed while waiting for the WebSocket (the check's REST budget); 0: wait out the deadline. */
  pollsLeft?: number;
  /** When the session was down during the check: a fill inside a gap could not be reported. */
  gaps?: readonly { from: number; to: number | null }[];
}

export interface Outcome {
  verdict: Verdict;
  diagnosis: Diagnosis | null;
  reasons: Diagnosis[];
  /** Facts that explain the verdict (merged into the check's evidence). */
  evidence: Record<string, string | number | boolean | null>;
}

export type Step =
  | { kind: "transmit" }
  | { kind: "resign" }
  | { kind: "lookup" }
  /** `since`: when the phase's clock starts, if not now (late_watch: the fill's time). */
  | { kind: "enter"; phase: Phase; round: number; since?: number }
  | { kind: "wait"; until: number }
  | { kind: "conclude"; outcome: Outcome };

/** Never resend when less than this is left before ExpiredAt (time_scale 1). */
const RESEND_EXPIRY_GUARD_MS = 5_000;

export function decide(s: OrderPathState, o: OrderFacts, now: number, opt: DecideOptions): Step {
  const phaseMs = phaseDeadlineMs(s.phase, opt.timeScale, opt.phaseMs);
  const deadline = s.phaseSince + phaseMs;
  const pastDeadline = now >= deadline;
  const poll = slowPollMs(phaseMs);
  const lookedUpSince = (at: number) => (o.restAt ?? -1) >= at && (o.txAt ?? -1) >= at;
  const t: PhaseTime = {
    now,
    deadline,
    pastDeadline,
    lookedUpSince,
    nextLook: () => Math.min(deadline, Math.max(o.restAt ?? now, o.txAt ?? now) + poll),
    nextPoll: () => {
      const lastLookAt = lookedUpSince(s.phaseSince) ? Math.max(o.restAt!, o.txAt!) : null;
      const restFailing = o.restResult === "unknown";
      return Math.min(
        deadline,
        nextPollAt({ phaseSince: s.phaseSince, lastLookAt, phaseMs, timeScale: opt.timeScale, restFailing }),
      );
    },
    poll,
  };

  if (o.txAppError) {
    return fail("tx_rejected", {
      exchange_code: o.txAppError.code,
      exchange_message: o.txAppError.message,
      source: "/tx event_info.ae",
    });
  }

  switch (s.phase) {
    case "send":
      return decideSend(o, opt, t);
    case "await_order":
      return decideAwait(s, o, opt, t);
    case "confirm":
      return decideConfirm(s, o, opt, t);
    case "reconcile":
      return decideReconcile(s, o, t);
    case "late_watch":
      // REST shows the fill: the channels have ws_report_tolerance_ms (from REST's sighting) to report it.
      if (BigInt(o.wsFilled) > 0n) return enter("confirm");
      if (pastDeadline) return unreported(s, o, opt, now, deadline);
      return { kind: "wait", until: deadline };
    default:
      return { kind: "wait", until: deadline };
  }
}

/** Where the current phase stands in time, and the REST look-up pacing. */
interface PhaseTime {
  now: number;
  deadline: number;
  pastDeadline: boolean;
  /** Both REST look-ups (order and tx) happened at or after `at`. */
  lookedUpSince: (at: number) => boolean;
  /** When the next look-up is due (never after the deadline). */
  nextLook: () => number;
  /** When the next poll of a live order is due (polling.ts: fast right after acceptance, backing off). */
  nextPoll: () => number;
  /** The look-up pacing of the phase (a third of its deadline). */
  poll: number;
}

function decideSend(o: OrderFacts, opt: DecideOptions, t: PhaseTime): Step {
  const { now, pastDeadline, lookedUpSince, nextLook } = t;
  if (o.transmissions === 0) return { kind: "transmit" };
  const r = o.lastReply;
  if (r?.kind === "accepted") return enter("await_order");
  if (o.transmissions === 1 && r) {
    if (r.kind === "rejected") return fail("tx_rejected", { exchange_code: r.code, exchange_message: r.message });
    if (r.kind === "rate_limited") {
      return fail("rest_rate_limited", { exchange_code: r.code, exchange_message: r.message });
    }
    if (r.kind === "nonce_rejected") {
      // Refused at once, so nothing executed: the one case where a fresh nonce is safe.
      if (o.resigns === 0) return { kind: "resign" };
      return fail("tx_rejected", { exchange_code: 21104, exchange_message: r.message });
    }
  }
  // The reply was lost, or a resend was refused (21104 there means "landed or superseded"):
  // only REST can say what happened.
  if (!lookedUpSince(o.lastTransmitAt ?? 0)) return { kind: "lookup" };
  if (o.restResult === "found" || o.txResult === "record" || o.wsSeenAt !== null) return enter("await_order");
  const lost = r === null || r.kind === "unknown";
  const guard = Math.round(RESEND_EXPIRY_GUARD_MS * opt.timeScale);
  if (lost && o.transmissions < opt.maxTransmissions && now < o.expiredAt - guard && !pastDeadline) {
    return { kind: "transmit" };
  }
  if (pastDeadline) return statusUnknown(o, now);
  if (now >= nextLook()) return { kind: "lookup" };
  return { kind: "wait", until: nextLook() };
}

function decideAwait(s: OrderPathState, o: OrderFacts, opt: DecideOptions, t: PhaseTime): Step {
  const { now, deadline, pastDeadline, lookedUpSince, nextPoll } = t;
  if (BigInt(o.wsFilled) > 0n || o.wsTerminalAt !== null) return enter("confirm");
  const rest = o.restResult === "found" ? o.restOrder : null;
  if (rest && lookedUpSince(s.phaseSince)) {
    const step = restShows(s, o, rest, now);
    if (step) return step;
  }
  if (pastDeadline) return enter("reconcile", 1);
  // The WebSocket is silent about our live order: look it up over REST (within the budget)
  // rather than wait out the whole deadline.
  if ((opt.pollsLeft ?? 0) > 0) {
    if (now >= nextPoll()) return { kind: "lookup" };
    return { kind: "wait", until: nextPoll() };
  }
  return { kind: "wait", until: deadline };
}

/** What a REST order with no WebSocket fill beside it means: a fill to watch for, or an unfilled end. */
function restShows(
  s: OrderPathState,
  o: OrderFacts,
  rest: NonNullable<OrderFacts["restOrder"]>,
  now: number,
): Step | null {
  const filled = rest.filled === null ? null : BigInt(rest.filled);
  if (filled === null) return mismatch(o, "REST filled_base_amount is not representable at the size decimals");
  if (filled > 0n) {
    if (s.interrupted) return interrupted(o);
    // The channels' tolerance runs from the fill itself, not from when REST happened to show it.
    return { kind: "enter", phase: "late_watch", round: 1, since: reportClockStart(rest.at, o.firstTransmitAt, now) };
  }
  if (classifyStatus(rest.status).terminal) return notFilled(o, rest.status);
  return null;
}

function interrupted(o: OrderFacts): Step {
  return {
    kind: "conclude",
    outcome: {
      verdict: "degraded",
      diagnosis: "check_interrupted",
      reasons: ["check_interrupted"],
      evidence: restEvidence(o),
    },
  };
}

/**
 * REST shows a fill no channel reported within the tolerance (counted from the fill, `phaseSince`):
 * a failure, unless the session was down at some time between the send and the tolerance's end
 * (the fill could not be reported: reconnect_gap).
 */
function unreported(s: OrderPathState, o: OrderFacts, opt: DecideOptions, now: number, due: number): Step {
  if (s.interrupted) return interrupted(o);
  const from = o.firstTransmitAt ?? 0;
  const until = Math.min(now, due);
  const gap = (opt.gaps ?? []).find((g) => g.from <= until && (g.to ?? now) >= from);
  if (gap) {
    return {
      kind: "conclude",
      outcome: {
        verdict: "degraded",
        diagnosis: "reconnect_gap",
        reasons: ["reconnect_gap"],
        evidence: { ...restEvidence(o), gap_from: gap.from, gap_to: gap.to },
      },
    };
  }
  return fail("filled_not_reported_on_ws", {
    ...restEvidence(o),
    fill_at: s.phaseSince,
    rest_fill_seen_at: o.restAt,
    report_due_at: due,
  });
}

function decideConfirm(s: OrderPathState, o: OrderFacts, opt: DecideOptions, t: PhaseTime): Step {
  const { now, deadline, pastDeadline, lookedUpSince, nextLook } = t;
  const wsFilled = BigInt(o.wsFilled);
  const rest = o.restResult === "found" ? o.restOrder : null;
  if (rest) {
    if (rest.filled === null) return mismatch(o, "REST filled_base_amount is not representable at the size decimals");
    const restFilled = BigInt(rest.filled);
    const restTerminal = classifyStatus(rest.status).terminal;
    if (wsFilled > 0n) {
      if (restFilled >= wsFilled) {
        const missing = opt.channels.filter((ch) => (o.channels[ch]?.fillAt ?? null) === null);
        if (missing.length === 0) return passed(o, opt, restFilled > wsFilled ? { rest_filled_base: rest.filled } : {});
        if (pastDeadline) return channelMissed(o, opt, missing);
        return { kind: "wait", until: deadline };
      }
      if (restTerminal) return mismatch(o, "the WebSocket reported more fill than REST's final order shows");
    } else if (restTerminal) {
      if (restFilled === 0n) return notFilled(o, rest.status);
      return mismatch(o, "the WebSocket reported the order ended unfilled; REST shows a fill");
    }
  }
  if (pastDeadline) {
    // REST has not confirmed in time: keep asking it for up to the reconcile rounds before the
    // WebSocket's word stands (at best degraded): a forged frame is then caught by REST's answer.
    const lagUntil = deadline + phaseDeadlineMs("reconcile", opt.timeScale, opt.phaseMs) * RECONCILE_ROUNDS;
    if (now < lagUntil) {
      const at = Math.min(lagUntil, Math.max(o.restAt ?? now, o.txAt ?? now) + t.poll);
      return now >= at ? { kind: "lookup" } : { kind: "wait", until: at };
    }
    if (Object.keys(o.wsCandidates).length > 1) {
      return mismatch(o, "frames reported several orders for our client order index and REST never named ours");
    }
    if (wsFilled > 0n) {
      const p = passed(o, opt, {});
      const reasons: Diagnosis[] = ["rest_lagging", ...p.outcome.reasons];
      return {
        kind: "conclude",
        outcome: { ...p.outcome, verdict: "degraded", diagnosis: "rest_lagging", reasons },
      };
    }
    return {
      kind: "conclude",
      outcome: { ...notFilled(o, o.wsStatus ?? "unknown").outcome, reasons: ["rest_lagging"] },
    };
  }
  if (!lookedUpSince(s.phaseSince) || now >= nextLook()) return { kind: "lookup" };
  return { kind: "wait", until: nextLook() };
}

function decideReconcile(s: OrderPathState, o: OrderFacts, t: PhaseTime): Step {
  const { now, pastDeadline, lookedUpSince, nextLook } = t;
  if (BigInt(o.wsFilled) > 0n || o.wsTerminalAt !== null) return enter("confirm");
  if (!lookedUpSince(s.phaseSince)) return { kind: "lookup" };
  const rest = o.restResult === "found" ? o.restOrder : null;
  if (rest) {
    const step = restShows(s, o, rest, t.now);
    if (step) return step;
  }
  if (!pastDeadline) return now >= nextLook() ? { kind: "lookup" } : { kind: "wait", until: nextLook() };
  if (s.round < RECONCILE_ROUNDS) return enter("reconcile", s.round + 1);
  if (rest) return fail("fill_timeout", { rest_status: rest.status, tx_hash: o.txHash });
  return statusUnknown(o, now);
}

function statusUnknown(o: OrderFacts, now: number): Step {
  const r = resolution(o, now);
  if (r.resolved && r.how === "expired_unseen") {
    return fail("order_not_found", { tx_hash: o.txHash, client_order_index: o.coi });
  }
  return fail("order_status_unknown", {
    tx_hash: o.txHash,
    client_order_index: o.coi,
    expired_at: o.expiredAt,
    rest_result: o.restResult,
    tx_result: o.txResult,
    waiting_for: r.resolved ? null : r.waitingFor,
  });
}

function passed(o: OrderFacts, opt: DecideOptions, extra: Outcome["evidence"]): { kind: "conclude"; outcome: Outcome } {
  const latency = o.wsFillAt !== null ? Math.max(0, o.wsFillAt - opt.orderCreatedAt) : null;
  const slow = opt.fillLatencyDegradedMs !== null && latency !== null && latency > opt.fillLatencyDegradedMs;
  return {
    kind: "conclude",
    outcome: {
      verdict: slow ? "degraded" : "pass",
      diagnosis: slow ? "fill_latency_high" : null,
      reasons: slow ? ["fill_latency_high"] : [],
      evidence: {
        filled_base: o.wsFilled,
        final_status: o.restOrder?.status ?? o.wsStatus,
        fill_latency_ms: latency,
        ...extra,
      },
    },
  };
}

function channelMissed(o: OrderFacts, opt: DecideOptions, missing: string[]): Step {
  const reported = opt.channels.filter((ch) => !missing.includes(ch));
  const per: Outcome["evidence"] = {};
  for (const ch of opt.channels) {
    per[`${ch}_seen_at`] = o.channels[ch]?.seenAt ?? null;
    per[`${ch}_fill_at`] = o.channels[ch]?.fillAt ?? null;
  }
  return fail("fill_missing_on_channel", {
    reported_on: reported.join(", ") || null,
    missing_on: missing.join(", "),
    ws_filled_base: o.wsFilled,
    ...per,
  });
}

function notFilled(o: OrderFacts, status: string): { kind: "conclude"; outcome: Outcome } {
  return {
    kind: "conclude",
    outcome: {
      verdict: "fail",
      diagnosis: "not_filled",
      reasons: [],
      evidence: {
        final_status: status,
        cancel_reason: classifyStatus(status).reason,
        order_seen_on_ws: o.wsSeenAt !== null,
        tx_hash: o.txHash,
      },
    },
  };
}

function mismatch(o: OrderFacts, what: string): Step {
  return fail("ws_rest_mismatch", {
    what,
    ws_filled_base: o.wsFilled,
    ws_status: o.wsStatus,
    ws_order_index: o.wsOrderIndex,
    rest_filled_base: o.restOrder?.filled ?? null,
    rest_status: o.restOrder?.status ?? null,
    rest_order_index: o.restOrder?.orderIndex ?? null,
    rest_owner: o.restOrder?.owner ?? null,
  });
}

function restEvidence(o: OrderFacts): Outcome["evidence"] {
  return {
    tx_hash: o.txHash,
    client_order_index: o.coi,
    order_index: o.restOrder?.orderIndex ?? o.wsOrderIndex,
    rest_filled_base: o.restOrder?.filled ?? null,
    rest_status: o.restOrder?.status ?? null,
    ws_filled_base: o.wsFilled,
    order_seen_on_ws: o.wsSeenAt !== null,
  };
}

function enter(phase: Phase, round = 1): Step {
  return { kind: "enter", phase, round };
}

function fail(diagnosis: Diagnosis, evidence: Outcome["evidence"]): { kind: "conclude"; outcome: Outcome } {
  return { kind: "conclude", outcome: { verdict: "fail", diagnosis, reasons: [], evidence } };
}
