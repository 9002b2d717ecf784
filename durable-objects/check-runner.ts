/**
 * The synthetic check as a persisted state machine (used by FillMonitor; one per object).
 *
 * Phases of a running check (column `checks.phase`):
 *   connect → book → orders → preflight → send → await_order → reconcile → late_watch → done
 * and, after the verdict, the flatten phases tracked in meta `flatten` (the verdict never waits
 * for them). Every transition is written to SQLite before anything else happens, each phase has a
 * deadline in the `deadlines` table behind the one alarm, and `onStart` + `onAlarm` resume a check
 * that an eviction or crash interrupted.
 */
import type { MonitorConfig } from "../worker/config.ts";
import type { Env } from "../worker/env.ts";
import {
  ACTIONS,
  DIAGNOSIS_STAGE,
  STAGES,
  describeCode,
  type Diagnosis,
  type FlattenOutcome,
  type Stage,
  type Verdict,
} from "../worker/monitor/diagnosis.ts";
import { planFlatten, planTestOrder, spreadBps, type MarketSpec, type OrderPlan } from "../worker/monitor/sizing.ts";
import { createAuthToken } from "../worker/lighter/auth.ts";
import { PrivateKey } from "../worker/lighter/keys.ts";
import {
  parseFrame,
  subscribeFrame,
  unsubscribeFrame,
  pingFrame,
  pongFrame,
  orderBookChannel,
  accountOrdersChannel,
  redactFrameForLog,
  type LighterEvent,
  type Order,
} from "../worker/lighter/messages.ts";
import { OrderBook } from "../worker/lighter/orderbook.ts";
import { classifyStatus } from "../worker/lighter/fills.ts";
import { LighterApiError, LighterRestClient } from "../worker/lighter/rest.ts";
import { parseDecimal } from "../worker/lighter/decimal.ts";
import { signTx } from "../worker/lighter/tx.ts";
import { Alerting } from "./alerting.ts";
import { EventLog, redactText, type LogLevel } from "./eventlog.ts";
import type { CrashPoint } from "./FillMonitor.ts";
import {
  bumpCounter,
  clearDeadline,
  earliestDeadline,
  getMeta,
  readCounters,
  setDeadline,
  setMeta,
  takeDueDeadlines,
} from "./schema.ts";
import { LighterSession } from "./session.ts";

type Phase = "connect" | "book" | "orders" | "preflight" | "send" | "await_order" | "reconcile" | "late_watch" | "done";

interface StageMark {
  at: number;
  ms: number;
  [extra: string]: unknown;
}

interface CheckRow {
  id: string;
  tick_key: string;
  market: number;
  state: "running" | "done";
  phase: Phase;
  started_at: number;
  finished_at: number | null;
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: Diagnosis[];
  stages: Partial<Record<Stage, StageMark>>;
  evidence: Record<string, unknown>;
  action: string | null;
  flatten: FlattenOutcome | null;
  flatten_detail: Record<string, unknown> | null;
  coi: string | null;
  fill_latency_ms: number | null;
}

interface OrderRow {
  coi: string;
  check_id: string;
  purpose: "test" | "flatten";
  market: number;
  is_ask: number;
  base_amount: string;
  price: number;
  notional_usd: number;
  nonce: string;
  tx_type: number;
  tx_info: string;
  tx_hash: string;
  send_state: "unsigned" | "sending" | "accepted" | "rejected" | "unknown";
  send_attempts: number;
  send_code: number | null;
  send_message: string | null;
  order_index: string | null;
  status: string | null;
  filled_base: string;
  filled_quote: string;
  ws_filled_base: string;
  seen_at: number | null;
  first_fill_at: number | null;
  terminal_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface CheckView {
  id: string;
  state: "running" | "done";
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: string[];
  market: number;
  started_at: number;
  finished_at: number | null;
  stages: Record<string, { at: number; ms: number }>;
  evidence: Record<string, unknown>;
  action: string | null;
  flatten: FlattenOutcome | null;
  flatten_detail: Record<string, unknown> | null;
  client_order_index: string | null;
  fill_latency_ms: number | null;
}

export interface OrderView {
  client_order_index: string;
  check_id: string;
  purpose: string;
  market: number;
  side: "buy" | "sell";
  base_amount: string;
  price: number;
  nonce: string;
  tx_hash: string;
  send_state: string;
  send_code: number | null;
  send_message: string | null;
  order_index: string | null;
  status: string | null;
  filled_base: string;
  ws_filled_base: string;
  seen_at: number | null;
  first_fill_at: number | null;
  events: {
    at: number;
    source: string;
    kind: string;
    status: string | null;
    filled_base: string | null;
    detail: unknown;
  }[];
}

export interface StatusView {
  colo: string | null;
  paused: boolean;
  session: Record<string, unknown>;
  last_check: CheckView | null;
  fill_latency_ms: { p50: number | null; p90: number | null; p99: number | null; samples: number };
  budget: Record<string, unknown>;
  incidents: unknown[];
  counters: Record<string, number>;
  config_problems: unknown[];
}

export interface RunnerOptions {
  monitorId: string;
  ctx: DurableObjectState;
  env: Env;
  config: {
    config: MonitorConfig | null;
    problems: { setting: string; message: string; fix: string; severity: string }[];
  };
  crash: (point: CrashPoint) => void;
}

/** Base durations at time_scale 1; every one is multiplied by the monitor's time_scale. */
const BASE_MS = {
  connect: 10_000,
  ack: 10_000,
  send: 10_000,
  seen: 5_000,
  fill: 10_000,
  lateWatch: 10_000,
  flattenConfirm: 3_000,
  sessionGrace: 15_000,
  ping: 30_000,
  silence: 90_000,
  rest: 10_000,
  reconnectMin: 1_000,
  reconnectMax: 60_000,
  marketCache: 3_600_000,
  apiKeyCache: 3_600_000,
};

const AUTH_TOKEN_LIFETIME_S = 7 * 3600;
/** How long one alarm invocation may hold the session (alarms have a 15 min wall-clock limit). */
const HOLD_LIMIT_MS = 10 * 60_000;
const HOLD_OVERRUN_MS = 3 * 60_000;
const SELF_TRADE_EXPIRE_TAKER = 1;
const ORDER_TX_VALIDITY_MS = 10 * 60_000 - 1_000;
const MAX_LAST_FRAMES = 12;

function toBig(s: string | null | undefined): bigint {
  if (!s) return 0n;
  try {
    return BigInt(s);
  } catch {
    return 0n;
  }
}

export class CheckRunner {
  readonly monitorId: string;
  readonly log: EventLog;
  private readonly ctx: DurableObjectState;
  private readonly env: Env;
  private readonly sql: SqlStorage;
  private readonly crash: (point: CrashPoint) => void;
  private cfg: MonitorConfig | null;
  private problems: RunnerOptions["config"]["problems"];

  private session: LighterSession | null = null;
  private sessionSeq = 0;
  private connecting: Promise<boolean> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private books = new Map<number, OrderBook>();
  private bookUpdatedAt = new Map<number, number>();
  private subscribedBooks = new Set<number>();
  private subscribedOrders = new Set<number>();
  private pendingSub: { kind: "book" | "orders"; market: number; sentAt: number } | null = null;
  private lastFrames: { at: number; dir: "in" | "out"; frame: string }[] = [];
  private lastAccountFrameAt: number | null = null;
  private frameCounts = new Map<string, number>();
  private reconnects = 0;
  private key: PrivateKey | null = null;
  private keyError: string | null = null;
  private alerting: Alerting;
  /** Storage write statements issued by this instance (flushed into counters). */
  private readonly writes = { count: 0 };

  constructor(opts: RunnerOptions) {
    this.monitorId = opts.monitorId;
    this.ctx = opts.ctx;
    this.env = opts.env;
    this.sql = meter(opts.ctx.storage.sql, this.writes);
    this.crash = opts.crash;
    this.cfg = opts.config.config;
    this.problems = opts.config.problems;
    this.log = new EventLog(this.sql);
    this.loadKey();
    this.alerting = new Alerting({
      sql: this.sql,
      env: this.env,
      monitorId: this.monitorId,
      config: () => this.cfg,
      log: (level, event, data) => this.event(level, event, data, null),
      schedule: (at) => {
        setDeadline(this.sql, "outbox", at);
        this.spawn(this.armAlarm());
      },
    });
  }

  // ---------------------------------------------------------------- configuration and keys

  refreshConfig(c: RunnerOptions["config"]): void {
    const changed = c.config !== this.cfg;
    this.cfg = c.config;
    this.problems = c.problems;
    if (changed) this.loadKey();
  }

  private loadKey(): void {
    this.key = null;
    this.keyError = null;
    const cfg = this.cfg;
    if (!cfg) return;
    const raw = this.env[cfg.privateKeySecretName];
    if (typeof raw !== "string" || raw.trim() === "") return;
    try {
      this.key = PrivateKey.fromHex(raw.trim());
      if (this.key.isZero()) {
        this.key = null;
        this.keyError = `${cfg.privateKeySecretName} is the zero key`;
      }
      this.log.setSecrets([raw.trim()]);
    } catch (err) {
      this.keyError = `${cfg.privateKeySecretName}: ${err instanceof Error ? err.message : "malformed private key"}`;
    }
  }

  private scale(ms: number): number {
    const s = this.cfg?.timeScale ?? 1;
    return Math.max(1, Math.round(ms * s));
  }

  private now(): number {
    return Date.now();
  }

  private rest(): LighterRestClient {
    const cfg = this.cfg!;
    return new LighterRestClient({
      baseUrl: cfg.restUrl,
      timeoutMs: this.scale(BASE_MS.rest),
      authToken: () => this.mintAuthToken(),
    });
  }

  private mintAuthToken(): string {
    const cfg = this.cfg!;
    if (!this.key) throw new Error("no private key configured");
    const deadline = Math.floor(this.now() / 1000) + AUTH_TOKEN_LIFETIME_S;
    return createAuthToken(this.key, { deadline, accountIndex: cfg.accountIndex, apiKeyIndex: cfg.apiKeyIndex });
  }

  // ---------------------------------------------------------------- logging

  private event(level: LogLevel, event: string, data: Record<string, unknown>, checkId: string | null): void {
    this.log.write(level, event, { monitor: this.monitorId, ...data }, checkId, this.now());
  }

  private rememberFrame(dir: "in" | "out", frame: string, at: number): void {
    const text = frame.length > 2000 ? `${frame.slice(0, 2000)}…` : frame;
    this.lastFrames.push({ at, dir, frame: dir === "out" ? redactFrameForLog(text) : redactText(text) });
    if (this.lastFrames.length > MAX_LAST_FRAMES) this.lastFrames.shift();
  }

  private send(frame: string): boolean {
    const ok = this.session?.send(frame) ?? false;
    this.rememberFrame("out", frame, this.now());
    return ok;
  }

  // ---------------------------------------------------------------- check rows

  private readCheck(id: string): CheckRow | null {
    const r = this.sql
      .exec<Record<string, string | number | null>>(`SELECT * FROM checks WHERE id = ?`, id)
      .toArray()[0];
    if (!r) return null;
    return {
      id: String(r.id),
      tick_key: String(r.tick_key),
      market: Number(r.market),
      state: r.state as CheckRow["state"],
      phase: r.phase as Phase,
      started_at: Number(r.started_at),
      finished_at: r.finished_at === null ? null : Number(r.finished_at),
      verdict: (r.verdict as Verdict | null) ?? null,
      first_failing_stage: (r.first_failing_stage as Stage | null) ?? null,
      diagnosis: (r.diagnosis as Diagnosis | null) ?? null,
      reasons: JSON.parse(String(r.reasons)) as Diagnosis[],
      stages: JSON.parse(String(r.stages)) as CheckRow["stages"],
      evidence: JSON.parse(String(r.evidence)) as Record<string, unknown>,
      action: (r.action as string | null) ?? null,
      flatten: (r.flatten as FlattenOutcome | null) ?? null,
      flatten_detail: r.flatten_detail ? (JSON.parse(String(r.flatten_detail)) as Record<string, unknown>) : null,
      coi: (r.coi as string | null) ?? null,
      fill_latency_ms: r.fill_latency_ms === null ? null : Number(r.fill_latency_ms),
    };
  }

  private writeCheck(c: CheckRow): void {
    this.sql.exec(
      `INSERT INTO checks (id, tick_key, market, state, phase, started_at, finished_at, verdict, first_failing_stage, diagnosis, reasons, stages, evidence, action, flatten, flatten_detail, coi, fill_latency_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET state = excluded.state, phase = excluded.phase, finished_at = excluded.finished_at,
         verdict = excluded.verdict, first_failing_stage = excluded.first_failing_stage, diagnosis = excluded.diagnosis,
         reasons = excluded.reasons, stages = excluded.stages, evidence = excluded.evidence, action = excluded.action,
         flatten = excluded.flatten, flatten_detail = excluded.flatten_detail, coi = excluded.coi, fill_latency_ms = excluded.fill_latency_ms`,
      c.id,
      c.tick_key,
      c.market,
      c.state,
      c.phase,
      c.started_at,
      c.finished_at,
      c.verdict,
      c.first_failing_stage,
      c.diagnosis,
      JSON.stringify(c.reasons),
      JSON.stringify(c.stages),
      JSON.stringify(c.evidence),
      c.action,
      c.flatten,
      c.flatten_detail ? JSON.stringify(c.flatten_detail) : null,
      c.coi,
      c.fill_latency_ms,
    );
  }

  /** The check currently driven by this object (running, or done but still flattening). */
  private currentId(): string | null {
    return getMeta(this.sql, "current_check");
  }

  private running(): CheckRow | null {
    const id = this.currentId();
    if (!id) return null;
    const c = this.readCheck(id);
    return c && c.state === "running" ? c : null;
  }

  private markStage(c: CheckRow, stage: Stage, at: number, extra: Record<string, unknown> = {}): void {
    if (c.stages[stage]) return;
    let prev = c.started_at;
    for (const s of STAGES) {
      const m = c.stages[s];
      if (m && m.at > prev && m.at <= at) prev = m.at;
    }
    c.stages[stage] = { at, ms: Math.max(0, at - prev), ...extra };
    this.event("info", `check.stage.${stage}`, { stage, ms: at - prev, ...extra }, c.id);
  }

  private setPhase(c: CheckRow, phase: Phase, deadlineMs: number | null): void {
    c.phase = phase;
    this.writeCheck(c);
    if (deadlineMs === null) clearDeadline(this.sql, "check");
    else setDeadline(this.sql, "check", this.now() + deadlineMs, { check: c.id, phase });
    this.spawn(this.armAlarm());
    this.wake();
  }

  // ---------------------------------------------------------------- lifecycle

  async onStart(): Promise<void> {
    // After an eviction or crash: whatever was running resumes from the alarm, right away.
    const cur = this.running();
    if (cur) setDeadline(this.sql, "resume", this.now(), { check: cur.id });
    else if (getMeta(this.sql, "flatten")) setDeadline(this.sql, "flatten", this.now(), {});
    await this.armAlarm();
  }

  private async armAlarm(): Promise<void> {
    let at = earliestDeadline(this.sql);
    if (at === null) return;
    // While an alarm invocation holds the session, a second alarm coming due would replace it
    // (and take the socket with it): the loop serves deadlines, the alarm is only a backstop.
    if (this.holding) at = Math.max(at, this.holdUntil + 30_000);
    const existing = await this.ctx.storage.getAlarm();
    if (existing === null || existing > at || existing < this.now() - 1000 || (this.holding && existing < at)) {
      await this.ctx.storage.setAlarm(Math.max(at, this.now()));
    }
  }

  async onAlarm(): Promise<void> {
    await this.processDue();
    await this.holdWhileActive();
    await this.armAlarm();
  }

  private async processDue(): Promise<void> {
    const due = takeDueDeadlines(this.sql, this.now());
    for (const d of due) {
      try {
        await this.onDeadline(d.name, JSON.parse(d.data) as Record<string, unknown>);
      } catch (err) {
        // An alarm handler records the failure and goes on; it never throws into the runtime.
        if (isCrash(err)) throw err;
        this.event(
          "error",
          "alarm.handler_failed",
          { deadline: d.name, error: err instanceof Error ? err.message : String(err) },
          this.currentId(),
        );
      }
    }
  }

  /** Runs a task without awaiting it; its failure is logged, never an unhandled rejection. */
  private spawn(task: Promise<unknown>): void {
    task.catch((err: unknown) => {
      if (isCrash(err)) return;
      try {
        this.event(
          "error",
          "task.failed",
          { error: err instanceof Error ? err.message : String(err) },
          this.currentId(),
        );
      } catch {
        // storage unavailable (the object is shutting down)
      }
    });
  }

  private wakeUp: (() => void) | null = null;
  private holding = false;
  private holdUntil = 0;

  private wake(): void {
    this.wakeUp?.();
  }

  /** Whether an event context must stay alive: a check, a flatten or an open session. */
  private active(): boolean {
    if (this.running()) return true;
    if (getMeta(this.sql, "flatten")) return true;
    if (this.session?.isOpen) return true;
    const next = earliestDeadline(this.sql);
    return next !== null && next - this.now() < 2_000;
  }

  /**
   * Keeps the alarm invocation alive while the monitor is active, serving deadlines with
   * in-context timers. workerd tears down an outbound WebSocket when the event that opened it
   * ends (cf. workerd#6774), so the socket lives inside this invocation. It is capped below the
   * alarm's wall-clock limit; a continuous session then reconnects from the next alarm.
   */
  private async holdWhileActive(): Promise<void> {
    if (this.holding) return;
    this.holding = true;
    const until = this.now() + HOLD_LIMIT_MS;
    this.holdUntil = until;
    await this.armAlarm();
    try {
      // Never recycle in the middle of a check: it may overrun the soft cap, not the hard one.
      while (
        this.active() &&
        (this.now() < until || (this.running() !== null && this.now() < until + HOLD_OVERRUN_MS))
      ) {
        const next = earliestDeadline(this.sql);
        const wait = Math.max(5, Math.min(1_000, (next ?? this.now() + 1_000) - this.now()));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          this.wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeUp = null;
        await this.processDue();
      }
      if (this.session?.isOpen && this.cfg?.mode === "continuous") {
        this.closeSession("context recycled");
        setDeadline(this.sql, "reconnect", this.now());
      }
    } finally {
      this.holding = false;
    }
  }

  private async onDeadline(name: string, data: Record<string, unknown>): Promise<void> {
    switch (name) {
      case "check":
        return this.onCheckDeadline(String(data.check ?? ""), String(data.phase ?? "") as Phase);
      case "resume":
        return this.resume();
      case "drive": {
        const cur = this.running();
        if (!cur || cur.id !== String(data.check ?? "")) return;
        setDeadline(this.sql, "check", this.now() + this.scale(BASE_MS.connect), { check: cur.id, phase: "connect" });
        return this.drive(cur.id);
      }
      case "flatten":
        return this.runFlatten();
      case "session_close":
        if (!this.currentId() && this.cfg?.mode !== "continuous") this.closeSession("idle after check");
        return;
      case "reconnect":
        if (this.cfg?.mode === "continuous" && !this.session?.isOpen) await this.reconnectContinuous();
        return;
      case "outbox":
        return this.alerting.flush(this.now());
      default:
        this.event("warn", "alarm.unknown_deadline", { deadline: name }, null);
    }
  }

  // ---------------------------------------------------------------- RPC surface

  startCheck(tickKey: string, trigger: "cron" | "manual"): { checkId: string; duplicate: boolean } {
    const now = this.now();
    const seen = this.sql
      .exec<{ check_id: string }>(`SELECT check_id FROM ticks WHERE tick_key = ?`, tickKey)
      .toArray()[0];
    if (seen) {
      this.event("info", "check.duplicate_tick", { tick: tickKey, check_id: seen.check_id }, seen.check_id);
      return { checkId: seen.check_id, duplicate: true };
    }
    const seq = Number(getMeta(this.sql, "check_seq") ?? "0") + 1;
    setMeta(this.sql, "check_seq", String(seq));
    const id = `${now.toString(36)}-${seq}`;
    this.sql.exec(`INSERT INTO ticks (tick_key, check_id, at) VALUES (?, ?, ?)`, tickKey, id, now);
    const cfg = this.cfg;
    const market = this.pickMarket(seq);
    const c: CheckRow = {
      id,
      tick_key: tickKey,
      market,
      state: "running",
      phase: "connect",
      started_at: now,
      finished_at: null,
      verdict: null,
      first_failing_stage: null,
      diagnosis: null,
      reasons: [],
      stages: {},
      evidence: { trigger, tick: tickKey, market },
      action: null,
      flatten: null,
      flatten_detail: null,
      coi: null,
      fill_latency_ms: null,
    };
    this.writeCheck(c);
    this.event("info", "check.started", { check_id: id, trigger, market }, id);

    const busy = this.currentId();
    if (busy && busy !== id) {
      const other = this.readCheck(busy);
      this.conclude(
        c,
        "skipped",
        "preflight",
        "check_already_running" as Diagnosis,
        {
          reason: `check ${busy} is still ${other?.state === "running" ? "running" : "flattening"}; two checks never run at once on one monitor`,
        },
        false,
      );
      return { checkId: id, duplicate: false };
    }
    setMeta(this.sql, "current_check", id);
    if (!cfg) {
      this.conclude(c, "skipped", "preflight", "config_invalid", { problems: this.problems }, false);
      return { checkId: id, duplicate: false };
    }
    // The session must be opened from the alarm handler, which then stays alive while the check
    // runs: workerd ties an outbound WebSocket to the event that opened it (see holdWhileActive).
    c.phase = "connect";
    this.writeCheck(c);
    setDeadline(this.sql, "drive", this.now(), { check: id });
    this.spawn(this.armAlarm());
    this.wake();
    return { checkId: id, duplicate: false };
  }

  private pickMarket(seq: number): number {
    const markets = this.cfg?.markets ?? [0];
    return markets[(seq - 1) % Math.max(1, markets.length)] ?? 0;
  }

  setPaused(paused: boolean): void {
    setMeta(this.sql, "paused", paused ? "1" : "0");
    this.event("info", paused ? "monitor.paused" : "monitor.resumed", {}, null);
  }

  housekeeping(): void {
    const now = this.now();
    this.log.prune(now);
    this.sql.exec(`DELETE FROM ticks WHERE at < ?`, now - 30 * 86_400_000);
    this.sql.exec(`DELETE FROM order_events WHERE at < ?`, now - 30 * 86_400_000);
    this.sql.exec(`DELETE FROM checks WHERE started_at < ? AND state = 'done'`, now - 90 * 86_400_000);
    this.event("info", "monitor.housekeeping", {}, null);
  }

  getCheck(id: string): CheckView | null {
    const c = this.readCheck(id);
    return c ? this.view(c) : null;
  }

  listChecks(limit: number): CheckView[] {
    const ids = this.sql
      .exec<{ id: string }>(`SELECT id FROM checks ORDER BY started_at DESC, rowid DESC LIMIT ?`, limit)
      .toArray();
    return ids.map((r) => this.view(this.readCheck(r.id)!));
  }

  getOrder(coi: string): OrderView | null {
    const o = this.readOrder(coi);
    if (!o) return null;
    const events = this.sql
      .exec<{
        at: number;
        source: string;
        kind: string;
        status: string | null;
        filled_base: string | null;
        detail: string | null;
      }>(`SELECT at, source, kind, status, filled_base, detail FROM order_events WHERE coi = ? ORDER BY id`, coi)
      .toArray()
      .map((e) => ({ ...e, detail: e.detail ? (JSON.parse(e.detail) as unknown) : null }));
    return {
      client_order_index: o.coi,
      check_id: o.check_id,
      purpose: o.purpose,
      market: o.market,
      side: o.is_ask ? "sell" : "buy",
      base_amount: o.base_amount,
      price: o.price,
      nonce: o.nonce,
      tx_hash: o.tx_hash,
      send_state: o.send_state,
      send_code: o.send_code,
      send_message: o.send_message,
      order_index: o.order_index,
      status: o.status,
      filled_base: o.filled_base,
      ws_filled_base: o.ws_filled_base,
      seen_at: o.seen_at,
      first_fill_at: o.first_fill_at,
      events,
    };
  }

  status(): StatusView {
    const lastId = this.sql
      .exec<{ id: string }>(`SELECT id FROM checks ORDER BY started_at DESC, rowid DESC LIMIT 1`)
      .toArray()[0]?.id;
    const last = lastId ? this.readCheck(lastId) : null;
    const lat = this.sql
      .exec<{ ms: number }>(
        `SELECT fill_latency_ms AS ms FROM checks WHERE fill_latency_ms IS NOT NULL ORDER BY started_at DESC LIMIT 200`,
      )
      .toArray()
      .map((r) => r.ms)
      .sort((a, b) => a - b);
    const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]! : null);
    const books: Record<string, unknown> = {};
    for (const [m, b] of this.books) {
      const top = b.top();
      books[String(m)] = {
        best_bid: top.bestBid?.priceText ?? null,
        best_ask: top.bestAsk?.priceText ?? null,
        updated_at: this.bookUpdatedAt.get(m) ?? null,
        continuity_breaks: b.stats().gaps,
      };
    }
    const counters = readCounters(this.sql);
    for (const [k, v] of this.frameCounts) counters[`frames.${k}`] = (counters[`frames.${k}`] ?? 0) + v;
    counters["storage.write_statements"] = (counters["storage.write_statements"] ?? 0) + this.writes.count;
    return {
      colo: null,
      paused: getMeta(this.sql, "paused") === "1",
      session: {
        state: this.session?.isOpen ? "open" : this.connecting ? "connecting" : "closed",
        mode: this.cfg?.mode ?? null,
        connected_at: this.session?.openedAt ?? null,
        last_frame_at: this.session?.lastFrameAt ?? null,
        last_account_frame_at: this.lastAccountFrameAt,
        frames_in: this.session?.framesIn ?? 0,
        reconnects: this.reconnects,
        subscriptions: {
          order_book: [...this.subscribedBooks].map((m) => `order_book:${m}`),
          account_orders: [...this.subscribedOrders].map((m) => `account_orders:${m}`),
        },
        books,
      },
      last_check: last ? this.view(last) : null,
      fill_latency_ms: { p50: pct(50), p90: pct(90), p99: pct(99), samples: lat.length },
      budget: this.budget(),
      incidents: this.alerting.openIncidents(),
      counters,
      config_problems: this.problems,
    };
  }

  private view(c: CheckRow): CheckView {
    const stages: Record<string, { at: number; ms: number }> = {};
    for (const s of STAGES) {
      const m = c.stages[s];
      if (m) stages[s] = m;
    }
    return {
      id: c.id,
      state: c.state,
      verdict: c.state === "running" ? null : c.verdict,
      first_failing_stage: c.first_failing_stage,
      diagnosis: c.diagnosis,
      reasons: c.reasons,
      market: c.market,
      started_at: c.started_at,
      finished_at: c.finished_at,
      stages,
      evidence: c.evidence,
      action: c.action,
      flatten: c.flatten,
      flatten_detail: c.flatten_detail,
      client_order_index: c.coi,
      fill_latency_ms: c.fill_latency_ms,
    };
  }

  private budget(): Record<string, unknown> {
    const dayStart = Math.floor(this.now() / 86_400_000) * 86_400_000;
    const row = this.sql
      .exec<{ n: number; notional: number | null }>(
        `SELECT COUNT(*) AS n, SUM(notional_usd) AS notional FROM orders WHERE purpose = 'test' AND created_at >= ? AND send_state != 'rejected'`,
        dayStart,
      )
      .toArray()[0];
    const caps = this.cfg?.caps;
    return {
      day_start: dayStart,
      orders_today: row?.n ?? 0,
      notional_today_usd: row?.notional ?? 0,
      max_orders_per_day: caps?.maxOrdersPerDay ?? null,
      max_daily_notional_usd: caps?.maxDailyNotionalUsd ?? null,
      residual: getMeta(this.sql, "residual") ? (JSON.parse(getMeta(this.sql, "residual")!) as unknown) : {},
    };
  }

  // ---------------------------------------------------------------- driving a check

  /** Advances the running check from wherever it is. Safe to call again (idempotent per phase). */
  private async drive(id: string): Promise<void> {
    const c = this.running();
    if (!c || c.id !== id) return;
    switch (c.phase) {
      case "connect":
      case "book":
      case "orders":
        return this.driveSession(c);
      case "preflight":
        return this.preflight(c);
      case "send":
        return this.sendOrder(c);
      case "await_order":
        return;
      case "reconcile":
      case "late_watch":
        return this.reconcile(c, false);
      default:
        return;
    }
  }

  private async driveSession(c: CheckRow): Promise<void> {
    const ok = await this.ensureSession(c);
    if (!ok) return;
    const cur = this.running();
    if (!cur || cur.id !== c.id) return;
    if (!cur.stages.connect) {
      this.markStage(cur, "connect", this.session?.openedAt ?? this.now(), {
        reused: (this.session?.openedAt ?? 0) < cur.started_at,
      });
    }
    this.writeCheck(cur);
    this.subscribeBook(cur);
  }

  private async ensureSession(c: CheckRow | null): Promise<boolean> {
    if (this.session?.isOpen) return true;
    if (this.connecting) return this.connecting;
    this.connecting = this.openSession(c).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openSession(c: CheckRow | null): Promise<boolean> {
    const cfg = this.cfg!;
    const seq = ++this.sessionSeq;
    const session = new LighterSession(
      cfg.wsUrl,
      `s${seq}`,
      {
        onFrame: (text, at) => {
          if (this.session === session) this.onFrame(text, at);
        },
        onClose: (code, reason, at) => {
          if (this.session === session) this.onSessionClosed(code, reason, at);
        },
      },
      () => this.now(),
    );
    const started = this.now();
    const res = await session.connect(this.scale(BASE_MS.connect));
    if (!res.ok) {
      bumpCounter(this.sql, "session.connect_failed");
      this.event(
        "warn",
        "session.connect_failed",
        { kind: res.kind, status: res.status ?? null, message: res.message, ms: this.now() - started },
        c?.id ?? null,
      );
      const cur = this.running();
      if (cur && (cur.phase === "connect" || !cur.stages.connect)) {
        const limited = res.status === 429 || res.status === 403;
        const timeout = /timed? ?out|abort/i.test(res.message);
        this.fail(cur, limited ? "connection_limited" : timeout ? "connect_timeout" : "connect_failed", {
          url: cfg.wsUrl,
          http_status: res.status ?? null,
          error: res.message,
        });
      }
      return false;
    }
    this.session = session;
    this.books.clear();
    this.subscribedBooks.clear();
    this.subscribedOrders.clear();
    this.pendingSub = null;
    bumpCounter(this.sql, "session.connected");
    this.event("info", "session.connected", { url: cfg.wsUrl, ms: this.now() - started }, c?.id ?? null);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.keepalive(), this.scale(BASE_MS.ping));
    return true;
  }

  private keepalive(): void {
    const s = this.session;
    if (!s?.isOpen) return;
    const now = this.now();
    if (s.lastFrameAt !== null && now - s.lastFrameAt > this.scale(BASE_MS.silence)) {
      this.event("warn", "session.silent", { silent_ms: now - s.lastFrameAt }, this.currentId());
      bumpCounter(this.sql, "session.watchdog_reconnects");
      this.closeSession("watchdog: no frames");
      this.onSessionClosed(4000, "watchdog", now);
      return;
    }
    this.send(pingFrame());
  }

  private closeSession(reason: string): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const s = this.session;
    this.session = null;
    this.subscribedBooks.clear();
    this.subscribedOrders.clear();
    if (s?.isOpen) {
      s.close(1000, reason);
      this.event("info", "session.closed", { reason }, this.currentId());
    }
  }

  private onSessionClosed(code: number, reason: string, at: number): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.session = null;
    this.subscribedBooks.clear();
    this.subscribedOrders.clear();
    bumpCounter(this.sql, "session.closed_by_peer");
    this.event("warn", "session.closed_by_peer", { code, reason }, this.currentId());
    const cur = this.running();
    if (cur) {
      if (cur.phase === "connect" || cur.phase === "book" || cur.phase === "orders") {
        this.fail(cur, "connection_closed", { close_code: code, close_reason: reason, at_phase: cur.phase });
        return;
      }
      // Mid-order: reconnect once so the fill can still be seen; REST reconciliation covers the gap.
      if (cur.phase === "await_order" || cur.phase === "send" || cur.phase === "preflight") {
        this.reconnects++;
        if (!cur.reasons.includes("reconnect_needed" as Diagnosis)) cur.reasons.push("reconnect_needed" as Diagnosis);
        cur.evidence.reconnect = { close_code: code, close_reason: reason, at };
        this.writeCheck(cur);
        this.spawn(this.resubscribeAfterReconnect(cur.id));
      }
      return;
    }
    if (this.cfg?.mode === "continuous") this.scheduleReconnect();
  }

  private async resubscribeAfterReconnect(checkId: string): Promise<void> {
    const ok = await this.ensureSession(null);
    const cur = this.running();
    if (!ok || !cur || cur.id !== checkId) return;
    this.sendSubscribeBook(cur.market);
    if (this.key) this.sendSubscribeOrders(cur.market);
  }

  private scheduleReconnect(): void {
    const attempt = Number(getMeta(this.sql, "reconnect_attempt") ?? "0");
    const base = Math.min(this.scale(BASE_MS.reconnectMax), this.scale(BASE_MS.reconnectMin) * 2 ** attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    setMeta(this.sql, "reconnect_attempt", String(attempt + 1));
    setDeadline(this.sql, "reconnect", this.now() + delay);
    this.spawn(this.armAlarm());
  }

  private async reconnectContinuous(): Promise<void> {
    this.reconnects++;
    const ok = await this.ensureSession(null);
    if (!ok) return this.scheduleReconnect();
    setMeta(this.sql, "reconnect_attempt", "0");
    for (const m of this.cfg?.markets ?? []) {
      this.sendSubscribeBook(m);
      if (this.key) this.sendSubscribeOrders(m);
    }
  }

  private sendSubscribeBook(market: number): void {
    this.books.set(market, new OrderBook(market));
    this.send(subscribeFrame(orderBookChannel(market)));
  }

  private sendSubscribeOrders(market: number): void {
    const token = this.mintAuthToken();
    this.send(subscribeFrame(accountOrdersChannel(market, this.cfg!.accountIndex), token));
  }

  private subscribeBook(c: CheckRow): void {
    if (this.subscribedBooks.has(c.market) && this.books.get(c.market)?.top().bestBid !== undefined) {
      this.markStage(c, "book_subscribed", this.now(), { reused: true });
      this.writeCheck(c);
      return this.subscribeOrders(c);
    }
    this.pendingSub = { kind: "book", market: c.market, sentAt: this.now() };
    this.sendSubscribeBook(c.market);
    this.setPhase(c, "book", this.scale(BASE_MS.ack));
  }

  private subscribeOrders(c: CheckRow): void {
    if (!this.key) {
      c.evidence.orders_subscription = this.keyError
        ? `not attempted: ${this.keyError}`
        : "not attempted: dry run (no private key)";
      this.setPhase(c, "preflight", null);
      this.spawn(this.preflight(c));
      return;
    }
    if (this.subscribedOrders.has(c.market)) {
      this.markStage(c, "orders_subscribed", this.now(), { reused: true });
      this.setPhase(c, "preflight", null);
      this.spawn(this.preflight(c));
      return;
    }
    this.pendingSub = { kind: "orders", market: c.market, sentAt: this.now() };
    this.setPhase(c, "orders", this.scale(BASE_MS.ack));
    this.sendSubscribeOrders(c.market);
  }

  // ---------------------------------------------------------------- frames

  private onFrame(text: string, at: number): void {
    try {
      this.handleFrame(text, at);
    } catch (err) {
      // A frame must never take the object down: record it and go on.
      if (isCrash(err)) throw err;
      bumpCounter(this.sql, "frames.handler_failed");
      this.event(
        "error",
        "frame.handler_failed",
        { error: err instanceof Error ? err.message : String(err), frame: redactText(text.slice(0, 500)) },
        this.currentId(),
      );
    }
  }

  private handleFrame(text: string, at: number): void {
    const ev = parseFrame(text);
    const kind = ev.kind;
    this.frameCounts.set(kind, (this.frameCounts.get(kind) ?? 0) + 1);
    if (kind !== "order_book_update") this.rememberFrame("in", text, at);
    switch (ev.kind) {
      case "ping":
        this.send(pongFrame());
        return;
      case "pong":
      case "connected":
        return;
      case "order_book_snapshot":
      case "order_book_update":
        return this.onBookFrame(ev, at);
      case "account_orders":
      case "account_all_orders":
        return this.onAccountOrders(ev, text, at);
      case "error":
        return this.onErrorFrame(ev, at);
      case "unexpected":
        bumpCounter(this.sql, "frames.unexpected");
        this.event(
          "warn",
          "frame.unexpected",
          { reason: ev.reason, frame: redactText(text.slice(0, 2000)) },
          this.currentId(),
        );
        return;
      default:
        return;
    }
  }

  private onBookFrame(
    ev: Extract<LighterEvent, { kind: "order_book_snapshot" | "order_book_update" }>,
    at: number,
  ): void {
    const market = ev.market;
    let book = this.books.get(market);
    if (!book) {
      book = new OrderBook(market);
      this.books.set(market, book);
    }
    const r = book.apply(ev);
    this.bookUpdatedAt.set(market, at);
    if (r.kind === "gap") {
      bumpCounter(this.sql, "book.gaps");
      this.event("warn", "book.gap", { market, expected: String(r.expected), got: String(r.got) }, this.currentId());
      // Re-subscribing a held channel answers 30003 with no snapshot: unsubscribe first.
      this.send(unsubscribeFrame(orderBookChannel(market)));
      this.send(subscribeFrame(orderBookChannel(market)));
      return;
    }
    if (ev.kind === "order_book_snapshot") {
      this.subscribedBooks.add(market);
      const cur = this.running();
      if (cur && cur.phase === "book" && cur.market === market) {
        this.pendingSub = null;
        this.markStage(cur, "book_subscribed", at, { levels: book.stats().levels });
        this.writeCheck(cur);
        this.subscribeOrders(cur);
      }
    }
  }

  private onErrorFrame(ev: Extract<LighterEvent, { kind: "error" }>, at: number): void {
    bumpCounter(this.sql, "frames.error");
    const cur = this.running();
    const code = ev.code;
    this.event(
      "warn",
      "frame.error",
      { code, message: ev.message, pending: this.pendingSub?.kind ?? null },
      cur?.id ?? null,
    );
    if (!cur) return;
    const evidence = { exchange_code: code, exchange_message: ev.message, code_meaning: describeCode(code), at };
    if (code === 30003) {
      // Already subscribed: the subscription holds, but no new snapshot comes. For the book we
      // need one: unsubscribe, then subscribe (PROTOCOL.md §2.9).
      if (cur.phase === "book" && !cur.evidence.book_resubscribed) {
        cur.evidence.book_resubscribed = true;
        this.writeCheck(cur);
        this.send(unsubscribeFrame(orderBookChannel(cur.market)));
        this.send(subscribeFrame(orderBookChannel(cur.market)));
        return;
      }
      if (cur.phase === "orders") {
        this.subscribedOrders.add(cur.market);
        this.markStage(cur, "orders_subscribed", at, { via: "30003 already subscribed" });
        this.setPhase(cur, "preflight", null);
        this.spawn(this.preflight(cur));
      }
      return;
    }
    if (cur.phase === "book") {
      this.fail(cur, code === 30009 || code === 30010 ? "message_rate_limited" : "book_subscribe_rejected", evidence);
    } else if (cur.phase === "orders") {
      const auth = code === 20013 || /invalid auth|deadline/i.test(ev.message);
      this.fail(
        cur,
        auth
          ? "auth_rejected"
          : code === 20001
            ? "auth_missing"
            : code === 30009 || code === 30010
              ? "message_rate_limited"
              : "orders_subscribe_rejected",
        evidence,
      );
      // Say whether the key is even registered: the commonest cause of a refused token.
      if (auth && this.key) this.spawn(this.annotateKeyCheck(cur.id));
    } else if (code === 23003) {
      cur.evidence.connection_limit = evidence;
      this.writeCheck(cur);
    }
  }

  private onAccountOrders(
    ev: Extract<LighterEvent, { kind: "account_orders" | "account_all_orders" }>,
    text: string,
    at: number,
  ): void {
    this.lastAccountFrameAt = at;
    const cur = this.running();
    if (ev.kind === "account_orders") {
      const market = ev.market ?? cur?.market ?? null;
      if (market !== null) this.subscribedOrders.add(market);
      if (cur && cur.phase === "orders") {
        this.pendingSub = null;
        this.markStage(cur, "orders_subscribed", at, ev.subscribed ? {} : { via: "first account update" });
        this.setPhase(cur, "preflight", null);
        this.spawn(this.preflight(cur));
      }
    }
    for (const o of ev.orders) this.onOrder(o, text, at);
  }

  // ---------------------------------------------------------------- our orders

  private readOrder(coi: string): OrderRow | null {
    const r = this.sql
      .exec<Record<string, string | number | null>>(`SELECT * FROM orders WHERE coi = ?`, coi)
      .toArray()[0];
    return r ? (r as unknown as OrderRow) : null;
  }

  private orderEvent(
    coi: string,
    at: number,
    source: string,
    kind: string,
    status: string | null,
    filled: string | null,
    detail: unknown,
  ): void {
    this.sql.exec(
      `INSERT INTO order_events (coi, at, source, kind, status, filled_base, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      coi,
      at,
      source,
      kind,
      status,
      filled,
      detail === undefined ? null : JSON.stringify(detail),
    );
  }

  /** One order object from a WebSocket frame. Synchronous: every write lands before the next frame. */
  private onOrder(o: Order, text: string, at: number): void {
    if (o.clientOrderIndex === 0n) return;
    const coi = o.clientOrderIndex.toString();
    const row = this.readOrder(coi);
    if (!row) return;
    const filled = o.filledBase.value;
    const prevWs = toBig(row.ws_filled_base);
    const status = o.status;
    this.orderEvent(coi, at, "ws", "update", status, filled.toString(), {
      order_index: o.orderIndex.toString(),
      frame: redactText(text.slice(0, 1500)),
    });
    const seenFirst = row.seen_at === null;
    const delta = filled - prevWs;
    const cls = classifyStatus(status);
    this.sql.exec(
      `UPDATE orders SET order_index = ?, status = ?, seen_at = COALESCE(seen_at, ?), ws_filled_base = ?, filled_base = CASE WHEN CAST(filled_base AS INTEGER) < ? THEN ? ELSE filled_base END,
         filled_quote = ?, first_fill_at = CASE WHEN first_fill_at IS NULL AND ? > 0 THEN ? ELSE first_fill_at END,
         terminal_at = CASE WHEN ? = 1 AND terminal_at IS NULL THEN ? ELSE terminal_at END, updated_at = ?
       WHERE coi = ?`,
      o.orderIndex.toString(),
      status,
      at,
      (delta > 0n ? filled : prevWs).toString(),
      Number(filled),
      filled.toString(),
      o.filledQuote.value.toString(),
      delta > 0n ? 1 : 0,
      at,
      cls.terminal ? 1 : 0,
      at,
      at,
      coi,
    );
    if (delta > 0n) {
      this.orderEvent(coi, at, "ws", "fill", status, filled.toString(), { delta: delta.toString() });
      this.event(
        "info",
        "order.filled",
        {
          client_order_index: coi,
          market: row.market,
          delta_base: delta.toString(),
          cumulative_base: filled.toString(),
          status,
        },
        row.check_id,
      );
    } else if (delta < 0n) {
      this.event(
        "warn",
        "order.fill_regressed",
        { client_order_index: coi, before: prevWs.toString(), now: filled.toString() },
        row.check_id,
      );
    }
    if (row.purpose === "flatten") return;
    const cur = this.running();
    if (!cur || cur.id !== row.check_id) {
      // A report for a check that already ended (e.g. a late WebSocket fill after the verdict).
      if (delta > 0n) this.noteLateReport(row.check_id, at);
      return;
    }
    if (seenFirst) {
      this.markStage(cur, "order_seen", at, { status });
      this.crash("after_seen");
    }
    if (delta > 0n && !cur.stages.fill_seen) {
      this.markStage(cur, "fill_seen", at, { filled_base: filled.toString(), status });
      // Processed: the fill is in SQLite (the UPDATE above) before this line runs.
      this.markStage(cur, "processed", this.now());
      cur.fill_latency_ms = row.created_at ? at - row.created_at : null;
      this.crash("after_fill");
    }
    cur.evidence.last_status = status;
    cur.evidence.order_index = o.orderIndex.toString();
    if (cur.phase === "late_watch" && delta > 0n) {
      cur.reasons.push("late_report");
      this.concludeFromOrder(cur, at);
      return;
    }
    if (cls.terminal && (cur.phase === "await_order" || cur.phase === "send" || cur.phase === "reconcile")) {
      this.concludeFromOrder(cur, at);
      return;
    }
    this.writeCheck(cur);
  }

  private noteLateReport(checkId: string, at: number): void {
    const c = this.readCheck(checkId);
    if (!c || c.state !== "done") return;
    if (c.evidence.ws_fill_after_verdict_at) return;
    c.evidence.ws_fill_after_verdict_at = at;
    c.evidence.ws_fill_after_verdict_ms = c.finished_at ? at - c.finished_at : null;
    this.writeCheck(c);
    this.event("info", "order.fill_reported_after_verdict", { check_id: checkId }, checkId);
  }

  /** The order reached a terminal state (or a late fill arrived): decide from what is recorded. */
  private concludeFromOrder(c: CheckRow, at: number): void {
    const o = c.coi ? this.readOrder(c.coi) : null;
    if (!o) return;
    const ws = toBig(o.ws_filled_base);
    if (ws > 0n) {
      const threshold = this.cfg?.thresholds.fillLatencyDegradedMs ?? null;
      if (
        threshold !== null &&
        c.fill_latency_ms !== null &&
        c.fill_latency_ms > threshold &&
        !c.reasons.includes("fill_latency_high")
      ) {
        c.reasons.push("fill_latency_high");
      }
      const verdict: Verdict = c.reasons.length > 0 ? "degraded" : "pass";
      c.evidence.filled_base = o.ws_filled_base;
      c.evidence.final_status = o.status;
      this.conclude(c, verdict, null, c.reasons[0] ?? null, {});
      return;
    }
    this.fail(c, "not_filled", {
      final_status: o.status,
      cancel_reason: classifyStatus(o.status ?? "").reason,
      order_seen_on_ws: o.seen_at !== null,
      at,
    });
  }

  // ---------------------------------------------------------------- preflight

  private async preflight(c: CheckRow): Promise<void> {
    const cfg = this.cfg!;
    const id = c.id;
    const skip = (d: Diagnosis, detail: Record<string, unknown>) => {
      const cur = this.running();
      if (cur && cur.id === id) this.conclude(cur, "skipped", "preflight", d, detail, true);
    };
    if (getMeta(this.sql, "paused") === "1") return skip("paused", {});
    if (this.problems.some((p) => p.severity === "error")) return skip("config_invalid", { problems: this.problems });
    if (cfg.chainId === 304 && !cfg.allowMainnet) return skip("mainnet_not_allowed", { chain_id: cfg.chainId });
    const rest = this.rest();
    let spec: MarketSpec | null;
    try {
      spec = await this.marketSpec(rest, c.market);
    } catch (err) {
      return skip("market_unknown", this.restEvidence(err));
    }
    if (!spec) return skip("market_unknown", { market: c.market });
    const book = this.books.get(c.market);
    if (!book?.isReady) {
      // The book is resyncing (a gap asked for a fresh snapshot): wait for it, do not skip.
      const cur = this.running();
      if (!cur || cur.id !== id) return;
      this.pendingSub = { kind: "book", market: cur.market, sentAt: this.now() };
      if (!book) this.sendSubscribeBook(cur.market);
      this.setPhase(cur, "book", this.scale(BASE_MS.ack));
      return;
    }
    const top = book.top();
    const updatedAt = this.bookUpdatedAt.get(c.market) ?? 0;
    if (!top.bestBid || !top.bestAsk) return skip("book_stale", { reason: "one side of the book is empty" });
    if (this.now() - updatedAt > (cfg.thresholds.bookStaleMs ?? this.scale(30_000)))
      return skip("book_stale", { last_update_at: updatedAt });
    if (top.bestBid.price >= top.bestAsk.price) {
      this.send(unsubscribeFrame(orderBookChannel(c.market)));
      this.send(subscribeFrame(orderBookChannel(c.market)));
      return skip("book_crossed", { best_bid: top.bestBid.priceText, best_ask: top.bestAsk.priceText });
    }
    const spread = spreadBps(top.bestBid.price, top.bestAsk.price);
    if (cfg.thresholds.maxSpreadBps !== null && spread > cfg.thresholds.maxSpreadBps) {
      return skip("spread_too_wide", { spread_bps: spread, max_spread_bps: cfg.thresholds.maxSpreadBps });
    }

    // Position (REST, not the WebSocket) decides the side, the residual cap and the mainnet gate.
    let position = 0n;
    if (this.key || cfg.dryRun) {
      try {
        position = await this.restPosition(rest, c.market, spec);
      } catch (err) {
        if (this.key) return skip("api_key_unverified", { step: "account position", ...this.restEvidence(err) });
      }
    }
    const residualCap = cfg.caps.maxResidualBase;
    if (
      residualCap !== null &&
      spec &&
      (position < 0n ? -position : position) > residualCap * 10 ** spec.sizeDecimals
    ) {
      return skip("residual_over_cap", { position_base: position.toString(), max_residual_base: residualCap });
    }
    if (
      cfg.chainId === 304 &&
      position !== 0n &&
      !cfg.allowNonflatStart &&
      getMeta(this.sql, `traded_${c.market}`) !== "1"
    ) {
      return skip("position_not_flat", { position_base: position.toString() });
    }
    const isAsk = position > 0n;
    const opposite = isAsk ? top.bestBid.price : top.bestAsk.price;
    let plan: OrderPlan;
    try {
      plan = planTestOrder(spec, isAsk, opposite, cfg.thresholds.maxSlippageBps);
    } catch (err) {
      return skip("book_stale", { reason: err instanceof Error ? err.message : String(err) });
    }
    const budget = this.budget();
    if (cfg.caps.maxNotionalPerOrderUsd !== null && plan.notionalUsd > cfg.caps.maxNotionalPerOrderUsd) {
      return skip("notional_cap", {
        order_notional_usd: plan.notionalUsd,
        max_notional_per_order_usd: cfg.caps.maxNotionalPerOrderUsd,
      });
    }
    if (cfg.caps.maxOrdersPerDay !== null && Number(budget.orders_today) >= cfg.caps.maxOrdersPerDay) {
      return skip("orders_per_day_cap", {
        orders_today: budget.orders_today,
        max_orders_per_day: cfg.caps.maxOrdersPerDay,
      });
    }
    if (
      cfg.caps.maxDailyNotionalUsd !== null &&
      Number(budget.notional_today_usd) + plan.notionalUsd > cfg.caps.maxDailyNotionalUsd
    ) {
      return skip("daily_notional_cap", {
        notional_today_usd: budget.notional_today_usd,
        max_daily_notional_usd: cfg.caps.maxDailyNotionalUsd,
      });
    }
    const planEvidence = {
      side: isAsk ? "sell" : "buy",
      base_amount: plan.baseAmount.toString(),
      price: plan.price,
      reference_price: plan.referencePrice.toString(),
      notional_usd: plan.notionalUsd,
      spread_bps: spread,
      position_base: position.toString(),
    };
    if (!this.key) {
      return skip(this.keyError ? "config_invalid" : "dry_run", {
        planned_order: planEvidence,
        ...(this.keyError ? { key_error: this.keyError } : {}),
      });
    }
    try {
      const check = await this.checkApiKey(rest);
      if (!check.ok) return skip("api_key_mismatch", check.detail);
    } catch (err) {
      return skip("api_key_unverified", this.restEvidence(err));
    }
    const cur = this.running();
    if (!cur || cur.id !== id || cur.phase !== "preflight") return;
    this.markStage(cur, "preflight", this.now(), {});
    cur.evidence.planned_order = planEvidence;
    this.createOrderRow(cur, plan);
    this.setPhase(cur, "send", this.scale(BASE_MS.send) * 2);
    await this.sendOrder(cur);
  }

  private async annotateKeyCheck(checkId: string): Promise<void> {
    let verdict: string;
    try {
      verdict = (await this.checkApiKey(this.rest())).ok
        ? "registered key matches"
        : "registered key DIFFERS from the configured private key";
    } catch (err) {
      verdict = `could not check apikeys: ${err instanceof Error ? err.message : String(err)}`;
    }
    const c = this.readCheck(checkId);
    if (!c) return;
    c.evidence.api_key_check = verdict;
    this.writeCheck(c);
  }

  private restEvidence(err: unknown): Record<string, unknown> {
    if (err instanceof LighterApiError) {
      return {
        exchange_code: err.code,
        exchange_message: err.message,
        http_status: err.httpStatus,
        endpoint: err.endpoint,
        code_meaning: describeCode(err.code),
      };
    }
    return { error: err instanceof Error ? err.message : String(err) };
  }

  private async marketSpec(rest: LighterRestClient, market: number): Promise<MarketSpec | null> {
    const key = `market_${market}`;
    const cached = getMeta(this.sql, key);
    if (cached) {
      const v = JSON.parse(cached) as { at: number; spec: Record<string, string | number> };
      if (this.now() - v.at < BASE_MS.marketCache) return this.specFromJson(v.spec);
    }
    const details = await rest.orderBookDetails(market);
    const d = details.find((x) => x.marketId === market);
    if (!d) return null;
    const minBase = parseDecimal(d.minBaseAmount);
    const minQuote = parseDecimal(d.minQuoteAmount);
    const spec: MarketSpec = {
      marketIndex: market,
      sizeDecimals: d.sizeDecimals,
      priceDecimals: d.priceDecimals,
      minBase: rescale(minBase.value, minBase.scale, d.sizeDecimals),
      minQuote: minQuote.value,
      quoteDecimals: minQuote.scale,
    };
    setMeta(
      this.sql,
      key,
      JSON.stringify({
        at: this.now(),
        spec: { ...spec, minBase: spec.minBase.toString(), minQuote: spec.minQuote.toString() },
      }),
    );
    return spec;
  }

  private specFromJson(j: Record<string, string | number>): MarketSpec {
    return {
      marketIndex: Number(j.marketIndex),
      sizeDecimals: Number(j.sizeDecimals),
      priceDecimals: Number(j.priceDecimals),
      minBase: BigInt(j.minBase as string),
      minQuote: BigInt(j.minQuote as string),
      quoteDecimals: Number(j.quoteDecimals),
    };
  }

  /** Signed position on `market` in size units, from REST. */
  private async restPosition(rest: LighterRestClient, market: number, spec: MarketSpec): Promise<bigint> {
    const acct = await rest.account(this.cfg!.accountIndex);
    const p = acct.positions.find((x) => x.marketId === market);
    if (!p) return 0n;
    const size = parseDecimal(p.position);
    const units = rescale(size.value, size.scale, spec.sizeDecimals);
    return p.sign < 0 ? -units : units;
  }

  private async checkApiKey(rest: LighterRestClient): Promise<{ ok: boolean; detail: Record<string, unknown> }> {
    const cfg = this.cfg!;
    const ours = this.key!.publicKeyHex();
    const cached = getMeta(this.sql, "apikey_check");
    if (cached) {
      const v = JSON.parse(cached) as { at: number; pub: string };
      if (v.pub === ours && this.now() - v.at < BASE_MS.apiKeyCache) return { ok: true, detail: {} };
    }
    const keys = await rest.apikeys(cfg.accountIndex, cfg.apiKeyIndex);
    const entry = keys.find((k) => k.apiKeyIndex === cfg.apiKeyIndex);
    const theirs = entry?.publicKey.replace(/^0x/i, "").toLowerCase() ?? null;
    if (theirs !== ours) {
      return {
        ok: false,
        detail: { api_key_index: cfg.apiKeyIndex, registered_public_key: theirs, configured_public_key: ours },
      };
    }
    setMeta(this.sql, "apikey_check", JSON.stringify({ at: this.now(), pub: ours }));
    return { ok: true, detail: {} };
  }

  // ---------------------------------------------------------------- the order

  private nextClientOrderIndex(): bigint {
    // Namespaced by API key (several monitors may share an account) and seeded from the clock so a
    // wiped object never reuses an index: (apiKey << 40) | max(last + 1, now mod 2^40).
    const last = BigInt(getMeta(this.sql, "coi_counter") ?? "0");
    const clock = BigInt(this.now()) % (1n << 40n);
    const next = last + 1n > clock ? last + 1n : clock;
    setMeta(this.sql, "coi_counter", next.toString());
    return (BigInt(this.cfg!.apiKeyIndex) << 40n) | next;
  }

  private createOrderRow(c: CheckRow, plan: OrderPlan): void {
    const coi = this.nextClientOrderIndex();
    c.coi = coi.toString();
    this.insertOrder(coi, c.id, "test", c.market, plan);
    this.writeCheck(c);
  }

  /** The order row before anything is signed or sent (send_state "unsigned"). */
  private insertOrder(
    coi: bigint,
    checkId: string,
    purpose: "test" | "flatten",
    market: number,
    plan: OrderPlan,
  ): void {
    const now = this.now();
    this.sql.exec(
      `INSERT INTO orders (coi, check_id, purpose, market, is_ask, base_amount, price, notional_usd, nonce, tx_type, tx_info, tx_hash, send_state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 14, '', '', 'unsigned', ?, ?)`,
      coi.toString(),
      checkId,
      purpose,
      market,
      plan.isAsk ? 1 : 0,
      plan.baseAmount.toString(),
      plan.price,
      plan.notionalUsd,
      now,
      now,
    );
  }

  private async nonce(rest: LighterRestClient, refresh: boolean): Promise<bigint> {
    const cached = getMeta(this.sql, "next_nonce");
    if (cached && !refresh) return BigInt(cached);
    const n = await rest.nextNonce(this.cfg!.accountIndex, this.cfg!.apiKeyIndex);
    setMeta(this.sql, "next_nonce", n.toString());
    return n;
  }

  /** Signs (once) and persists the tx before sending it: the write-ahead record. */
  private async signAhead(
    rest: LighterRestClient,
    o: OrderRow,
    refreshNonce: boolean,
    reduceOnly: boolean,
  ): Promise<OrderRow> {
    const cfg = this.cfg!;
    const nonce = await this.nonce(rest, refreshNonce);
    const signed = signTx(
      {
        txType: 14,
        AccountIndex: cfg.accountIndex,
        ApiKeyIndex: cfg.apiKeyIndex,
        MarketIndex: o.market,
        ClientOrderIndex: BigInt(o.coi),
        BaseAmount: BigInt(o.base_amount),
        Price: o.price,
        IsAsk: o.is_ask ? 1 : 0,
        Type: 0,
        TimeInForce: 0,
        ReduceOnly: reduceOnly ? 1 : 0,
        TriggerPrice: 0,
        OrderExpiry: 0n,
        ExpiredAt: BigInt(this.now() + ORDER_TX_VALIDITY_MS),
        Nonce: nonce,
        L2TxAttributes: { 6: SELF_TRADE_EXPIRE_TAKER },
      },
      this.key!,
      cfg.chainId,
    );
    setMeta(this.sql, "next_nonce", (nonce + 1n).toString());
    this.sql.exec(
      `UPDATE orders SET nonce = ?, tx_info = ?, tx_hash = ?, send_state = 'sending', updated_at = ? WHERE coi = ?`,
      nonce.toString(),
      signed.tx_info,
      signed.tx_hash,
      this.now(),
      o.coi,
    );
    this.orderEvent(o.coi, this.now(), "local", "signed", null, null, {
      nonce: nonce.toString(),
      tx_hash: signed.tx_hash,
    });
    return this.readOrder(o.coi)!;
  }

  private async sendOrder(c: CheckRow): Promise<void> {
    const id = c.id;
    const rest = this.rest();
    let o = c.coi ? this.readOrder(c.coi) : null;
    if (!o) return this.fail(c, "send_failed", { error: "order record missing" });
    if (o.send_state === "accepted") return this.afterAccepted(c, o);
    try {
      if (o.send_state === "unsigned") {
        o = await this.signAhead(rest, o, false, false);
        this.crash("after_write_ahead");
      } else if (o.send_state === "sending" && o.send_attempts > 0) {
        // Reply unknown (timeout, eviction, crash): look the tx up before sending it again.
        const found = await this.lookupOrder(rest, o);
        if (found) {
          this.acceptOrder(o, 200, "found by lookup after an interrupted send");
          const cur = this.running();
          if (cur && cur.id === id) return this.afterAccepted(cur, this.readOrder(o.coi)!);
          return;
        }
      }
    } catch (err) {
      const cur = this.running();
      if (cur && cur.id === id) return this.fail(cur, "send_failed", { step: "nonce", ...this.restEvidence(err) });
      return;
    }
    await this.transmit(id, rest, o, false);
  }

  private async transmit(checkId: string, rest: LighterRestClient, o: OrderRow, retriedNonce: boolean): Promise<void> {
    this.sql.exec(
      `UPDATE orders SET send_attempts = send_attempts + 1, updated_at = ? WHERE coi = ?`,
      this.now(),
      o.coi,
    );
    this.orderEvent(o.coi, this.now(), "local", "send", null, null, {
      attempt: o.send_attempts + 1,
      tx_hash: o.tx_hash,
    });
    let code: number;
    let message: string;
    try {
      const res = await rest.sendTx(o.tx_type, o.tx_info);
      code = res.code;
      message = res.message ?? "";
      if (res.txHash && res.txHash !== o.tx_hash) {
        this.event("warn", "order.tx_hash_mismatch", { ours: o.tx_hash, theirs: res.txHash }, checkId);
      }
    } catch (err) {
      if (err instanceof LighterApiError && err.code !== null && err.httpStatus < 500 && err.httpStatus !== 429) {
        code = err.code;
        message = err.message;
      } else {
        const cur = this.running();
        const ev = this.restEvidence(err);
        this.orderEvent(o.coi, this.now(), "rest", "send_error", null, null, ev);
        if (!cur || cur.id !== checkId) return;
        if (err instanceof LighterApiError && (err.httpStatus === 429 || err.code === 23000)) {
          return this.rejectOrder(cur, o, err.code ?? 429, err.message, "rest_rate_limited");
        }
        // Unknown outcome: the order may exist. Reconcile decides (lookup first, resend the same tx).
        cur.evidence.send_error = ev;
        this.setPhase(cur, "reconcile", null);
        return this.reconcile(cur, false);
      }
    }
    this.crash("after_send");
    const cur = this.running();
    if (code === 200) {
      this.acceptOrder(o, code, message);
      if (cur && cur.id === checkId) this.afterAccepted(cur, this.readOrder(o.coi)!);
      return;
    }
    if (!cur || cur.id !== checkId) return;
    if (code === 21104 && !retriedNonce) {
      // Invalid nonce: the tx was refused, so no order exists. Refresh and sign again (same client
      // order index, so even a surprise first execution could not create a second order).
      this.orderEvent(o.coi, this.now(), "rest", "rejected", null, null, { code, message });
      try {
        const again = await this.signAhead(rest, o, true, o.purpose === "flatten");
        return this.transmit(checkId, rest, again, true);
      } catch (err) {
        return this.fail(cur, "send_failed", { step: "nonce refresh", ...this.restEvidence(err) });
      }
    }
    if ((code === 21728 || code === 21104) && o.send_attempts > 0) {
      // A resend of a tx that had in fact arrived: the first one is the order.
      this.acceptOrder(o, code, message);
      return this.afterAccepted(cur, this.readOrder(o.coi)!);
    }
    if (code === 21104) deleteNonce(this.sql);
    this.rejectOrder(cur, o, code, message, "tx_rejected");
  }

  private acceptOrder(o: OrderRow, code: number, message: string): void {
    this.sql.exec(
      `UPDATE orders SET send_state = 'accepted', send_code = ?, send_message = ?, updated_at = ? WHERE coi = ?`,
      code,
      message.slice(0, 500),
      this.now(),
      o.coi,
    );
    this.orderEvent(o.coi, this.now(), "rest", "accepted", null, null, { code, message: message.slice(0, 500) });
    setMeta(this.sql, `traded_${o.market}`, "1");
  }

  private rejectOrder(c: CheckRow, o: OrderRow, code: number, message: string, diagnosis: Diagnosis): void {
    this.sql.exec(
      `UPDATE orders SET send_state = 'rejected', send_code = ?, send_message = ?, updated_at = ? WHERE coi = ?`,
      code,
      message.slice(0, 500),
      this.now(),
      o.coi,
    );
    this.orderEvent(o.coi, this.now(), "rest", "rejected", null, null, { code, message: message.slice(0, 500) });
    this.fail(c, diagnosis, {
      exchange_code: code,
      exchange_message: message,
      code_meaning: describeCode(code),
      tx_hash: o.tx_hash,
      client_order_index: o.coi,
      nonce: o.nonce,
    });
  }

  private afterAccepted(c: CheckRow, o: OrderRow): void {
    this.crash("after_accept");
    const cur = this.readCheck(c.id)!;
    if (cur.state !== "running") return;
    if (!cur.stages.order_accepted) this.markStage(cur, "order_accepted", this.now(), { tx_hash: o.tx_hash });
    cur.evidence.tx_hash = o.tx_hash;
    cur.evidence.client_order_index = o.coi;
    if (o.terminal_at !== null) {
      // Frames outran the sendTx reply: the order already finished.
      this.writeCheck(cur);
      return this.concludeFromOrder(cur, o.terminal_at);
    }
    const wait = cur.stages.order_seen ? BASE_MS.fill : BASE_MS.seen + BASE_MS.fill;
    this.setPhase(cur, "await_order", this.scale(wait));
  }

  /** Is the order (or its tx) known to the exchange? REST only. */
  private async lookupOrder(rest: LighterRestClient, o: OrderRow): Promise<boolean> {
    try {
      const orders = await rest.accountOrders(this.cfg!.accountIndex, [BigInt(o.coi)]);
      if (orders.some((x) => x.clientOrderIndex.toString() === o.coi)) return true;
    } catch (err) {
      this.event("warn", "order.lookup_failed", { client_order_index: o.coi, ...this.restEvidence(err) }, o.check_id);
    }
    try {
      const tx = await rest.tx(o.tx_hash);
      return tx !== null;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- deadlines and reconciliation

  private async onCheckDeadline(checkId: string, phase: Phase): Promise<void> {
    const c = this.running();
    if (!c || c.id !== checkId || c.phase !== phase) return;
    switch (phase) {
      case "connect":
        return this.fail(c, "connect_timeout", { url: this.cfg?.wsUrl ?? null });
      case "book":
        return this.fail(c, "book_ack_timeout", {
          channel: `order_book/${c.market}`,
          waited_ms: this.now() - (this.pendingSub?.sentAt ?? c.started_at),
        });
      case "orders": {
        // No error within the ack deadline: the ack frame is undocumented and may never come.
        // Proceed; the first account update (or REST reconciliation) settles it.
        c.evidence.orders_ack = "assumed: no error within the ack deadline";
        this.markStage(c, "orders_subscribed", this.now(), { via: "no error within deadline" });
        this.subscribedOrders.add(c.market);
        this.setPhase(c, "preflight", null);
        return this.preflight(c);
      }
      case "send":
        return this.sendOrder(c);
      case "await_order":
        this.setPhase(c, "reconcile", null);
        return this.reconcile(c, true);
      case "reconcile":
        return this.reconcile(c, false);
      case "late_watch": {
        const o = c.coi ? this.readOrder(c.coi) : null;
        return this.fail(c, "filled_not_reported_on_ws", this.fillEvidence(c, o));
      }
      default:
        return;
    }
  }

  private fillEvidence(c: CheckRow, o: OrderRow | null): Record<string, unknown> {
    return {
      tx_hash: o?.tx_hash ?? null,
      client_order_index: o?.coi ?? null,
      order_index: o?.order_index ?? null,
      rest_filled_base: o?.filled_base ?? null,
      rest_status: o?.status ?? null,
      ws_filled_base: o?.ws_filled_base ?? "0",
      order_seen_on_ws: o?.seen_at !== null && o?.seen_at !== undefined,
      last_account_frame_at: this.lastAccountFrameAt,
      last_frame_at: this.session?.lastFrameAt ?? null,
      last_frames: this.lastFrames.slice(-MAX_LAST_FRAMES),
      interrupted: c.evidence.interrupted ?? false,
    };
  }

  /** Asks REST what really happened to the order and concludes (or waits once more). */
  private async reconcile(c: CheckRow, first: boolean): Promise<void> {
    const id = c.id;
    const rest = this.rest();
    let o = c.coi ? this.readOrder(c.coi) : null;
    if (!o) return this.fail(c, "order_not_found", { error: "no order record" });
    let restOrder: Order | null = null;
    try {
      const list = await rest.accountOrders(this.cfg!.accountIndex, [BigInt(o.coi)]);
      restOrder = list.find((x) => x.clientOrderIndex.toString() === o!.coi) ?? null;
    } catch (err) {
      c.evidence.reconcile_error = this.restEvidence(err);
    }
    const cur = this.running();
    if (!cur || cur.id !== id) return;
    o = this.readOrder(o.coi)!;
    cur.evidence.reconciled_at = this.now();
    if (restOrder) {
      const filled = restOrder.filledBase.value;
      this.sql.exec(
        `UPDATE orders SET order_index = COALESCE(order_index, ?), status = ?, filled_base = ?, filled_quote = ?, updated_at = ? WHERE coi = ?`,
        restOrder.orderIndex.toString(),
        restOrder.status,
        filled.toString(),
        restOrder.filledQuote.value.toString(),
        this.now(),
        o.coi,
      );
      this.orderEvent(o.coi, this.now(), "rest", "reconciled", restOrder.status, filled.toString(), {
        order_index: restOrder.orderIndex.toString(),
      });
      if (o.send_state !== "accepted") this.acceptOrder(o, 200, "found by reconciliation");
      if (!cur.stages.order_accepted) this.markStage(cur, "order_accepted", this.now(), { via: "reconciliation" });
      o = this.readOrder(o.coi)!;
      const ws = toBig(o.ws_filled_base);
      if (filled > 0n && ws === 0n) {
        if (cur.evidence.interrupted) {
          // We were not listening (eviction/crash): the exchange may well have reported it.
          this.markStage(cur, "fill_seen", this.now(), { via: "REST after interruption" });
          this.markStage(cur, "processed", this.now(), { via: "REST" });
          if (!cur.reasons.includes("check_interrupted")) cur.reasons.push("check_interrupted");
          cur.evidence.filled_base = filled.toString();
          return this.conclude(cur, "degraded", null, "check_interrupted", this.fillEvidence(cur, o));
        }
        if (cur.phase !== "late_watch") {
          cur.evidence.rest_fill_detected_at = this.now();
          this.setPhase(cur, "late_watch", this.scale(BASE_MS.lateWatch));
          return;
        }
        return;
      }
      if (filled > 0n && ws > 0n) {
        if (ws < filled)
          cur.evidence.partial_ws_report = { ws_filled_base: ws.toString(), rest_filled_base: filled.toString() };
        return this.concludeFromOrder(cur, this.now());
      }
      const cls = classifyStatus(restOrder.status);
      if (cls.terminal) {
        return this.fail(cur, "not_filled", {
          final_status: restOrder.status,
          cancel_reason: cls.reason,
          order_seen_on_ws: o.seen_at !== null,
          tx_hash: o.tx_hash,
        });
      }
      if (first) {
        this.setPhase(cur, "reconcile", this.scale(BASE_MS.fill));
        return;
      }
      return this.fail(cur, "fill_timeout", { rest_status: restOrder.status, tx_hash: o.tx_hash });
    }
    // Not found by client order index: was the tx rejected inside the sequencer, or never sent?
    let tx: Awaited<ReturnType<LighterRestClient["tx"]>> = null;
    try {
      tx = o.tx_hash ? await rest.tx(o.tx_hash) : null;
    } catch (err) {
      cur.evidence.tx_lookup_error = this.restEvidence(err);
    }
    if (tx && tx.status === 0) {
      return this.fail(cur, "tx_failed", {
        tx_hash: o.tx_hash,
        tx_status: tx.status,
        app_error: tx.appError ?? null,
        event_info: tx.eventInfo ?? null,
      });
    }
    if (o.send_state === "sending" || o.send_state === "unsigned") {
      // The send never got an answer and the exchange knows nothing: send the SAME signed tx again.
      if (o.send_state === "sending" && o.send_attempts < 3 && !tx) {
        this.setPhase(cur, "send", this.scale(BASE_MS.send) * 2);
        return this.transmit(cur.id, rest, o, false);
      }
    }
    if (first || (tx && tx.status !== 0)) {
      this.setPhase(cur, "reconcile", this.scale(BASE_MS.fill));
      return;
    }
    return this.fail(cur, "order_not_found", {
      tx_hash: o.tx_hash,
      client_order_index: o.coi,
      tx_found: tx !== null,
      send_state: o.send_state,
    });
  }

  /** After an eviction or crash: pick the running check up where its state says it was. */
  private async resume(): Promise<void> {
    const c = this.running();
    if (!c) return;
    c.evidence.interrupted = true;
    c.evidence.resumed_at = this.now();
    this.event("warn", "check.resumed", { phase: c.phase }, c.id);
    this.writeCheck(c);
    switch (c.phase) {
      case "connect":
      case "book":
      case "orders":
      case "preflight":
        // Nothing was sent: start the session stages again (stage marks already made stay).
        this.setPhase(c, "connect", this.scale(BASE_MS.connect));
        return this.driveSession(c);
      case "send":
        return this.sendOrder(c);
      case "await_order":
      case "reconcile":
      case "late_watch": {
        this.spawn(this.resubscribeAfterReconnect(c.id));
        this.setPhase(c, "reconcile", null);
        return this.reconcile(c, true);
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- verdicts

  private fail(c: CheckRow, diagnosis: Diagnosis, evidence: Record<string, unknown>): void {
    const stage = DIAGNOSIS_STAGE[diagnosis] ?? "connect";
    this.conclude(c, "fail", stage, diagnosis, evidence);
  }

  private conclude(
    c: CheckRow,
    verdict: Verdict,
    stage: Stage | null,
    diagnosis: Diagnosis | null,
    evidence: Record<string, unknown>,
    flatten = true,
  ): void {
    const fresh = this.readCheck(c.id);
    if (fresh && fresh.state === "done") return;
    const now = this.now();
    c.state = "done";
    c.phase = "done";
    c.verdict = verdict;
    c.first_failing_stage = verdict === "fail" || verdict === "skipped" ? stage : null;
    c.diagnosis = diagnosis;
    c.finished_at = now;
    c.evidence = { ...c.evidence, ...evidence };
    if (verdict === "fail" && !c.evidence.last_frames) c.evidence.last_frames = this.lastFrames.slice(-MAX_LAST_FRAMES);
    c.action = diagnosis ? (ACTIONS[diagnosis] ?? null) : null;
    const o = c.coi ? this.readOrder(c.coi) : null;
    const needsFlatten = flatten && o !== null && o.send_state !== "rejected" && o.send_state !== "unsigned";
    c.flatten = needsFlatten ? null : "skipped";
    this.writeCheck(c);
    clearDeadline(this.sql, "check");
    bumpCounter(this.sql, `verdict.${verdict}`);
    if (verdict === "fail" && (stage === "connect" || stage === "book_subscribed" || stage === "orders_subscribed")) {
      // The session itself is suspect: the next check starts from a fresh connection.
      this.closeSession(`check failed at ${stage}`);
    }
    this.event(
      verdict === "fail" ? "error" : verdict === "pass" ? "info" : "warn",
      "check.verdict",
      {
        verdict,
        first_failing_stage: c.first_failing_stage,
        diagnosis,
        reasons: c.reasons,
        fill_latency_ms: c.fill_latency_ms,
      },
      c.id,
    );
    this.alerting.onCheck({
      checkId: c.id,
      at: now,
      verdict,
      firstFailingStage: c.first_failing_stage,
      diagnosis,
      flatten: null,
      action: c.action,
      evidence: summarizeEvidence(c.evidence),
    });
    if (needsFlatten) {
      setMeta(this.sql, "flatten", JSON.stringify({ check: c.id, attempt: 0 }));
      setDeadline(this.sql, "flatten", now + (verdict === "pass" || verdict === "degraded" ? 0 : this.scale(1_000)));
    } else {
      this.finishCheck(c.id);
    }
    this.spawn(this.armAlarm());
  }

  /** Book frames only touch memory; their counts are written as aggregates here. */
  private flushCounters(): void {
    for (const [k, v] of this.frameCounts) if (v > 0) bumpCounter(this.sql, `frames.${k}`, v);
    this.frameCounts.clear();
    const w = this.writes.count;
    this.writes.count = 0;
    if (w > 0) bumpCounter(this.sql, "storage.write_statements", w + 1);
  }

  private finishCheck(checkId: string): void {
    this.flushCounters();
    if (this.currentId() === checkId) setMeta(this.sql, "current_check", "");
    if (this.cfg?.mode !== "continuous")
      setDeadline(this.sql, "session_close", this.now() + this.scale(BASE_MS.sessionGrace));
    this.spawn(this.alerting.heartbeat(checkId));
    this.spawn(this.armAlarm());
  }

  // ---------------------------------------------------------------- flatten

  private async runFlatten(): Promise<void> {
    const raw = getMeta(this.sql, "flatten");
    if (!raw) return;
    const st = JSON.parse(raw) as { check: string; attempt: number; coi?: string; sent_at?: number };
    const c = this.readCheck(st.check);
    if (!c) {
      setMeta(this.sql, "flatten", "");
      return;
    }
    const done = (outcome: FlattenOutcome, detail: Record<string, unknown>) => {
      c.flatten = outcome;
      c.flatten_detail = detail;
      this.writeCheck(c);
      setMeta(this.sql, "flatten", "");
      this.event(outcome === "ok" ? "info" : "warn", "flatten.done", { outcome, ...detail }, c.id);
      // A sub-minimum residue is normal (the next check's side nets it): it alerts only above
      // max_residual_base. A failed flatten always alerts.
      const cap = this.cfg?.caps.maxResidualBase ?? null;
      const residualBase = typeof detail.position_base === "string" ? BigInt(detail.position_base) : 0n;
      const overCap =
        cap !== null &&
        Number(residualBase < 0n ? -residualBase : residualBase) >
          cap * 10 ** (typeof detail.size_decimals === "number" ? detail.size_decimals : 0);
      const alarming = outcome === "failed" || (outcome === "residual" && overCap);
      if (outcome !== "skipped") {
        this.alerting.onCheck(
          {
            checkId: `${c.id}:flatten`,
            at: this.now(),
            verdict: alarming ? "fail" : "pass",
            firstFailingStage: null,
            diagnosis: alarming ? (outcome === "failed" ? "flatten_failed" : "flatten_residual") : null,
            flatten: outcome,
            action: alarming ? ACTIONS[outcome === "failed" ? "flatten_failed" : "flatten_residual"] : null,
            evidence: detail,
          },
          "flatten",
        );
      }
      this.finishCheck(c.id);
    };
    if (!this.cfg || !this.key) return done("skipped", { reason: "no key" });
    const rest = this.rest();
    let spec: MarketSpec | null;
    let position: bigint;
    try {
      spec = await this.marketSpec(rest, c.market);
      if (!spec) return done("failed", { reason: "market unknown" });
      position = await this.restPosition(rest, c.market, spec);
    } catch (err) {
      if (st.attempt >= 3) return done("failed", { reason: "REST position unavailable", ...this.restEvidence(err) });
      setMeta(this.sql, "flatten", JSON.stringify({ ...st, attempt: st.attempt + 1 }));
      setDeadline(this.sql, "flatten", this.now() + this.scale(BASE_MS.flattenConfirm));
      return;
    }
    const abs = position < 0n ? -position : position;
    if (abs === 0n) return done("ok", { position_base: "0" });
    if (abs < spec.minBase) {
      const residual = JSON.parse(getMeta(this.sql, "residual") || "{}") as Record<string, string>;
      residual[String(c.market)] = position.toString();
      setMeta(this.sql, "residual", JSON.stringify(residual));
      return done("residual", {
        position_base: position.toString(),
        min_base: spec.minBase.toString(),
        size_decimals: spec.sizeDecimals,
        carried: true,
      });
    }
    if (st.attempt >= 3) return done("failed", { position_base: position.toString(), attempts: st.attempt });
    const book = this.books.get(c.market)?.top();
    const opposite = position > 0n ? book?.bestBid?.price : book?.bestAsk?.price;
    if (!opposite) {
      setMeta(this.sql, "flatten", JSON.stringify({ ...st, attempt: st.attempt + 1 }));
      setDeadline(this.sql, "flatten", this.now() + this.scale(BASE_MS.flattenConfirm));
      return;
    }
    const plan = planFlatten(spec, position, opposite, Math.max(this.cfg.thresholds.maxSlippageBps, 50));
    const coi = this.nextClientOrderIndex();
    const now = this.now();
    this.insertOrder(coi, c.id, "flatten", c.market, plan);
    setMeta(this.sql, "flatten", JSON.stringify({ ...st, attempt: st.attempt + 1, coi: coi.toString(), sent_at: now }));
    try {
      const row = await this.signAhead(rest, this.readOrder(coi.toString())!, false, true);
      this.crash("before_flatten_send");
      this.sql.exec(`UPDATE orders SET send_attempts = send_attempts + 1 WHERE coi = ?`, row.coi);
      const res = await rest.sendTx(row.tx_type, row.tx_info);
      if (res.code === 200) this.acceptOrder(row, 200, res.message ?? "");
    } catch (err) {
      this.event("warn", "flatten.send_failed", { ...this.restEvidence(err) }, c.id);
      if (err instanceof LighterApiError && err.code === 21104) deleteNonce(this.sql);
    }
    setDeadline(this.sql, "flatten", this.now() + this.scale(BASE_MS.flattenConfirm));
    this.spawn(this.armAlarm());
  }
}

/** The test-only crash hook aborts the object; nothing may be written after it. */
export const CRASH_MARK = "fillwatch test crash";
function isCrash(err: unknown): boolean {
  return err instanceof Error && err.message.includes(CRASH_MARK);
}

/** Wraps SqlStorage to count write statements (each writes one row here), for the benchmark. */
function meter(sql: SqlStorage, writes: { count: number }): SqlStorage {
  const exec = sql.exec.bind(sql);
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "exec") {
        return (query: string, ...bindings: unknown[]) => {
          if (/^\s*(INSERT|UPDATE|DELETE)/i.test(query)) writes.count++;
          return exec(query, ...(bindings as []));
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

function rescale(value: bigint, from: number, to: number): bigint {
  if (from === to) return value;
  if (from < to) return value * 10n ** BigInt(to - from);
  return value / 10n ** BigInt(from - to);
}

function deleteNonce(sql: SqlStorage): void {
  sql.exec(`DELETE FROM meta WHERE key = 'next_nonce'`);
}

function summarizeEvidence(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [
    "tx_hash",
    "client_order_index",
    "exchange_code",
    "exchange_message",
    "code_meaning",
    "final_status",
    "rest_filled_base",
    "ws_filled_base",
    "last_account_frame_at",
    "http_status",
    "error",
  ]) {
    if (e[k] !== undefined && e[k] !== null) out[k] = e[k];
  }
  return out;
}
