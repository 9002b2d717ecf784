/**
 * THE check machine: `step(state, event, now) → { state, effects }`, pure (no clock, no random, no
 * I/O). An event first updates the facts it carries (session, subscriptions, order reports,
 * answers to requests); then `advance` moves everything forward from the facts and the deadlines
 * in the state: the running check (bound first), its flatten, the lock between checks, the
 * session. Only this module and the ones it calls pick a stage, a diagnosis, a flatten size or the
 * next action. The effects end with `save` first (when anything durable changed) and `wake_at`
 * last (when the next deadline moved).
 */
import { parseDecimal, rescale } from "../../lighter/decimal.ts";
import { answer, log, type Ctx } from "./ctx.ts";
import { conclude, finish } from "./conclude.ts";
import { critical } from "./durable.ts";
import type { Effect } from "./effects.ts";
import type { Event, WireOrder } from "./events.ts";
import {
  advanceFlatten,
  onFlattenLookup,
  onFlattenPosition,
  onFlattenReply,
  onFlattenSigned,
  onFlattenSignFailed,
} from "./flatten.ts";
import { noteReply, noteWsOrder, type ObservedOrder } from "./order.ts";
import { classifySend } from "./send.ts";
import { inOrderPath, noteLookedUp, noteReports, noteResign, noteSendReply, runOrderPath } from "./orderpath.ts";
import { PHASES, type Phase } from "./phases.ts";
import {
  advanceLock,
  advanceRecover,
  concludeInterrupted,
  onLockLookup,
  onRestarted,
  resumeOrderPath,
} from "./recover.ts";
import {
  ACCOUNT_CHANNELS,
  assumeAcks,
  closeSession,
  held,
  onBook,
  onClosed,
  onConnected,
  onConnecting,
  onConnectFailed,
  onRefused,
  onSubscribed,
  openSession,
  planRetry,
  sessionTimers,
  subscribe,
} from "./session.ts";
import { admit } from "./start.ts";
import {
  SESSION_PHASES,
  advanceStages,
  enterPhase,
  onAnnotation,
  onPreflightData,
  onTestSigned,
  onTestSignFailed,
} from "./stages.ts";
import { nextWake, type CheckRecord, type MachineState } from "./state.ts";
import { boundOutcome } from "./ticks.ts";
import { resolution } from "./order.ts";

export interface StepResult {
  state: MachineState;
  effects: Effect[];
}

/** Advances the machine by one event at time `now`. Never throws on any event; never mutates `state`. */
export function step(state: MachineState, event: Event, now: number): StepResult {
  const ctx: Ctx = { s: JSON.parse(JSON.stringify(state)) as MachineState, now, fx: [] };
  try {
    handle(ctx, event);
    advance(ctx, event.type === "wake" ? (event.jitter ?? 0.5) : 0.5);
  } catch (err) {
    // A malformed event (e.g. a position that is not a number) changes nothing and is logged.
    const error = err instanceof Error ? err.message : String(err);
    const data = { type: String((event as { type?: unknown }).type), error };
    return {
      state,
      effects: [{ kind: "log", level: "error", event: "machine.bad_event", data, checkId: state.check?.id ?? null }],
    };
  }
  const effects: Effect[] = [];
  if (critical(state) !== critical(ctx.s)) effects.push({ kind: "save" });
  effects.push(...ctx.fx);
  const before = nextWake(state);
  const after = nextWake(ctx.s);
  if (after !== before || event.type === "restarted") effects.push({ kind: "wake_at", at: after });
  return { state: ctx.s, effects };
}

function running(ctx: Ctx): CheckRecord | null {
  const c = ctx.s.check;
  return c && c.verdict === null ? c : null;
}

function handle(ctx: Ctx, e: Event): void {
  const c = ctx.s.check;
  switch (e.type) {
    case "tick": {
      if (e.trigger === "cron" && e.nextAt !== undefined) ctx.s.nextTickAt = e.nextAt;
      const a = admit(ctx, e);
      if (a.kind === "none") return;
      ctx.s.check = a.check;
      if (a.kind === "run") {
        // A refusal seen on the kept session (continuous mode) is asked again with a fresh token.
        const ses = ctx.s.session;
        for (const ch of Object.keys(ses.subs) as (keyof typeof ses.subs)[])
          if (ses.subs[ch] === "refused") ses.subs[ch] = "none";
        ses.refusal = null;
        // A session whose account stream missed the previous check's order starts again from a connect.
        if (ses.suspect) closeSession(ctx, `the previous check found its account stream silent (${ses.suspect})`);
      }
      if (a.kind === "skip") {
        return void conclude(ctx, a.check, { verdict: "skipped", diagnosis: a.diagnosis, evidence: a.evidence });
      }
      enterPhase(ctx, a.check, "connect");
      return;
    }
    case "config":
      ctx.s.setup = e.setup;
      return;
    case "wake":
      return;
    case "restarted":
      return onRestarted(ctx);
    case "connecting":
      return onConnecting(ctx, e);
    case "connected":
      return onConnected(ctx, e);
    case "connect_failed": {
      if (!onConnectFailed(ctx, e)) return;
      const r = running(ctx);
      if (r && SESSION_PHASES.has(r.phase)) {
        const limited = e.status === 429 || e.status === 403;
        return void conclude(ctx, r, {
          verdict: "fail",
          diagnosis: limited ? "connection_limited" : e.timeout ? "connect_timeout" : "connect_failed",
          evidence: { http_status: e.status, error: e.message },
        });
      }
      return planRetry(ctx, e.jitter);
    }
    case "closed": {
      if (!onClosed(ctx, e)) return;
      const r = running(ctx);
      if (r && SESSION_PHASES.has(r.phase)) {
        // Diagnosed at the stage the check was in when the socket dropped.
        return void conclude(ctx, r, {
          verdict: "fail",
          diagnosis: "connection_closed",
          stage: PHASES[r.phase as Phase].stage,
          evidence: { close_code: e.code, close_reason: e.reason, at_phase: r.phase },
        });
      }
      if (r) {
        // Pre-flight or order path: reconnect (bounded, with backoff); REST covers the gap.
        r.gaps.push({ from: ctx.now, to: null });
        if (!r.reasons.includes("reconnect_needed")) r.reasons.push("reconnect_needed");
        r.evidence.reconnect = { close_code: e.code, close_reason: e.reason, at: ctx.now };
      }
      return planRetry(ctx, e.jitter);
    }
    case "subscribed":
      return onSubscribed(ctx, e);
    case "refused": {
      const to = onRefused(ctx, e);
      const r = running(ctx);
      if (r?.facts && to.some((ch) => ch !== "order_book")) {
        // After the order went out: the refused channel cannot report the fill; noted, never required.
        r.channels = r.channels.filter((ch) => !to.includes(ch as never));
        r.evidence.subscription_refused = { channels: to, code: e.code, message: e.message, at: ctx.now };
      } else if (r && to.length === 0 && e.code === 23003) {
        r.evidence.connection_limit = { code: e.code, message: e.message, at: ctx.now };
      }
      return;
    }
    case "book":
      return onBook(ctx, e);
    case "orders":
      return onOrders(ctx, e);
    case "preflight_data": {
      const note = answer(ctx, e.ref, "annotate");
      if (note?.checkId) return onAnnotation(ctx, note.checkId, e);
      if (answer(ctx, e.ref, "preflight") && running(ctx)) onPreflightData(ctx, running(ctx)!, e);
      return;
    }
    case "signed":
    case "sign_failed": {
      const p = answer(ctx, e.ref, "sign");
      if (!p || !c) return;
      if (c.verdict === null && c.order?.coi === p.coi) {
        if (e.type === "sign_failed") return onTestSignFailed(ctx, c, e);
        const tx = { txType: e.txType, txInfo: e.txInfo, txHash: e.txHash, nonce: e.nonce, expiredAt: e.expiredAt };
        if (c.phase === "sign") onTestSigned(ctx, c, e);
        else if (c.facts) noteResign(c, tx);
        return;
      }
      if (c.verdict !== null && c.flatten?.order?.coi === p.coi && c.flatten.step === "order" && !c.flatten.facts) {
        if (e.type === "sign_failed") return onFlattenSignFailed(ctx, c, e);
        return onFlattenSigned(ctx, c, e);
      }
      return;
    }
    case "send_reply": {
      const p = answer(ctx, e.ref, "transmit");
      if (!p) return;
      if (c?.facts?.coi === p.coi) noteSendReply(c, e.reply);
      else if (c?.flatten?.facts?.coi === p.coi) onFlattenReply(c, e);
      else if (ctx.s.lock?.facts.coi === p.coi) ctx.s.lock.facts = noteReply(ctx.s.lock.facts, classifySend(e.reply));
      return;
    }
    case "looked_up": {
      const p = answer(ctx, e.ref, "lookup");
      if (!p) return;
      if (c?.facts?.coi === p.coi) {
        noteLookedUp(ctx, c, e);
        if (c.verdict === null && c.phase === "recover") resumeOrderPath(ctx, c);
      } else if (c?.flatten?.facts?.coi === p.coi) onFlattenLookup(ctx, c, e);
      else if (ctx.s.lock?.facts.coi === p.coi) onLockLookup(ctx, e);
      return;
    }
    case "position":
      if (answer(ctx, e.ref, "position") && c?.flatten) onFlattenPosition(ctx, c, e);
      return;
    case "alert_done":
      if (!e.ok) log(ctx, "warn", "alert.failed", { ref: e.ref, error: e.error });
      return;
  }
}

/** A frame's filled amount at `decimals`, or null when it has more precision than the market allows. */
function scaled(w: WireOrder, decimals: number): ObservedOrder {
  let filled: string | null;
  try {
    const d = parseDecimal(w.filledBase);
    const exact = d.scale <= decimals || d.value % 10n ** BigInt(d.scale - decimals) === 0n;
    filled = exact ? rescale(d, decimals).toString() : null;
  } catch {
    filled = null;
  }
  return {
    account: w.account,
    owner: w.owner,
    market: w.market,
    clientOrderIndex: w.clientOrderIndex,
    orderIndex: w.orderIndex,
    status: w.status,
    filled,
  };
}

function onOrders(ctx: Ctx, e: Extract<Event, { type: "orders" }>): void {
  const ses = ctx.s.session;
  if (e.conn !== ses.conn || ses.status !== "open") return;
  ses.lastFrameAt = ctx.now;
  ses.lastAccountFrameAt[e.channel] = ctx.now;
  // The first data frame of a pending channel acknowledges it.
  if (ses.subs[e.channel] === "pending") ses.subs[e.channel] = "acked";
  const c = ctx.s.check;
  if (c && e.malformed > 0) {
    c.evidence.malformed_orders = Number(c.evidence.malformed_orders ?? 0) + e.malformed;
    log(ctx, "warn", "frame.malformed_orders", { channel: e.channel, count: e.malformed });
  }
  if (c?.facts && c.order) {
    noteReports(
      ctx,
      c,
      e.orders.map((w) => scaled(w, c.order!.sizeDecimals)),
      e.channel,
    );
  }
  const last = ctx.s.last;
  if (last?.facts && last.order && last.lateReportAt === null) {
    noteReports(
      ctx,
      last,
      e.orders.map((w) => scaled(w, last.order!.sizeDecimals)),
      e.channel,
    );
  }
  const f = c?.flatten;
  if (f?.facts && f.order) {
    for (const w of e.orders) f.facts = noteWsOrder(f.facts, scaled(w, f.order.sizeDecimals), ctx.now, e.channel).facts;
  }
  const l = ctx.s.lock;
  if (l) for (const w of e.orders) l.facts = noteWsOrder(l.facts, scaled(w, l.sizeDecimals), ctx.now, e.channel).facts;
}

/** Requests unanswered for too long are given up (a lost transmit reads as "reply unknown"). */
function expirePending(ctx: Ctx): void {
  const lost = ctx.s.pending.filter((p) => ctx.now >= p.until);
  if (lost.length === 0) return;
  ctx.s.pending = ctx.s.pending.filter((p) => ctx.now < p.until);
  for (const p of lost) log(ctx, "warn", "request.lost", { ref: p.ref, what: p.what, coi: p.coi });
}

/** The market the session should carry now, or null when nothing needs it. */
function wantedMarket(ctx: Ctx): number | null {
  const c = ctx.s.check;
  if (c && c.verdict === null) return c.market;
  if (c?.flatten && (c.flatten.step === "await_book" || c.flatten.step === "order")) return c.market;
  const st = ctx.s.setup?.settings;
  if (st?.mode === "continuous" && ctx.s.setup?.key) return ctx.s.session.market ?? st.markets[0] ?? 0;
  return null;
}

function advance(ctx: Ctx, jitter: number): void {
  expirePending(ctx);
  assumeAcks(ctx);
  const timedOut = sessionTimers(ctx, wantedMarket(ctx));
  const r = running(ctx);
  if (timedOut && r && SESSION_PHASES.has(r.phase)) {
    conclude(ctx, r, { verdict: "fail", diagnosis: "connect_timeout", evidence: { phase: r.phase } });
  } else if (timedOut) {
    planRetry(ctx, jitter);
  }
  const c = running(ctx);
  if (c) advanceCheck(ctx, c);
  const done = ctx.s.check;
  if (done && done.verdict !== null) {
    if (done.flatten) advanceFlatten(ctx, done);
    else finish(ctx, null, {});
  }
  if (!ctx.s.check) {
    advanceLock(ctx);
    keepContinuous(ctx);
  }
}

function advanceCheck(ctx: Ctx, c: CheckRecord): void {
  if (ctx.now >= c.boundAt) return concludeBound(ctx, c);
  if (c.phase === "recover") {
    advanceRecover(ctx, c);
    if (c.phase === "recover") return;
  }
  if (!c.facts || c.phase === "sign") {
    if (!SESSION_PHASES.has(c.phase)) keepSession(ctx, c);
    return advanceStages(ctx, c);
  }
  keepSession(ctx, c);
  if (inOrderPath(c)) runOrderPath(ctx, c);
}

/** The hard bound, independent of the phase logic: the check gets its verdict now. */
function concludeBound(ctx: Ctx, c: CheckRecord): void {
  if (c.interrupted && c.facts && c.facts.transmissions > 0) {
    const r = resolution(c.facts, ctx.now);
    return concludeInterrupted(ctx, c, r.resolved ? null : r.waitingFor);
  }
  const phase: Phase =
    c.phase === "sign" ? "preflight" : c.phase === "recover" ? (c.resume?.phase ?? "send") : (c.phase as Phase);
  const outcome = boundOutcome(phase, c.facts, ctx.now);
  log(ctx, "error", "check.bound_reached", { phase, diagnosis: outcome.diagnosis }, c.id);
  conclude(ctx, c, {
    verdict: outcome.verdict,
    diagnosis: outcome.diagnosis,
    evidence: outcome.evidence,
    stage: PHASES[phase].stage,
  });
}

/**
 * After pre-flight began: keep the session (reconnect within the check's budget, resubscribe),
 * and close a gap once the account channels are held again.
 */
function keepSession(ctx: Ctx, c: CheckRecord): void {
  const ses = ctx.s.session;
  if (ses.status === "closed") {
    if (ses.retry.at === null) openSession(ctx, c.market);
    return;
  }
  if (ses.status !== "open" || ses.market !== c.market) return;
  subscribe(ctx, "order_book");
  if (c.keyPresent) for (const ch of ACCOUNT_CHANNELS) if (ses.subs[ch] !== "refused") subscribe(ctx, ch);
  const gap = c.gaps[c.gaps.length - 1];
  if (gap && gap.to === null && (!c.keyPresent || ACCOUNT_CHANNELS.every((ch) => held(ctx, ch)))) {
    gap.to = ctx.now;
    log(ctx, "info", "session.gap_closed", { from: gap.from, ms: ctx.now - gap.from }, c.id);
  }
}

/** Continuous mode keeps the session between checks. */
function keepContinuous(ctx: Ctx): void {
  const st = ctx.s.setup?.settings;
  if (st?.mode !== "continuous") return;
  const ses = ctx.s.session;
  if (ses.status === "closed" && ses.retry.at === null) {
    openSession(ctx, ses.market ?? st.markets[0] ?? 0);
    return;
  }
  if (ses.status !== "open") return;
  subscribe(ctx, "order_book");
  if (ctx.s.setup?.key.present) for (const ch of ACCOUNT_CHANNELS) if (ses.subs[ch] === "none") subscribe(ctx, ch);
}
