/**
 * The REST budget of a watch monitor: every REST call of the monitor takes from one budget of
 * `perMinute` units over any rolling minute (a sliding-window log, so no 60 s window ever holds
 * more than the budget, unlike a refilling bucket that allows a double burst), and a rate-limited
 * reply (HTTP 429 or 405, codes 23000–23003) pauses all REST for at least the cooldown. Units are requests on Standard accounts and
 * PROTOCOL.md §5.9 weights on premium tiers. Pure: the caller passes the clock.
 */

export type Tier = "standard" | "premium" | "plus" | "builder";

/** Weighted per-minute limits per tier (PROTOCOL.md §5.9); Standard is 60 unweighted requests. */
export const TIER_LIMIT: Record<Tier, number> = { standard: 60, premium: 24_000, plus: 120_000, builder: 240_000 };

/** Endpoint weights on weighted tiers (§5.9); anything not listed weighs 300. */
const WEIGHTS: Record<string, number> = { trades: 600, accountInactiveOrders: 100, apikeys: 150 };

/** What one call of `endpoint` costs on `tier`. */
export function callWeight(tier: Tier, endpoint: string): number {
  if (tier === "standard") return 1;
  return WEIGHTS[endpoint] ?? 300;
}

/**
 * How many `endpoint` calls fit in a minute: on Standard the budget's requests, but never more than
 * the premium weight allows (LIVE.md L.13.3: `trades` weighs 600, so at most 40 a minute); on
 * weighted tiers the budget's units divided by the weight.
 */
export function callsPerMinute(tier: Tier, endpoint: string, perMinute: number): number {
  if (tier === "standard") return Math.min(perMinute, Math.floor(TIER_LIMIT.premium / (WEIGHTS[endpoint] ?? 300)));
  return Math.floor(perMinute / callWeight(tier, endpoint));
}

/** Codes of a rate-limited REST reply (LIVE.md L.13.3). */
const RATE_LIMIT_CODES = new Set([23000, 23001, 23002, 23003]);

/**
 * Whether a REST failure is the exchange's rate limit (LIVE.md L.13.3): HTTP 429, a 23000–23003
 * code under any status, or a 405 without a code. A 405 that carries another code is a real
 * method error.
 *
 * @example
 * isRateLimited(405, 23000) // true
 * isRateLimited(405, 20001) // false
 */
export function isRateLimited(httpStatus: number, code: number | null): boolean {
  if (httpStatus === 429 || (code !== null && RATE_LIMIT_CODES.has(code))) return true;
  return httpStatus === 405 && code === null;
}

export const WINDOW_MS = 60_000;
/** The exchange's firewall cooldown after a 429 (§5.9). */
export const RATE_LIMIT_PAUSE_MS = 60_000;

export interface BudgetState {
  /** The rolling window: a minute (shorter only at a test time_scale). */
  windowMs: number;
  /** Spent calls inside the current window: [time, units], oldest first. */
  spent: [number, number][];
  /** No REST before this time (after a 429), or null. */
  pausedUntil: number | null;
}

export function newBudget(windowMs = WINDOW_MS): BudgetState {
  return { windowMs, spent: [], pausedUntil: null };
}

function prune(s: BudgetState, now: number): void {
  while (s.spent.length > 0 && s.spent[0]![0] <= now - s.windowMs) s.spent.shift();
}

/** Units spent in the rolling minute ending at `now`. */
export function spentIn(s: BudgetState, now: number): number {
  prune(s, now);
  return s.spent.reduce((a, [, u]) => a + u, 0);
}

/**
 * Takes `units` if the window allows it and REST is not paused; returns whether it did.
 *
 * @example
 * const b = newBudget(); tryTake(b, 12, 1, Date.now()) // true
 */
export function tryTake(s: BudgetState, perMinute: number, units: number, now: number): boolean {
  if (s.pausedUntil !== null && now < s.pausedUntil) return false;
  if (units > perMinute) return false;
  if (spentIn(s, now) + units > perMinute) return false;
  s.spent.push([now, units]);
  return true;
}

/** When `units` could next be taken (now if at once). */
export function nextAvailable(s: BudgetState, perMinute: number, units: number, now: number): number {
  let at = Math.max(now, s.pausedUntil ?? now);
  prune(s, at);
  let total = spentIn(s, at);
  for (const [t, u] of s.spent) {
    if (total + units <= perMinute) break;
    total -= u;
    at = Math.max(at, t + s.windowMs);
  }
  return at;
}

/** A 429 / 23000: all REST stops until at least `now + pauseMs`. */
export function pause(s: BudgetState, now: number, pauseMs = RATE_LIMIT_PAUSE_MS): void {
  s.pausedUntil = Math.max(s.pausedUntil ?? 0, now + pauseMs);
}

export function isPaused(s: BudgetState, now: number): boolean {
  return s.pausedUntil !== null && now < s.pausedUntil;
}
