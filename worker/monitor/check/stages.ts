/**
 * A check from its start to its signed test order: the session stages (connect, book_subscribed,
 * orders_subscribed, each with its deadline from the phase table), pre-flight over REST, and
 * signing ahead. Rules held here: an acknowledgement counts only for its own channel; no order is
 * signed or sent once an account subscription was refused; a dry run signs locally and concludes
 * `skipped` / `dry_run` with the signed tx in the evidence, never sending anything.
 */
import { describeCode, type Diagnosis, type Stage } from "../diagnosis.ts";
import { EXPIRED_AT_MAX_MS, MS, log, markStage, pendingOf, request, scale, type Ctx } from "./ctx.ts";
import { conclude } from "./conclude.ts";
import type { Event } from "./events.ts";
import { newOrderFacts } from "./order.ts";
import { PHASES, type Phase } from "./phases.ts";
import { preflight, type Fetched } from "./preflight.ts";
import { ACCOUNT_CHANNELS, accountRefused, bookReady, held, openSession, subscribe } from "./session.ts";
import type { CheckRecord, SpecJson, SubChannel } from "./state.ts";
import type { MarketSpec } from "../sizing.ts";

type Of<T extends Event["type"]> = Extract<Event, { type: T }>;

/** Phases before the test order exists (a drop here fails the check at its stage). */
export const SESSION_PHASES: ReadonlySet<string> = new Set(["connect", "book", "orders"]);
/** Phases before anything was sent (an account refusal here stops the check). */
const BEFORE_SEND: ReadonlySet<string> = new Set(["connect", "book", "orders", "preflight", "sign"]);

export function enterPhase(ctx: Ctx, c: CheckRecord, phase: Phase | "sign"): void {
  const from = c.phase;
  c.phase = phase;
  c.phaseSince = ctx.now;
  c.round = 1;
  c.wakeAt = null;
  const base = phase === "sign" ? MS.sign : PHASES[phase].baseMs;
  c.phaseDeadline = BEFORE_SEND.has(phase) ? ctx.now + scale(ctx, base) : null;
  if (from !== phase) log(ctx, "info", "check.phase", { from, to: phase }, c.id);
}

function fail(ctx: Ctx, c: CheckRecord, diagnosis: Diagnosis, evidence: Record<string, unknown>, stage?: Stage) {
  conclude(ctx, c, { verdict: "fail", diagnosis, evidence, ...(stage ? { stage } : {}) });
}

/** The diagnosis for a refused subscription, from its channel and code. */
export function refusalDiagnosis(channel: SubChannel, code: number | null, message: string): Diagnosis {
  const rate = code === 30009 || code === 30010;
  if (channel === "order_book") return rate ? "message_rate_limited" : "book_subscribe_rejected";
  if (code === 20013 || /invalid auth|deadline/i.test(message)) return "auth_rejected";
  if (code === 20001) return "auth_missing";
  return rate ? "message_rate_limited" : "orders_subscribe_rejected";
}

function refusalEvidence(ctx: Ctx): Record<string, unknown> {
  const r = ctx.s.session.refusal;
  if (!r) return {};
  return {
    exchange_code: r.code,
    exchange_message: r.message,
    code_meaning: describeCode(r.code),
    channel: r.channel,
    at: r.at,
  };
}

/** Moves a check that has no test order yet as far as the session and its answers allow. */
export function advanceStages(ctx: Ctx, c: CheckRecord): void {
  const ses = ctx.s.session;
  if (c.keyPresent && accountRefused(ctx)) {
    const r = ses.refusal!;
    const ch = ACCOUNT_CHANNELS.find((x) => ses.subs[x] === "refused") ?? "account_orders";
    const diagnosis = refusalDiagnosis(ch, r.code, r.message);
    if (diagnosis === "auth_rejected") {
      // Say whether the key is even registered: the commonest cause of a refused token.
      const ref = request(ctx, "annotate");
      ctx.s.pending[ctx.s.pending.length - 1]!.checkId = c.id;
      ctx.fx.push({ kind: "preflight_fetch", ref, market: c.market, position: false, apiKey: true });
    }
    return fail(ctx, c, diagnosis, refusalEvidence(ctx), "orders_subscribed");
  }
  if (ses.subs.order_book === "refused" && (c.phase === "book" || c.phase === "connect")) {
    const r = ses.refusal!;
    return fail(ctx, c, refusalDiagnosis("order_book", r.code, r.message), refusalEvidence(ctx));
  }
  const late = c.phaseDeadline !== null && ctx.now >= c.phaseDeadline;
  switch (c.phase) {
    case "connect": {
      if (ses.status === "open" && ses.market === c.market) {
        const since = ses.since ?? ctx.now;
        markStage(ctx, c, "connect", since, since < c.startedAt ? { reused: true } : {});
        enterPhase(ctx, c, "book");
        return advanceStages(ctx, c);
      }
      if (late) return fail(ctx, c, "connect_timeout", { phase: "connect" });
      if (ses.status === "closed" && ses.retry.at === null) {
        if (!openSession(ctx, c.market)) return fail(ctx, c, "connect_failed", { error: "connects exhausted" });
      } else if (ses.status === "open") {
        openSession(ctx, c.market);
      }
      return;
    }
    case "book": {
      if (ses.status !== "open") return enterAgain(ctx, c);
      if (bookReady(ctx, c.market)) {
        markStage(ctx, c, "book_subscribed", ctx.now, { levels: ses.book.bids + ses.book.asks });
        if (!c.keyPresent) {
          c.evidence.orders_subscription = "not attempted: dry run (no private key)";
          enterPhase(ctx, c, "preflight");
        } else enterPhase(ctx, c, "orders");
        return advanceStages(ctx, c);
      }
      if (late) return fail(ctx, c, "book_ack_timeout", { channel: `order_book/${c.market}` });
      subscribe(ctx, "order_book");
      return;
    }
    case "orders": {
      if (ses.status !== "open") return enterAgain(ctx, c);
      for (const ch of ACCOUNT_CHANNELS) subscribe(ctx, ch);
      const acked = ACCOUNT_CHANNELS.every((ch) => ses.subs[ch] === "acked");
      if (acked || late) {
        if (!acked) {
          // account_orders' ack is undocumented: no refusal within the deadline means subscribed.
          for (const ch of ACCOUNT_CHANNELS) if (ses.subs[ch] === "pending") ses.subs[ch] = "assumed";
        }
        markStage(ctx, c, "orders_subscribed", ctx.now, { via: acked ? "ack" : "no error within deadline" });
        enterPhase(ctx, c, "preflight");
        return advanceStages(ctx, c);
      }
      return;
    }
    case "preflight": {
      if (late) {
        return void conclude(ctx, c, {
          verdict: "skipped",
          diagnosis: "preflight_timeout",
          evidence: { step: "REST pre-flight did not answer" },
        });
      }
      if (!pendingOf(ctx, ["preflight"])) {
        const ref = request(ctx, "preflight");
        ctx.fx.push({ kind: "preflight_fetch", ref, market: c.market, position: c.keyPresent, apiKey: c.keyPresent });
      }
      return;
    }
    case "sign":
      if (late) fail(ctx, c, "send_failed", { step: "signing", error: "the signer did not answer" });
      return;
    default:
      return;
  }
}

/** The session went away during a session stage that has not failed yet: start over from connect. */
function enterAgain(ctx: Ctx, c: CheckRecord): void {
  enterPhase(ctx, c, "connect");
  advanceStages(ctx, c);
}

function specOf(j: SpecJson): MarketSpec {
  return { ...j, minBase: BigInt(j.minBase), minQuote: BigInt(j.minQuote) };
}

function mapFetched<A, B>(f: Fetched<A>, fn: (a: A) => B): Fetched<B> {
  return f.ok ? { ok: true, value: fn(f.value) } : f;
}

/** The API key check after an auth refusal: written into the concluded check's evidence. */
export function onAnnotation(ctx: Ctx, checkId: string, e: Of<"preflight_data">): void {
  const c = ctx.s.check?.id === checkId ? ctx.s.check : ctx.s.last?.id === checkId ? ctx.s.last : null;
  if (!c) return;
  const k = e.apiKey;
  c.evidence.api_key_check = !k
    ? "not checked"
    : !k.ok
      ? `could not check apikeys: ${String(k.evidence.exchange_message ?? k.evidence.error ?? "REST error")}`
      : k.value.matches
        ? "registered key matches"
        : "registered key DIFFERS from the configured private key";
  ctx.fx.push({ kind: "record", check: JSON.parse(JSON.stringify(c)) as CheckRecord });
}

export function onPreflightData(ctx: Ctx, c: CheckRecord, e: Of<"preflight_data">): void {
  if (c.verdict || c.phase !== "preflight") return;
  const ses = ctx.s.session;
  const spec = mapFetched(e.spec, (v) => (v ? specOf(v) : null));
  const position = e.position ? mapFetched(e.position, (p) => BigInt(p)) : null;
  if (e.spec.ok && e.spec.value) c.spec = e.spec.value;
  if (position?.ok) c.positionBefore = position.value.toString();
  const day = Math.floor(ctx.now / 86_400_000);
  if (ctx.s.budget.day !== day) ctx.s.budget = { day, orders: 0, notionalUsd: 0 };
  const book = ses.status === "open" && ses.market === c.market ? ses.book : null;
  const d = preflight({
    now: ctx.now,
    configErrors: 0,
    cfg: c.settings,
    market: c.market,
    spec,
    book: {
      ready: book?.ready ?? false,
      bestBid: book?.bestBid ? { price: BigInt(book.bestBid.price), text: book.bestBid.text } : null,
      bestAsk: book?.bestAsk ? { price: BigInt(book.bestAsk.price), text: book.bestAsk.text } : null,
      updatedAt: book?.updatedAt ?? 0,
      bids: book?.bids ?? 0,
      asks: book?.asks ?? 0,
    },
    position,
    tradedBefore: ctx.s.tradedMarkets.includes(c.market),
    budget: { ordersToday: ctx.s.budget.orders, notionalTodayUsd: ctx.s.budget.notionalUsd },
    key: { present: c.keyPresent, error: ctx.s.setup?.key.error ?? null },
    apiKey: e.apiKey,
  });
  switch (d.kind) {
    case "wait_book":
      // The book is resyncing (a gap asked for a fresh snapshot): wait for it, do not skip.
      enterPhase(ctx, c, "book");
      return advanceStages(ctx, c);
    case "resubscribe_book_and_skip":
      subscribe(ctx, "order_book", true);
      return void conclude(ctx, c, { verdict: "skipped", diagnosis: "book_crossed", evidence: d.evidence });
    case "skip":
      return void conclude(ctx, c, { verdict: "skipped", diagnosis: d.diagnosis, evidence: d.evidence });
    case "go":
      break;
  }
  markStage(ctx, c, "preflight", ctx.now);
  const coi = nextClientOrderIndex(ctx, c.settings.apiKeyIndex);
  const validity = Math.min(scale(ctx, MS.orderValidity), EXPIRED_AT_MAX_MS);
  c.order = {
    coi,
    market: c.market,
    isAsk: d.plan.isAsk,
    baseAmount: d.plan.baseAmount.toString(),
    price: d.plan.price,
    reduceOnly: false,
    expiredAt: ctx.now + validity,
    notionalUsd: d.plan.notionalUsd,
    sizeDecimals: c.spec?.sizeDecimals ?? 0,
  };
  c.evidence = { ...c.evidence, ...d.evidence, client_order_index: coi };
  enterPhase(ctx, c, "sign");
  signOrder(ctx, c, false);
}

/** Asks for the test order's signature (a fresh nonce after an immediate 21104). */
export function signOrder(ctx: Ctx, c: CheckRecord, freshNonce: boolean): void {
  const o = c.order!;
  if (freshNonce) o.expiredAt = ctx.now + Math.min(scale(ctx, MS.orderValidity), EXPIRED_AT_MAX_MS);
  ctx.fx.push({
    kind: "sign",
    ref: request(ctx, "sign", o.coi),
    coi: o.coi,
    market: o.market,
    isAsk: o.isAsk,
    baseAmount: o.baseAmount,
    price: o.price,
    reduceOnly: o.reduceOnly,
    expiredAt: o.expiredAt,
    freshNonce,
    dryRun: c.dryRun,
  });
}

/** The test order is signed: a dry run ends here; otherwise the order path starts with the bytes saved. */
export function onTestSigned(ctx: Ctx, c: CheckRecord, e: Of<"signed">): boolean {
  const o = c.order!;
  const tx = { txType: e.txType, txInfo: e.txInfo, txHash: e.txHash, nonce: e.nonce, expiredAt: e.expiredAt };
  if (c.dryRun) {
    conclude(ctx, c, {
      verdict: "skipped",
      diagnosis: "dry_run",
      evidence: { dry_run: true, signed_tx: { tx_type: tx.txType, tx_info: tx.txInfo, tx_hash: tx.txHash } },
    });
    return false;
  }
  c.tx = tx;
  o.expiredAt = e.expiredAt;
  c.evidence.tx_hash = e.txHash;
  const day = Math.floor(ctx.now / 86_400_000);
  if (ctx.s.budget.day !== day) ctx.s.budget = { day, orders: 0, notionalUsd: 0 };
  ctx.s.budget.orders++;
  ctx.s.budget.notionalUsd += o.notionalUsd;
  c.facts = newOrderFacts({
    coi: o.coi,
    account: c.settings.account,
    market: c.market,
    txHash: e.txHash,
    expiredAt: e.expiredAt,
  });
  // The channels that must report the fill: the account subscriptions held when the order goes out.
  c.channels = ACCOUNT_CHANNELS.filter((ch) => held(ctx, ch));
  enterPhase(ctx, c, "send");
  return true;
}

export function onTestSignFailed(ctx: Ctx, c: CheckRecord, e: Of<"sign_failed">): void {
  fail(ctx, c, "send_failed", { step: "nonce or signing", reason: e.reason, error: e.message });
}

/**
 * Namespaced by API key (several monitors may share an account) and seeded from the clock so a
 * wiped state never reuses an index: (apiKey << 40) | max(last + 1, now mod 2^40).
 */
export function nextClientOrderIndex(ctx: Ctx, apiKeyIndex: number): string {
  const last = BigInt(ctx.s.coiCounter);
  const clock = BigInt(ctx.now) % (1n << 40n);
  const next = last + 1n > clock ? last + 1n : clock;
  ctx.s.coiCounter = next.toString();
  return ((BigInt(apiKeyIndex) << 40n) | next).toString();
}
