/**
 * The watch machine's state: the durable record (`rec`, stored as one row whenever a step changes
 * it, and all a restarted object needs: where the trades walk resumes, the open misses, the REST
 * budget and cooldown, the recent misses shown on /status, the bot ingest rate window and contact
 * times), beside the in-memory parts rebuilt after a restart (the channel ledgers, the session
 * facts, position tracking, counters). `restore` builds the state from a stored record.
 */
import { BotLedger } from "./bot-ledger.ts";
import type { ExchangeFill } from "./bot-ledger.ts";
import type { SeenReport } from "./bot-ingest.ts";
import type { Tier } from "./budget.ts";
import { WatchLedger, type RestFill } from "./ledger.ts";
import type { FillChannel, PositionMove } from "./rules.ts";
import { newWalk, type WalkState } from "./trades-walk.ts";
import type { WatchStream } from "./effects.ts";

/** The monitor's settings as the machine reads them, durations already at time_scale. */
export interface WatchSettings {
  account: string;
  markets: number[];
  windowMs: number;
  reconcileMs: number;
  maxOrders: number;
  restBudgetPerMin: number;
  tier: Tier;
  resolveAfterCycles: number;
  /** One second at time_scale (clock skew allowance, the judging cadence's bound). */
  secondMs: number;
  /** The REST budget's rolling window and the 429/405 cooldown. */
  budgetWindowMs: number;
  rateLimitPauseMs: number;
  bot: { windowMs: number; silenceMs: number } | null;
}

/** One judged fill as /status and the alerts show it. */
export interface FillFinding {
  trade_id: string;
  order_index: string;
  client_order_index: string | null;
  market: number;
  side: "buy" | "sell";
  amount: string;
  trade_price: string;
  trade_at: number | null;
  rest_at: number;
  verdict: string;
  delay_ms: number | null;
  reported_by: Record<string, number | null>;
  missing_on: string[];
}

/** The durable part: one JSON row. */
export interface WatchRecord {
  account: string;
  /** When this watch first ran (the Worker's watchdog flags one that never completes a reconcile). */
  startedAt: number | null;
  /** Where the trades walk resumes: every fill up to this trade id is decided. */
  mark: { id: string; at: number | null } | null;
  /** Fills alerted and still watched for a late report (never alerted twice). */
  misses: RestFill[];
  /** The REST budget's rolling window ([time, units]) and the 429/405 cooldown. */
  budget: { spent: [number, number][]; pausedUntil: number | null };
  /** When the object last spent REST (a lower bound on when it was last alive). */
  aliveAt: number | null;
  /** When the last reconciliation reached the last trade seen. */
  lastOkAt: number | null;
  /** The last misses, for /status. */
  recentMisses: FillFinding[];
  /** The bot ingest rate window as last checkpointed (request times inside the minute). */
  ingest: number[];
  /** The bot's first and last request, as last checkpointed. */
  contact: { first: number | null; last: number | null };
}

export interface SessionFacts {
  state: "closed" | "connecting" | "open";
  conn: number;
  openedAt: number | null;
  lastFrameAt: number | null;
  byChannel: Partial<Record<FillChannel | "account_all_positions", number>>;
  subscribed: (FillChannel | "account_all_positions")[];
  /** Markets whose account_orders channel answered on this session. */
  ordersAcked: number[];
  reconnects: number;
  frames: number;
}

export interface BotPart {
  ledger: BotLedger;
  counts: Record<string, number>;
  ingest: { batches: number; reports: number; heartbeats: number; duplicates: number; rate_limited: number };
  recentMisses: Record<string, unknown>[];
  recentLate: Record<string, unknown>[];
  recentPhantoms: Record<string, unknown>[];
  silenceAlerted: boolean;
  /** `<order>:<cum>` already stored. */
  wsMarks: Set<string>;
  /** Request times inside the last minute (the limit), and admits since the last checkpoint. */
  times: number[];
  unsaved: number;
}

export interface WatchState {
  cfg: WatchSettings;
  rec: WatchRecord;
  ledger: WatchLedger;
  session: SessionFacts;
  walk: WalkState;
  nextReconcileAt: number;
  /** The trades read in flight: its ref, limit, whether it is the first read ever. */
  inFlight: { ref: number; limit: number; first: boolean } | null;
  /** The order evidence read in flight. */
  evidenceInFlight: { ref: number; market: number; orderIndexes: string[] } | null;
  ref: number;
  rateLimited: boolean;
  gapOpen: boolean;
  failingSince: number | null;
  blind: boolean;
  gaps: number;
  restCalls: number;
  positions: Record<string, { scaled: string; position: string; at: number }>;
  positionsSnapshotAt: number | null;
  moves: PositionMove[];
  fillMarks: { market: number; at: number }[];
  evidenceWanted: [number, string[]][];
  /** Per stream: passes still needed to resolve its open incident (absent: none open). */
  streams: Partial<Record<WatchStream, number>>;
  seq: number;
  counts: Record<string, number>;
  recentLate: FillFinding[];
  recentMoves: (PositionMove & { explained: boolean })[];
  bot: BotPart | null;
}

/** What a restarted object reads back besides the record (bot reconciliation's tables, open incidents). */
export interface RestoreInput {
  openStreams: WatchStream[];
  bot: {
    wsAmounts: { orderIndex: string; cum: bigint; clientOrderIndex: string; market: number; at: number }[];
    fills: { fill: ExchangeFill; state: "pending" | "missed" | "done" }[];
    reports: { report: SeenReport; at: number }[];
  };
}

export function newRecord(account: string): WatchRecord {
  return {
    account,
    startedAt: null,
    mark: null,
    misses: [],
    budget: { spent: [], pausedUntil: null },
    aliveAt: null,
    lastOkAt: null,
    recentMisses: [],
    ingest: [],
    contact: { first: null, last: null },
  };
}

/**
 * A cheap key that changes whenever the record does (a step compares it before and after instead
 * of serializing the record twice). Lists only grow at the end or lose items, so their length and
 * last item tell a change; every other field is a plain value. A new field of WatchRecord goes here.
 */
export function recordKey(r: WatchRecord): string {
  const last = <T>(l: readonly T[]): T | undefined => l[l.length - 1];
  return JSON.stringify([
    r.account,
    r.startedAt,
    r.mark,
    r.misses.length,
    last(r.misses)?.tradeId,
    last(r.misses)?.side,
    r.budget.spent.length,
    last(r.budget.spent),
    r.budget.pausedUntil,
    r.aliveAt,
    r.lastOkAt,
    r.recentMisses.length,
    last(r.recentMisses)?.trade_id,
    last(r.recentMisses)?.side,
    r.ingest.length,
    last(r.ingest),
    r.contact,
  ]);
}

/** At most this many open misses are kept in the record. */
export const MAX_STORED_MISSES = 100;

/** How many bot requests may be admitted between two checkpoints of the rate window. */
export const INGEST_CHECKPOINT = 10;

export function resolveAfter(cfg: WatchSettings, stream: WatchStream): number {
  return stream === "watch" || stream === "bot" ? cfg.resolveAfterCycles : 1;
}

export function newLedger(cfg: WatchSettings, misses: readonly RestFill[]): WatchLedger {
  const l = new WatchLedger({
    account: cfg.account,
    windowMs: cfg.windowMs,
    maxOrders: cfg.maxOrders,
    skewMs: cfg.secondMs,
    lateWatchMs: cfg.windowMs * 30,
  });
  l.restoreMisses(misses);
  return l;
}

export function newBotPart(
  cfg: WatchSettings,
  rec: WatchRecord,
  now: number,
  input: RestoreInput["bot"] | null,
): BotPart | null {
  const bot = cfg.bot;
  if (!bot) return null;
  const l = new BotLedger(
    {
      windowMs: bot.windowMs,
      silenceMs: bot.silenceMs,
      lateWatchMs: bot.windowMs * 30,
      skewMs: cfg.secondMs,
      maxOrders: 5_000,
      maxFills: 5_000,
    },
    now,
  );
  if (rec.contact.first !== null) l.noteContact(rec.contact.first);
  if (rec.contact.last !== null) l.noteContact(rec.contact.last);
  for (const w of input?.wsAmounts ?? []) l.noteWsOrder(w.orderIndex, w.clientOrderIndex, w.market, w.cum, w.at);
  // Judged fills still count toward their orders' amounts; a miss is only watched for a late report.
  for (const f of input?.fills ?? []) l.noteRestFill(f.fill, f.state);
  for (const r of input?.reports ?? []) l.noteReport(r.report, r.at);
  // Requests admitted after the last checkpoint are unknown: count the most there can have been, now.
  const times = rec.ingest.filter((t) => t > now - 60_000);
  if (rec.ingest.length > 0) for (let i = 1; i < INGEST_CHECKPOINT; i++) times.push(now);
  return {
    ledger: l,
    counts: { fills: 0, reported: 0, late: 0, missed: 0, phantom: 0 },
    ingest: { batches: 0, reports: 0, heartbeats: 0, duplicates: 0, rate_limited: 0 },
    recentMisses: [],
    recentLate: [],
    recentPhantoms: [],
    silenceAlerted: false,
    wsMarks: new Set(),
    times,
    unsaved: 0,
  };
}

/** The state of a watch from its stored record (null: never ran, or another account's). */
export function restore(cfg: WatchSettings, stored: WatchRecord | null, input: RestoreInput, now: number): WatchState {
  const rec = stored && stored.account === cfg.account ? stored : newRecord(cfg.account);
  const mark = rec.mark ? { id: BigInt(rec.mark.id), at: rec.mark.at } : null;
  const streams: Partial<Record<WatchStream, number>> = {};
  for (const s of input.openStreams) streams[s] = resolveAfter(cfg, s);
  const bot = newBotPart(cfg, rec, now, input.bot);
  if (bot) bot.silenceAlerted = streams.bot_ingest !== undefined;
  return {
    cfg,
    rec,
    ledger: newLedger(cfg, rec.misses),
    session: {
      state: "closed",
      conn: 0,
      openedAt: null,
      lastFrameAt: null,
      byChannel: {},
      subscribed: [],
      ordersAcked: [],
      reconnects: 0,
      frames: 0,
    },
    walk: newWalk(mark),
    nextReconcileAt: 0,
    inFlight: null,
    evidenceInFlight: null,
    ref: 0,
    rateLimited: false,
    gapOpen: false,
    failingSince: null,
    blind: false,
    gaps: 0,
    restCalls: 0,
    positions: {},
    positionsSnapshotAt: null,
    moves: [],
    fillMarks: [],
    evidenceWanted: [],
    streams,
    seq: 0,
    counts: { fills: 0, reported: 0, late: 0, missed: 0, gap: 0, missing_on_channel: 0 },
    recentLate: [],
    recentMoves: [],
    bot,
  };
}
