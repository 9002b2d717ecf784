/**
 * Bot reconciliation inside the watch machine, pure: the bot's batches (admitted against the rate
 * window, stored before they count, idempotent by key), the fills REST showed and the amounts the
 * WebSocket showed go to the bot ledger; each judging pass turns its verdicts into counters, log
 * effects and three alert streams — `bot` (bot_missed_fill, grouped, with reminders),
 * `bot_phantom` and `bot_ingest` (bot_ingest_silent, which holds misses back). `bot_late` is a
 * log effect and a /status entry. The rate window and the contact times are checkpointed into the
 * record every INGEST_CHECKPOINT requests (never a write per request), so a restart keeps the limit.
 */
import { formatDecimal, rescale, tryParseDecimal } from "../../lighter/decimal.ts";
import type { Order } from "../../lighter/messages.ts";
import { transactionTimeOf } from "../latency.ts";
import { alert, count, log, missResult, pushRecent, type MissHead, MAX_IN_EVIDENCE } from "./alerts.ts";
import { BOT_SCALE, admitIngest } from "./bot-ingest.ts";
import type { BotDecided, ExchangeFill, Phantom } from "./bot-ledger.ts";
import { botPassResult } from "./bot-rules.ts";
import type { WatchEffect } from "./effects.ts";
import type { WatchEvent } from "./events.ts";
import type { RestFill } from "./ledger.ts";
import { INGEST_CHECKPOINT, type BotPart, type WatchState } from "./state.ts";

const MAX_WS_MARKS = 20_000;

function amountText(v: bigint): string {
  const s = formatDecimal(v, BOT_SCALE).replace(/0+$/, "");
  return s.endsWith(".") ? s.slice(0, -1) : s;
}

/** Every INGEST_CHECKPOINT admitted requests, the window and the contact times go into the record. */
function checkpoint(s: WatchState, b: BotPart, force: boolean): void {
  b.unsaved++;
  if (!force && b.unsaved < INGEST_CHECKPOINT) return;
  b.unsaved = 0;
  s.rec.ingest = [...b.times];
  s.rec.contact = { first: b.ledger.firstContactAt, last: b.ledger.lastContactAt };
}

export function onIngest(
  s: WatchState,
  fx: WatchEffect[],
  now: number,
  e: Extract<WatchEvent, { kind: "ingest" }>,
): void {
  const b = s.bot;
  if (!b) {
    const reason = 'the monitor has no bot block: add "bot": {} to it in MONITORS';
    fx.push({ kind: "ingest_reply", outcome: { kind: "not_enabled", reason } });
    return;
  }
  const wait = admitIngest({ times: b.times }, now);
  if (wait > 0) {
    b.ingest.rate_limited++;
    fx.push({ kind: "ingest_reply", outcome: { kind: "rate_limited", retryAfterMs: wait } });
    return;
  }
  const ledger = b.ledger;
  const first = ledger.firstContactAt === null;
  const { resumed } = ledger.noteContact(now);
  // The first contact and a return from silence are checkpointed at once (the silence rule reads them).
  checkpoint(s, b, first || resumed);
  if (resumed && b.silenceAlerted) {
    b.silenceAlerted = false;
    log(fx, "info", "bot.ingest_resumed", { at: now });
    alert(s, fx, now, "bot_ingest", "pass", "bot_ingest_silent", {});
  }
  if (e.reports.length === 0) {
    b.ingest.heartbeats++;
    fx.push({ kind: "ingest_reply", outcome: { kind: "accepted", reports: 0, duplicate: false } });
    return;
  }
  if (e.duplicate) {
    b.ingest.duplicates++;
    fx.push({ kind: "ingest_reply", outcome: { kind: "accepted", reports: e.reports.length, duplicate: true } });
    return;
  }
  fx.push({ kind: "bot_store_batch", key: e.key, reports: e.reports, at: now });
  for (const r of e.reports) ledger.noteReport(r, now);
  b.ingest.batches++;
  b.ingest.reports += e.reports.length;
  fx.push({ kind: "ingest_reply", outcome: { kind: "accepted", reports: e.reports.length, duplicate: false } });
}

/** Order objects of the account from an order channel (the amounts the exchange showed). */
export function onWsOrders(s: WatchState, fx: WatchEffect[], orders: readonly Order[], at: number): void {
  const b = s.bot;
  if (!b) return;
  for (const o of orders) {
    if (o.ownerAccountIndex !== null && o.ownerAccountIndex.toString() !== s.cfg.account) continue;
    const orderIndex = o.orderIndex.toString();
    const cum = rescale(o.filledBase, BOT_SCALE);
    const mark = `${orderIndex}:${cum.toString()}`;
    const coi = o.clientOrderIndex.toString();
    // The exchange's time when it is a µs timestamp (as delivery latency reads it), else our receipt.
    const us = transactionTimeOf(o.transactionTimeUs);
    const t = typeof us === "number" ? us / 1000 : at;
    b.ledger.noteWsOrder(orderIndex, coi, o.marketIndex, cum, t);
    if (b.wsMarks.has(mark)) continue;
    b.wsMarks.add(mark);
    if (b.wsMarks.size > MAX_WS_MARKS) b.wsMarks.delete(b.wsMarks.values().next().value!);
    fx.push({ kind: "bot_store_ws", orderIndex, cum, clientOrderIndex: coi, market: o.marketIndex, at: t });
  }
}

/** Fills REST showed for the first time. */
export function onRestFills(s: WatchState, fx: WatchEffect[], now: number, fills: readonly RestFill[]): void {
  const b = s.bot;
  if (!b) return;
  for (const f of fills) {
    const d = tryParseDecimal(f.size);
    if (!d) continue;
    const fill: ExchangeFill = {
      key: `${f.tradeId}:${f.side}`,
      tradeId: f.tradeId,
      orderIndex: f.orderIndex,
      clientOrderIndex: f.clientOrderIndex,
      market: f.market,
      side: f.side,
      size: rescale(d, BOT_SCALE),
      sizeText: f.size,
      fillAt: f.tradeAt ?? f.restAt,
    };
    fx.push({ kind: "bot_store_fill", fill, at: now });
    b.ledger.noteRestFill(fill);
  }
}

/** A REST reconciliation read up to the newest trade at `at`. */
export function onCaughtUp(s: WatchState, at: number): void {
  s.bot?.ledger.noteCaughtUp(at);
}

function finding(d: BotDecided): MissHead & Record<string, unknown> {
  const j = d.judgement;
  return {
    trade_id: d.fill.tradeId,
    order_index: d.fill.orderIndex,
    client_order_index: d.fill.clientOrderIndex,
    market: d.fill.market,
    side: d.fill.side,
    amount: d.fill.sizeText,
    filled_after: amountText(d.level),
    trade_at: d.fill.fillAt,
    verdict: j.kind,
    delay_ms: j.kind === "late" ? j.delayMs : j.kind === "reported" ? j.lagMs : null,
  };
}

/** One judging pass: silence first, then every fill and report that can be decided now. */
export function judgeBot(s: WatchState, fx: WatchEffect[], now: number): void {
  const b = s.bot;
  if (!b) return;
  const ledger = b.ledger;
  if (ledger.silent(now) && !b.silenceAlerted) {
    b.silenceAlerted = true;
    const evidence = {
      last_contact_at: ledger.lastContactAt,
      silence_ms: ledger.o.silenceMs,
      pending_fills: ledger.pendingFills,
    };
    log(fx, "error", "bot.ingest_silent", evidence);
    alert(s, fx, now, "bot_ingest", "fail", "bot_ingest_silent", evidence);
  }
  const r = ledger.judge(now);
  onDecided(s, b, fx, now, r.decided, r.lateAfterMiss);
  fx.push({ kind: "bot_prune", at: now });
  onPhantoms(s, b, fx, now, r.phantoms, r.confirmed);
}

function onDecided(
  s: WatchState,
  b: BotPart,
  fx: WatchEffect[],
  now: number,
  decided: BotDecided[],
  lateAfterMiss: BotDecided[],
): void {
  const windowMs = b.ledger.o.windowMs;
  for (const d of decided) {
    const f = finding(d);
    const j = d.judgement;
    b.counts.fills = (b.counts.fills ?? 0) + 1;
    b.counts[j.kind] = (b.counts[j.kind] ?? 0) + 1;
    count(fx, `bot.fills.${j.kind}`);
    fx.push({ kind: "bot_fill_state", key: d.fill.key, state: j.kind === "missed" ? "missed" : "done" });
    if (j.kind === "reported") fx.push({ kind: "bot_lag", market: d.fill.market, lagMs: j.lagMs });
    else if (j.kind === "late") {
      fx.push({ kind: "bot_lag", market: d.fill.market, lagMs: j.delayMs });
      pushRecent(b.recentLate, f);
      log(fx, "warn", "bot.late", { ...f, window_ms: windowMs });
    } else if (j.kind === "missed") {
      pushRecent(b.recentMisses, f);
      log(fx, "error", "bot.missed_fill", { ...f, window_ms: windowMs });
    }
  }
  for (const d of lateAfterMiss) {
    const f = finding(d);
    b.counts.late_after_miss = (b.counts.late_after_miss ?? 0) + 1;
    fx.push({ kind: "bot_fill_state", key: d.fill.key, state: "done" });
    pushRecent(b.recentLate, f);
    log(fx, "warn", "bot.late", { ...f, after_alert: true });
  }
  const result = botPassResult(decided.map((d) => d.judgement));
  if (result === null) return;
  const missed = decided.filter((d) => d.judgement.kind === "missed").map(finding);
  const reported = decided.filter((d) => d.judgement.kind === "reported").length;
  missResult(s, fx, now, "bot", result, missed, reported, {
    window_ms: windowMs,
    bot_last_contact_at: b.ledger.lastContactAt,
  });
}

function onPhantoms(
  s: WatchState,
  b: BotPart,
  fx: WatchEffect[],
  now: number,
  phantoms: Phantom[],
  confirmed: number,
): void {
  for (const p of phantoms) {
    const f = {
      order_index: p.orderIndex,
      client_order_index: p.clientOrderIndex,
      reported_filled_base: amountText(p.reported),
      exchange_filled_base: amountText(p.exchange),
      seen_at: p.seenAt,
    };
    b.counts.phantom = (b.counts.phantom ?? 0) + 1;
    count(fx, "bot.fills.phantom");
    pushRecent(b.recentPhantoms, f);
    log(fx, "error", "bot.phantom_fill", f);
  }
  if (phantoms.length > 0)
    alert(s, fx, now, "bot_phantom", "fail", "bot_phantom_fill", {
      ...b.recentPhantoms[b.recentPhantoms.length - 1],
      phantoms: b.recentPhantoms.slice(-phantoms.length).slice(0, MAX_IN_EVIDENCE),
      phantom_count: phantoms.length,
    });
  else if (confirmed > 0) alert(s, fx, now, "bot_phantom", "pass", "bot_phantom_fill", {});
}
