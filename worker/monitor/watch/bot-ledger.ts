/**
 * The state of bot reconciliation, pure: per order, what the exchange showed (REST trades, each
 * trade id once, and the cumulative `filled_base_amount` of WebSocket frames) and the bot's
 * frontier of reports; the exchange fills waiting for a verdict; the bot's contact times. `judge`
 * applies bot-rules.ts to every fill and report it can decide. Bounded: at most `maxOrders`
 * orders and `maxFills` fills waiting; the oldest go first and are counted.
 */
import { addLevel, firstReached, ingestSilent, judgeBotFill, phantomCheck, topLevel } from "./bot-rules.ts";
import type { BotJudgement, BotLevel } from "./bot-rules.ts";
import type { SeenReport } from "./bot-ingest.ts";

const MAX_WS_CUMS = 32;

/** A fill of the account as REST showed it, amounts at BOT_SCALE. */
export interface ExchangeFill {
  /** `<trade id>:<side>` (a self-trade is two fills). */
  key: string;
  tradeId: string;
  orderIndex: string;
  /** null (or "0") when the trade row carries none (LIVE.md L.13.2). */
  clientOrderIndex: string | null;
  market: number;
  side: "buy" | "sell";
  size: bigint;
  /** As the exchange wrote it ("0.0200"). */
  sizeText: string;
  /** The exchange's time of the trade (ms). */
  fillAt: number;
}

export interface BotDecided {
  fill: ExchangeFill;
  /** The order's cumulative amount after this fill (at BOT_SCALE). */
  level: bigint;
  judgement: BotJudgement;
}

export interface Phantom {
  orderIndex: string | null;
  clientOrderIndex: string | null;
  reported: bigint;
  exchange: bigint;
  seenAt: number;
}

export interface BotLedgerOptions {
  windowMs: number;
  silenceMs: number;
  /** How long a missed fill is still watched for a late report. */
  lateWatchMs: number;
  /** How far a WebSocket frame's time may be off the trade's (matching trades to the first frame). */
  skewMs: number;
  maxOrders: number;
  maxFills: number;
}

interface OrderFacts {
  orderIndex: string;
  clientOrderIndex: string | null;
  market: number | null;
  /** Cumulative amounts the WebSocket showed for the order, with the frame's time (bounded). */
  wsCums: Map<bigint, number>;
  wsMax: bigint;
  /** REST trades of the order, by trade id. */
  trades: Map<string, { size: bigint; at: number }>;
  bot: BotLevel[];
  /** The highest bot amount already judged a phantom (never alerted twice). */
  phantomAt: bigint;
  /** The highest bot amount the exchange confirmed. */
  confirmed: bigint;
}

export class BotLedger {
  readonly o: BotLedgerOptions;
  private readonly orders = new Map<string, OrderFacts>();
  private readonly byCoi = new Map<string, string>();
  /** Reports naming only a client order index the exchange has not shown yet. */
  private readonly unresolved = new Map<string, BotLevel[]>();
  private readonly pending = new Map<string, ExchangeFill>();
  private readonly missed = new Map<string, ExchangeFill>();
  /** Exchange fill keys already taken (each once). */
  private readonly known = new Set<string>();
  readonly startedAt: number;
  lastContactAt: number | null = null;
  firstContactAt: number | null = null;
  /** No miss is decided before this: the end of the last silence plus the window. */
  holdUntil: number | null = null;
  caughtUpAt: number | null = null;
  /** REST shows every trade from here on (the first complete reconciliation); null before. */
  coverageFrom: number | null = null;
  /**
   * Reports seen before this are a bot's (re)start replaying what it knew: never judged phantoms
   * (their fills may predate what REST covers). The first contact, or a return from silence, plus the window.
   */
  replayUntil: number | null = null;
  /** Reports not judged for phantoms (replays, or before REST covered them). */
  exemptReports = 0;
  droppedOrders = 0;
  droppedFills = 0;
  /** Fills made before the bot first reported (not judged). */
  beforeFirstContact = 0;

  constructor(o: BotLedgerOptions, startedAt: number) {
    this.o = o;
    this.startedAt = startedAt;
  }

  get pendingFills(): number {
    return this.pending.size;
  }

  get trackedOrders(): number {
    return this.orders.size;
  }

  silent(now: number): boolean {
    return ingestSilent(this.lastContactAt, this.startedAt, this.o.silenceMs, now);
  }

  private order(orderIndex: string): OrderFacts {
    let f = this.orders.get(orderIndex);
    if (f) {
      this.orders.delete(orderIndex);
      this.orders.set(orderIndex, f);
      return f;
    }
    f = {
      orderIndex,
      clientOrderIndex: null,
      market: null,
      wsCums: new Map(),
      wsMax: 0n,
      trades: new Map(),
      bot: [],
      phantomAt: 0n,
      confirmed: 0n,
    };
    this.orders.set(orderIndex, f);
    while (this.orders.size > this.o.maxOrders) {
      const oldest = this.orders.keys().next().value as string;
      const gone = this.orders.get(oldest)!;
      if (gone.clientOrderIndex) this.byCoi.delete(gone.clientOrderIndex);
      this.orders.delete(oldest);
      this.droppedOrders++;
    }
    return f;
  }

  private link(f: OrderFacts, coi: string | null): void {
    if (!coi || coi === "0" || f.clientOrderIndex === coi) return;
    f.clientOrderIndex = coi;
    this.byCoi.set(coi, f.orderIndex);
    const waiting = this.unresolved.get(coi);
    if (waiting) {
      for (const l of waiting) f.bot = addLevel(f.bot, l);
      this.unresolved.delete(coi);
    }
  }

  /** A request from the bot (a batch or a heartbeat) arrived. */
  noteContact(at: number): { resumed: boolean } {
    const wasSilent = this.silent(at);
    if (this.firstContactAt === null || wasSilent) this.replayUntil = at + this.o.windowMs;
    this.firstContactAt ??= at;
    this.lastContactAt = Math.max(this.lastContactAt ?? at, at);
    if (wasSilent) this.holdUntil = at + this.o.windowMs;
    return { resumed: wasSilent };
  }

  /** One accepted report; its time is `seen_at`, never later than when it arrived. */
  noteReport(r: SeenReport, receivedAt: number): void {
    const l: BotLevel = { cum: r.filled, at: Math.min(r.seenAt, receivedAt) };
    const orderIndex = r.orderIndex ?? (r.clientOrderIndex ? this.byCoi.get(r.clientOrderIndex) : undefined);
    if (orderIndex === undefined) {
      const coi = r.clientOrderIndex!;
      this.unresolved.set(coi, addLevel(this.unresolved.get(coi) ?? [], l));
      while (this.unresolved.size > this.o.maxOrders) this.unresolved.delete(this.unresolved.keys().next().value!);
      return;
    }
    const f = this.order(orderIndex);
    this.link(f, r.clientOrderIndex);
    f.bot = addLevel(f.bot, l);
  }

  /** An order object from a WebSocket frame (either order channel). */
  noteWsOrder(orderIndex: string, clientOrderIndex: string, market: number, cum: bigint, at: number): void {
    const f = this.order(orderIndex);
    f.market = market;
    this.link(f, clientOrderIndex);
    if (f.wsCums.size < MAX_WS_CUMS && !f.wsCums.has(cum)) f.wsCums.set(cum, at);
    if (cum > f.wsMax) f.wsMax = cum;
  }

  /**
   * A fill REST showed (each key once). After an eviction, fills already judged come back as
   * `done` (they count toward their order's amount only) or `missed` (watched for a late report,
   * never judged or alerted again).
   */
  noteRestFill(fill: ExchangeFill, state: "pending" | "missed" | "done" = "pending"): void {
    if (this.known.has(fill.key)) return;
    this.known.add(fill.key);
    while (this.known.size > this.o.maxFills * 4) this.known.delete(this.known.keys().next().value!);
    const f = this.order(fill.orderIndex);
    f.market = fill.market;
    this.link(f, fill.clientOrderIndex);
    f.trades.set(fill.tradeId, { size: fill.size, at: fill.fillAt });
    if (state === "missed") this.missed.set(fill.key, fill);
    if (state !== "pending") return;
    this.pending.set(fill.key, fill);
    while (this.pending.size > this.o.maxFills) {
      this.pending.delete(this.pending.keys().next().value!);
      this.droppedFills++;
    }
  }

  /** A REST reconciliation that started at `at` read up to the newest trade. */
  noteCaughtUp(at: number): void {
    this.caughtUpAt = Math.max(this.caughtUpAt ?? at, at);
    this.coverageFrom ??= at;
  }

  /** Whether a report at `at` can be judged a phantom: REST covered its window and it is no replay. */
  private judgeable(at: number): boolean {
    if (this.coverageFrom === null || at < this.coverageFrom + this.o.windowMs) return false;
    return this.replayUntil === null || at > this.replayUntil;
  }

  /**
   * The order's amount before the trades REST showed. Every amount a WebSocket frame showed is that
   * baseline plus the sizes of the first m trades, or more than all of them (REST lags the
   * WebSocket), so the baseline is the smallest value consistent with every frame (0 without
   * frames). Smallest: a level is never overstated, so a report of the true amount always covers
   * its fill (an order that partly filled before the watch may get a lower level: a weaker check,
   * never a false alert).
   */
  private baseline(f: OrderFacts): bigint {
    if (f.wsCums.size === 0) return 0n;
    const sums = [0n];
    const sorted = [...f.trades].sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1));
    for (const [, t] of sorted) sums.push(sums[sums.length - 1]! + t.size);
    const all = sums[sums.length - 1]!;
    const prefix = new Set(sums);
    const fits = (b: bigint) => [...f.wsCums.keys()].every((c) => c - b >= all || prefix.has(c - b));
    const candidates = new Set<bigint>([0n]);
    for (const c of f.wsCums.keys()) for (const p of sums) if (c >= p) candidates.add(c - p);
    for (const b of [...candidates].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) if (fits(b)) return b;
    return 0n;
  }

  /** The order's cumulative amount right after trade `tradeId` (trade ids grow with time). */
  levelAfter(fill: ExchangeFill): bigint {
    const f = this.orders.get(fill.orderIndex);
    if (!f) return fill.size;
    let sum = this.baseline(f);
    const id = BigInt(fill.tradeId);
    for (const [tid, t] of f.trades) if (BigInt(tid) <= id) sum += t.size;
    return sum;
  }

  /** What the exchange shows for an order (at least what any WebSocket frame said). */
  exchangeCum(orderIndex: string): bigint {
    const f = this.orders.get(orderIndex);
    if (!f) return 0n;
    let sum = this.baseline(f);
    for (const t of f.trades.values()) sum += t.size;
    return sum > f.wsMax ? sum : f.wsMax;
  }

  /** Decides what can be decided at `now`. */
  judge(now: number): { decided: BotDecided[]; lateAfterMiss: BotDecided[]; phantoms: Phantom[]; confirmed: number } {
    const silent = this.silent(now);
    const decided: BotDecided[] = [];
    for (const [key, fill] of this.pending) {
      if (this.firstContactAt === null || fill.fillAt < this.firstContactAt - this.o.silenceMs) {
        // Made before the bot ever reported: nothing to hold it to (yet).
        if (this.firstContactAt !== null) {
          this.pending.delete(key);
          this.beforeFirstContact++;
        }
        continue;
      }
      const level = this.levelAfter(fill);
      const f = this.orders.get(fill.orderIndex);
      const reachedAt = f ? firstReached(f.bot, level) : null;
      const judgement = judgeBotFill({
        fillAt: fill.fillAt,
        reachedAt,
        windowMs: this.o.windowMs,
        now,
        silent,
        lastContactAt: this.lastContactAt,
        holdUntil: this.holdUntil,
      });
      if (judgement.kind === "pending" || judgement.kind === "held") continue;
      this.pending.delete(key);
      if (judgement.kind === "missed") this.missed.set(key, fill);
      decided.push({ fill, level, judgement });
    }
    const lateAfterMiss: BotDecided[] = [];
    for (const [key, fill] of this.missed) {
      const level = this.levelAfter(fill);
      const f = this.orders.get(fill.orderIndex);
      const reachedAt = f ? firstReached(f.bot, level) : null;
      if (reachedAt !== null) {
        this.missed.delete(key);
        lateAfterMiss.push({
          fill,
          level,
          judgement: { kind: "late", firstAt: reachedAt, delayMs: reachedAt - fill.fillAt },
        });
      } else if (now > fill.fillAt + this.o.lateWatchMs) this.missed.delete(key);
    }
    const phantoms: Phantom[] = [];
    let confirmed = 0;
    for (const f of this.orders.values()) {
      const top = topLevel(f.bot);
      if (!top || top.cum <= f.phantomAt || top.cum <= f.confirmed) continue;
      const exchange = this.exchangeCum(f.orderIndex);
      if (exchange < top.cum && !this.judgeable(top.at)) {
        f.phantomAt = top.cum;
        this.exemptReports++;
        continue;
      }
      const v = phantomCheck({
        reported: top,
        exchangeCum: exchange,
        windowMs: this.o.windowMs,
        caughtUpAt: this.caughtUpAt,
        now,
      });
      if (v === "confirmed") {
        f.confirmed = top.cum;
        confirmed++;
      } else if (v === "phantom") {
        f.phantomAt = top.cum;
        phantoms.push({
          orderIndex: f.orderIndex,
          clientOrderIndex: f.clientOrderIndex,
          reported: top.cum,
          exchange,
          seenAt: top.at,
        });
      }
    }
    for (const [coi, levels] of this.unresolved) {
      const top = topLevel(levels)!;
      if (!this.judgeable(top.at)) continue;
      const v = phantomCheck({
        reported: top,
        exchangeCum: 0n,
        windowMs: this.o.windowMs,
        caughtUpAt: this.caughtUpAt,
        now,
      });
      // A trade row without client ids (LIVE.md L.13) could be this order: wait while one is unexplained.
      if (v !== "phantom" || this.unlinkedFillNear(top.at)) continue;
      this.unresolved.delete(coi);
      phantoms.push({ orderIndex: null, clientOrderIndex: coi, reported: top.cum, exchange: 0n, seenAt: top.at });
    }
    return { decided, lateAfterMiss, phantoms, confirmed };
  }

  /** Whether a fill of an order with no known client order index happened near `at`. */
  private unlinkedFillNear(at: number): boolean {
    for (const f of this.orders.values()) {
      if (f.clientOrderIndex !== null) continue;
      for (const t of f.trades.values()) if (Math.abs(t.at - at) <= this.o.windowMs + this.o.skewMs) return true;
    }
    return false;
  }
}
