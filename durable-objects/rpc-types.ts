/**
 * The shapes the Worker exchanges with a FillMonitor over RPC, in a leaf module so that callers
 * (the scheduler, the watchdog) never import the Durable Object class itself.
 */
import type { ChecksPage, ChecksQuery } from "../worker/views/checks.ts";
import type { IncidentsPage } from "../worker/views/incidents.ts";
import type { MarketUnits } from "../worker/views/market.ts";
import type { PauseState } from "../worker/views/pause.ts";
import type { StatusView } from "../worker/views/status.ts";
import type { Uptime } from "../worker/views/uptime.ts";

export interface StartCheckRequest {
  monitorId: string;
  /** Unique per scheduled invocation (`cron:<scheduledTime>`) or manual trigger. */
  tickKey: string;
  trigger: "cron" | "manual";
  /** When this cron trigger fires next (ms): the session is held after the check only if that is soon. */
  nextAt?: number | null;
}

/** What the Worker's watchdog learns from the object. */
export interface WatchdogReport {
  monitorId: string;
  /** When the last check concluded (a watch monitor: its last reconciliation), in ms; null if never. */
  lastConcludedAt: number | null;
  /** The check in progress and when it started, if any. */
  runningCheck: { id: string; startedAt: number; boundAt: number | null } | null;
  /** A watch monitor: when its watch first ran (null: never), so one that never reconciles is flagged. */
  watchStartedAt?: number | null;
  now: number;
}

/** A monitor's status: the status view plus its feed's delivery figures (or its watch state). */
export type MonitorStatus = StatusView & { watch?: Record<string, unknown> };

/** What statusPage reads besides the fixed parts: how many incidents, and the checks page if any. */
export interface StatusPageQuery {
  incidents: number;
  checks: ChecksQuery | null;
}

/** One RPC for GET /status and the status page (FillMonitor.statusPage). */
export interface StatusPage {
  pause: PauseState;
  status: MonitorStatus;
  units: Record<string, MarketUnits>;
  uptime: Uptime;
  incidents: IncidentsPage;
  checks: ChecksPage | null;
}
