/**
 * The shapes the Worker exchanges with a FillMonitor over RPC, in a leaf module so that callers
 * (the scheduler, the watchdog) never import the Durable Object class itself.
 */

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
