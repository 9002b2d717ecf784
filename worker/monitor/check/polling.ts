/**
 * When the order path asks REST about our live order while the WebSocket is silent (issue 18:
 * detection in seconds), and when the channels' ws_report_tolerance_ms starts for a fill REST shows.
 * Pure: times in, times out.
 *
 * The pace: the first look 500 ms (× time_scale) after the order was accepted, then every half of
 * the time the order has been live at the last look — 0.5, 1, 1.5, 2.25, 3.4, 5.1, 7.6, 11.4 s — never
 * faster than 500 ms nor slower than a third of the phase. While REST answers nothing known (an
 * outage, or 429/405 rate limiting: LIVE.md L.13) it falls back to the slow pace, a third of the
 * phase. The check's REST budget (`REST_BUDGET_PER_CHECK` look-ups, two requests each) bounds the
 * whole: `await_order` at 15 s makes at most 8 polls.
 */

/** The fastest pace of polls while the order is live (time_scale 1). */
const FAST_POLL_MS = 500;

export interface PollClock {
  /** When the phase (the order live, the WebSocket silent) began. */
  phaseSince: number;
  /** The latest REST look-up of this phase (both order and tx), or null when none yet. */
  lastLookAt: number | null;
  /** The phase's deadline length at the monitor's time_scale (ms). */
  phaseMs: number;
  timeScale: number;
  /** The latest REST answer knew nothing (failed, timed out, rate limited). */
  restFailing: boolean;
}

/** The slow pace, a third of the phase: also every phase's pace of mandatory look-ups (decide.ts). */
export function slowPollMs(phaseMs: number): number {
  return Math.max(1, Math.floor(phaseMs / 3));
}

/** The interval between two polls after the order has been live `elapsed` ms. */
export function pollInterval(elapsed: number, c: Pick<PollClock, "phaseMs" | "timeScale" | "restFailing">): number {
  const slow = slowPollMs(c.phaseMs);
  if (c.restFailing) return slow;
  const fast = Math.max(1, Math.round(FAST_POLL_MS * c.timeScale));
  return Math.min(slow, Math.max(fast, Math.floor(elapsed / 2)));
}

/** When the next poll is due (the caller caps it at the phase's deadline). */
export function nextPollAt(c: PollClock): number {
  if (c.lastLookAt === null || c.lastLookAt < c.phaseSince) return c.phaseSince + pollInterval(0, c);
  return c.lastLookAt + pollInterval(c.lastLookAt - c.phaseSince, c);
}

/**
 * When the channels' tolerance for a fill REST shows starts: the fill's time on the exchange
 * (transaction_time of REST's order), never before our first transmission (a clock behind ours)
 * nor after REST's sighting (a clock ahead of ours, or no time given).
 */
export function reportClockStart(fillAt: number | null | undefined, sentAt: number | null, seenAt: number): number {
  if (fillAt === null || fillAt === undefined || !Number.isFinite(fillAt)) return seenAt;
  return Math.min(seenAt, Math.max(sentAt ?? seenAt, fillAt));
}
