/**
 * The check machine's interpreter: it holds the machine's state (one record, loaded once), turns
 * triggers, frames, replies and alarms into events, runs `step`, and carries the effects out in
 * order — saving the record when the machine says so (before anything else of that step), the
 * session, REST and signing, the one alarm, history rows, log lines, and alerts, which are handed
 * to the outbox and delivered outside the alarm loop. After an eviction or restart it feeds
 * `restarted` before any other event, so a deadline stored before the restart can never decide.
 */
import { step } from "../../worker/monitor/check/machine.ts";
import type { Effect } from "../../worker/monitor/check/effects.ts";
import type { Event } from "../../worker/monitor/check/events.ts";
import {
  ALERT_STREAM,
  counterOf,
  ourOrders,
  recordStep,
  savesFirst,
  setupChanged,
  setupOf,
  stagesReached,
  writtenAhead,
  type HeldFrames,
} from "../../worker/monitor/check/interpreter.ts";
import { checkHolds } from "../../worker/monitor/runtime.ts";
import {
  initialState,
  nextWake,
  type CheckRecord,
  type MachineState,
  type Setup,
} from "../../worker/monitor/check/state.ts";
import type { Alerting } from "../../worker/alerts/alerting.ts";
import type { AlarmOwner } from "../runtime/alarm.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { EffectCarrier } from "../../worker/monitor/check/carrier.ts";
import { getMeta, setMeta } from "../../worker/store/schema.ts";
import { CheckFeed } from "./feed.ts";
import { loadState, saveState, writeRecord } from "../../worker/store/check/store.ts";

/** How long an alarm invocation outlives a socket it closed (its close handshake runs in it). */
const CLOSE_GRACE_MS = 1_000;

export class CheckShell implements AlarmOwner {
  state: MachineState;
  readonly feed: CheckFeed;
  private readonly io: EffectCarrier;
  private readonly c: MonitorContext;
  private readonly alerting: Alerting;
  /** The stored state this instance started from had something in flight: `restarted` is due. */
  private restartDue: boolean;
  /** When the machine wants its `wake` (its `wake_at`). */
  private wakeAt: number | null;
  /** A connection asked outside an alarm invocation: opened by the next one (a socket lives in the event that opens it). */
  private deferredOpen: { conn: number; timeoutMs: number } | null = null;
  private readonly queue: Event[] = [];
  /** A step asked for `save` and the state is not written yet. */
  private dirty = false;
  /** History rows asked for and not written yet (the latest per check). */
  private readonly records = new Map<string, CheckRecord>();
  /** A check ended in this run of steps: its log lines and counters are written when the run ends. */
  private flushDue = false;
  /** The frames a failed check saw up to its verdict, kept for its row until its flatten ends. */
  private framesAtVerdict: HeldFrames | null = null;
  private stepping = false;
  /** A socket this instance closed: the invocation stays until its close handshake is done. */
  private closingUntil = 0;

  constructor(c: MonitorContext, alerting: Alerting) {
    this.c = c;
    this.alerting = alerting;
    const stored = loadState(c.sql);
    this.state = stored ?? initialState();
    this.restartDue = stored !== null;
    this.wakeAt = nextWake(this.state);
    this.io = new EffectCarrier({
      rest: () => c.rest(),
      identity: () => {
        const cfg = c.cfg;
        if (!cfg) return null;
        const { accountIndex: account, apiKeyIndex, chainId } = cfg;
        return { account, apiKeyIndex, chainId, key: c.key, keyError: c.keyError };
      },
      now: () => c.now(),
      cache: { get: (k) => getMeta(c.sql, k), set: (k, v) => setMeta(c.sql, k, v) },
      log: (level, event, data) => c.event(level, event, data, null),
    });
    this.feed = new CheckFeed(c, { ours: () => ourOrders(this.state) }, (e) => this.dispatch(e));
    // A check's log lines and counters are written once, when it ends (see `record`).
    c.log.hold = () => this.state.check !== null;
  }

  /** The setup the machine sees: settings, config problems, key state, pause. */
  setup(): Setup {
    const key = { present: this.c.key !== null, error: this.c.keyError };
    return setupOf(this.c.cfg, this.c.problems, key, getMeta(this.c.sql, "paused"));
  }

  /** A trigger; `nextAt`: when its cron fires next, when known. */
  tick(key: string, trigger: "cron" | "manual", nextAt?: number | null): void {
    this.dispatch({ type: "tick", key, trigger, setup: this.setup(), ...(nextAt !== undefined ? { nextAt } : {}) });
  }

  /** The configuration, key or pause switch may have changed: tell the machine if it did. */
  refresh(): void {
    const setup = this.setup();
    if (setupChanged(this.state.setup, setup)) this.dispatch({ type: "config", setup });
  }

  /** Steps the machine with `e` (and whatever events its effects raise synchronously), one at a time. */
  dispatch(e: Event): void {
    if (this.restartDue) {
      this.restartDue = false;
      this.queue.push({ type: "restarted" });
    }
    this.queue.push(e);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let ev = this.queue.shift(); ev; ev = this.queue.shift()) this.stepOnce(ev);
      this.persist();
      if (this.flushDue) {
        // The check is over (the session closed with it, when no check is due soon): its log lines
        // and counters go in one flush, after everything this run of steps logged.
        this.flushDue = false;
        this.feed.flushCounts();
        this.c.log.flush();
      }
    } finally {
      this.stepping = false;
      this.queue.length = 0;
    }
  }

  private stepOnce(e: Event): void {
    const now = this.c.now();
    const before = this.state;
    const r = step(before, e, now);
    this.state = r.state;
    for (const fx of r.effects) this.perform(fx);
    this.crashPoints(before, r.state);
  }

  /** Writes the saved state and the history rows the steps asked for (see `save`). */
  private persist(): void {
    if (this.dirty) {
      this.dirty = false;
      const now = this.c.now();
      saveState(this.c.sql, this.state, now, this.feed.delivery.due(now, this.state.check === null));
    }
    for (const rec of this.records.values()) writeRecord(this.c.sql, rec);
    this.records.clear();
  }

  private perform(fx: Effect): void {
    if (savesFirst(fx.kind)) this.persist();
    switch (fx.kind) {
      case "save":
        // Written before the next effect that reaches outside the object, and at the latest when
        // this synchronous run of steps ends: the same order as at once, fewer writes.
        this.dirty = true;
        return;
      case "wake_at":
        this.wakeAt = fx.at;
        this.c.deadlinesChanged();
        return;
      case "open":
        // Always opened by the alarm invocation's own loop (workerd ties a socket to the event that
        // opens it): a tick's RPC can raise `open` while an invocation is still winding down, and a
        // socket opened there would die with the RPC. The loop is woken (or a new alarm armed).
        this.deferredOpen = { conn: fx.conn, timeoutMs: fx.timeoutMs };
        this.c.deadlinesChanged();
        return;
      case "close":
        if (this.deferredOpen?.conn === fx.conn) this.deferredOpen = null;
        if (this.feed.conn === fx.conn) this.closingUntil = this.c.now() + CLOSE_GRACE_MS;
        this.feed.close(fx.conn, fx.reason);
        return;
      case "subscribe":
        return this.feed.subscribe(fx.conn, fx.channel, fx.market, fx.resubscribe);
      case "transmit":
        // Saved first (savesFirst): the test crash points between the write-ahead and the wire.
        if (writtenAhead(this.state, fx.coi)) this.c.crash("after_write_ahead");
        if (fx.coi === this.state.check?.flatten?.order?.coi) this.c.crash("before_flatten_send");
        return this.answer(
          this.io.transmit(fx).then((reply) => {
            this.c.crash("after_send");
            return reply;
          }),
        );
      case "preflight_fetch":
      case "sign":
      case "lookup":
      case "fetch_position":
        return this.answer(this.io.perform(fx)!);
      case "alert":
        // Into the outbox (its own deadline delivers it, outside the alarm loop). Measured: spawning
        // the delivery here instead delivered later under load (test/bench/detection.bench.ts).
        this.alerting.onCheck(fx.result, ALERT_STREAM[fx.stream]);
        this.answerLater({ type: "alert_done", ref: fx.ref, ok: true, error: null });
        return;
      case "heartbeat":
        return this.answer(
          this.alerting
            .heartbeat(fx.checkId, fx.verdict)
            .then((ok) => ({ type: "alert_done", ref: fx.ref, ok, error: ok ? null : "heartbeat failed" }) as const),
        );
      case "record": {
        const r = recordStep(fx.check, this.state.check, this.framesAtVerdict, this.feed.lastFrames);
        this.framesAtVerdict = r.held;
        if (r.row) this.records.set(r.row.id, r.row);
        if (r.ended) this.flushDue = true;
        return;
      }
      case "log": {
        this.c.event(fx.level, fx.event, fx.data, fx.checkId);
        const counter = counterOf(fx.event, fx.data);
        if (counter) this.c.count(counter);
        return;
      }
    }
  }

  /** An effect's answer becomes the next event when it arrives (never inside this step). */
  private answer(p: Promise<Event>): void {
    this.c.spawn(p.then((e) => this.dispatch(e)));
  }

  private answerLater(e: Event): void {
    this.c.spawn(Promise.resolve().then(() => this.dispatch(e)));
  }

  /** Test-only crash points, at the moment the state shows the step that reached them. */
  private crashPoints(a: MachineState, b: MachineState): void {
    const reached = stagesReached(a, b);
    if (reached.length === 0) return;
    this.persist();
    if (reached.includes("order_accepted")) this.c.crash("after_accept");
    if (reached.includes("order_seen")) this.c.crash("after_seen");
    if (reached.includes("fill_seen")) this.c.crash("after_fill");
  }

  // ------------------------------------------------------------------ the alarm

  /** Opens the connection a step asked for, inside this alarm invocation. */
  private openDeferred(): void {
    const open = this.deferredOpen;
    this.deferredOpen = null;
    if (open) this.c.spawn(this.feed.open(open.conn, open.timeoutMs));
  }

  async begin(): Promise<void> {
    if (this.restartDue) this.dispatch({ type: "config", setup: this.setup() });
    this.openDeferred();
  }

  async serveDue(now: number): Promise<void> {
    if (this.c.holdUntil !== null) this.openDeferred();
    if (this.wakeAt !== null && this.wakeAt <= now) {
      this.wakeAt = null;
      this.dispatch({ type: "wake" });
    }
  }

  async onDeadline(name: string): Promise<void> {
    if (name === "outbox") this.c.spawn(this.alerting.flush(this.c.now()));
    else this.c.event("warn", "alarm.unknown_deadline", { deadline: name }, null);
  }

  nextDue(): number | null {
    return this.deferredOpen ? this.c.now() : this.wakeAt;
  }

  active(): boolean {
    return checkHolds({
      checkRunning: this.state.check !== null,
      socket: this.feed.isOpen || this.deferredOpen !== null,
      closingUntil: this.closingUntil,
      nextDeadline: this.c.nextDeadline(),
      now: this.c.now(),
    });
  }

  mayOverrun(): boolean {
    return this.state.check !== null && this.state.check.verdict === null;
  }

  /** The invocation ends at its cap: the socket goes with it, and the machine hears so. */
  recycled(): void {
    const conn = this.feed.conn;
    if (conn === null) return;
    this.feed.close(conn, "context recycled");
    this.dispatch({ type: "closed", conn, code: 1001, reason: "context recycled", jitter: Math.random() });
  }
}
