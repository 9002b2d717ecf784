/**
 * The synthetic check as one pipeline, read top to bottom: a trigger is admitted (or counted as a
 * skipped tick); the session stages run (stages.ts); pre-flight decides; the test order is signed
 * ahead and handed to the core's order path (order-path.ts); every path ends in one verdict
 * (verdict.ts), at the latest when the check's hard bound passes; then the flatten (flatten.ts).
 * The rules live in worker/monitor/check/; this class performs their effects.
 */
import { newOrderFacts, noteLookup, resolution } from "../../worker/monitor/check/order.ts";
import { checkBoundMs, PHASES, type Phase } from "../../worker/monitor/check/phases.ts";
import { preflight } from "../../worker/monitor/check/preflight.ts";
import { admitTick, boundOutcome } from "../../worker/monitor/check/ticks.ts";
import type { Order } from "../../worker/lighter/messages.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import type { Alerting } from "../alerting.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { Feed, type FeedListener, type OrderChannel } from "./feed.ts";
import { Flattener } from "./flatten.ts";
import { currentId, markStage, runningCheck, runningCheckNamed, setPhase } from "./marks.ts";
import { lookup, nextClientOrderIndex, signAhead } from "./order-io.ts";
import { OrderPath, signedExpiry } from "./order-path.ts";
import { gatherPreflight, isPaused } from "./preflight-io.ts";
import { SessionStages } from "./stages.ts";
import {
  insertOrder,
  newCheck,
  readCheck,
  readOrder,
  recordTick,
  saveFacts,
  tickCheck,
  writeCheck,
  type CheckRow,
} from "./store.ts";
import { Verdicts } from "./verdict.ts";

export interface StartResult {
  checkId: string;
  duplicate: boolean;
  /** The trigger found a check running: it was counted as a skipped tick (the id is the running check's). */
  running: boolean;
}

const LOCK_POLL_MS = 10_000;

export class CheckRunner implements FeedListener {
  readonly feed: Feed;
  readonly verdicts: Verdicts;
  readonly flattener: Flattener;
  readonly stages: SessionStages;
  readonly orderPath: OrderPath;
  private readonly c: MonitorContext;

  constructor(c: MonitorContext, alerting: Alerting) {
    this.c = c;
    this.feed = new Feed(c, this);
    this.verdicts = new Verdicts(c, this.feed, alerting);
    this.flattener = new Flattener(c, this.feed, alerting, this.verdicts);
    this.stages = new SessionStages(c, this.feed, this.verdicts, (check) => this.toPreflight(check));
    this.orderPath = new OrderPath(c, this.feed, this.verdicts);
  }

  // ------------------------------------------------------------------ 1. a trigger

  startCheck(tickKey: string, trigger: "cron" | "manual"): StartResult {
    const now = this.c.now();
    const seen = tickCheck(this.c.sql, tickKey);
    if (seen) {
      this.c.event("info", "check.duplicate_tick", { tick: tickKey, check_id: seen.check_id }, seen.check_id || null);
      return { checkId: seen.check_id, duplicate: true, running: seen.outcome === "skipped_running" };
    }
    const lockCoi = getMeta(this.c.sql, "lock_coi");
    const lock = lockCoi ? (readOrder(this.c.sql, lockCoi)?.facts ?? null) : null;
    const d = admitTick({ runningCheckId: currentId(this.c), unresolved: lock, now });
    if (d.kind === "skip_tick") {
      // A trigger during a check never touches it: counted and logged, nothing else.
      recordTick(this.c.sql, tickKey, d.runningCheckId, now, "skipped_running");
      this.c.count("ticks.skipped_running");
      this.c.event("info", "check.tick_skipped", { tick: tickKey, running_check: d.runningCheckId }, d.runningCheckId);
      return { checkId: d.runningCheckId, duplicate: false, running: true };
    }
    const seq = Number(getMeta(this.c.sql, "check_seq") ?? "0") + 1;
    setMeta(this.c.sql, "check_seq", String(seq));
    const id = `${now.toString(36)}-${seq}`;
    recordTick(this.c.sql, tickKey, id, now, "ran");
    const markets = this.c.cfg?.markets ?? [0];
    const check = newCheck(id, tickKey, markets[(seq - 1) % Math.max(1, markets.length)] ?? 0, now, trigger);
    const cfg = this.c.cfg;
    check.bound_at = now + checkBoundMs(cfg?.timeScale ?? 1, { confirm: cfg?.thresholds.restConfirmMs ?? 5_000 });
    writeCheck(this.c.sql, check);
    setMeta(this.c.sql, "current_check", id);
    this.c.event("info", "check.started", { check_id: id, trigger, market: check.market }, id);
    if (d.kind === "skip_check") {
      this.c.setDeadline("lock", now);
      this.verdicts.conclude(id, { verdict: "skipped", diagnosis: d.diagnosis, evidence: d.evidence, flatten: false });
    } else if (isPaused(this.c)) {
      // A paused monitor opens no session and sends nothing: the tick is recorded as skipped.
      this.verdicts.conclude(id, { verdict: "skipped", diagnosis: "paused", flatten: false });
    } else if (!this.c.cfg) {
      const evidence = { problems: this.c.problems };
      this.verdicts.conclude(id, { verdict: "skipped", diagnosis: "config_invalid", evidence, flatten: false });
    } else {
      // The session is opened from the alarm, which stays alive while the check runs: workerd ties
      // an outbound WebSocket to the event that opened it (see hold.ts).
      this.c.setDeadline("bound", check.bound_at, { check: id });
      this.c.setDeadline("drive", now, { check: id });
    }
    return { checkId: id, duplicate: false, running: false };
  }

  // ------------------------------------------------------------------ 2. session stages (feed events)

  onBookSnapshot(market: number, at: number, levels: number): void {
    this.stages.onBookSnapshot(market, at, levels);
  }

  onOrdersSubscribed(market: number, at: number, via: string | null): void {
    this.stages.onOrdersSubscribed(market, at, via);
  }

  onErrorFrame(code: number | null, message: string, at: number): void {
    this.stages.onErrorFrame(code, message, at);
  }

  onClosed(code: number, reason: string, at: number): void {
    this.stages.onClosed(code, reason, at);
  }

  onOrders(orders: Order[], channel: OrderChannel, account: string | null, text: string, at: number): void {
    this.orderPath.onOrders(orders, channel, account, text, at);
  }

  // ------------------------------------------------------------------ 3. pre-flight, 4. the order

  private toPreflight(check: CheckRow): void {
    setPhase(this.c, check, "preflight");
    this.c.spawn(this.preflight(check.id));
  }

  private async preflight(id: string): Promise<void> {
    const c0 = runningCheckNamed(this.c, id);
    if (!c0 || !this.c.cfg) return;
    const inputs = await gatherPreflight(this.c, this.feed, c0.market);
    const c = runningCheckNamed(this.c, id);
    if (!c || c.phase !== "preflight") return;
    const d = preflight(inputs);
    if (d.kind === "wait_book") {
      // The book is resyncing (a gap asked for a fresh snapshot): wait for it, do not skip.
      setPhase(this.c, c, "book");
      if (!this.feed.books.has(c.market)) this.feed.subscribeBook(c.market);
      return;
    }
    if (d.kind !== "go") {
      if (d.kind === "resubscribe_book_and_skip") this.feed.resubscribeBook(c.market);
      const diagnosis = d.kind === "skip" ? d.diagnosis : "book_crossed";
      return this.verdicts.conclude(id, { verdict: "skipped", diagnosis, evidence: d.evidence, flatten: false });
    }
    markStage(this.c, c, "preflight", this.c.now());
    const coi = nextClientOrderIndex(this.c).toString();
    c.evidence = { ...c.evidence, ...d.evidence, client_order_index: coi };
    c.coi = coi;
    writeCheck(this.c.sql, c);
    const spec = inputs.spec.ok ? inputs.spec.value : null;
    const plan = d.plan;
    insertOrder(
      this.c.sql,
      {
        ...{ coi, checkId: id, purpose: "test", market: c.market, isAsk: plan.isAsk, baseAmount: plan.baseAmount },
        ...{ price: plan.price, notionalUsd: plan.notionalUsd },
        ...{ sizeDecimals: spec?.sizeDecimals ?? null, priceDecimals: spec?.priceDecimals ?? null },
      },
      this.c.now(),
    );
    try {
      const row = await signAhead(this.c, this.c.rest(), readOrder(this.c.sql, coi)!, {
        refreshNonce: false,
        reduceOnly: false,
      });
      const account = this.c.cfg.accountIndex.toString();
      const expiredAt = signedExpiry(row.tx_info) ?? this.c.now();
      saveFacts(
        this.c.sql,
        coi,
        newOrderFacts({ coi, account, market: c.market, txHash: row.tx_hash, expiredAt }),
        this.c.now(),
      );
      setMeta(this.c.sql, "lock_coi", coi);
    } catch (err) {
      const evidence = { step: "nonce or signing", error: errorMessage(err) };
      return this.verdicts.conclude(id, { verdict: "fail", diagnosis: "send_failed", evidence });
    }
    this.c.crash("after_write_ahead");
    const cur = runningCheckNamed(this.c, id);
    if (!cur) return;
    cur.evidence.tx_hash = readOrder(this.c.sql, coi)!.tx_hash;
    cur.path = { phase: "send", phaseSince: this.c.now(), round: 1, interrupted: false };
    cur.phase = "send";
    writeCheck(this.c.sql, cur);
    await this.orderPath.kick(id);
  }

  // ------------------------------------------------------------------ deadlines, the bound, resuming

  async onDeadline(name: string, data: { check?: string; phase?: string }): Promise<void> {
    switch (name) {
      case "drive":
        return this.stages.drive(String(data.check ?? ""));
      case "check":
        return this.onPhaseDeadline(String(data.check ?? ""), String(data.phase ?? ""));
      case "bound":
        return this.enforceBound(String(data.check ?? ""));
      case "lock":
        return this.pollLock();
      case "flatten":
        return this.flattener.run();
      case "session_close":
        if (!currentId(this.c) && this.c.cfg?.mode !== "continuous") this.feed.close("idle after check");
        return;
      case "reconnect":
        if (this.c.cfg?.mode === "continuous" && !this.feed.isOpen) await this.stages.reconnectContinuous();
        return;
      default:
        this.c.event("warn", "alarm.unknown_deadline", { deadline: name }, null);
    }
  }

  private async onPhaseDeadline(id: string, phase: string): Promise<void> {
    const c = runningCheckNamed(this.c, id);
    if (!c) return;
    if (c.path) return this.orderPath.kick(id);
    if (c.phase !== phase) return;
    if (c.phase === "connect") {
      return this.verdicts.conclude(id, {
        verdict: "fail",
        diagnosis: "connect_timeout",
        evidence: { url: this.c.cfg?.wsUrl ?? null },
      });
    }
    if (c.phase === "book") {
      const evidence = { channel: `order_book/${c.market}` };
      return this.verdicts.conclude(id, { verdict: "fail", diagnosis: "book_ack_timeout", evidence });
    }
    if (c.phase === "orders") this.stages.ordersAckDeadline(c);
  }

  /** The hard bound, independent of the phase logic: the check gets its verdict now. */
  private enforceBound(id: string): void {
    const c = runningCheckNamed(this.c, id);
    if (!c || c.bound_at === null) return;
    if (this.c.now() < c.bound_at) return this.c.setDeadline("bound", c.bound_at, { check: id });
    const o = c.coi ? readOrder(this.c.sql, c.coi) : null;
    const phase = (c.phase === "done" ? "connect" : c.phase) as Phase;
    const outcome = boundOutcome(phase, o?.facts ?? null, this.c.now());
    this.c.event("error", "check.bound_reached", { phase, diagnosis: outcome.diagnosis }, id);
    const { verdict, diagnosis, evidence } = outcome;
    this.verdicts.conclude(id, { verdict, diagnosis, evidence, stage: PHASES[phase].stage });
  }

  /** Whether an alarm invocation must stay alive: a check, a flatten, an open session or a deadline due soon. */
  active(): boolean {
    if (currentId(this.c)) return true;
    if (getMeta(this.c.sql, "flatten")) return true;
    if (this.feed.isOpen) return true;
    const next = this.c.nextDeadline();
    return next !== null && next - this.c.now() < 2_000;
  }

  /** The alarm invocation reached its cap: a continuous session reconnects from the next one. */
  recycled(): void {
    if (this.feed.isOpen && this.c.cfg?.mode === "continuous") {
      this.feed.close("context recycled");
      this.c.setDeadline("reconnect", this.c.now());
    }
  }

  /** After an eviction or crash: pick the check up where its stored state says it was. */
  async resume(id: string): Promise<void> {
    const c = runningCheckNamed(this.c, id);
    if (!c) return;
    c.evidence.interrupted = true;
    c.evidence.resumed_at = this.c.now();
    if (c.path) c.path = { ...c.path, interrupted: true };
    writeCheck(this.c.sql, c);
    this.c.event("warn", "check.resumed", { phase: c.phase }, c.id);
    if (c.bound_at !== null) this.c.setDeadline("bound", c.bound_at, { check: c.id });
    // Nothing was sent: run the session stages again (stage marks already made stay).
    if (!c.path) return this.stages.drive(c.id);
    this.c.spawn(this.stages.resubscribe(c.id));
    await this.orderPath.kick(c.id);
  }

  /** Between checks: look the unresolved test order up until it is resolved. */
  private async pollLock(): Promise<void> {
    const coi = getMeta(this.c.sql, "lock_coi");
    if (!coi || !this.c.cfg) return;
    const o = readOrder(this.c.sql, coi);
    if (!o?.facts) return setMeta(this.c.sql, "lock_coi", "");
    if (runningCheckNamed(this.c, o.check_id)) return;
    const r = await lookup(this.c, this.c.rest(), o);
    const now = this.c.now();
    const facts = noteLookup(o.facts, r, now);
    saveFacts(this.c.sql, coi, facts, now);
    const res = resolution(facts, now);
    if (res.resolved) {
      setMeta(this.c.sql, "lock_coi", "");
      this.c.event("info", "order.lock_released", { client_order_index: coi, how: res.how }, o.check_id);
      return;
    }
    this.c.setDeadline("lock", now + this.c.scale(LOCK_POLL_MS));
  }

  /** The lock, for /status: the unresolved test order and what it waits for. */
  lockView(): Record<string, unknown> | null {
    const coi = getMeta(this.c.sql, "lock_coi");
    const o = coi ? readOrder(this.c.sql, coi) : null;
    if (!o?.facts) return null;
    const r = resolution(o.facts, this.c.now());
    if (r.resolved) return null;
    const check = readCheck(this.c.sql, o.check_id);
    return {
      client_order_index: o.coi,
      tx_hash: o.tx_hash,
      check_id: o.check_id,
      check_state: check?.state ?? null,
      expired_at: o.facts.expiredAt,
      waiting_for: r.waitingFor,
    };
  }
}
