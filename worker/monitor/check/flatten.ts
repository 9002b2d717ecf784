/**
 * The flatten after a check whose order may have traded. It closes exactly this check's own fill
 * (REST's filled amount of our test order, never the account's position), one IOC at a time,
 * inside the per-order notional cap; reduce-only whenever that is enough to go back to the position
 * found before the check. It waits (bounded) for the test order to be resolved, opens its own
 * session when there is none, and then reads the REST position to confirm the account is where it
 * was. When REST cannot show the test order (our auth token refused, the order forgotten) once it
 * can no longer trade, the own fill is the REST position's move since the pre-flight — accepted only
 * when our order could have made it (its side, at most its size, what the WebSocket reported) — and
 * the position measures what is left. A flatten that cannot run (no key, no configuration, no book,
 * no REST) alerts; it never ends silently.
 */
import { ACTIONS, type Diagnosis, type FlattenOutcome } from "../diagnosis.ts";
import { planFlatten } from "../sizing.ts";
import { FLATTEN_MAX_ATTEMPTS, MS, log, lookUp, pendingOf, request, scale, type Ctx } from "./ctx.ts";
import { alert, finish } from "./conclude.ts";
import type { Event } from "./events.ts";
import {
  newOrderFacts,
  noteLookup,
  noteReply,
  noteTransmit,
  resolution,
  settledWithoutRest,
  type OrderFacts,
} from "./order.ts";
import { PHASES } from "./phases.ts";
import { judgeResidue, settleResidue } from "./residue.ts";
import { classifySend } from "./send.ts";
import { bookReady, openSession, subscribe } from "./session.ts";
import { nextClientOrderIndex } from "./stages.ts";
import type { CheckRecord, Evidence, FlattenState } from "./state.ts";

type Of<T extends Event["type"]> = Extract<Event, { type: T }>;

/** Waiting for the test order's resolution is bounded: then the flatten fails (and alerts). */
const MAX_LOCK_WAITS = 40;
/** REST look-ups that must fail to resolve a settled test order before the position measures its fill. */
const REST_TRIES_BEFORE_POSITION = 2;
/** The flatten tolerates more slippage than the test order: closing matters more than its price. */
const MIN_FLATTEN_SLIPPAGE_BPS = 50;

const abs = (v: bigint) => (v < 0n ? -v : v);

/** This check's own fill, signed (+ bought, − sold), from REST's record of the resolved test order. */
export function ownFill(c: CheckRecord, o: OrderFacts): bigint {
  const rest = o.restResult === "found" || o.restOrder ? o.restOrder : null;
  const filled = rest?.filled ? BigInt(rest.filled) : 0n;
  return c.order?.isAsk ? -filled : filled;
}

function done(ctx: Ctx, c: CheckRecord, ended: FlattenOutcome, evidence: Evidence): void {
  // A failed flatten leaves its residue open; a residue's flatten closes it (residue.ts).
  const settled = settleResidue(ctx, c, c.flatten!, ended, {
    own_fill_source: c.flatten?.source ?? "rest",
    ...evidence,
  });
  const outcome = settled.outcome;
  const detail = settled.detail;
  // A sub-minimum residue is normal: it alerts only above max_residual_base. A failed flatten always alerts.
  const cap = c.settings.caps.maxResidualBase;
  const residual = typeof detail.residual_base === "string" ? abs(BigInt(detail.residual_base)) : 0n;
  const decimals = c.spec?.sizeDecimals ?? 0;
  const overCap = cap !== null && residual > BigInt(Math.round(cap * 10 ** decimals));
  const unexplained = detail.unexplained === true;
  const alarming = outcome === "failed" || (outcome === "residual" && (overCap || unexplained));
  const diagnosis: Diagnosis | null = alarming ? (outcome === "failed" ? "flatten_failed" : "flatten_residual") : null;
  alert(ctx, "flatten", {
    checkId: `${c.id}:flatten`,
    at: ctx.now,
    verdict: alarming ? "fail" : "pass",
    firstFailingStage: null,
    diagnosis,
    flatten: outcome,
    action: diagnosis ? ACTIONS[diagnosis] : null,
    evidence: detail,
  });
  finish(ctx, outcome, detail);
}

function failed(ctx: Ctx, c: CheckRecord, f: FlattenState, reason: string, extra: Evidence = {}): void {
  done(ctx, c, "failed", {
    reason,
    own_fill_base: f.ownFill,
    closed_base: f.closed,
    to_close_by_hand_base: (BigInt(f.ownFill) + BigInt(f.closed)).toString(),
    position_before_base: f.positionBefore,
    attempts: f.attempts,
    ...extra,
  });
}

/** Moves the flatten as far as its facts allow. */
export function advanceFlatten(ctx: Ctx, c: CheckRecord): void {
  const f = c.flatten!;
  if (ctx.now >= f.boundAt) return failed(ctx, c, f, `the flatten reached its bound while at ${f.step}`);
  switch (f.step) {
    case "await_lock":
      // A residue's flatten has no test order to wait for: the position says what is left.
      if (!f.carried) return awaitLock(ctx, c, f);
      if (!pendingOf(ctx, ["position"]) && ctx.now >= f.nextAt) measurePosition(ctx, c);
      return;
    case "await_book":
      return awaitBook(ctx, c, f);
    case "order":
      return followOrder(ctx, c, f);
    case "confirm_position":
      if (!pendingOf(ctx, ["position"]) && ctx.now >= f.nextAt) measurePosition(ctx, c, MS.pendingTimeout);
      return;
  }
}

function awaitLock(ctx: Ctx, c: CheckRecord, f: FlattenState): void {
  const o = c.facts!;
  const r = resolution(o, ctx.now);
  // "Nobody ever showed it" is an absence of evidence: the position confirms it when it can.
  const unseen = unseenSince(o, f, ctx.now);
  if (r.resolved && !unseen) {
    const fill = ownFill(c, o);
    f.ownFill = fill.toString();
    if (fill === 0n) return done(ctx, c, "ok", { own_fill_base: "0", how: r.how });
    const setup = ctx.s.setup;
    if (!setup?.settings) return failed(ctx, c, f, "the monitor's configuration is gone: nothing can sign the flatten");
    if (!setup.key.present)
      return failed(ctx, c, f, `no private key: ${setup.key.error ?? "the key secret is not set"}`);
    if (!c.spec) return failed(ctx, c, f, "the market spec is unknown");
    return toBook(ctx, c, f);
  }
  if (pendingOf(ctx, ["lookup"], o.coi) || pendingOf(ctx, ["position"]) || ctx.now < f.nextAt) return;
  if (unseen) return measurePosition(ctx, c);
  if (f.positionBefore !== null && f.lockWaits >= REST_TRIES_BEFORE_POSITION && settledWithoutRest(o, ctx.now)) {
    // REST cannot show an order that can no longer trade: the position says what it did (REST is
    // still asked: its record, when it comes, is the better source).
    measurePosition(ctx, c);
    lookUp(ctx, o, c.spec?.sizeDecimals ?? 0);
    return;
  }
  // Until the order can no longer trade, only the flatten's bound ends the wait.
  if (f.lockWaits >= MAX_LOCK_WAITS && settledWithoutRest(o, ctx.now)) {
    return failed(ctx, c, f, "the test order is still unresolved", {
      tx_hash: o.txHash,
      waiting_for: r.resolved ? null : r.waitingFor,
    });
  }
  f.lockWaits++;
  lookUp(ctx, o, c.spec?.sizeDecimals ?? 0);
  f.nextAt = ctx.now + scale(ctx, MS.flattenPace);
}

/** The next flatten order needs a session and a book: waits for them, bounded by a connect and a book. */
function toBook(ctx: Ctx, c: CheckRecord, f: FlattenState): void {
  f.step = "await_book";
  f.nextAt = ctx.now + scale(ctx, PHASES.connect.baseMs + PHASES.book.baseMs);
  awaitBook(ctx, c, f);
}

function awaitBook(ctx: Ctx, c: CheckRecord, f: FlattenState): void {
  const ses = ctx.s.session;
  if (!bookReady(ctx, c.market)) {
    if (ctx.now >= f.nextAt) return failed(ctx, c, f, "no order book to price the flatten");
    if (ses.status === "open" && ses.market === c.market) subscribe(ctx, "order_book");
    else if (ses.status === "open" || (ses.status === "closed" && ses.retry.at === null)) {
      // After an eviction the flatten has no session: it opens its own.
      if (!openSession(ctx, c.market)) return failed(ctx, c, f, "no session: connects exhausted");
    }
    return;
  }
  const spec = c.spec!;
  const remaining = BigInt(f.ownFill) + BigInt(f.closed);
  if (remaining === 0n) return confirmPosition(ctx, f);
  const minBase = BigInt(spec.minBase);
  if (abs(remaining) < minBase) {
    return done(ctx, c, "residual", {
      residual_base: remaining.toString(),
      min_base: spec.minBase,
      own_fill_base: f.ownFill,
      carried: false,
    });
  }
  if (f.attempts >= FLATTEN_MAX_ATTEMPTS) return failed(ctx, c, f, "flatten orders did not close the fill");
  const top = ses.book;
  const opposite = remaining > 0n ? top.bestBid : top.bestAsk;
  if (!opposite) return failed(ctx, c, f, "one side of the book is empty");
  const marketSpec = { ...spec, minBase, minQuote: BigInt(spec.minQuote) };
  const slip = Math.max(c.settings.thresholds.maxSlippageBps, MIN_FLATTEN_SLIPPAGE_BPS);
  const plan = planFlatten(marketSpec, remaining, BigInt(opposite.price), slip);
  if (abs(plan.baseAmount) > abs(BigInt(f.ownFill)))
    return failed(ctx, c, f, "flatten size above the check's own fill");
  const cap = c.settings.caps.maxNotionalPerOrderUsd;
  if (cap !== null && plan.notionalUsd > cap) {
    return failed(ctx, c, f, "the flatten would exceed max_notional_per_order_usd", {
      flatten_notional_usd: plan.notionalUsd,
      max_notional_per_order_usd: cap,
    });
  }
  // Reduce-only when the account's expected position is on the side the flatten reduces.
  const expected = f.positionBefore === null ? null : BigInt(f.positionBefore) + remaining;
  const reduceOnly =
    expected === null || (expected !== 0n && expected > 0n === remaining > 0n && abs(remaining) <= abs(expected));
  const coi = nextClientOrderIndex(ctx, c.settings.apiKeyIndex);
  const validity = Math.min(scale(ctx, MS.orderValidity), 599_000);
  f.order = {
    coi,
    market: c.market,
    isAsk: plan.isAsk,
    baseAmount: plan.baseAmount.toString(),
    price: plan.price,
    reduceOnly,
    expiredAt: ctx.now + validity,
    notionalUsd: plan.notionalUsd,
    sizeDecimals: spec.sizeDecimals,
  };
  f.tx = null;
  f.facts = null;
  f.step = "order";
  f.nextAt = ctx.now + scale(ctx, MS.sign);
  log(ctx, "info", "flatten.planned", { coi, is_ask: plan.isAsk, base: f.order.baseAmount, reduce_only: reduceOnly });
  ctx.fx.push({
    kind: "sign",
    ref: request(ctx, "sign", coi),
    coi,
    market: c.market,
    isAsk: plan.isAsk,
    baseAmount: f.order.baseAmount,
    price: plan.price,
    reduceOnly,
    expiredAt: f.order.expiredAt,
    freshNonce: f.freshNonce,
    dryRun: false,
  });
}

function confirmPosition(ctx: Ctx, f: FlattenState): void {
  // The last flatten order's facts stay (resolved): nothing to save until the position answers.
  f.step = "confirm_position";
  f.nextAt = ctx.now;
}

/** The flatten order: signed → transmitted → looked up until resolved; its fill counts as closed. */
function followOrder(ctx: Ctx, c: CheckRecord, f: FlattenState): void {
  const o = f.facts;
  if (!o) {
    if (ctx.now >= f.nextAt && !pendingOf(ctx, ["sign"], f.order?.coi ?? null)) {
      return failed(ctx, c, f, "the flatten order could not be signed");
    }
    return;
  }
  if (pendingOf(ctx, ["transmit", "lookup"], o.coi) || pendingOf(ctx, ["position"])) return;
  const r = resolution(o, ctx.now);
  // REST cannot show our orders, or nobody ever showed this one (no proof it did not fill: its
  // report may have been lost with a restart): the position says what the flatten order did.
  if ((f.source === "position" && !r.resolved) || unseenSince(o, f, ctx.now)) {
    if (ctx.now < f.nextAt) return;
    measurePosition(ctx, c);
    lookUp(ctx, o, f.order!.sizeDecimals);
    return;
  }
  if (r.resolved) {
    const rest = o.restResult === "found" ? o.restOrder : null;
    const filled = rest?.filled ? BigInt(rest.filled) : 0n;
    f.closed = (BigInt(f.closed) + (f.order!.isAsk ? -filled : filled)).toString();
    f.freshNonce = o.firstReply?.kind === "nonce_rejected";
    log(ctx, "info", "flatten.order_resolved", { how: r.how, filled_base: filled.toString(), closed_base: f.closed });
    return toBook(ctx, c, f);
  }
  if (ctx.now < f.nextAt) return;
  lookUp(ctx, o, f.order!.sizeDecimals);
  f.nextAt = ctx.now + scale(ctx, MS.flattenPace);
}

export function onFlattenSigned(ctx: Ctx, c: CheckRecord, e: Of<"signed">): void {
  const f = c.flatten!;
  const p = f.order!;
  f.tx = { txType: e.txType, txInfo: e.txInfo, txHash: e.txHash, nonce: e.nonce, expiredAt: e.expiredAt };
  f.facts = noteTransmit(
    newOrderFacts({
      coi: p.coi,
      account: c.settings.account,
      market: p.market,
      txHash: e.txHash,
      expiredAt: e.expiredAt,
    }),
    ctx.now,
  );
  f.attempts++;
  const day = Math.floor(ctx.now / 86_400_000);
  if (ctx.s.budget.day !== day) ctx.s.budget = { day, orders: 0, notionalUsd: 0 };
  ctx.s.budget.orders++;
  ctx.s.budget.notionalUsd += p.notionalUsd;
  ctx.fx.push({
    kind: "transmit",
    ref: request(ctx, "transmit", p.coi),
    coi: p.coi,
    txType: e.txType,
    txInfo: e.txInfo,
    txHash: e.txHash,
  });
  f.nextAt = ctx.now + scale(ctx, MS.flattenPace);
}

export function onFlattenSignFailed(ctx: Ctx, c: CheckRecord, e: Of<"sign_failed">): void {
  failed(ctx, c, c.flatten!, `the flatten order could not be signed: ${e.reason}`, { error: e.message });
}

export function onFlattenReply(c: CheckRecord, e: Of<"send_reply">): void {
  const f = c.flatten!;
  if (f.facts) f.facts = noteReply(f.facts, classifySend(e.reply));
}

export function onFlattenLookup(ctx: Ctx, c: CheckRecord, e: Of<"looked_up">): void {
  const f = c.flatten!;
  if (f.facts) f.facts = noteLookup(f.facts, e, ctx.now);
}

/** Asks REST for the position; the flatten looks again `waitMs` later (× time_scale) if nothing decided. */
function measurePosition(ctx: Ctx, c: CheckRecord, waitMs: number = MS.flattenPace): void {
  ctx.fx.push({
    kind: "fetch_position",
    ref: request(ctx, "position"),
    market: c.market,
    sizeDecimals: c.spec?.sizeDecimals ?? 0,
  });
  c.flatten!.nextAt = ctx.now + scale(ctx, waitMs);
}

/** A REST position answered: what it means depends on where the flatten stands. */
export function onFlattenPosition(ctx: Ctx, c: CheckRecord, e: Of<"position">): void {
  const f = c.flatten!;
  if (f.step === "confirm_position") return confirmedPosition(ctx, c, e);
  if (!e.position.ok || f.positionBefore === null) return;
  if (f.step === "await_lock" && f.carried) return residueFromPosition(ctx, c, f, BigInt(e.position.value));
  const moved = BigInt(e.position.value) - BigInt(f.positionBefore);
  if (f.step === "await_lock") {
    const r = resolution(c.facts!, ctx.now);
    if (!r.resolved || r.how === "expired_unseen") return ownFillFromPosition(ctx, c, f, moved);
    return;
  }
  if (f.step !== "order" || !f.facts) return;
  if (f.source === "position" || unseenSince(f.facts, f, ctx.now)) leftFromPosition(ctx, c, f, f.facts, moved);
}

/** The order resolved only because nobody showed it, and the position can tell what it did. */
function unseenSince(o: OrderFacts, f: FlattenState, now: number): boolean {
  const r = resolution(o, now);
  return r.resolved && r.how === "expired_unseen" && f.positionBefore !== null;
}

/**
 * The test order settled and REST cannot show it: its fill is the position's move since the
 * pre-flight, when our order could have made that move — on its side, at most its size, and equal
 * to the fill the WebSocket reported for it when a report of its end came. Anything else is not
 * ours to close: the flatten alerts and trades nothing.
 */
function ownFillFromPosition(ctx: Ctx, c: CheckRecord, f: FlattenState, moved: bigint): void {
  const o = c.facts!;
  const size = BigInt(c.order?.baseAmount ?? "0");
  const own = c.order?.isAsk ? -moved : moved;
  const why = {
    position_before_base: f.positionBefore,
    position_moved_base: moved.toString(),
    order_base: size.toString(),
  };
  if (own < 0n || own > size) {
    return failed(ctx, c, f, "REST cannot show the test order and the position moved by more than it could fill", why);
  }
  const single = Object.keys(o.wsCandidates).length === 1;
  if (single && o.wsTerminalAt !== null && BigInt(o.wsFilled) !== own) {
    return failed(ctx, c, f, "REST cannot show the test order and the position move differs from its WebSocket fill", {
      ...why,
      ws_filled_base: o.wsFilled,
    });
  }
  f.source = "position";
  f.ownFill = moved.toString();
  log(ctx, "warn", "flatten.own_fill_from_position", { ...why, ws_filled_base: o.wsFilled });
  if (moved === 0n) return done(ctx, c, "ok", { own_fill_base: "0", how: "position unchanged" });
  toBook(ctx, c, f);
}

/** The open residue's flatten read the position: close what is still ours, never more than the residue. */
function residueFromPosition(ctx: Ctx, c: CheckRecord, f: FlattenState, position: bigint): void {
  const m = judgeResidue(ctx, c, f, position);
  const why = {
    position_before_base: f.positionBefore,
    position_now_base: position.toString(),
    residue_base: f.ownFill,
  };
  if (m.kind === "gone") {
    return done(ctx, c, "ok", { ...why, how: "residue already gone: the position is back, nothing traded" });
  }
  if (m.kind === "against") {
    return done(ctx, c, "residual", {
      ...why,
      residual_base: m.moved.toString(),
      unexplained: true,
      how: "the position moved against the residue (someone else traded): nothing traded",
    });
  }
  if (m.kind === "exhausted") return failed(ctx, c, f, "closing retries exhausted: close the residue by hand", why);
  if (m.kind === "held") return failed(ctx, c, f, `the residue is not traded: ${m.why}; close it by hand`, why);
  if (m.beyond !== 0n) {
    // Someone else moved the position further: only the residue is traded; the rest stays and is alerted.
    f.carried = { checkId: f.carried!.checkId, beyond: m.beyond.toString() };
    f.positionBefore = (BigInt(f.positionBefore!) + m.beyond).toString();
  }
  f.ownFill = m.close.toString();
  log(ctx, "warn", "residue.closing", { ...why, close_base: f.ownFill }, c.id);
  toBook(ctx, c, f);
}

/** Position mode: the position measures what is left; a flatten order that settled short is followed by another. */
function leftFromPosition(ctx: Ctx, c: CheckRecord, f: FlattenState, o: OrderFacts, moved: bigint): void {
  if (moved === 0n) {
    f.closed = (-BigInt(f.ownFill)).toString();
    return done(ctx, c, "ok", {
      own_fill_base: f.ownFill,
      closed_base: f.closed,
      position_before_base: f.positionBefore,
      position_after_base: (BigInt(f.positionBefore!) + moved).toString(),
    });
  }
  if (!settledWithoutRest(o, ctx.now)) return;
  const own = BigInt(f.ownFill);
  if (moved > 0n !== own > 0n || abs(moved) > abs(own)) {
    return failed(ctx, c, f, "the position moved past what the flatten could close", {
      position_moved_base: moved.toString(),
    });
  }
  f.closed = (moved - own).toString();
  log(ctx, "info", "flatten.order_resolved", { how: "position", closed_base: f.closed });
  toBook(ctx, c, f);
}

/** The REST position after the flatten: the account must be back where the check found it. */
function confirmedPosition(ctx: Ctx, c: CheckRecord, e: Of<"position">): void {
  const f = c.flatten!;
  if (!e.position.ok) {
    if (ctx.now + scale(ctx, MS.flattenPace) < f.boundAt) {
      f.nextAt = ctx.now + scale(ctx, MS.flattenPace);
      return;
    }
    return failed(ctx, c, f, "the REST position could not be read after the flatten", e.position.evidence);
  }
  const after = BigInt(e.position.value);
  const detail = { own_fill_base: f.ownFill, closed_base: f.closed, position_after_base: after.toString() };
  if (f.positionBefore === null) return done(ctx, c, "ok", detail);
  const diff = after - BigInt(f.positionBefore);
  if (diff === 0n) return done(ctx, c, "ok", { ...detail, position_before_base: f.positionBefore });
  const minBase = BigInt(c.spec?.minBase ?? "0");
  return done(ctx, c, "residual", {
    ...detail,
    position_before_base: f.positionBefore,
    residual_base: diff.toString(),
    // A difference of a tradable size is not this check's rounding: someone else traded, or we did not close.
    unexplained: abs(diff) >= minBase,
  });
}
