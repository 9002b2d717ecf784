/**
 * The WebSocket session as the machine sees it: opening (one connection number per attempt, so an
 * older socket's events are dropped), the subscriptions and which frame acknowledges which (an ack
 * counts only for the channel it names), refusals attributed to a channel, the top of the book,
 * drops, reconnect backoff with jitter bounded per check, and the idle close. What a drop or a
 * refusal means for a running check is decided in stages.ts / machine.ts from this record.
 */
import { MAX_CONNECTS_PER_CHECK, MS, backoffMs, log, scale, type Ctx } from "./ctx.ts";
import type { Event } from "./events.ts";
import { PHASES } from "./phases.ts";
import { emptySession, type SubChannel } from "./state.ts";

type Of<T extends Event["type"]> = Extract<Event, { type: T }>;

const ACCOUNT_CHANNELS: SubChannel[] = ["account_orders", "account_all_orders"];
const AUTH_CODES: ReadonlySet<number> = new Set([20001, 20013]);
const RATE_CODES: ReadonlySet<number> = new Set([30009, 30010, 23000, 23001, 23002]);

function current(ctx: Ctx, conn: number): boolean {
  return conn === ctx.s.session.conn && ctx.s.session.status !== "closed";
}

/** Opens a new connection (closing the old one), counted against the running check's connects. */
export function openSession(ctx: Ctx, market: number): boolean {
  const c = ctx.s.check;
  if (c && c.verdict === null && c.connects >= MAX_CONNECTS_PER_CHECK) return false;
  if (c?.flatten && c.verdict !== null && c.flatten.connects >= MAX_CONNECTS_PER_CHECK) return false;
  const old = ctx.s.session;
  if (old.status !== "closed") ctx.fx.push({ kind: "close", conn: old.conn, reason: "reopening" });
  const s = emptySession(old.conn + 1);
  s.status = "connecting";
  s.since = ctx.now;
  s.market = market;
  s.connectDeadline = ctx.now + scale(ctx, PHASES.connect.baseMs);
  s.retry = { attempts: old.retry.attempts, at: null };
  ctx.s.session = s;
  if (c && c.verdict === null) c.connects++;
  else if (c?.flatten) c.flatten.connects++;
  ctx.fx.push({ kind: "open", conn: s.conn, timeoutMs: scale(ctx, PHASES.connect.baseMs) });
  return true;
}

export function closeSession(ctx: Ctx, reason: string): void {
  const s = ctx.s.session;
  if (s.status !== "closed") {
    ctx.fx.push({ kind: "close", conn: s.conn, reason });
    log(ctx, "info", "session.closed", { reason });
  }
  ctx.s.session = { ...emptySession(s.conn), retry: { attempts: 0, at: null } };
}

/** Asks a subscription unless it is asked, held or refused on this connection. */
export function subscribe(ctx: Ctx, channel: SubChannel, resubscribe = false): void {
  const s = ctx.s.session;
  if (s.status !== "open" || s.market === null) return;
  if (!resubscribe && s.subs[channel] !== "none") return;
  s.subs[channel] = "pending";
  s.subAskedAt[channel] = ctx.now;
  if (channel !== "order_book") s.ackDeadline = ctx.now + scale(ctx, PHASES.orders.baseMs);
  if (channel === "order_book") s.book = { ...s.book, ready: false };
  ctx.fx.push({ kind: "subscribe", conn: s.conn, channel, market: s.market, resubscribe });
}

/** Plans the next connect after a failure or drop: backoff with jitter, or none when the check's budget is spent. */
export function planRetry(ctx: Ctx, jitter: number): void {
  const s = ctx.s.session;
  const c = ctx.s.check;
  const spent = c ? (c.verdict === null ? c.connects : (c.flatten?.connects ?? 0)) : 0;
  if (spent >= MAX_CONNECTS_PER_CHECK) {
    s.retry = { attempts: s.retry.attempts, at: null };
    log(ctx, "warn", "session.reconnects_exhausted", { connects: spent });
    return;
  }
  const wait = backoffMs(ctx, s.retry.attempts, jitter);
  s.retry = { attempts: s.retry.attempts + 1, at: ctx.now + wait };
}

/** The interpreter really starts the connect now: the connect deadlines count from here. */
export function onConnecting(ctx: Ctx, e: Of<"connecting">): void {
  const s = ctx.s.session;
  if (e.conn !== s.conn || s.status !== "connecting") return;
  s.since = ctx.now;
  s.connectDeadline = ctx.now + scale(ctx, PHASES.connect.baseMs);
  const c = ctx.s.check;
  if (c && c.verdict === null && c.phase === "connect") c.phaseDeadline = ctx.now + scale(ctx, PHASES.connect.baseMs);
}

export function onConnected(ctx: Ctx, e: Of<"connected">): void {
  const s = ctx.s.session;
  if (e.conn !== s.conn || s.status !== "connecting") return;
  s.status = "open";
  s.since = ctx.now;
  s.connectDeadline = null;
  s.lastFrameAt = ctx.now;
  s.retry = { attempts: s.retry.attempts, at: null };
  log(ctx, "info", "session.connected", { conn: e.conn });
}

/** A failed connect: the session is closed; the caller (stages, flatten) decides whether to retry. */
export function onConnectFailed(ctx: Ctx, e: Of<"connect_failed">): boolean {
  const s = ctx.s.session;
  if (e.conn !== s.conn || s.status !== "connecting") return false;
  ctx.s.session = { ...emptySession(s.conn), retry: s.retry, market: s.market };
  ctx.s.session.refusal = null;
  log(ctx, "warn", "session.connect_failed", { status: e.status, message: e.message, timeout: e.timeout });
  return true;
}

export function onClosed(ctx: Ctx, e: Of<"closed">): boolean {
  const s = ctx.s.session;
  if (!current(ctx, e.conn)) return false;
  ctx.s.session = { ...emptySession(s.conn), retry: s.retry, market: s.market };
  log(ctx, "warn", "session.closed_by_peer", { code: e.code, reason: e.reason });
  return true;
}

export function onSubscribed(ctx: Ctx, e: Of<"subscribed">): void {
  const s = ctx.s.session;
  if (!current(ctx, e.conn) || s.status !== "open") return;
  if (e.market !== null && s.market !== null && e.market !== s.market && e.channel !== "account_all_orders") return;
  s.lastFrameAt = ctx.now;
  if (s.subs[e.channel] === "refused") return;
  s.subs[e.channel] = "acked";
  // 30003 on the book: the subscription holds but sends no new snapshot; one fresh resubscribe.
  if (e.channel === "order_book" && e.via === "already" && !s.book.ready && s.book.resyncs < 2) {
    s.book.resyncs++;
    subscribe(ctx, "order_book", true);
  }
}

/** Attributes an error frame to a channel and marks that subscription refused; returns the channels. */
export function onRefused(ctx: Ctx, e: Of<"refused">): SubChannel[] {
  const s = ctx.s.session;
  if (!current(ctx, e.conn)) return [];
  s.lastFrameAt = ctx.now;
  const code = e.code;
  const auth = (code !== null && AUTH_CODES.has(code)) || /invalid auth|auth field/i.test(e.message);
  let to: SubChannel[];
  if (e.channel) to = [e.channel];
  else if (auth) to = ACCOUNT_CHANNELS.filter((ch) => s.subs[ch] !== "none");
  else {
    const pending = (Object.keys(s.subs) as SubChannel[]).filter((ch) => s.subs[ch] === "pending");
    // Lighter's refusals name no channel: a pending subscription is the one refused.
    to = pending.includes("order_book") ? ["order_book"] : pending;
    if (code !== null && RATE_CODES.has(code) && to.length === 0) to = [];
  }
  for (const ch of to) s.subs[ch] = "refused";
  if (to.length > 0) s.refusal = { channel: to[0]!, code, message: e.message, at: ctx.now };
  log(ctx, "warn", "frame.error", { code, message: e.message, attributed_to: to.join(", ") || null });
  return to;
}

export function onBook(ctx: Ctx, e: Of<"book">): void {
  const s = ctx.s.session;
  if (!current(ctx, e.conn) || e.market !== s.market) return;
  s.lastFrameAt = ctx.now;
  if (e.kind === "gap") {
    s.book = { ...s.book, ready: false, bestBid: null, bestAsk: null };
    s.book.resyncs++;
    log(ctx, "warn", "book.gap", { market: e.market });
    subscribe(ctx, "order_book", true);
    return;
  }
  if (e.kind === "snapshot") s.subs.order_book = "acked";
  if (e.kind === "update" && !s.book.ready) return;
  s.book = {
    ...s.book,
    ready: true,
    bestBid: e.bestBid,
    bestAsk: e.bestAsk,
    updatedAt: ctx.now,
    bids: e.bids,
    asks: e.asks,
  };
}

/** Whether the session carries `market`'s book (fresh snapshot on this connection). */
export function bookReady(ctx: Ctx, market: number): boolean {
  const s = ctx.s.session;
  return s.status === "open" && s.market === market && s.book.ready && s.subs.order_book === "acked";
}

/** An account channel is usable: acknowledged, or assumed after its ack deadline. */
export function held(ctx: Ctx, ch: SubChannel): boolean {
  const v = ctx.s.session.subs[ch];
  return v === "acked" || v === "assumed";
}

export function accountRefused(ctx: Ctx): boolean {
  return ACCOUNT_CHANNELS.some((ch) => ctx.s.session.subs[ch] === "refused");
}

/** Account subscriptions still pending past their ack deadline count as subscribed (no refusal came). */
export function assumeAcks(ctx: Ctx): void {
  const s = ctx.s.session;
  if (s.ackDeadline === null || ctx.now < s.ackDeadline) return;
  for (const ch of ACCOUNT_CHANNELS) if (s.subs[ch] === "pending") s.subs[ch] = "assumed";
  s.ackDeadline = null;
}

/**
 * Session housekeeping on every step: a connect past its deadline fails, a due retry connects
 * (when `wanted`), an idle on-demand session closes.
 */
export function sessionTimers(ctx: Ctx, wanted: number | null): "timeout" | null {
  const s = ctx.s.session;
  let out: "timeout" | null = null;
  if (s.status === "connecting" && s.connectDeadline !== null && ctx.now >= s.connectDeadline) {
    ctx.fx.push({ kind: "close", conn: s.conn, reason: "connect timeout" });
    ctx.s.session = { ...emptySession(s.conn), retry: s.retry, market: s.market };
    log(ctx, "warn", "session.connect_timeout", {});
    out = "timeout";
  }
  const cur = ctx.s.session;
  if (cur.status === "closed" && cur.retry.at !== null && ctx.now >= cur.retry.at) {
    cur.retry = { attempts: cur.retry.attempts, at: null };
    if (wanted !== null) openSession(ctx, wanted);
  }
  if (cur.idleCloseAt !== null && ctx.now >= cur.idleCloseAt) {
    if (wanted === null) closeSession(ctx, "idle after check");
    else cur.idleCloseAt = null;
  }
  return out;
}

/**
 * After an on-demand check (none in continuous mode): the session is held for the grace period
 * only when the next trigger is due within it (or not known); otherwise it closes at once, so the
 * object is not kept active for a check that will open its own session anyway.
 */
export function planIdleClose(ctx: Ctx, continuous: boolean): void {
  const s = ctx.s.session;
  if (continuous || s.status === "closed") return;
  const grace = scale(ctx, MS.sessionGrace);
  const next = ctx.s.nextTickAt ?? null;
  if (next !== null && next - ctx.now > grace)
    return closeSession(ctx, "idle after check: no check due within the grace period");
  s.idleCloseAt = ctx.now + grace;
}

export { ACCOUNT_CHANNELS };
