/**
 * Prometheus text exposition (format 0.0.4) for GET /metrics, as a pure function of the per-monitor
 * snapshots the FillMonitor objects return: checks by verdict/stage/diagnosis, stage and fill
 * latency histograms (seconds), frames by type, reconnects, book gaps, alert deliveries, budget
 * used, the pause flag, the unresolved-orders lock, uptime over 24h/7d/30d (per stage too), open
 * incidents and the time of the last verdict. dashboards/ (Grafana, Prometheus rules) use these names.
 */
import type { MetricsSnapshot } from "../views/metrics.ts";
import type { Uptime, UptimeWindowName } from "../views/uptime.ts";
import { formatDeliveryMetrics, type DeliveryMetrics } from "./metrics-bot.ts";
import { Out, type Labels } from "./metrics-text.ts";

export interface MonitorMetrics extends MetricsSnapshot, Partial<DeliveryMetrics> {
  monitor: string;
  counters: Record<string, number>;
  budget: Record<string, unknown>;
  reconnects: number;
  paused: boolean;
  uptime: Uptime;
}

function prefixed(counters: Record<string, number>, prefix: string): [string, number][] {
  return Object.entries(counters)
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => [k.slice(prefix.length), v] as [string, number])
    .sort(([a], [b]) => a.localeCompare(b));
}

function numberOr0(v: unknown): number {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : 0;
}

export function formatMetrics(monitors: readonly MonitorMetrics[]): string {
  const o = new Out();
  const each = (f: (m: MonitorMetrics, l: Labels) => void) => () =>
    monitors.forEach((m) => f(m, { monitor: m.monitor }));
  o.family(
    "fillwatch_checks_total",
    "counter",
    "Finished checks (retained rows) by verdict, first failing stage and diagnosis.",
    each((m, l) =>
      m.checks.forEach((c) =>
        o.sample(
          "fillwatch_checks_total",
          { ...l, verdict: c.verdict, stage: c.stage, diagnosis: c.diagnosis },
          c.count,
        ),
      ),
    ),
  );
  o.family(
    "fillwatch_stage_latency_seconds",
    "histogram",
    "Time each check stage took after the previous one.",
    each((m, l) =>
      Object.entries(m.stage_latency)
        .sort(([a], [b]) => a.localeCompare(b))
        .forEach(([stage, h]) => o.histogram("fillwatch_stage_latency_seconds", { ...l, stage }, h)),
    ),
  );
  o.family(
    "fillwatch_fill_latency_seconds",
    "histogram",
    "Fill latency: from signing the test order to its first fill seen on the WebSocket (checks with such a fill).",
    each((m, l) => o.histogram("fillwatch_fill_latency_seconds", l, m.fill_latency)),
  );
  o.family(
    "fillwatch_frames_total",
    "counter",
    "WebSocket frames received, by parsed type.",
    each((m, l) =>
      prefixed(m.counters, "frames.").forEach(([type, v]) => o.sample("fillwatch_frames_total", { ...l, type }, v)),
    ),
  );
  o.family(
    "fillwatch_reconnects_total",
    "counter",
    "WebSocket reconnects since the object started.",
    each((m, l) => o.sample("fillwatch_reconnects_total", l, m.reconnects)),
  );
  o.family(
    "fillwatch_session_events_total",
    "counter",
    "Session events: connected, connect_failed, closed_by_peer, watchdog_reconnects.",
    each((m, l) =>
      prefixed(m.counters, "session.").forEach(([event, v]) =>
        o.sample("fillwatch_session_events_total", { ...l, event }, v),
      ),
    ),
  );
  o.family(
    "fillwatch_book_gaps_total",
    "counter",
    "Order book continuity breaks (a resync snapshot was requested).",
    each((m, l) => o.sample("fillwatch_book_gaps_total", l, m.counters["book.gaps"] ?? 0)),
  );
  for (const state of ["sent", "failed"] as const) {
    const name = `fillwatch_alerts_${state}_total`;
    o.family(
      name,
      "counter",
      `Alert deliveries ${state === "sent" ? "delivered" : "given up on"}, by target type.`,
      each((m, l) =>
        m.alerts.filter((a) => a.state === state).forEach((a) => o.sample(name, { ...l, target: a.target }, a.count)),
      ),
    );
  }
  o.family(
    "fillwatch_alerts_pending",
    "gauge",
    "Alert deliveries waiting for a (re)try, by target type.",
    each((m, l) =>
      m.alerts
        .filter((a) => a.state === "pending")
        .forEach((a) => o.sample("fillwatch_alerts_pending", { ...l, target: a.target }, a.count)),
    ),
  );
  o.family(
    "fillwatch_budget_orders_today",
    "gauge",
    "Test orders sent today (UTC).",
    each((m, l) => o.sample("fillwatch_budget_orders_today", l, numberOr0(m.budget.orders_today))),
  );
  o.family(
    "fillwatch_budget_notional_today_usd",
    "gauge",
    "Notional of today's test orders in USD.",
    each((m, l) => o.sample("fillwatch_budget_notional_today_usd", l, numberOr0(m.budget.notional_today_usd))),
  );
  o.family(
    "fillwatch_unresolved_orders",
    "gauge",
    "Test orders sent or in doubt, or not terminal while their check runs (a new order waits for these).",
    each((m, l) => o.sample("fillwatch_unresolved_orders", l, m.unresolved_orders)),
  );
  const windows = (m: MonitorMetrics) => Object.entries(m.uptime) as [UptimeWindowName, Uptime[UptimeWindowName]][];
  o.family(
    "fillwatch_uptime_ratio",
    "gauge",
    "Share of checks that detected the fill (pass, or degraded unless alerts.degraded_counts; skipped not counted), by window (24h, 7d, 30d in whole clock hours). Absent when no check counted.",
    each((m, l) =>
      windows(m).forEach(([window, w]) => {
        if (w.ratio !== null) o.sample("fillwatch_uptime_ratio", { ...l, window }, w.ratio);
      }),
    ),
  );
  o.family(
    "fillwatch_uptime_checks",
    "gauge",
    "Concluded checks in the uptime window, by verdict (skipped shown apart).",
    each((m, l) =>
      windows(m).forEach(([window, w]) =>
        (["pass", "degraded", "fail", "skipped"] as const).forEach((verdict) =>
          o.sample("fillwatch_uptime_checks", { ...l, window, verdict }, w[verdict]),
        ),
      ),
    ),
  );
  o.family(
    "fillwatch_stage_uptime_ratio",
    "gauge",
    "Per stage: checks that got past it / checks that reached it, by window. Absent when no check reached it.",
    each((m, l) =>
      windows(m).forEach(([window, w]) =>
        Object.entries(w.stages).forEach(([stage, s]) => {
          if (s.ratio !== null) o.sample("fillwatch_stage_uptime_ratio", { ...l, window, stage }, s.ratio);
        }),
      ),
    ),
  );
  o.family(
    "fillwatch_incidents_open",
    "gauge",
    "Open incidents by alert stream (kind: checks, flatten, monitor, watch, …) and current diagnosis.",
    each((m, l) =>
      m.open_incidents.forEach((i) =>
        o.sample("fillwatch_incidents_open", { ...l, kind: i.kind, diagnosis: i.diagnosis }, i.count),
      ),
    ),
  );
  o.family(
    "fillwatch_last_check_timestamp_seconds",
    "gauge",
    "When the last check concluded (Unix seconds); absent before the first one.",
    each((m, l) => {
      if (m.last_concluded_at !== null)
        o.sample("fillwatch_last_check_timestamp_seconds", l, m.last_concluded_at / 1000);
    }),
  );
  o.family(
    "fillwatch_paused",
    "gauge",
    "1 while the monitor is paused.",
    each((m, l) => o.sample("fillwatch_paused", l, m.paused ? 1 : 0)),
  );
  return o.text() + formatDeliveryMetrics(monitors);
}
