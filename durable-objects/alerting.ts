/**
 * The FillMonitor's alerting: applies each completed check to the alert policy (state in meta
 * `alert_state`), writes notifications to the SQLite outbox keyed by their idempotency key (so a
 * retry or a replay never sends twice), delivers from the alarm with backoff, and pings the
 * heartbeat URL after passing and failing checks (never after a skip). It also keeps the incident
 * history (views/incidents.ts: written only while an incident is open or resolving) and counts each
 * check's verdict for uptime (views/uptime.ts: one write per check).
 */
import type { MonitorConfig } from "../worker/config.ts";
import type { SecretReader } from "../worker/secrets.ts";
import { deliverOnce, nextAttempt, type OutboxItem } from "../worker/alerts/deliver.ts";
import {
  DEFAULT_POLICY,
  applyCheck,
  initialAlertState,
  worthStoring,
  type AlertState,
  type CheckResult,
  type Notification,
} from "../worker/alerts/alert-policy.ts";
import { buildRequest, type ResolvedTarget } from "../worker/alerts/providers.ts";
import type { LogLevel } from "../worker/views/logs.ts";
import { getMeta, setMeta } from "./runtime/schema.ts";
import { saveIncident } from "./views/incidents.ts";
import { countVerdict } from "./views/uptime.ts";

/**
 * Check verdicts; flatten outcomes (page at once); the monitor itself (blind, stalled); watch mode's
 * missed fills, unexplained position moves and REST rate limits; the user's bot's missed and
 * phantom fills and its silent ingest (each its own incident).
 */
export type AlertStream =
  | "checks"
  | "flatten"
  | "monitor"
  | "watch"
  | "watch_channel"
  | "watch_position"
  | "watch_rest"
  | "bot"
  | "bot_phantom"
  | "bot_ingest";

const STATE_KEY = {
  checks: "alert_state",
  flatten: "alert_state_flatten",
  monitor: "alert_state_monitor",
  watch: "alert_state_watch",
  watch_channel: "alert_state_watch_channel",
  watch_position: "alert_state_watch_position",
  watch_rest: "alert_state_watch_rest",
  bot: "alert_state_bot",
  bot_phantom: "alert_state_bot_phantom",
  bot_ingest: "alert_state_bot_ingest",
} as const;

export interface AlertingOptions {
  sql: SqlStorage;
  secret: SecretReader;
  monitorId: string;
  /** The monitor's alert settings: its entry's, or (entry invalid) the ones that parsed. */
  config: () => Pick<MonitorConfig, "alerts"> | null;
  log: (level: LogLevel, event: string, data: Record<string, unknown>) => void;
  schedule: (at: number) => void;
}

export class Alerting {
  private readonly o: AlertingOptions;
  private flushing = false;
  /**
   * Checks already counted for uptime by this instance. A quiet pass stores no alert state
   * (worthStoring), so its id is not in `applied`; this keeps a replay from counting it twice.
   */
  private readonly counted = new Set<string>();

  constructor(o: AlertingOptions) {
    this.o = o;
  }

  /** Independent streams, each with its own incident. */
  private state(stream: AlertStream): AlertState {
    const raw = getMeta(this.o.sql, STATE_KEY[stream]);
    return raw ? (JSON.parse(raw) as AlertState) : initialAlertState();
  }

  /** `resolveAfter`: how many passing results in a row resolve an incident of a non-check stream (1). */
  onCheck(result: CheckResult, stream: AlertStream = "checks", resolveAfter = 1): void {
    const cfg = this.o.config();
    const policy = {
      ...DEFAULT_POLICY,
      failAfter: stream !== "checks" ? 1 : (cfg?.alerts.failAfter ?? DEFAULT_POLICY.failAfter),
      resolveAfter: stream !== "checks" ? resolveAfter : (cfg?.alerts.resolveAfter ?? DEFAULT_POLICY.resolveAfter),
      degradedCounts: cfg?.alerts.degradedCounts ?? false,
      remindEveryMs: cfg?.alerts.remindEveryMs ?? DEFAULT_POLICY.remindEveryMs,
    };
    const before = this.state(stream);
    const { state, notifications } = applyCheck(
      before,
      result,
      stream === "checks" ? this.o.monitorId : `${this.o.monitorId}:${stream}`,
      policy,
    );
    if (before.applied.includes(result.checkId)) return; // a replayed check: nothing to count or store
    // A healthy monitor's passes change nothing worth a write (worthStoring).
    if (worthStoring(before, state)) setMeta(this.o.sql, STATE_KEY[stream], JSON.stringify(state));
    if (stream === "checks" && !this.counted.has(result.checkId)) {
      if (this.counted.size >= 64) this.counted.clear();
      this.counted.add(result.checkId);
      countVerdict(this.o.sql, result.at, result.verdict, result.firstFailingStage);
    }
    if (state.open && (notifications.length > 0 || state.open.failures !== before.open?.failures))
      saveIncident(this.o.sql, stream, state.open, result.action, null);
    else if (before.open) saveIncident(this.o.sql, stream, before.open, null, result.at);
    const targets = cfg?.alerts.targets ?? [];
    for (const n of notifications) {
      this.o.log(n.kind === "resolve" ? "info" : "warn", `alert.${n.kind}`, {
        incident_id: n.incidentId,
        stage: n.stage,
        diagnosis: n.diagnosis,
        targets: targets.length,
      });
      targets.forEach((_, i) => {
        const item: OutboxItem = {
          id: `${n.idempotencyKey}#${i}`,
          targetIndex: i,
          notification: n,
          attempts: 0,
          nextAt: result.at,
          state: "pending",
          lastError: null,
        };
        this.o.sql.exec(
          `INSERT INTO outbox (id, created_at, item, state, next_at) VALUES (?, ?, ?, 'pending', ?) ON CONFLICT(id) DO NOTHING`,
          item.id,
          result.at,
          JSON.stringify(item),
          item.nextAt,
        );
      });
    }
    if (notifications.length > 0 && targets.length > 0) this.o.schedule(Date.now());
  }

  private resolve(cfg: Pick<MonitorConfig, "alerts">, index: number): ResolvedTarget | null {
    const t = cfg.alerts.targets[index];
    if (!t) return null;
    const read = (name: string | null) => (name ? this.o.secret(name) : null);
    return { target: t, url: t.urlSecret ? read(t.urlSecret) : t.url, secret: read(t.secretName) };
  }

  async flush(now: number): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const cfg = this.o.config();
      const due = this.o.sql
        .exec<{ id: string; item: string }>(
          `SELECT id, item FROM outbox WHERE state = 'pending' AND next_at <= ? ORDER BY created_at LIMIT 20`,
          now,
        )
        .toArray();
      for (const row of due) {
        const item = JSON.parse(row.item) as OutboxItem;
        const target = cfg ? this.resolve(cfg, item.targetIndex) : null;
        let next: OutboxItem;
        if (!target || (!target.url && target.target.type !== "telegram" && target.target.type !== "pagerduty")) {
          next = {
            ...item,
            attempts: item.attempts + 1,
            state: "failed",
            lastError: "alert target or its secret is not configured",
          };
        } else {
          const req = await buildRequest(item.notification, target);
          next = nextAttempt(item, await deliverOnce(req), Date.now());
        }
        this.o.sql.exec(
          `UPDATE outbox SET item = ?, state = ?, next_at = ? WHERE id = ?`,
          JSON.stringify(next),
          next.state,
          next.nextAt,
          item.id,
        );
        this.o.log(
          next.state === "failed" ? "error" : next.state === "sent" ? "info" : "warn",
          `alert.delivery.${next.state}`,
          {
            incident_id: item.notification.incidentId,
            kind: item.notification.kind,
            target: target?.target.type ?? null,
            attempts: next.attempts,
            error: next.lastError,
          },
        );
      }
      const pending = this.o.sql
        .exec<{ at: number | null }>(`SELECT MIN(next_at) AS at FROM outbox WHERE state = 'pending'`)
        .toArray()[0]?.at;
      if (pending !== null && pending !== undefined) this.o.schedule(pending);
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Dead-man's switch: `<url>` after a pass or degraded check, `<url>/fail` after a failure, and
   * nothing after a skip, so a blind or dead deployment goes quiet and the external switch fires.
   */
  async heartbeat(checkId: string, verdict: "pass" | "degraded" | "fail" | "skipped"): Promise<boolean> {
    const base = this.o.config()?.alerts.heartbeatUrl;
    if (!base || verdict === "skipped") return true;
    const url = verdict === "fail" ? `${base.replace(/\/+$/, "")}/fail` : base;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ monitor: this.o.monitorId, check_id: checkId }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) this.o.log("warn", "heartbeat.failed", { status: res.status });
      return res.ok;
    } catch {
      this.o.log("warn", "heartbeat.failed", { status: null });
      return false;
    }
  }

  /**
   * Queues one notification for one target at `at` (outbox, same delivery and retries): the
   * PagerDuty test alert's own resolve, a minute after POST /alerts/test.
   */
  enqueue(n: Notification, targetIndex: number, at: number): void {
    const item: OutboxItem = {
      id: `${n.idempotencyKey}#${targetIndex}`,
      targetIndex,
      notification: n,
      attempts: 0,
      nextAt: at,
      state: "pending",
      lastError: null,
    };
    this.o.sql.exec(
      `INSERT INTO outbox (id, created_at, item, state, next_at) VALUES (?, ?, ?, 'pending', ?) ON CONFLICT(id) DO NOTHING`,
      item.id,
      n.at,
      JSON.stringify(item),
      at,
    );
    this.o.schedule(at);
  }

  /** Whether the stream has an open incident. */
  isOpen(stream: AlertStream): boolean {
    return this.state(stream).open !== null;
  }

  openIncidents(): unknown[] {
    const out: unknown[] = [];
    for (const stream of Object.keys(STATE_KEY) as AlertStream[]) {
      const s = this.state(stream);
      if (s.open)
        out.push({
          id: s.open.id,
          kind: stream,
          opened_at: s.open.openedAt,
          stage: s.open.stage,
          diagnosis: s.open.diagnosis,
          earlier_diagnoses: (s.open.history ?? []).slice(0, -1),
          failures: s.open.failures,
        });
    }
    return out;
  }
}
