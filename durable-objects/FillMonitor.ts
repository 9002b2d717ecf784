/**
 * FillMonitor: one Durable Object per (chain id, account, API key): it owns that key's nonces and
 * client order indexes. This class is the RPC surface and the alarm only; the check pipeline is in
 * check/runner.ts, its rules in worker/monitor/check/, and the pipeline's table in
 * worker/monitor/check/phases.ts.
 */
import { DurableObject } from "cloudflare:workers";
import type { StartCheckRequest, WatchdogReport } from "./rpc-types.ts";
import { loadConfig } from "../worker/config.ts";
import { secretReader } from "../worker/secrets.ts";
import { Alerting } from "./alerting.ts";
import { MonitorContext } from "./runtime/context.ts";
import { AlarmLoop } from "./runtime/alarm.ts";
import { currentId, runningCheck } from "./check/marks.ts";
import { CheckRunner, type StartResult } from "./check/runner.ts";
import {
  checkView,
  listChecks,
  orderView,
  statusView,
  type CheckView,
  type OrderView,
  type StatusView,
} from "./check/views.ts";
import { housekeeping, manualRunRetryAfter } from "./check/retention.ts";
import { readCheck } from "./check/store.ts";
import { crashNow, isCrash, type CrashPoint } from "./runtime/crash.ts";
import { getMeta, migrate, setMeta } from "./runtime/schema.ts";
import { listChecks as queryChecks, type ChecksPage, type ChecksQuery } from "./views/checks.ts";
import { queryLogs, type LogsPage, type LogsQuery } from "./views/logs.ts";
import { marketUnits, type MarketUnits } from "./views/market.ts";
import { metricsSnapshot, type MetricsSnapshot } from "./views/metrics.ts";
import { readPause, writePauseInfo, type PauseState } from "./views/pause.ts";
import { acceptTail, pushEvents, setupTail, tailClose, tailMessage } from "./runtime/tail.ts";
import { WatchRunner } from "./watch/runner.ts";

interface Parts {
  c: MonitorContext;
  runner: CheckRunner;
  alerting: Alerting;
  loop: AlarmLoop;
  /** Set when the monitor's mode is "watch": it owns the alarm and the session instead of the check runner. */
  watch: WatchRunner | null;
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

  /** A check that was running when this instance started (evicted or crashed): restarted first. */
  private interrupted: string | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    setupTail(ctx);
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      const p = this.get();
      // Only a check that was running before this instance started is interrupted: a check an RPC
      // starts after this point is new. The alarm restarts it before any stored deadline runs.
      const running = p ? runningCheck(p.c) : null;
      if (p && running) {
        this.interrupted = running.id;
        p.c.deadlinesChanged();
        await ctx.storage.setAlarm(Date.now());
      }
    });
  }

  private config(id: string) {
    const { monitors, problems } = loadConfig(this.env as unknown as Record<string, unknown>);
    return { config: monitors.find((m) => m.id === id) ?? null, problems };
  }

  private get(monitorId?: string): Parts | null {
    const sql = this.ctx.storage.sql;
    const stored = sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'monitor_id'`).toArray()[0]?.value;
    const id = monitorId ?? this.parts?.c.monitorId ?? stored;
    if (!id) return null;
    if (this.parts && this.parts.c.monitorId === id) {
      this.parts.c.refreshConfig(this.config(id));
      return this.parts;
    }
    if (stored !== id) setMeta(sql, "monitor_id", id);
    const c = new MonitorContext({
      monitorId: id,
      ctx: this.ctx,
      secret: secretReader(this.env),
      config: this.config(id),
      crash: (point) => {
        if (this.testCrashAt !== point) return;
        this.testCrashAt = null;
        crashNow(this.ctx, point);
      },
    });
    c.log.onFlush = (rows) => pushEvents(this.ctx, rows);
    const alerting = new Alerting({
      sql: c.sql,
      secret: c.secret,
      monitorId: id,
      config: () => c.cfg,
      log: (level, event, data) => c.event(level, event, data, null),
      schedule: (at) => c.setDeadline("outbox", at),
    });
    const runner = new CheckRunner(c, alerting);
    const loop = new AlarmLoop(c, {
      begin: async () => {
        const id = this.interrupted;
        this.interrupted = null;
        if (id) await runner.resume(id);
      },
      serveDue: async () => {},
      // Alert delivery never holds the loop: webhook targets that hang cannot delay a check.
      onDeadline: async (name, data) =>
        name === "outbox" ? c.spawn(alerting.flush(c.now())) : runner.onDeadline(name, data as { check?: string }),
      nextDue: () => null,
      active: () => runner.active(),
      mayOverrun: () => runningCheck(c) !== null,
      recycled: () => runner.recycled(),
    });
    // A watch monitor's runner holds the alarm itself (it takes over onDeadlineSet).
    const watch = c.cfg?.mode === "watch" ? new WatchRunner(c, alerting) : null;
    this.parts = { c, runner, alerting, loop, watch };
    return this.parts;
  }

  private must(monitorId: string): Parts {
    return this.get(monitorId)!;
  }

  /** Cron entry for a watch monitor: keeps its session alive (a watch monitor never runs a check). */
  async keepWatching(monitorId: string): Promise<{ watching: boolean; holding: boolean }> {
    this.pauseNow(monitorId);
    const w = this.must(monitorId).watch;
    return w ? { watching: true, ...w.keepAlive() } : { watching: false, holding: false };
  }

  /** Cron entry: records the check (or the skipped tick) and returns at once. */
  async startCheck(req: StartCheckRequest): Promise<StartResult> {
    this.pauseNow(req.monitorId);
    this.refuseWatch(req.monitorId);
    return this.must(req.monitorId).runner.startCheck(req.tickKey, req.trigger);
  }

  /** Manual start: refused (nothing recorded) while paused. */
  async startManualCheck(
    req: StartCheckRequest,
  ): Promise<StartResult | { paused: PauseState } | { rateLimited: { retryAfterS: number } } | { watchMonitor: true }> {
    const p = this.pauseNow(req.monitorId);
    if (p.paused) return { paused: p };
    const parts = this.must(req.monitorId);
    if (parts.watch) return { watchMonitor: true };
    const retryAfterMs = manualRunRetryAfter(parts.c.sql, parts.c.now());
    if (retryAfterMs > 0) return { rateLimited: { retryAfterS: Math.ceil(retryAfterMs / 1000) } };
    return parts.runner.startCheck(req.tickKey, req.trigger);
  }

  /** A watch monitor never places an order: no check runs on it. */
  private refuseWatch(monitorId: string): void {
    if (this.must(monitorId).watch) throw new Error(`monitor ${monitorId} is a watch monitor: it runs no checks`);
  }

  /** The pause as it stands now; an expired pause is lifted (and logged) here. */
  private pauseNow(monitorId: string): PauseState {
    const p = this.must(monitorId);
    const { state, lifted } = readPause(p.c.sql, p.c.now());
    if (lifted) p.c.event("info", "monitor.resumed", { by: "pause window ended" }, null);
    return state;
  }

  async pauseState(monitorId: string): Promise<PauseState> {
    return this.pauseNow(monitorId);
  }

  async pause(monitorId: string, p: { by: string; reason: string | null; until: number | null }): Promise<PauseState> {
    const parts = this.must(monitorId);
    writePauseInfo(parts.c.sql, { ...p, since: parts.c.now() });
    await this.setPaused(monitorId, true);
    return this.pauseNow(monitorId);
  }

  async resume(monitorId: string): Promise<PauseState> {
    writePauseInfo(this.must(monitorId).c.sql, null);
    await this.setPaused(monitorId, false);
    return this.pauseNow(monitorId);
  }

  async queryChecks(q: ChecksQuery): Promise<ChecksPage> {
    return queryChecks(this.ctx.storage.sql, q);
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
    }
  > {
    const p = this.must(monitorId);
    const status = statusView(p.c, p.runner, p.alerting);
    const targets = p.c.cfg?.alerts.targets.map((t) => t.type) ?? [];
    return {
      ...metricsSnapshot(p.c.sql, targets, p.runner.lockView() ? 1 : 0),
      counters: status.counters,
      budget: status.budget,
      reconnects: Number(status.session.reconnects ?? 0),
      paused: this.pauseNow(monitorId).paused,
    };
  }

  /** Writes one event to the monitor's log (used for API actions such as a test alert). */
  async logEvent(monitorId: string, level: "info" | "warn" | "error", event: string, data: Record<string, unknown>) {
    this.must(monitorId).c.event(level, event, data, null);
  }

  async status(monitorId: string): Promise<StatusView & { watch?: Record<string, unknown> }> {
    const p = this.must(monitorId);
    const s = statusView(p.c, p.runner, p.alerting);
    return p.watch ? { ...s, session: p.watch.sessionView(), watch: p.watch.view() } : s;
  }

  async getCheck(id: string): Promise<CheckView | null> {
    const p = this.get();
    const c = p ? readCheck(p.c.sql, id) : null;
    return c ? checkView(c) : null;
  }

  async listChecks(limit: number): Promise<CheckView[]> {
    const p = this.get();
    return p ? listChecks(p.c, limit) : [];
  }

  async getOrder(coi: string): Promise<OrderView | null> {
    const p = this.get();
    return p ? orderView(p.c, coi) : null;
  }

  async setPaused(monitorId: string, paused: boolean): Promise<void> {
    const p = this.must(monitorId);
    setMeta(p.c.sql, "paused", paused ? "1" : "0");
    p.c.event("info", paused ? "monitor.paused" : "monitor.resumed", {}, null);
    if (!paused) p.watch?.keepAlive();
  }

  async housekeeping(monitorId: string): Promise<void> {
    housekeeping(this.must(monitorId).c);
  }

  /** Liveness for the Worker's watchdog: answers from storage only, without touching the exchange. */
  async watchdog(monitorId: string): Promise<WatchdogReport> {
    if (this.testBrokenWatchdog) throw new Error(this.testBrokenWatchdog);
    const p = this.must(monitorId);
    const cur = runningCheck(p.c) ?? (currentId(p.c) ? readCheck(p.c.sql, currentId(p.c)!) : null);
    const last = getMeta(p.c.sql, "last_concluded_at");
    // A watch monitor concludes no checks: its liveness is the last successful reconciliation.
    const watched = p.watch ? p.watch.view().last_reconcile_at : undefined;
    return {
      monitorId,
      lastConcludedAt: typeof watched === "number" ? watched : last ? Number(last) : null,
      runningCheck: cur ? { id: cur.id, startedAt: cur.started_at, boundAt: cur.bound_at } : null,
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
      await (p.watch ?? p.loop).onAlarm();
    } catch (err) {
      // After a (test) crash the object is gone; the next instance resumes from SQLite.
      if (!isCrash(err)) throw err;
    }
  }
}
