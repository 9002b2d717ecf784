/**
 * A watch monitor's interpreter: it loads the machine's record (worker/monitor/watch/), turns the
 * alarm's turns, frames, REST answers and the bot's batches into events, carries out the effects
 * the machine returns, and saves the record once per step that changed it. The alarm loop, the
 * kept session and the event log are the runtime's (runtime/), shared with the check. It decides
 * nothing: no verdict, no diagnosis, no budget or cooldown is chosen here.
 */
import type { DeliveryMetrics } from "../../worker/api/metrics-bot.ts";
import type { SeenReport } from "../../worker/monitor/watch/bot-ingest.ts";
import type { IngestOutcome, WatchEffect, WatchStream } from "../../worker/monitor/watch/effects.ts";
import type { WatchEvent } from "../../worker/monitor/watch/events.ts";
import { step } from "../../worker/monitor/watch/machine.ts";
import { restore, type WatchSettings, type WatchState } from "../../worker/monitor/watch/state.ts";
import { settingsChange, watchSettings, watchTurnMs } from "../../worker/monitor/watch/settings.ts";
import { botView, sessionView, watchView } from "../../worker/monitor/watch/view.ts";
import { DeliveryLatency } from "../../worker/monitor/watch/delivery.ts";
import type { Alerting, AlertStream } from "../../worker/alerts/alerting.ts";
import type { AlarmOwner } from "../runtime/alarm.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { getMeta, setMeta } from "../../worker/store/schema.ts";
import { WatchFeed } from "./feed.ts";
import { carryOutRest } from "../../worker/monitor/watch/rest.ts";
import { WatchStore } from "../../worker/store/watch/store.ts";

const STREAMS: readonly WatchStream[] = [
  "watch",
  "watch_channel",
  "watch_position",
  "watch_rest",
  "bot",
  "bot_phantom",
  "bot_ingest",
];

export class WatchShell implements AlarmOwner {
  state: WatchState;
  readonly latency: DeliveryLatency;
  private readonly store: WatchStore;
  private readonly feed: WatchFeed;
  private readonly c: MonitorContext;
  private readonly alerting: Alerting;
  private opening: Promise<void> | null = null;
  private readCache: string | null = null;

  constructor(c: MonitorContext, alerting: Alerting) {
    this.c = c;
    this.alerting = alerting;
    this.store = new WatchStore(c.sql);
    this.latency = new DeliveryLatency(this.store.latencySnapshot(), c.now());
    this.feed = new WatchFeed(c, (e) => void this.run(e), this.latency);
    this.state = this.restored(this.settings()!);
  }

  private restored(settings: WatchSettings): WatchState {
    const open = (this.alerting.openIncidents() as { kind: AlertStream }[]).map((i) => i.kind);
    const input = {
      openStreams: STREAMS.filter((s) => open.includes(s)),
      bot: settings.bot ? this.store.botRows() : { wsAmounts: [], fills: [], reports: [] },
    };
    const s = restore(settings, this.store.record(), input, this.c.now());
    const b = s.rec.budget;
    if (s.rec.mark)
      this.c.event(
        "info",
        "watch.resumed",
        {
          after_trade_id: s.rec.mark.id,
          after_trade_at: s.rec.mark.at,
          last_alive_at: s.rec.aliveAt,
          paused_until: b.pausedUntil !== null && b.pausedUntil > this.c.now() ? b.pausedUntil : null,
        },
        null,
      );
    return s;
  }

  /** Feeds one event to the machine and carries out its effects; returns the ingest answer, if any. */
  private run(e: WatchEvent): IngestOutcome | null {
    const { state, effects } = step(this.state, e, this.c.now());
    this.state = state;
    let reply: IngestOutcome | null = null;
    for (const fx of effects) reply = this.carryOut(fx) ?? reply;
    return reply;
  }

  private carryOut(fx: WatchEffect): IngestOutcome | null {
    const c = this.c;
    switch (fx.kind) {
      case "save":
        this.store.saveRecord(this.state.rec);
        break;
      case "open":
        this.opening = this.feed.open(fx.conn, this.state.cfg.markets, () => this.token("ws"));
        break;
      case "close":
        this.feed.close(fx.reason);
        break;
      case "rest_trades":
      case "rest_orders":
        c.spawn(
          carryOutRest(
            c.cfg,
            (ms) => c.scale(ms),
            () => this.token("rest"),
            fx,
          ).then((ev) => this.run(ev)),
        );
        break;
      case "alert":
        this.alerting.onCheck(fx.result, fx.stream, fx.resolveAfter);
        break;
      case "log":
        c.event(fx.level, fx.name, fx.data, null);
        break;
      case "count":
        c.count(fx.name, fx.by);
        break;
      case "ingest_reply":
        return fx.outcome;
      case "bot_store_batch":
        this.store.saveBatch(fx.key, fx.reports, fx.at);
        break;
      case "bot_store_fill":
        this.store.saveFill(fx.fill, fx.at);
        break;
      case "bot_fill_state":
        this.store.setFillState(fx.key, fx.state);
        break;
      case "bot_store_ws":
        this.store.saveWsAmount(fx.orderIndex, fx.cum, fx.clientOrderIndex, fx.market, fx.at);
        break;
      case "bot_prune":
        this.store.prune(fx.at);
        break;
      case "bot_lag":
        this.latency.onBotLag(fx.market, fx.lagMs, c.now());
        break;
    }
    return null;
  }

  /** The read-only token when configured, else an auth token signed by the API key (never a tx). */
  private token(use: "ws" | "rest"): string {
    const name = this.c.cfg?.watch?.readTokenSecret;
    if (!name) return this.c.authToken(use);
    const t = this.c.secret(name)?.trim();
    if (!t) throw new Error(`${name} is not set`);
    if (t !== this.readCache) {
      this.readCache = t;
      // Redact the token in the event log, and keep redacting the key if there is one too.
      this.c.log.setSecrets([t, this.c.secret(this.c.cfg!.privateKeySecretName) ?? ""]);
    }
    return t;
  }

  private settings(): WatchSettings | null {
    return this.c.cfg && watchSettings(this.c.cfg, (ms) => this.c.scale(ms));
  }

  /** A changed configuration reaches the machine; another account starts from its own record. */
  private refresh(): void {
    const settings = this.settings();
    const change = settings ? settingsChange(this.state.cfg, settings) : "same";
    if (change === "settings") this.run({ kind: "settings", settings: settings! });
    if (change !== "restart") return;
    this.run({ kind: "stopping", reason: "account changed" });
    this.state = this.restored(settings!);
  }

  /** The latency snapshot, when one is due (never a write per frame). */
  private saveLatency(now: number, force: boolean): void {
    const snap = this.latency.due(now, force);
    if (snap) setMeta(this.c.sql, "delivery_latency_snapshot", JSON.stringify(snap));
  }

  private paused(): boolean {
    return getMeta(this.c.sql, "paused") === "1";
  }

  /** A cron tick (or any RPC) for a watch monitor: make sure an alarm holds the session. */
  keepAlive(): { holding: boolean } {
    if (this.c.holdUntil === null && this.active()) this.c.setDeadline("watch", this.c.now());
    return { holding: this.c.holdUntil !== null };
  }

  ingest(reports: SeenReport[], key: string): IngestOutcome {
    this.refresh();
    const duplicate = reports.length > 0 && this.store.seenBatch(key);
    return this.run({ kind: "ingest", reports, key, duplicate }) ?? { kind: "not_enabled", reason: "no answer" };
  }

  // ------------------------------------------------------------------ the alarm's owner

  async begin(): Promise<void> {
    this.refresh();
  }

  async serveDue(now: number): Promise<void> {
    if (this.c.holdUntil === null) return;
    if (!this.active()) {
      this.stop("paused");
      return;
    }
    this.refresh();
    this.run({ kind: "tick" });
    this.saveLatency(now, false);
    // A connect runs inside this invocation (workerd ties the socket to it).
    const opening = this.opening;
    this.opening = null;
    if (opening) await opening;
  }

  async onDeadline(name: string): Promise<void> {
    // Never inside the loop: a target that never answers must not hold the watch (check/shell.ts too).
    if (name === "outbox") this.c.spawn(this.alerting.flush(this.c.now()));
  }

  nextDue(): number | null {
    return this.active() ? this.c.now() + watchTurnMs(this.state.cfg) : null;
  }

  active(): boolean {
    return Boolean(this.c.cfg?.watch) && !this.paused();
  }

  mayOverrun(): boolean {
    return false;
  }

  recycled(): void {
    this.stop("context recycled");
    // The next invocation takes over at once.
    this.c.setDeadline("watch", this.c.now());
  }

  private stop(reason: string): void {
    if (this.state.session.state === "closed" && this.opening === null) return;
    this.run({ kind: "stopping", reason });
    this.saveLatency(this.c.now(), true);
  }

  // ------------------------------------------------------------------ views

  status(): Record<string, unknown> {
    const now = this.c.now();
    return {
      session: sessionView(this.state),
      watch: { ...watchView(this.state, now), bot: botView(this.state, now, this.store.counts()) },
      ...this.latency.view(now),
    };
  }

  /** GET /metrics: latency per window (the bot's lag as channel "bot"), judged fills, ingest requests. */
  metrics(): DeliveryMetrics {
    const now = this.c.now();
    const b = this.state.bot;
    return {
      latency: this.latency.book.views(now),
      bot_fills: b ? { ...b.counts } : null,
      bot_ingest: b ? { ...b.ingest } : null,
    };
  }
}
