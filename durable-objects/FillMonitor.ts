/**
 * FillMonitor: one Durable Object per (network, account, API key). It owns that key's nonces and
 * client order indexes, keeps the outbound Lighter WebSocket, and runs the synthetic check as a
 * persisted state machine driven by WebSocket frames and its one alarm:
 *
 *   connect → book_subscribed → orders_subscribed → preflight → order_accepted → order_seen →
 *   fill_seen → processed, then flatten (reported beside the verdict).
 *
 * Frame handling is synchronous where it touches storage, so frames are never reordered by
 * interleaved awaits. Book frames update memory and counters only. After an eviction or a crash
 * the alarm resumes or concludes the running check from SQLite: the signed order is written ahead
 * of sendTx, so a resend is always the same tx (never a second order).
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig, type MonitorConfig } from "../worker/config.ts";
import type { Env } from "../worker/env.ts";
import { CRASH_MARK, CheckRunner, type CheckView, type OrderView, type StatusView } from "./check-runner.ts";
import { migrate } from "./schema.ts";
import { listChecks, type ChecksPage, type ChecksQuery } from "./views/checks.ts";
import { queryLogs, type LogsPage, type LogsQuery } from "./views/logs.ts";
import { marketUnits, type MarketUnits } from "./views/market.ts";
import { metricsSnapshot, type MetricsSnapshot } from "./views/metrics.ts";
import { readPause, writePauseInfo, type PauseState } from "./views/pause.ts";

export interface StartCheckRequest {
  monitorId: string;
  /** Unique per scheduled invocation (`cron:<scheduledTime>`) or manual trigger. */
  tickKey: string;
  trigger: "cron" | "manual";
}

export interface StartCheckResult {
  checkId: string;
  duplicate: boolean;
}

/** Crash points on the order path; only reachable from tests through runInDurableObject. */
export type CrashPoint =
  "after_write_ahead" | "after_send" | "after_accept" | "after_seen" | "after_fill" | "before_flatten_send";

export class FillMonitor extends DurableObject<Env> {
  private runner: CheckRunner | null = null;
  /**
   * Test-only crash hook: tests set it with runInDurableObject (which production cannot call);
   * reaching the point aborts the object like a hard crash. No RPC, variable or config sets it.
   */
  testCrashAt: CrashPoint | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      const r = this.getRunner();
      if (r) await r.onStart();
    });
  }

  private getRunner(monitorId?: string): CheckRunner | null {
    if (this.runner && (monitorId === undefined || this.runner.monitorId === monitorId)) {
      this.runner.refreshConfig(this.configFor(this.runner.monitorId));
      return this.runner;
    }
    const sql = this.ctx.storage.sql;
    const stored = sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'monitor_id'`).toArray()[0]?.value;
    const id = monitorId ?? stored;
    if (!id) return null;
    if (stored !== id) {
      sql.exec(
        `INSERT INTO meta (key, value) VALUES ('monitor_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        id,
      );
    }
    this.runner = new CheckRunner({
      monitorId: id,
      ctx: this.ctx,
      env: this.env,
      config: this.configFor(id),
      crash: (point) => this.crashPoint(point),
    });
    return this.runner;
  }

  private configFor(id: string): {
    config: MonitorConfig | null;
    problems: { setting: string; message: string; fix: string; severity: string }[];
  } {
    const { monitors, problems } = loadConfig(this.env as unknown as Record<string, unknown>);
    const config = monitors.find((m) => m.id === id) ?? null;
    return { config, problems };
  }

  private crashPoint(point: CrashPoint): void {
    if (this.testCrashAt === point) {
      this.testCrashAt = null;
      this.ctx.abort(`${CRASH_MARK} at ${point}`);
      throw new Error(`${CRASH_MARK} at ${point}`);
    }
  }

  /** Cron/manual entry: records the check as started and returns its id at once. */
  async startCheck(req: StartCheckRequest): Promise<StartCheckResult> {
    const runner = this.getRunner(req.monitorId)!;
    this.pauseNow(req.monitorId);
    return runner.startCheck(req.tickKey, req.trigger);
  }

  // ---- API views (thin: the logic lives in views/*.ts) ----

  /** The pause as it stands now; an expired pause is lifted (and logged) here. */
  private pauseNow(monitorId: string): PauseState {
    const { state, lifted } = readPause(this.ctx.storage.sql, Date.now());
    if (lifted) this.getRunner(monitorId)!.setPaused(false);
    return state;
  }

  async pauseState(monitorId: string): Promise<PauseState> {
    return this.pauseNow(monitorId);
  }

  /** Manual start: refused (nothing recorded) while paused. */
  async startManualCheck(req: StartCheckRequest): Promise<StartCheckResult | { paused: PauseState }> {
    const p = this.pauseNow(req.monitorId);
    if (p.paused) return { paused: p };
    return this.getRunner(req.monitorId)!.startCheck(req.tickKey, req.trigger);
  }

  async pause(monitorId: string, p: { by: string; reason: string | null; until: number | null }): Promise<PauseState> {
    writePauseInfo(this.ctx.storage.sql, { ...p, since: Date.now() });
    this.getRunner(monitorId)!.setPaused(true);
    return this.pauseNow(monitorId);
  }

  async resume(monitorId: string): Promise<PauseState> {
    writePauseInfo(this.ctx.storage.sql, null);
    this.getRunner(monitorId)!.setPaused(false);
    return this.pauseNow(monitorId);
  }

  async queryChecks(q: ChecksQuery): Promise<ChecksPage> {
    return listChecks(this.ctx.storage.sql, q);
  }

  async queryLogs(q: LogsQuery): Promise<LogsPage> {
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
    const status = this.getRunner(monitorId)!.status();
    const targets = this.configFor(monitorId).config?.alerts.targets.map((t) => t.type) ?? [];
    return {
      ...metricsSnapshot(this.ctx.storage.sql, targets),
      counters: status.counters,
      budget: status.budget,
      reconnects: Number(status.session.reconnects ?? 0),
      paused: this.pauseNow(monitorId).paused,
    };
  }

  /** Writes one event to the monitor's log (used for API actions such as a test alert). */
  async logEvent(monitorId: string, level: "info" | "warn" | "error", event: string, data: Record<string, unknown>) {
    this.getRunner(monitorId)!.log.write(level, event, { monitor: monitorId, ...data }, null, Date.now());
  }

  async status(monitorId: string): Promise<StatusView> {
    const runner = this.getRunner(monitorId)!;
    return runner.status();
  }

  async getCheck(id: string): Promise<CheckView | null> {
    return this.getRunner()?.getCheck(id) ?? null;
  }

  async listChecks(limit: number): Promise<CheckView[]> {
    return this.getRunner()?.listChecks(limit) ?? [];
  }

  async getOrder(coi: string): Promise<OrderView | null> {
    return this.getRunner()?.getOrder(coi) ?? null;
  }

  async logs(q: {
    limit: number;
    before: number | null;
    event: string | null;
  }): Promise<{ events: unknown[]; next_cursor: string | null }> {
    const r = this.getRunner();
    if (!r) return { events: [], next_cursor: null };
    return r.log.page(q);
  }

  async setPaused(monitorId: string, paused: boolean): Promise<void> {
    this.getRunner(monitorId)!.setPaused(paused);
  }

  async housekeeping(monitorId: string): Promise<void> {
    this.getRunner(monitorId)!.housekeeping();
  }

  override async alarm(): Promise<void> {
    const r = this.getRunner();
    if (!r) return;
    try {
      await r.onAlarm();
    } catch (err) {
      // After a (test) crash the object is gone; the next instance resumes from SQLite.
      if (!(err instanceof Error && err.message.includes(CRASH_MARK))) throw err;
    }
  }
}
