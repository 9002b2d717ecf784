/**
 * The test order after it is signed: runs decide.ts's next step as effects (transmit the saved
 * bytes, re-sign, look up), one request at a time; records WebSocket reports, replies and REST
 * answers in the order facts; marks order_accepted / order_seen / fill_seen; and turns decide's
 * outcome into the check's verdict. Also how a report after the verdict is kept: as late, never
 * re-judged.
 */
import { describeCode } from "../diagnosis.ts";
import {
  MAX_TRANSMISSIONS,
  REST_BUDGET_PER_CHECK,
  log,
  lookUp,
  markStage,
  pendingOf,
  request,
  type Ctx,
} from "./ctx.ts";
import { conclude } from "./conclude.ts";
import { decide, type DecideOptions, type Outcome } from "./decide.ts";
import { noteLookup, noteReply, noteResigned, noteTransmit, noteWsOrder, type ObservedOrder } from "./order.ts";
import { classifySend, type SendReply, type TxLookup } from "./send.ts";
import type { OrderLookup } from "./order.ts";
import type { Phase } from "./phases.ts";
import { signOrder } from "./stages.ts";
import type { CheckRecord } from "./state.ts";

const ORDER_PHASES: ReadonlySet<string> = new Set(["send", "await_order", "confirm", "reconcile", "late_watch"]);

export function inOrderPath(c: CheckRecord): boolean {
  return ORDER_PHASES.has(c.phase) && c.facts !== null;
}

function options(c: CheckRecord): DecideOptions {
  const st = c.settings;
  // Every subscribed channel must report the fill, unless the session dropped or the object was
  // restarted during the check (frames may then have been missed for reasons of our own).
  const sentAt = c.facts?.firstTransmitAt ?? null;
  const gap = c.interrupted || (sentAt !== null && c.gaps.some((g) => (g.to ?? Number.MAX_SAFE_INTEGER) >= sentAt));
  return {
    timeScale: st.timeScale,
    // After an account subscription was refused nothing more goes out, not even the same bytes again.
    maxTransmissions: c.evidence.subscription_refused
      ? Math.min(MAX_TRANSMISSIONS, c.facts?.transmissions ?? 0)
      : MAX_TRANSMISSIONS,
    fillLatencyDegradedMs: st.thresholds.fillLatencyDegradedMs,
    orderCreatedAt: c.facts?.firstTransmitAt ?? c.phaseSince,
    channels: gap ? [] : c.channels,
    phaseMs: { confirm: st.thresholds.restConfirmMs, late_watch: st.thresholds.wsReportToleranceMs },
    pollsLeft: Math.max(0, REST_BUDGET_PER_CHECK - c.lookups),
    gaps: c.gaps,
  };
}

/** Runs decide until the path waits, asks for I/O, or concludes. */
export function runOrderPath(ctx: Ctx, c: CheckRecord): void {
  for (let i = 0; i < 16 && !c.verdict && inOrderPath(c); i++) {
    const o = c.facts!;
    const path = { phase: c.phase as Phase, phaseSince: c.phaseSince, round: c.round, interrupted: c.interrupted };
    const st = decide(path, o, ctx.now, options(c));
    const busy = pendingOf(ctx, ["transmit", "lookup", "sign"], o.coi);
    const fresh = st.kind === "resign" || (st.kind === "transmit" && o.transmissions === 0);
    if (fresh && c.evidence.subscription_refused) {
      // A fresh signature after an account subscription was refused would be a new order: none.
      return void conclude(ctx, c, {
        verdict: "fail",
        diagnosis: "auth_rejected",
        stage: "orders_subscribed",
        evidence: { order_not_resent: true, subscription_refused: c.evidence.subscription_refused },
      });
    }
    switch (st.kind) {
      case "wait":
        c.wakeAt = st.until;
        return;
      case "conclude":
        return concludeOrder(ctx, c, st.outcome);
      case "enter": {
        const from = c.phase;
        c.phase = st.phase;
        c.phaseSince = st.since ?? ctx.now;
        c.round = st.round;
        log(ctx, "info", "check.phase", { from, to: st.phase, round: st.round }, c.id);
        if (from === "send" && st.phase === "await_order") accepted(ctx, c);
        if (st.phase === "late_watch" && c.restFillAt === null) c.restFillAt = ctx.now;
        continue;
      }
      case "transmit":
        if (busy) return void (c.wakeAt = null);
        c.facts = noteTransmit(o, ctx.now);
        ctx.fx.push({
          kind: "transmit",
          ref: request(ctx, "transmit", o.coi),
          coi: o.coi,
          txType: c.tx!.txType,
          txInfo: c.tx!.txInfo,
          txHash: c.tx!.txHash,
        });
        c.wakeAt = null;
        return;
      case "lookup":
        if (busy) return void (c.wakeAt = null);
        c.lookups++;
        lookUp(ctx, o, c.order?.sizeDecimals ?? 0);
        c.wakeAt = null;
        return;
      case "resign":
        if (busy) return void (c.wakeAt = null);
        signOrder(ctx, c, true);
        c.wakeAt = null;
        return;
    }
  }
}

/** sendTx was accepted (or the order was seen first): order_accepted, no later than it was seen. */
function accepted(ctx: Ctx, c: CheckRecord): void {
  const seen = c.stages.order_seen?.at;
  const at = seen !== undefined ? Math.min(seen, ctx.now) : ctx.now;
  const extra = seen !== undefined && seen < ctx.now ? { via: "seen on the WebSocket before the reply" } : {};
  markStage(ctx, c, "order_accepted", at, { tx_hash: c.facts!.txHash, ...extra });
  if (!ctx.s.tradedMarkets.includes(c.market)) ctx.s.tradedMarkets.push(c.market);
}

/** Outcomes that only time decided (no REST proof): after a restart they say check_interrupted instead. */
const UNPROVEN: ReadonlySet<string> = new Set([
  "order_status_unknown",
  "fill_timeout",
  "filled_not_reported_on_ws",
  "fill_missing_on_channel",
]);

export function concludeOrder(ctx: Ctx, c: CheckRecord, outcome: Outcome): void {
  const o = c.facts!;
  if (c.interrupted && outcome.diagnosis !== null && UNPROVEN.has(outcome.diagnosis)) {
    // Frames may have been missed while no instance listened: only REST could prove more.
    outcome = {
      verdict: "degraded",
      diagnosis: "check_interrupted",
      reasons: ["check_interrupted"],
      evidence: { ...outcome.evidence, unproven_outcome: outcome.diagnosis },
    };
  }
  const channels: Record<string, { seen_at: number | null; fill_at: number | null }> = {};
  for (const [ch, v] of Object.entries(o.channels)) channels[ch] = { seen_at: v.seenAt, fill_at: v.fillAt };
  let { verdict, diagnosis } = outcome;
  // A pass after a reconnect (or other noted trouble) is degraded with that reason.
  if (verdict === "pass" && c.reasons.length > 0) {
    verdict = "degraded";
    diagnosis = c.reasons[0] ?? null;
  }
  const code = outcome.evidence.exchange_code;
  const candidates = Object.keys(o.wsCandidates);
  conclude(ctx, c, {
    verdict,
    diagnosis,
    reasons: outcome.reasons,
    evidence: {
      ...outcome.evidence,
      tx_hash: o.txHash,
      client_order_index: o.coi,
      code_meaning: describeCode(typeof code === "number" ? code : null),
      channels,
      subscribed_channels: c.channels,
      last_account_frame_at: lastAccountFrame(ctx),
      last_frame_at: ctx.s.session.lastFrameAt,
      ...(o.foreignFrames > 0 ? { foreign_frames: o.foreignFrames } : {}),
      ...(candidates.length > 1 ? { ws_candidates: o.wsCandidates } : {}),
      ...((o.wsOverruled ?? []).length > 0 ? { unexpected_order_indexes: o.wsOverruled } : {}),
      ...(c.gaps.length > 0 ? { gaps: c.gaps } : {}),
    },
  });
}

function lastAccountFrame(ctx: Ctx): number | null {
  const v = Object.values(ctx.s.session.lastAccountFrameAt);
  return v.length > 0 ? Math.max(...v) : null;
}

/** A sendTx reply for the test order (also after the verdict: the flatten and the lock read it). */
export function noteSendReply(c: CheckRecord, reply: SendReply): void {
  if (c.facts) c.facts = noteReply(c.facts, classifySend(reply));
}

export function noteLookedUp(ctx: Ctx, c: CheckRecord, r: { order: OrderLookup; tx: TxLookup }): void {
  if (!c.facts) return;
  const before = c.facts.wsOverruled ?? [];
  c.facts = noteLookup(c.facts, r, ctx.now);
  const o = c.facts;
  const overruled = (o.wsOverruled ?? []).filter((i) => !before.includes(i));
  if (overruled.length === 0) return;
  // REST named another order index than frames with our identity did: those frames were not our order.
  const rest = o.restOrder?.orderIndex ?? null;
  log(ctx, "warn", "order.frames_overruled", { order_indexes: overruled.join(","), rest_order_index: rest });
  if (c.verdict) return;
  // Stage marks made from its frames are made again from our own order's frames.
  for (const st of ["order_seen", "fill_seen", "processed"] as const) delete c.stages[st];
  if (o.wsSeenAt !== null) markStage(ctx, c, "order_seen", o.wsSeenAt, { status: o.wsStatus ?? "" });
  if (o.wsFillAt !== null) {
    markStage(ctx, c, "fill_seen", o.wsFillAt, { filled_base: o.wsFilled, status: o.wsStatus ?? "" });
    markStage(ctx, c, "processed", ctx.now);
  }
}

/** The re-signed test order (fresh nonce, same client order index). */
export function noteResign(c: CheckRecord, tx: NonNullable<CheckRecord["tx"]>): void {
  c.tx = tx;
  if (c.facts) c.facts = noteResigned(c.facts, tx.txHash, tx.expiredAt);
  c.evidence.tx_hash = tx.txHash;
}

/** WebSocket reports of our test order: stage marks while running, a late report after the verdict. */
export function noteReports(ctx: Ctx, c: CheckRecord, orders: ObservedOrder[], channel: string): void {
  if (!c.facts) return;
  for (const f of orders) {
    const before = c.facts;
    const r = noteWsOrder(before, f, ctx.now, channel);
    if (r.match === "unrelated") continue;
    c.facts = r.facts;
    if (r.match === "foreign") {
      log(
        ctx,
        "warn",
        "order.foreign_frame",
        { client_order_index: f.clientOrderIndex, channel, account: f.account },
        c.id,
      );
      continue;
    }
    const grew = BigInt(r.facts.wsFilled) > BigInt(before.wsFilled);
    if (c.verdict) {
      if (grew && c.lateReportAt === null) {
        // A report after the verdict: recorded as late, never re-judged.
        c.lateReportAt = ctx.now;
        c.evidence.ws_fill_after_verdict_at = ctx.now;
        c.evidence.ws_fill_after_verdict_ms = ctx.now - c.verdict.at;
        ctx.fx.push({ kind: "record", check: JSON.parse(JSON.stringify(c)) as CheckRecord });
      }
      continue;
    }
    if (c.facts.wsSeenAt !== null) markStage(ctx, c, "order_seen", c.facts.wsSeenAt, { status: f.status });
    if (c.facts.wsFillAt !== null && !c.stages.fill_seen) {
      markStage(ctx, c, "fill_seen", c.facts.wsFillAt, { filled_base: c.facts.wsFilled, status: f.status });
      markStage(ctx, c, "processed", ctx.now);
    }
  }
}
