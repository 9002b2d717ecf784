/**
 * The rules of the monitor's runtime (durable-objects/runtime/), pure: when the one alarm is
 * (re)armed, how long a held alarm invocation sleeps and whether it holds on (and, for a check
 * monitor, whether it must), the kept session's reconnect backoff, silence watchdog and what a server
 * ping is, and how long a cached auth token lives and when it is re-minted.
 */

/** How long one alarm invocation may hold the session (alarms have a 15 min wall-clock limit). */
export const HOLD_LIMIT_MS = 10 * 60_000;
/** How far past the cap an invocation may run, never in the middle of a check. */
export const HOLD_OVERRUN_MS = 3 * 60_000;
/** While an invocation holds the session, the alarm is a backstop this long after the hold ends. */
const BACKSTOP_MS = 30_000;

/**
 * The time to arm the alarm at, or null to leave it. `next`: the earliest deadline; `holdUntil`:
 * the end of the invocation that holds the session (it serves deadlines itself, and a second alarm
 * coming due would replace it and take the socket with it). An alarm already set is kept when it
 * is due no later than needed and is not stale.
 */
export function alarmToSet(
  existing: number | null,
  next: number | null,
  holdUntil: number | null,
  now: number,
): number | null {
  if (next === null) return null;
  const at = holdUntil !== null ? Math.max(next, holdUntil + BACKSTOP_MS) : next;
  const keep = existing !== null && existing <= at && existing >= now - 1000 && !(holdUntil !== null && existing < at);
  return keep ? null : Math.max(at, now);
}

/** How long a held invocation sleeps before serving deadlines again (5 ms … 1 s). */
export function holdWaitMs(next: number | null, now: number): number {
  return Math.max(5, Math.min(1_000, (next ?? now + 1_000) - now));
}

/** Whether a held invocation goes on: while its owner is active, up to the cap (or the overrun). */
export function holdsOn(active: boolean, mayOverrun: boolean, until: number, now: number): boolean {
  return active && (now < until || (mayOverrun && now < until + HOLD_OVERRUN_MS));
}

/** Backoff before the n-th reconnect in a row: min(30 s, 0.5 s · 2^(n−1)), scaled, jittered to 50–100 %. */
export function reconnectDelayMs(failures: number, scale: (ms: number) => number, random: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.min(10, failures - 1));
  return Math.round(scale(base) * (0.5 + random / 2));
}

/** A cached token is re-minted a minute before it expires. */
export function tokenFresh(until: number, now: number): boolean {
  return until - now > 60_000;
}

/** How long a cached auth token is minted for: WebSocket subscriptions 7 h (at most 8 h), REST calls 10 min. */
export const TOKEN_LIFETIME_S = { ws: 7 * 3600, rest: 10 * 60 } as const;

/** Whether a frame is the server's `{"type":"ping"}` (a short frame; anything longer is not one). */
export function isServerPing(text: string): boolean {
  return text.length < 40 && /^\s*\{\s*"type"\s*:\s*"ping"\s*\}\s*$/.test(text);
}

/** Losses in a row after one more: a session that stayed up `silenceMs` or longer starts the count again. */
export function lossesAfter(losses: number, upMs: number, silenceMs: number): number {
  return (upMs >= silenceMs ? 0 : losses) + 1;
}

/** Whether an open session's silence watchdog gives up: no frame for longer than `silenceMs`. */
export function silent(lastFrameAt: number | null, now: number, silenceMs: number): boolean {
  return lastFrameAt !== null && now - lastFrameAt > silenceMs;
}

/**
 * Whether a check monitor's alarm invocation must stay alive: a check in the state, a socket open or
 * about to open, a close handshake under way (until `closingUntil`), or a deadline within 2 s.
 */
export function checkHolds(o: {
  checkRunning: boolean;
  socket: boolean;
  closingUntil: number;
  nextDeadline: number | null;
  now: number;
}): boolean {
  if (o.checkRunning || o.socket || o.now < o.closingUntil) return true;
  return o.nextDeadline !== null && o.nextDeadline - o.now < 2_000;
}
