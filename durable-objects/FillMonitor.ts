/**
 * FillMonitor: one Durable Object per (chain id, account, API key): it owns that key's nonces and
 * client order indexes. This class is the RPC surface and the alarm only: checks are the pure
 * machine in worker/monitor/check/ (machine.ts), carried out by the interpreter in check/shell.ts
 * on the runtime in runtime/ (alarm loop, kept session, event log); watch monitors run watch/.
 */
import { DurableObject } from "cloudflare:workers";
import type { MonitorStatus, StartCheckRequest, StatusPage, StatusPageQuery, WatchdogReport } from "./rpc-types.ts";
import type { Notification } from "../worker/alerts/alert-policy.ts";
import { loadConfig, type MonitorConfig } from "../worker/config.ts";
import { secretReader } from "../worker/secrets.ts";
import { Alerting } from "../worker/alerts/alerting.ts";
import { MonitorContext } from "./runtime/context.ts";
import { AlarmLoop } from "./runtime/alarm.ts";
import { CheckShell } from "./check/shell.ts";
import { tickAnswer } from "../worker/monitor/check/interpreter.ts";
import { findCheck, findOrder } from "../worker/store/check/views.ts";
import { countersOf, statusView } from "./check/status.ts";
import { liveMatches, rowOf, withLive, type CheckView } from "../worker/views/checks.ts";
import type { ChecksPage, ChecksQuery } from "../worker/views/checks.ts";
import { budgetView, lockView, type OrderView } from "../worker/views/status.ts";
import { housekeeping, manualRunRetryAfter } from "../worker/store/check/retention.ts";
import { lastConcludedAt } from "../worker/store/check/store.ts";
import { crashNow, crashWhenDurable, isCrash, type CrashPoint } from "./runtime/crash.ts";
import { migrate, setMeta } from "../worker/store/schema.ts";
import { listChecks } from "../worker/store/views/checks.ts";
import { queryLogs } from "../worker/store/views/logs.ts";
import type { LogsPage, LogsQuery } from "../worker/views/logs.ts";
import { marketUnits } from "../worker/store/views/market.ts";
import type { MarketUnits } from "../worker/views/market.ts";
import { listIncidents } from "../worker/store/views/incidents.ts";
import type { IncidentsPage, IncidentsQuery } from "../worker/views/incidents.ts";
import { metricsSnapshot } from "../worker/store/views/metrics.ts";
import type { MetricsSnapshot } from "../worker/views/metrics.ts";
import { readPause, writePauseInfo } from "../worker/store/views/pause.ts";
import type { PauseState } from "../worker/views/pause.ts";
import { readUptime } from "../worker/store/views/uptime.ts";
import type { Uptime } from "../worker/views/uptime.ts";
import { acceptTail, pushEvents, setupTail, TAIL_TAG, tailClose, tailMessage } from "./runtime/tail.ts";
import { WatchShell } from "./watch/shell.ts";
import type { IngestOutcome } from "../worker/monitor/watch/effects.ts";
import type { DeliveryMetrics } from "../worker/api/metrics-bot.ts";
import type { SeenReport } from "../worker/monitor/watch/bot-ingest.ts";

export interface StartResult {
  checkId: string;
  duplicate: boolean;
  /** The trigger found a check running: it was counted as a skipped tick (the id is the running check's). */
  running: boolean;
}

interface Parts {
  c: MonitorContext;
  shell: CheckShell;
  alerting: Alerting;
  loop: AlarmLoop;
  /** Set when the monitor's mode is "watch": it owns the alarm and the session instead of the check shell. */
  watch: WatchShell | null;
}

export class FillMonitor extends DurableObject<Env> {
  private parts: Parts | null = null;
  /**
   * Test-only crash hook: tests set it with runInDurableObject (which production cannot call);
   * reaching the point aborts the object like a hard crash. No RPC, variable or config sets it.
   */
  testCrashAt: CrashPoint | null = null;
  /** Test-only: the watchdog answers with this error, as a broken object would. */
  testBrokenWatchdog: string | null = null;

  /** Test-only (runInDurableObject): pins the machine's client order index counter. */
  testSetCoiCounter(counter: string): void {
    const p = this.get();
    if (p) p.shell.state = { ...p.shell.state, coiCounter: counter };
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    setupTail(ctx);
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      // The machine's stored state (if any) is loaded here: the interpreter feeds it `restarted`
      // before any other event of this instance, from the alarm armed now if a check was running.
      const p = this.get();
      if (p && !p.watch && p.shell.state.check) await ctx.storage.setAlarm(Date.now());
    });
  }

  private config(id: string) {
    const { monitors, problems, invalid } = loadConfig(this.env as unknown as Record<string, unknown>);
    const config = monitors.find((m) => m.id === id) ?? null;
    // An entry with errors runs nothing, but its alerts still go to the targets that parsed.
    this.alertsOf = config ?? invalid.find((x) => x.id === id) ?? null;
    return { config, problems };
  }

  /** The alert settings of this monitor's entry, valid or not. */
  private alertsOf: { alerts: MonitorConfig["alerts"] } | null = null;

  private get(monitorId?: string): Parts | null {
    if (this.parts && (monitorId === undefined || this.parts.c.monitorId === monitorId)) {
      this.parts.c.refreshConfig(this.config(this.parts.c.monitorId));
      if (!this.parts.watch) this.parts.shell.refresh();
      return this.parts;
    }
    // No parts yet (or another monitor's): the stored id says which monitor this object serves.
    const sql = this.ctx.storage.sql;
    const stored = sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'monitor_id'`).toArray()[0]?.value;
    const id = monitorId ?? stored;
    if (!id) return null;
    if (stored !== id) setMeta(sql, "monitor_id", id);
    const c = new MonitorContext({
      monitorId: id,
      ctx: this.ctx,
      secret: secretReader(this.env),
      config: this.config(id),
      crash: (point) => {
        if (this.testCrashAt !== point) return;
        this.testCrashAt = null;
        if (point === "before_flatten_send") crashWhenDurable(this.ctx, point);
        crashNow(this.ctx, point);
      },
    });
    c.log.onFlush = (rows) => pushEvents(this.ctx, rows);
    c.log.live = () => this.ctx.getWebSockets(TAIL_TAG).length > 0;
    const alerting = new Alerting({
      sql: c.sql,
      secret: c.secret,
      monitorId: id,
      config: () => this.alertsOf,
      log: (level, event, data) => c.event(level, event, data, null),
      schedule: (at) => c.setDeadline("outbox", at),
      count: (name) => c.count(name),
    });
    const shell = new CheckShell(c, alerting);
    // A watch monitor's interpreter owns the one alarm instead of the check shell.
    const watch = c.cfg?.mode === "watch" && c.cfg.watch ? new WatchShell(c, alerting) : null;
    const loop = new AlarmLoop(c, watch ?? shell);
    this.parts = { c, shell, alerting, loop, watch };
    return this.parts;
  }

  private must(monitorId: string): Parts {
    return this.get(monitorId)!;
  }

  /** Cron entry for a watch monitor: keeps its session alive (a watch monitor never runs a check). */
  async keepWatching(monitorId: string): Promise<{ watching: boolean; holding: boolean }> {
    const w = this.pauseNow(monitorId).p.watch;
    return w ? { watching: true, ...w.keepAlive() } : { watching: false, holding: false };
  }

  /** Cron entry: records the check (or the skipped tick) and returns at once. */
  async startCheck(req: StartCheckRequest): Promise<StartResult> {
    const { p } = this.pauseNow(req.monitorId);
    // A watch monitor never places an order: no check runs on it.
    if (p.watch) throw new Error(`monitor ${req.monitorId} is a watch monitor: it runs no checks`);
    return this.tick(p, req);
  }

  /** Feeds the trigger to the machine and reports what it made of it. */
  private tick(p: Parts, req: StartCheckRequest): StartResult {
    const before = p.shell.state;
    p.shell.tick(req.tickKey, req.trigger, req.nextAt);
    return tickAnswer(before, p.shell.state, req.tickKey);
  }

  /** Manual start: refused (nothing recorded) while paused. */
  async startManualCheck(
    req: StartCheckRequest,
  ): Promise<StartResult | { paused: PauseState } | { rateLimited: { retryAfterS: number } } | { watchMonitor: true }> {
    const { pause, p: parts } = this.pauseNow(req.monitorId);
    if (pause.paused) return { paused: pause };
    if (parts.watch) return { watchMonitor: true };
    const retryAfterMs = manualRunRetryAfter(parts.c.sql, parts.c.now());
    if (retryAfterMs > 0) return { rateLimited: { retryAfterS: Math.ceil(retryAfterMs / 1000) } };
    return this.tick(parts, req);
  }

  /** The monitor's parts and its pause as it stands now. */
  private pauseNow(monitorId: string): { p: Parts; pause: PauseState } {
    const p = this.must(monitorId);
    return { p, pause: this.pauseOf(p) };
  }

  /** The pause as it stands now; an expired pause is lifted (and logged) here. */
  private pauseOf(p: Parts): PauseState {
    const { state, lifted } = readPause(p.c.sql, p.c.now());
    if (lifted) p.c.event("info", "monitor.resumed", { by: "pause window ended" }, null);
    return state;
  }

  async pause(monitorId: string, p: { by: string; reason: string | null; until: number | null }): Promise<PauseState> {
    const parts = this.must(monitorId);
    writePauseInfo(parts.c.sql, { ...p, since: parts.c.now() });
    await this.setPaused(monitorId, true);
    return this.pauseOf(parts);
  }

  async resume(monitorId: string): Promise<PauseState> {
    const parts = this.must(monitorId);
    writePauseInfo(parts.c.sql, null);
    await this.setPaused(monitorId, false);
    return this.pauseOf(parts);
  }

  /** History rows, with the check in the machine's state first (running or flattening: no row until it ends). */
  async queryChecks(q: ChecksQuery): Promise<ChecksPage> {
    return this.checksOf(this.get(), q);
  }

  private checksOf(p: Parts | null, q: ChecksQuery): ChecksPage {
    const live = p?.shell.state.check;
    const row = live ? rowOf(live) : null;
    if (!row || !liveMatches(q, row)) return listChecks(this.ctx.storage.sql, q);
    const rest =
      q.limit > 1 ? listChecks(this.ctx.storage.sql, { ...q, limit: q.limit - 1 }) : { checks: [], next_cursor: null };
    return withLive(row, rest, q.detail);
  }

  async queryLogs(q: LogsQuery): Promise<LogsPage> {
    this.parts?.c.log.flush();
    return queryLogs(this.ctx.storage.sql, q);
  }

  async marketUnits(): Promise<Record<string, MarketUnits>> {
    return marketUnits(this.ctx.storage.sql);
  }

  /** Everything /metrics needs: the SQLite snapshot plus the live counters, budget and session. */
  async metrics(monitorId: string): Promise<
    MetricsSnapshot & {
      counters: Record<string, number>;
      budget: Record<string, unknown>;
      reconnects: number;
      paused: boolean;
      uptime: Uptime;
    } & Partial<DeliveryMetrics>
  > {
    const p = this.must(monitorId);
    const s = p.shell.state;
    const now = p.c.now();
    const targets = p.c.cfg?.alerts.targets.map((t) => t.type) ?? [];
    return {
      ...metricsSnapshot(p.c.sql, targets, lockView(s, now) ? 1 : 0, lastConcludedAt(p.c.sql, s)),
      counters: countersOf(p.c, p.shell.feed),
      budget: budgetView(s, now, p.c.cfg?.caps ?? null),
      reconnects: p.shell.feed.reconnects,
      paused: this.pauseOf(p).paused,
      uptime: this.uptimeOf(p),
      ...(p.watch ? p.watch.metrics() : p.shell.feed.delivery.metrics(now)),
    };
  }

  /** Uptime over 24 h, 7 d and 30 d, per stage too (worker/store/views/uptime.ts). */
  private uptimeOf(p: Parts): Uptime {
    return readUptime(p.c.sql, p.c.now(), p.c.cfg?.alerts.degradedCounts ?? false, p.c.log.pendingCounts());
  }

  /** Incident history, newest first; resolved incidents included (worker/store/views/incidents.ts). */
  async incidents(monitorId: string, q: IncidentsQuery): Promise<IncidentsPage> {
    const p = this.must(monitorId);
    return listIncidents(p.c.sql, q, p.c.now());
  }

  /** Queues `n` (the test alert's resolve) for the given targets at `at`, through the outbox. */
  async queueNotification(monitorId: string, n: Notification, targetIndexes: number[], at: number): Promise<void> {
    const a = this.must(monitorId).alerting;
    for (const i of targetIndexes) a.enqueue(n, i, at);
  }

  /** POST /watch/{monitor}/seen, after the Worker authenticated and parsed the batch (watch/shell.ts → the watch machine). */
  async ingestSeen(monitorId: string, reports: SeenReport[], key: string): Promise<IngestOutcome> {
    const w = this.must(monitorId).watch;
    if (!w) return { kind: "not_enabled", reason: `monitor ${monitorId} is not a watch monitor` };
    return w.ingest(reports, key);
  }

  /** Writes one event to the monitor's log (used for API actions such as a test alert). */
  async logEvent(monitorId: string, level: "info" | "warn" | "error", event: string, data: Record<string, unknown>) {
    this.must(monitorId).c.event(level, event, data, null);
  }

  async status(monitorId: string): Promise<MonitorStatus> {
    return this.statusOf(this.must(monitorId));
  }

  private statusOf(p: Parts): MonitorStatus {
    const s = statusView(p.c, p.shell, p.alerting);
    return p.watch ? { ...s, ...p.watch.status() } : { ...s, ...p.shell.feed.delivery.view(p.c.now()) };
  }

  /**
   * Everything GET /status and the status page show of this monitor, in one call: the pause first
   * (an expired one is lifted here), then status, market units, uptime, the latest incidents and,
   * when asked, the latest checks.
   */
  async statusPage(monitorId: string, q: StatusPageQuery): Promise<StatusPage> {
    const p = this.must(monitorId);
    const pause = this.pauseOf(p);
    return {
      pause,
      status: this.statusOf(p),
      units: marketUnits(p.c.sql),
      uptime: this.uptimeOf(p),
      incidents: listIncidents(p.c.sql, { limit: q.incidents, cursor: null, state: null }, p.c.now()),
      checks: q.checks ? this.checksOf(p, q.checks) : null,
    };
  }

  async getCheck(id: string): Promise<CheckView | null> {
    const p = this.get();
    return p ? findCheck(p.c.sql, p.shell.state, id) : null;
  }

  async getOrder(coi: string): Promise<OrderView | null> {
    const p = this.get();
    if (!p) return null;
    p.c.log.flush();
    return findOrder(p.c.sql, p.shell.state, coi);
  }

  async setPaused(monitorId: string, paused: boolean): Promise<void> {
    const p = this.must(monitorId);
    setMeta(p.c.sql, "paused", paused ? "1" : "0");
    p.c.event("info", paused ? "monitor.paused" : "monitor.resumed", {}, null);
    if (!p.watch) p.shell.refresh();
    if (!paused) p.watch?.keepAlive();
  }

  async housekeeping(monitorId: string): Promise<void> {
    const p = this.must(monitorId);
    const now = p.c.now();
    p.c.log.flush();
    p.c.log.prune(now);
    housekeeping(p.c.sql, now, p.shell.state.check?.id ?? "");
    p.c.event("info", "monitor.housekeeping", {}, null);
  }

  /** Liveness for the Worker's watchdog: answers from storage only, without touching the exchange. */
  async watchdog(monitorId: string): Promise<WatchdogReport> {
    if (this.testBrokenWatchdog) throw new Error(this.testBrokenWatchdog);
    const p = this.must(monitorId);
    const cur = p.shell.state.check;
    // A watch monitor concludes no checks: its liveness is the last successful reconciliation.
    const rec = p.watch?.state.rec;
    return {
      monitorId,
      lastConcludedAt: rec ? rec.lastOkAt : lastConcludedAt(p.c.sql, p.shell.state),
      ...(rec ? { watchStartedAt: rec.startedAt } : {}),
      runningCheck: cur ? { id: cur.id, startedAt: cur.startedAt, boundAt: cur.boundAt } : null,
      now: p.c.now(),
    };
  }

  /** GET /logs/stream, forwarded by the Worker after auth: a hibernatable live tail (tail.ts). */
  override async fetch(request: Request): Promise<Response> {
    return acceptTail(this.ctx, request);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    tailMessage(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    tailClose(ws, code, reason);
  }

  override async alarm(): Promise<void> {
    const p = this.get();
    if (!p) return;
    try {
      await p.loop.onAlarm();
      p.c.log.flush();
    } catch (err) {
      // After a (test) crash the object is gone; the next instance resumes from SQLite.
      if (!isCrash(err)) throw err;
    }
  }
}
