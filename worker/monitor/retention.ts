/**
 * How long and how many: the row caps and ages every table of a monitor is pruned to (the object's
 * housekeeping, worker/store/check/retention.ts), and the budget of manual runs per monitor.
 */

const DAY = 86_400_000;

/** Row caps after housekeeping (each table is also pruned by age). */
export const RETENTION = {
  checks: { maxRows: 5_000, maxAgeMs: 90 * DAY },
  /** Checks keep their stored frames (last_frames) this long, and only when they failed. */
  framesMaxAgeMs: 7 * DAY,
  orders: { maxRows: 10_000, maxAgeMs: 30 * DAY },
  orderEvents: { maxRows: 50_000, maxAgeMs: 30 * DAY },
  outbox: { maxRows: 2_000, maxAgeMs: 14 * DAY },
  ticks: { maxRows: 10_000, maxAgeMs: 30 * DAY },
} as const;

/** Manual runs (POST /checks/run) per monitor: at most this many in the window. */
export const MANUAL_RUNS = { max: 12, windowMs: 10 * 60_000 } as const;

/**
 * 0 when a manual run may start now, else how long until one may (ms). `recent`: start times of
 * the manual runs inside the window, newest first, at most MANUAL_RUNS.max of them.
 */
export function manualRetryAfter(recent: readonly number[], now: number): number {
  if (recent.length < MANUAL_RUNS.max) return 0;
  return Math.max(1, recent[recent.length - 1]! + MANUAL_RUNS.windowMs - now);
}
