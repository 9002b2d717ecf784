/**
 * A monitor's alerting over its SQLite storage and `fetch`: applies each result to its stream's
 * alert state (meta, one key per stream), writes notifications to the outbox keyed by their
 * idempotency key (so a retry or a replay never sends twice), delivers from the outbox's own
 * deadline with backoff, pings the heartbeat URL, keeps the incident history
 * (worker/store/views/incidents.ts) and counts each check's verdict for uptime (an hourly counter,
 * through the owner's buffered counters: worker/store/views/uptime.ts). What a result does is
 * decided in streams.ts. The FillMonitor owns one and gives it its deadline (`schedule`).
 */
import type { MonitorConfig } from "../config.ts";
import type { SecretReader } from "../secrets.ts";
import { deliverOnce, nextAttempt, type OutboxItem } from "./deliver.ts";
import { initialAlertState, type AlertState, type CheckResult, type Notification } from "./alert-policy.ts";
import { buildRequest, type ResolvedTarget } from "./providers.ts";
import {
  ALERT_STREAMS,
  STATE_KEY,
  applyToStream,
  deliverable,
  deliveryLevel,
  heartbeatUrl,
  openIncidentView,
  outboxItem,
  policyFor,
  undeliverable,
  type AlertStream,
} from "./streams.ts";
import type { LogLevel } from "../views/logs.ts";
import { getMeta, setMeta } from "../store/schema.ts";
import { saveIncident } from "../store/views/incidents.ts";
import { uptimeCounter } from "../store/views/uptime.ts";

export type { AlertStream } from "./streams.ts";

export interface AlertingOptions {
  sql: SqlStorage;
  secret: SecretReader;
  monitorId: string;
  /** The monitor's alert settings: its entry's, or (entry invalid) the ones that parsed. */
  config: () => Pick<MonitorConfig, "alerts"> | null;
  log: (level: LogLevel, event: string, data: Record<string, unknown>) => void;
  schedule: (at: number) => void;
  /** Adds one to a (buffered) counter: uptime's hourly verdict counts go there. */
  count: (name: string) => void;
}

function parseState(raw: string | null): AlertState {
  return raw ? (JSON.parse(raw) as AlertState) : initialAlertState();
}

export class Alerting {
  private readonly o: AlertingOptions;
  /** Targets with a delivery attempt in flight (their lane is running). */
  private readonly inFlight = new Set<number>();
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
    return parseState(getMeta(this.o.sql, STATE_KEY[stream]));
  }

  /** `resolveAfter`: how many passing results in a row resolve an incident of a non-check stream (1). */
  onCheck(result: CheckResult, stream: AlertStream = "checks", resolveAfter = 1): void {
    const cfg = this.o.config();
    const policy = policyFor(stream, cfg?.alerts ?? null, resolveAfter);
    const r = applyToStream(this.state(stream), result, this.o.monitorId, stream, policy);
    if (r.replay) return;
    if (r.store) setMeta(this.o.sql, STATE_KEY[stream], JSON.stringify(r.state));
    if (stream === "checks" && !this.counted.has(result.checkId)) {
      if (this.counted.size >= 64) this.counted.clear();
      this.counted.add(result.checkId);
      this.o.count(uptimeCounter(result.at, result.verdict, result.firstFailingStage));
    }
    if (r.incident) saveIncident(this.o.sql, stream, r.incident.incident, r.incident.action, r.incident.resolvedAt);
    const targets = cfg?.alerts.targets ?? [];
    for (const n of r.notifications) {
      this.o.log(n.kind === "resolve" ? "info" : "warn", `alert.${n.kind}`, {
        incident_id: n.incidentId,
        stage: n.stage,
        diagnosis: n.diagnosis,
        targets: targets.length,
      });
      targets.forEach((_, i) => this.insert(outboxItem(n, i, result.at), result.at));
    }
    if (r.notifications.length > 0 && targets.length > 0) this.o.schedule(Date.now());
  }

  private insert(item: OutboxItem, createdAt: number): void {
    this.o.sql.exec(
      `INSERT INTO outbox (id, created_at, item, state, next_at) VALUES (?, ?, ?, 'pending', ?) ON CONFLICT(id) DO NOTHING`,
      item.id,
      createdAt,
      JSON.stringify(item),
      item.nextAt,
    );
  }

  private resolve(cfg: Pick<MonitorConfig, "alerts">, index: number): ResolvedTarget | null {
    const t = cfg.alerts.targets[index];
    if (!t) return null;
    const read = (name: string | null) => (name ? this.o.secret(name) : null);
    return { target: t, url: t.urlSecret ? read(t.urlSecret) : t.url, secret: read(t.secretName) };
  }

  /**
   * Delivers the due outbox items. Each target is its own lane (its items in order, one attempt at a
   * time), and lanes run at once and independently: a target that never answers holds back only its
   * own notifications, and a flush called meanwhile starts the other targets' lanes without waiting.
   */
  async flush(now: number): Promise<void> {
    const cfg = this.o.config();
    const targets = this.o.sql
      .exec<{ t: number }>(
        `SELECT DISTINCT json_extract(item, '$.targetIndex') AS t FROM outbox WHERE state = 'pending' AND next_at <= ?`,
        now,
      )
      .toArray()
      .map((r) => r.t)
      .filter((t) => !this.inFlight.has(t));
    await Promise.all(targets.map((t) => this.lane(cfg, t, now)));
    // The next due item of a target not in flight (the flush that started a lane still running
    // schedules that target when the lane ends).
    const busy = JSON.stringify([...this.inFlight]);
    const pending = this.o.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(next_at) AS at FROM outbox WHERE state = 'pending'
           AND json_extract(item, '$.targetIndex') NOT IN (SELECT value FROM json_each(?))`,
        busy,
      )
      .toArray()[0]?.at;
    if (pending !== null && pending !== undefined) this.o.schedule(pending);
  }

  /**
   * One target's lane: its due items oldest first, one attempt at a time, read again when they are
   * done (an item raised meanwhile goes out at once), until none is due or an attempt fails (the rest
   * then wait for their retry time).
   */
  private async lane(cfg: Pick<MonitorConfig, "alerts"> | null, target: number, now: number): Promise<void> {
    this.inFlight.add(target);
    const started = Date.now();
    try {
      for (;;) {
        const due = this.o.sql
          .exec<{ item: string }>(
            `SELECT item FROM outbox WHERE state = 'pending' AND next_at <= ?
               AND json_extract(item, '$.targetIndex') = ? ORDER BY created_at LIMIT 20`,
            now + (Date.now() - started),
            target,
          )
          .toArray();
        if (due.length === 0) return;
        for (const row of due) if (!(await this.deliver(cfg, JSON.parse(row.item) as OutboxItem))) return;
      }
    } finally {
      this.inFlight.delete(target);
    }
  }

  /** One attempt at one outbox item, its new state written back and logged; true when it was sent. */
  private async deliver(cfg: Pick<MonitorConfig, "alerts"> | null, item: OutboxItem): Promise<boolean> {
    const target = cfg ? this.resolve(cfg, item.targetIndex) : null;
    const next = deliverable(target)
      ? nextAttempt(item, await deliverOnce(await buildRequest(item.notification, target)), Date.now())
      : undeliverable(item);
    this.o.sql.exec(
      `UPDATE outbox SET item = ?, state = ?, next_at = ? WHERE id = ?`,
      JSON.stringify(next),
      next.state,
      next.nextAt,
      item.id,
    );
    this.o.log(deliveryLevel(next.state), `alert.delivery.${next.state}`, {
      incident_id: item.notification.incidentId,
      kind: item.notification.kind,
      target: target?.target.type ?? null,
      attempts: next.attempts,
      error: next.lastError,
    });
    return next.state === "sent";
  }

  /** Pings the heartbeat URL of a concluded check (none after a skip: see heartbeatUrl). */
  async heartbeat(checkId: string, verdict: CheckResult["verdict"]): Promise<boolean> {
    const url = heartbeatUrl(this.o.config()?.alerts.heartbeatUrl, verdict);
    if (!url) return true;
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
    this.insert(outboxItem(n, targetIndex, at), n.at);
    this.o.schedule(at);
  }

  /** Whether the stream has an open incident. */
  isOpen(stream: AlertStream): boolean {
    return this.state(stream).open !== null;
  }

  /** The open incident of every stream, from one read of their states. */
  openIncidents(): unknown[] {
    const stored = new Map(
      this.o.sql
        .exec<{ key: string; value: string }>(`SELECT key, value FROM meta WHERE key GLOB 'alert_state*'`)
        .toArray()
        .map((r) => [r.key, r.value]),
    );
    return ALERT_STREAMS.flatMap((s) => openIncidentView(s, parseState(stored.get(STATE_KEY[s]) ?? null)) ?? []);
  }
}
