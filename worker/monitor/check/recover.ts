/**
 * After a restart, and between checks. A restart loses every request in flight and the socket; a
 * check that may have sent its order goes to `recover`: one REST look-up first, then its order-path
 * phase again with fresh deadlines (so no deadline armed before the restart decides anything), and
 * `interrupted` set: frames may have been missed, so only REST can prove more than
 * `check_interrupted`. Between checks, the unresolved order of an earlier check (the lock) is looked
 * up until REST or /tx settles it.
 */
import { MS, log, lookUp, pendingOf, scale, type Ctx } from "./ctx.ts";
import { conclude } from "./conclude.ts";
import { PHASES, type Phase } from "./phases.ts";
import { enterPhase } from "./stages.ts";
import { emptySession, type CheckRecord } from "./state.ts";
import { noteLookup, resolution } from "./order.ts";
import { learnResidueFill } from "./residue.ts";
import type { Event } from "./events.ts";

const ORDER_PHASES: ReadonlySet<string> = new Set(["send", "await_order", "confirm", "reconcile", "late_watch"]);

export function onRestarted(ctx: Ctx): void {
  const s = ctx.s;
  // Connection numbers and refs move far past anything the lost instance may have handed out.
  s.session = emptySession(s.session.conn + 1_000);
  s.seq += 1_000_000;
  s.pending = [];
  if (s.lock) s.lock.nextAt = ctx.now;
  const c = s.check;
  if (!c) return;
  if (c.verdict) {
    // The flatten goes on: requests are re-issued from its facts, a lost signature is planned again.
    const f = c.flatten;
    if (f) {
      if (f.step === "order" && !f.facts) f.step = "await_book";
      if (f.step === "await_book") f.nextAt = ctx.now + scale(ctx, PHASES.connect.baseMs + PHASES.book.baseMs);
      else f.nextAt = ctx.now;
    }
    log(ctx, "warn", "check.resumed", { phase: "flatten", step: f?.step ?? null }, c.id);
    return;
  }
  c.evidence.resumed_at = ctx.now;
  c.boundAt = Math.max(c.boundAt, ctx.now + scale(ctx, MS.recover));
  log(ctx, "warn", "check.resumed", { phase: c.phase }, c.id);
  if (c.facts && c.facts.transmissions > 0) {
    // Frames about our order may have been missed while no instance listened.
    c.interrupted = true;
    c.evidence.interrupted = true;
    const phase = (ORDER_PHASES.has(c.phase) ? c.phase : (c.resume?.phase ?? "send")) as Phase;
    c.resume = { phase, round: c.round };
    c.phase = "recover";
    c.phaseSince = ctx.now;
    c.phaseDeadline = ctx.now + scale(ctx, PHASES.reconcile.baseMs);
    c.wakeAt = null;
    lookupTest(ctx, c);
    return;
  }
  if (c.facts) {
    // Signed and saved, never transmitted: sending the saved bytes now is still the first send.
    c.phaseSince = ctx.now;
    return;
  }
  // Nothing signed: the session stages run again (stage marks already made stay).
  c.order = null;
  enterPhase(ctx, c, "connect");
}

function lookupTest(ctx: Ctx, c: CheckRecord): void {
  const o = c.facts!;
  if (pendingOf(ctx, ["lookup"], o.coi)) return;
  c.lookups++;
  lookUp(ctx, o, c.order?.sizeDecimals ?? 0);
}

/** The recovery look-up answered (or its window passed): the order path resumes with fresh deadlines. */
export function resumeOrderPath(ctx: Ctx, c: CheckRecord): void {
  const r = c.resume ?? { phase: "send" as Phase, round: 1 };
  c.phase = r.phase;
  c.round = r.round;
  c.phaseSince = ctx.now;
  c.phaseDeadline = null;
  c.resume = null;
  log(ctx, "info", "check.phase", { from: "recover", to: r.phase }, c.id);
}

/** In `recover`: look up until REST answers or the window passes. */
export function advanceRecover(ctx: Ctx, c: CheckRecord): void {
  if (c.phaseDeadline !== null && ctx.now >= c.phaseDeadline) return resumeOrderPath(ctx, c);
  lookupTest(ctx, c);
}

/** The bound of an interrupted check that sent its order: REST did not prove more in time. */
export function concludeInterrupted(ctx: Ctx, c: CheckRecord, waitingFor: string | null): void {
  const o = c.facts!;
  conclude(ctx, c, {
    verdict: "degraded",
    diagnosis: "check_interrupted",
    reasons: ["check_interrupted"],
    evidence: {
      forced_by: "check bound",
      tx_hash: o.txHash,
      client_order_index: o.coi,
      rest_result: o.restResult,
      ws_filled_base: o.wsFilled,
      waiting_for: waitingFor,
    },
  });
}

/** Between checks: the unresolved order is looked up until it is resolved. */
export function advanceLock(ctx: Ctx): void {
  const l = ctx.s.lock;
  if (!l || ctx.s.check) return;
  const r = resolution(l.facts, ctx.now);
  if (r.resolved) {
    log(ctx, "info", "order.lock_released", { client_order_index: l.facts.coi, how: r.how }, l.checkId);
    learnResidueFill(ctx, l.checkId, l.facts);
    ctx.s.lock = null;
    return;
  }
  if (ctx.now < l.nextAt || pendingOf(ctx, ["lookup"], l.facts.coi)) return;
  lookUp(ctx, l.facts, l.sizeDecimals);
  l.nextAt = ctx.now + scale(ctx, MS.lockPoll);
}

export function onLockLookup(ctx: Ctx, e: Extract<Event, { type: "looked_up" }>): void {
  const l = ctx.s.lock;
  if (!l) return;
  l.facts = noteLookup(l.facts, e, ctx.now);
  advanceLock(ctx);
}
