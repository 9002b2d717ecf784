/**
 * THE watch machine: `step(state, event, now) → { state, effects }`. Deterministic, no clock, no
 * random, no I/O: what a frame, a REST answer or a bot batch means, when a miss opens or resolves,
 * when REST may be called, when the session is (re)opened, is decided here and nowhere else. It
 * updates `state` in place (its ledgers are large indexed maps, rebuilt after a restart) and
 * returns it; the durable record `state.rec` is saved when a step changed it (`save` first).
 */
import { count, log } from "./alerts.ts";
import { judgeBot, onIngest, onWsOrders } from "./bot-step.ts";
import type { WatchEffect } from "./effects.ts";
import type { WatchEvent } from "./events.ts";
import type { PositionReport } from "./positions.ts";
import { moveMark, noteFillMark, onOrdersPage, onTradesPage, startReads } from "./reconcile.ts";
import { moveExplained, type FillChannel } from "./rules.ts";
import {
  MAX_STORED_MISSES,
  newBotPart,
  recordKey,
  type SessionFacts,
  type WatchSettings,
  type WatchState,
} from "./state.ts";

import { onJudged, onMoves } from "./verdicts.ts";

export interface WatchStepResult {
  state: WatchState;
  effects: WatchEffect[];
}

/** Events that never touch the record (frames): no need to compare it. */
const FRAME_EVENTS = new Set(["orders", "trades", "positions", "positions_malformed", "error_frame"]);

/** Advances the watch by one event at `now`. Never throws: a malformed event is logged and changes nothing more. */
export function step(state: WatchState, event: WatchEvent, now: number): WatchStepResult {
  const fx: WatchEffect[] = [];
  const before = FRAME_EVENTS.has(event.kind) ? null : recordText(state);
  try {
    handle(state, fx, event, now);
  } catch (err) {
    log(fx, "error", "watch.event_failed", {
      event: event.kind,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  if (before !== null && recordText(state) !== before) fx.unshift({ kind: "save" });
  return { state, effects: fx };
}

function recordText(s: WatchState): string {
  return recordKey(s.rec);
}

function handle(s: WatchState, fx: WatchEffect[], e: WatchEvent, now: number): void {
  // A frame only counts from a session the machine holds open (never from one it closed).
  if (FRAME_EVENTS.has(e.kind) && e.kind !== "error_frame" && s.session.state !== "open") return;
  switch (e.kind) {
    case "tick":
      s.rec.startedAt ??= now;
      if (s.session.state === "closed") {
        s.session.state = "connecting";
        fx.push({ kind: "open", conn: ++s.session.conn });
      }
      startReads(s, fx, now);
      judge(s, fx, now);
      return;
    case "settings":
      return settings(s, e.settings, now);
    case "connected":
      // A connect that finished after a stop (or after a newer one started) is closed at once.
      if (e.conn !== s.session.conn || s.session.state !== "connecting") {
        fx.push({ kind: "close", reason: "stale connection" });
        return;
      }
      s.session = { ...s.session, state: "open", openedAt: now, subscribed: [], ordersAcked: [] };
      return;
    case "connect_failed":
      if (e.conn === s.session.conn) s.session.state = "closed";
      return;
    case "closed":
      if (e.conn !== s.session.conn || s.session.state !== "open") return;
      lost(s.session);
      s.session.reconnects++;
      s.ledger.noteClosed(now);
      // Reconcile over the gap as soon as the budget allows.
      s.nextReconcileAt = Math.min(s.nextReconcileAt, now);
      return;
    case "stopping":
      s.ledger.noteClosed(now);
      if (s.session.state !== "closed") fx.push({ kind: "close", reason: e.reason });
      lost(s.session);
      s.session.conn++;
      return;
    case "orders":
      return onOrders(s, fx, e, now);
    case "trades":
      seen(s, "account_all_trades", now);
      s.ledger.noteTrades(e.trades, now, e.snapshot);
      // A snapshot's trades are history (L.13.9): they explain no position move and are no new fill.
      if (!e.snapshot) for (const t of e.trades) noteFillMark(s, t.marketId, now);
      return;
    case "positions":
      seen(s, "account_all_positions", now);
      return onPositions(s, e.positions, e.snapshot, now);
    case "positions_malformed":
      seen(s, "account_all_positions", now);
      log(fx, "warn", "watch.frame_unexpected", { reason: "malformed positions frame" });
      return;
    case "error_frame":
      count(fx, "watch.error_frames");
      log(fx, "warn", "watch.error_frame", { code: e.code, message: e.message, at: now });
      return;
    case "trades_page":
      onTradesPage(s, fx, now, e);
      judge(s, fx, now);
      return;
    case "orders_page":
      return onOrdersPage(s, fx, now, e);
    case "ingest":
      return onIngest(s, fx, now, e);
  }
}

function lost(session: SessionFacts): void {
  session.state = "closed";
  session.subscribed = [];
  session.ordersAcked = [];
}

function settings(s: WatchState, cfg: WatchSettings, now: number): void {
  s.cfg = cfg;
  Object.assign(s.ledger.o, {
    windowMs: cfg.windowMs,
    maxOrders: cfg.maxOrders,
    skewMs: cfg.secondMs,
    lateWatchMs: cfg.windowMs * 30,
  });
  if (!cfg.bot) s.bot = null;
  else if (!s.bot) s.bot = newBotPart(cfg, s.rec, now, null);
  else
    Object.assign(s.bot.ledger.o, {
      windowMs: cfg.bot.windowMs,
      silenceMs: cfg.bot.silenceMs,
      lateWatchMs: cfg.bot.windowMs * 30,
      skewMs: cfg.secondMs,
    });
}

/** A frame of `ch` came: its coverage starts at its first frame on this session. */
function seen(s: WatchState, ch: FillChannel | "account_all_positions", now: number): void {
  s.session.byChannel[ch] = now;
  s.session.lastFrameAt = now;
  s.session.frames++;
  if (ch !== "account_orders") ack(s, ch, now);
}

function ack(s: WatchState, ch: FillChannel | "account_all_positions", now: number): void {
  if (s.session.subscribed.includes(ch)) return;
  s.session.subscribed.push(ch);
  if (ch !== "account_all_positions") s.ledger.noteSubscribed(ch, now);
}

function onOrders(s: WatchState, fx: WatchEffect[], e: Extract<WatchEvent, { kind: "orders" }>, now: number): void {
  seen(s, e.channel, now);
  if (e.channel === "account_orders") {
    const m = e.market ?? e.orders[0]?.marketIndex ?? null;
    if (m !== null && s.cfg.markets.includes(m) && !s.session.ordersAcked.includes(m)) s.session.ordersAcked.push(m);
    // Coverage starts once every watched market answered (an ack, or its first update).
    if (s.cfg.markets.every((x) => s.session.ordersAcked.includes(x))) ack(s, "account_orders", now);
  }
  for (const r of s.ledger.noteOrders(e.channel, e.orders, now, e.snapshot)) noteFillMark(s, r.market, r.at);
  onWsOrders(s, fx, e.orders, now);
}

function onPositions(s: WatchState, positions: PositionReport[], snapshot: boolean, at: number): void {
  // A snapshot lists the markets with a position or open orders: every other market is flat.
  if (snapshot) {
    s.positions = {};
    s.positionsSnapshotAt = at;
  }
  for (const p of positions) {
    const key = String(p.market);
    const flat = s.positionsSnapshotAt !== null ? { scaled: "0", position: "0", at: s.positionsSnapshotAt } : undefined;
    const prev = s.positions[key] ?? flat;
    s.positions[key] = { scaled: p.scaled.toString(), position: p.position, at };
    // A snapshot after a reconnect may differ because of fills in the gap: REST covers those.
    if (prev && !snapshot && prev.scaled !== p.scaled.toString())
      s.moves.push({ market: p.market, from: prev.position, to: p.position, at, prevAt: prev.at });
  }
}

/** Everything that can be judged at `now`: the bot's fills, the channels' fills, position moves. */
function judge(s: WatchState, fx: WatchEffect[], now: number): void {
  judgeBot(s, fx, now);
  const { decided, lateAfterMiss } = s.ledger.judge(now, s.cfg.markets);
  if (decided.length > 0 || lateAfterMiss.length > 0) {
    onJudged(s, fx, now, decided, lateAfterMiss);
    moveMark(s);
    if (lateAfterMiss.length > 0 || decided.some((d) => d.judgement.kind === "missed"))
      s.rec.misses = s.ledger.openMisses().slice(-MAX_STORED_MISSES);
  }
  for (const d of decided) if (d.judgement.kind === "missed") wantEvidence(s, d.fill.market, [d.fill.orderIndex]);
  // A move is judged once a reconciliation after its window has read REST.
  const okAt = s.rec.lastOkAt;
  const ready = s.moves.filter((m) => okAt !== null && okAt > m.at + s.cfg.windowMs);
  if (ready.length === 0) return;
  s.moves = s.moves.filter((m) => !ready.includes(m));
  const judged = ready.map((m) => ({ ...m, explained: moveExplained(m, s.fillMarks, s.cfg.windowMs, s.cfg.secondMs) }));
  for (const m of judged) if (!m.explained) wantEvidence(s, m.market, []);
  onMoves(s, fx, now, judged);
}

function wantEvidence(s: WatchState, market: number, orderIndexes: string[]): void {
  const at = s.evidenceWanted.find(([m]) => m === market);
  if (at) at[1].push(...orderIndexes);
  else s.evidenceWanted.push([market, [...orderIndexes]]);
}
