/**
 * Bot reconciliation inside a watch monitor: takes the bot's accepted batches (rate-limited,
 * idempotent, stored before they count), the fills REST showed and the amounts the WebSocket
 * showed; on every step judges them with the pure ledger and turns the verdicts into events,
 * counters and three alert streams — `bot` (bot_missed_fill, grouped into one incident with
 * reminders), `bot_phantom` (bot_phantom_fill) and `bot_ingest` (bot_ingest_silent, which holds
 * misses back). `bot_late` is an event and /status entry with its delay. Rebuilt from SQLite after
 * an eviction (bot-store.ts).
 */
import type { CheckResult } from "../../worker/alerts/alert-policy.ts";
import { formatDecimal, rescale, tryParseDecimal } from "../../worker/lighter/decimal.ts";
import type { Order } from "../../worker/lighter/messages.ts";
import { ACTIONS, type Diagnosis } from "../../worker/monitor/diagnosis.ts";
import { BOT_SCALE, admitIngest, type IngestRate, type SeenReport } from "../../worker/monitor/watch/bot-ingest.ts";
import { BotLedger, type BotDecided, type ExchangeFill, type Phantom } from "../../worker/monitor/watch/bot-ledger.ts";
import { botPassResult } from "../../worker/monitor/watch/bot-rules.ts";
import type { RestFill } from "../../worker/monitor/watch/ledger.ts";
import type { DeliveryMetrics } from "../../worker/api/metrics-bot.ts";
import type { Alerting, AlertStream } from "../alerting.ts";
import { bumpCounter } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { BotStore } from "./bot-store.ts";
import { DeliveryLatency } from "./delivery.ts";

const MAX_RECENT = 20;
const MAX_IN_EVIDENCE = 10;
const MAX_WS_MARKS = 20_000;
type BotStream = Extract<AlertStream, "bot" | "bot_phantom" | "bot_ingest">;
const STREAMS: readonly BotStream[] = ["bot", "bot_phantom", "bot_ingest"];

export type IngestOutcome =
  | { kind: "accepted"; reports: number; duplicate: boolean }
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "not_enabled"; reason: string };

export interface BotFinding {
  trade_id: string;
  order_index: string;
  client_order_index: string | null;
  market: number;
  side: string;
  amount: string;
  /** The order's cumulative amount after this fill, which the bot's report had to reach. */
  filled_after: string;
  trade_at: number;
  verdict: string;
  delay_ms: number | null;
}

function amountText(v: bigint): string {
  const s = formatDecimal(v, BOT_SCALE).replace(/0+$/, "");
  return s.endsWith(".") ? s.slice(0, -1) : s;
}

export class BotWatch {
  readonly latency: DeliveryLatency;
  readonly counts: Record<string, number> = { fills: 0, reported: 0, late: 0, missed: 0, phantom: 0 };
  readonly recentMisses: BotFinding[] = [];
  readonly recentLate: BotFinding[] = [];
  readonly recentPhantoms: Record<string, unknown>[] = [];
  ingestCounts = { batches: 0, reports: 0, heartbeats: 0, duplicates: 0, rate_limited: 0 };
  private readonly c: MonitorContext;
  private readonly alerting: Alerting;
  private readonly store: BotStore;
  private ledger: BotLedger | null = null;
  private readonly rate: IngestRate = { times: [] };
  private readonly wsMarks = new Set<string>();
  private silenceAlerted = false;
  private seq = 0;
  /** Per stream: passes still needed to resolve its open incident (absent: none open). */
  private readonly open = new Map<BotStream, number>();

  constructor(c: MonitorContext, alerting: Alerting) {
    this.c = c;
    this.alerting = alerting;
    this.store = new BotStore(c.sql);
    this.latency = new DeliveryLatency(c.sql, c.now());
    for (const i of alerting.openIncidents() as { kind: AlertStream }[])
      if ((STREAMS as readonly string[]).includes(i.kind))
        this.open.set(i.kind as BotStream, this.resolveAfter(i.kind));
    this.silenceAlerted = this.open.has("bot_ingest");
  }

  get enabled(): boolean {
    return Boolean(this.c.cfg?.bot && this.c.cfg.watch);
  }

  private resolveAfter(stream: AlertStream): number {
    return stream === "bot" ? (this.c.cfg?.watch?.resolveAfterCycles ?? 3) : 1;
  }

  /** The ledger, built (and replayed from SQLite) on first use after a start or an eviction. */
  private get book(): BotLedger | null {
    const bot = this.c.cfg?.bot;
    if (!bot) return null;
    if (
      this.ledger &&
      this.ledger.o.windowMs === this.c.scale(bot.windowMs) &&
      this.ledger.o.silenceMs === this.c.scale(bot.silenceMs)
    )
      return this.ledger;
    const l = new BotLedger(
      {
        windowMs: this.c.scale(bot.windowMs),
        silenceMs: this.c.scale(bot.silenceMs),
        lateWatchMs: this.c.scale(bot.windowMs * 30),
        skewMs: this.c.scale(1_000),
        maxOrders: 5_000,
        maxFills: 5_000,
      },
      this.c.now(),
    );
    const contact = this.store.contact();
    if (contact.first !== null) l.noteContact(contact.first);
    if (contact.last !== null) l.noteContact(contact.last);
    for (const w of this.store.wsAmounts()) l.noteWsOrder(w.orderIndex, w.clientOrderIndex, w.market, w.cum, w.at);
    // Judged fills still count toward their orders' amounts; a miss is only watched for a late report.
    for (const f of this.store.fills()) l.noteRestFill(f.fill, f.state);
    for (const r of this.store.reports()) l.noteReport(r.report, r.at);
    this.ledger = l;
    return l;
  }

  // ------------------------------------------------------------------ inputs

  /** One batch from the bot (already parsed and authenticated by the Worker); [] is a heartbeat. */
  ingest(reports: readonly SeenReport[], key: string): IngestOutcome {
    const ledger = this.book;
    if (!ledger)
      return { kind: "not_enabled", reason: 'the monitor has no bot block: add "bot": {} to it in MONITORS' };
    const now = this.c.now();
    const wait = admitIngest(this.rate, now);
    if (wait > 0) {
      this.ingestCounts.rate_limited++;
      return { kind: "rate_limited", retryAfterMs: wait };
    }
    const { resumed } = ledger.noteContact(now);
    this.store.saveContact(ledger.firstContactAt ?? now, now);
    if (resumed && this.silenceAlerted) {
      this.silenceAlerted = false;
      this.c.event("info", "bot.ingest_resumed", { at: now }, null);
      this.alert("bot_ingest", "pass", "bot_ingest_silent", {});
    }
    if (reports.length === 0) {
      this.ingestCounts.heartbeats++;
      return { kind: "accepted", reports: 0, duplicate: false };
    }
    if (this.store.seenBatch(key)) {
      this.ingestCounts.duplicates++;
      return { kind: "accepted", reports: reports.length, duplicate: true };
    }
    this.store.saveBatch(key, reports, now);
    for (const r of reports) ledger.noteReport(r, now);
    this.ingestCounts.batches++;
    this.ingestCounts.reports += reports.length;
    return { kind: "accepted", reports: reports.length, duplicate: false };
  }

  /** Order objects of the account from an order channel (the amounts the exchange showed). */
  onWsOrders(orders: readonly Order[], at: number): void {
    const ledger = this.enabled ? this.book : null;
    if (!ledger) return;
    const account = this.c.cfg!.accountIndex;
    for (const o of orders) {
      if (o.ownerAccountIndex !== null && o.ownerAccountIndex !== account) continue;
      const orderIndex = o.orderIndex.toString();
      const cum = rescale(o.filledBase, BOT_SCALE);
      const mark = `${orderIndex}:${cum.toString()}`;
      const coi = o.clientOrderIndex.toString();
      const t = o.transactionTimeUs !== null ? o.transactionTimeUs / 1000 : at;
      ledger.noteWsOrder(orderIndex, coi, o.marketIndex, cum, t);
      if (this.wsMarks.has(mark)) continue;
      this.wsMarks.add(mark);
      if (this.wsMarks.size > MAX_WS_MARKS) this.wsMarks.delete(this.wsMarks.values().next().value!);
      this.store.saveWsAmount(orderIndex, cum, coi, o.marketIndex, t);
    }
  }

  /** Fills REST showed for the first time. */
  onRestFills(fills: readonly RestFill[]): void {
    const ledger = this.enabled ? this.book : null;
    if (!ledger) return;
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
      this.store.saveFill(fill, this.c.now());
      ledger.noteRestFill(fill);
    }
  }

  /** A REST reconciliation that started at `at` read up to the newest trade. */
  onCaughtUp(at: number): void {
    if (this.enabled) this.book?.noteCaughtUp(at);
  }

  // ------------------------------------------------------------------ judging

  /** One step: silence, then every fill and report that can be decided now. */
  step(now: number): void {
    this.latency.maybeSave(now);
    const ledger = this.enabled ? this.book : null;
    if (!ledger) return;
    if (ledger.silent(now) && !this.silenceAlerted) {
      this.silenceAlerted = true;
      const evidence = {
        last_contact_at: ledger.lastContactAt,
        silence_ms: ledger.o.silenceMs,
        pending_fills: ledger.pendingFills,
      };
      this.c.event("error", "bot.ingest_silent", evidence, null);
      this.alert("bot_ingest", "fail", "bot_ingest_silent", evidence);
    }
    const r = ledger.judge(now);
    this.onDecided(r.decided, r.lateAfterMiss);
    this.onPhantoms(r.phantoms, r.confirmed);
    this.store.prune(now);
  }

  private finding(d: BotDecided): BotFinding {
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

  private push<T>(list: T[], v: T): void {
    list.push(v);
    if (list.length > MAX_RECENT) list.shift();
  }

  private onDecided(decided: BotDecided[], lateAfterMiss: BotDecided[]): void {
    for (const d of decided) {
      const f = this.finding(d);
      this.counts.fills = (this.counts.fills ?? 0) + 1;
      this.counts[f.verdict] = (this.counts[f.verdict] ?? 0) + 1;
      bumpCounter(this.c.sql, `bot.fills.${f.verdict}`);
      this.store.setFillState(d.fill.key, f.verdict === "missed" ? "missed" : "done");
      if (d.judgement.kind === "reported") this.latency.onBotLag(d.fill.market, d.judgement.lagMs, this.c.now());
      else if (d.judgement.kind === "late") {
        this.latency.onBotLag(d.fill.market, d.judgement.delayMs, this.c.now());
        this.push(this.recentLate, f);
        this.c.event("warn", "bot.late", { ...f, window_ms: this.book?.o.windowMs }, null);
      } else if (d.judgement.kind === "missed") {
        this.push(this.recentMisses, f);
        this.c.event("error", "bot.missed_fill", { ...f, window_ms: this.book?.o.windowMs }, null);
      }
    }
    for (const d of lateAfterMiss) {
      const f = this.finding(d);
      this.counts.late_after_miss = (this.counts.late_after_miss ?? 0) + 1;
      this.store.setFillState(d.fill.key, "done");
      this.push(this.recentLate, f);
      this.c.event("warn", "bot.late", { ...f, after_alert: true }, null);
    }
    const result = botPassResult(decided.map((d) => d.judgement));
    if (result === null) return;
    const missed = decided.filter((d) => d.judgement.kind === "missed").map((d) => this.finding(d));
    const first = missed[0];
    this.alert(
      "bot",
      result,
      "bot_missed_fill",
      first
        ? {
            order_index: first.order_index,
            client_order_index: first.client_order_index,
            market: first.market,
            side: first.side,
            amount: first.amount,
            trade_id: first.trade_id,
            trade_at: first.trade_at,
            window_ms: this.book?.o.windowMs ?? null,
            bot_last_contact_at: this.book?.lastContactAt ?? null,
            missed_fills: missed.slice(0, MAX_IN_EVIDENCE),
            missed_count: missed.length,
          }
        : { reported: decided.filter((d) => d.judgement.kind === "reported").length },
    );
  }

  private onPhantoms(phantoms: Phantom[], confirmed: number): void {
    for (const p of phantoms) {
      const f = {
        order_index: p.orderIndex,
        client_order_index: p.clientOrderIndex,
        reported_filled_base: amountText(p.reported),
        exchange_filled_base: amountText(p.exchange),
        seen_at: p.seenAt,
      };
      this.counts.phantom = (this.counts.phantom ?? 0) + 1;
      bumpCounter(this.c.sql, "bot.fills.phantom");
      this.push(this.recentPhantoms, f);
      this.c.event("error", "bot.phantom_fill", f, null);
    }
    if (phantoms.length > 0)
      this.alert("bot_phantom", "fail", "bot_phantom_fill", {
        ...this.recentPhantoms[this.recentPhantoms.length - 1],
        phantoms: this.recentPhantoms.slice(-phantoms.length).slice(0, MAX_IN_EVIDENCE),
        phantom_count: phantoms.length,
      });
    else if (confirmed > 0) this.alert("bot_phantom", "pass", "bot_phantom_fill", {});
  }

  private alert(stream: BotStream, verdict: "pass" | "fail", diagnosis: Diagnosis, evidence: Record<string, unknown>) {
    if (verdict === "pass") {
      const left = this.open.get(stream);
      if (left === undefined) return;
      if (left <= 1) this.open.delete(stream);
      else this.open.set(stream, left - 1);
    } else this.open.set(stream, this.resolveAfter(stream));
    const now = this.c.now();
    const result: CheckResult = {
      checkId: `${now}-bot-${++this.seq}`,
      at: now,
      verdict,
      firstFailingStage: null,
      diagnosis: verdict === "fail" ? diagnosis : null,
      flatten: null,
      action: verdict === "fail" ? ACTIONS[diagnosis] : null,
      evidence,
    };
    this.alerting.onCheck(result, stream, this.resolveAfter(stream));
  }

  // ------------------------------------------------------------------ views

  /** GET /metrics: latency per window (the bot's lag as channel "bot"), judged fills, ingest requests. */
  metrics(): DeliveryMetrics {
    const now = this.c.now();
    const book = this.latency.book;
    return {
      latency: { "1h": book.view("1h", now), "24h": book.view("24h", now) },
      bot_fills: this.enabled ? { ...this.counts } : null,
      bot_ingest: this.enabled ? { ...this.ingestCounts } : null,
    };
  }

  view(): Record<string, unknown> {
    const bot = this.c.cfg?.bot;
    const ledger = this.enabled ? this.book : null;
    const now = this.c.now();
    return {
      enabled: ledger !== null,
      window_ms: bot ? this.c.scale(bot.windowMs) : null,
      silence_ms: bot ? this.c.scale(bot.silenceMs) : null,
      first_contact_at: ledger?.firstContactAt ?? null,
      last_contact_at: ledger?.lastContactAt ?? null,
      silent: ledger ? ledger.silent(now) : null,
      ingest: { ...this.ingestCounts },
      stored: this.store.counts(),
      pending_fills: ledger?.pendingFills ?? 0,
      tracked_orders: ledger?.trackedOrders ?? 0,
      fills_before_first_contact: ledger?.beforeFirstContact ?? 0,
      reports_not_judged_for_phantoms: ledger?.exemptReports ?? 0,
      fills: { ...this.counts },
      recent_misses: this.recentMisses.slice(-10),
      recent_late: this.recentLate.slice(-10),
      recent_phantoms: this.recentPhantoms.slice(-10),
    };
  }
}
