/**
 * The REST side of a watch monitor: one client whose every call first takes from the monitor's
 * budget (budget.ts: a rolling minute, shared with the user's bot), authenticated with the
 * read-only token when one is configured (else a short-lived auth token from the API key; never
 * a transaction), and the 429 / 23000 rule: all REST stops for at least 60 s (at time_scale).
 * This module never sends a transaction.
 */
import { LighterApiError, LighterRestClient } from "../../worker/lighter/rest.ts";
import type { Trade } from "../../worker/lighter/messages.ts";
import {
  RATE_LIMIT_PAUSE_MS,
  callWeight,
  isPaused,
  newBudget,
  nextAvailable,
  pause,
  spentIn,
  tryTake,
  WINDOW_MS,
  type BudgetState,
} from "../../worker/monitor/watch/budget.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { bumpCounter } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";

const REST_TIMEOUT_MS = 10_000;

export type RestOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; kind: "budget" | "paused" }
  | { ok: false; kind: "rate_limited"; pausedUntil: number; code: number | null; httpStatus: number }
  | { ok: false; kind: "error"; message: string; code: number | null; httpStatus: number };

export class WatchRest {
  readonly budget: BudgetState;
  calls = 0;
  private readonly c: MonitorContext;
  private readonly authToken: () => string;

  constructor(c: MonitorContext, authToken: () => string) {
    this.c = c;
    this.authToken = authToken;
    // time_scale multiplies every duration, the budget's minute included (tests only).
    this.budget = newBudget(c.scale(WINDOW_MS));
  }

  private get perMinute(): number {
    return this.c.cfg?.watch?.restBudgetPerMin ?? 12;
  }

  private weight(endpoint: string): number {
    return callWeight(this.c.cfg?.watch?.tier ?? "standard", endpoint);
  }

  /** When a call of `endpoint` could be made next. */
  nextAt(endpoint: string): number {
    return nextAvailable(this.budget, this.perMinute, this.weight(endpoint), this.c.now());
  }

  paused(): boolean {
    return isPaused(this.budget, this.c.now());
  }

  view(): Record<string, unknown> {
    const now = this.c.now();
    return {
      per_min: this.perMinute,
      window_ms: this.budget.windowMs,
      tier: this.c.cfg?.watch?.tier ?? "standard",
      spent_last_min: spentIn(this.budget, now),
      paused_until: isPaused(this.budget, now) ? this.budget.pausedUntil : null,
      calls: this.calls,
    };
  }

  private client(): LighterRestClient {
    return new LighterRestClient({
      baseUrl: this.c.cfg!.restUrl,
      timeoutMs: this.c.scale(REST_TIMEOUT_MS),
      authToken: this.authToken,
    });
  }

  private async call<T>(endpoint: string, fn: (rest: LighterRestClient) => Promise<T>): Promise<RestOutcome<T>> {
    const now = this.c.now();
    if (isPaused(this.budget, now)) return { ok: false, kind: "paused" };
    if (!tryTake(this.budget, this.perMinute, this.weight(endpoint), now)) {
      bumpCounter(this.c.sql, "watch.rest_deferred_by_budget");
      return { ok: false, kind: "budget" };
    }
    this.calls++;
    bumpCounter(this.c.sql, `watch.rest.${endpoint}`);
    try {
      return { ok: true, value: await fn(this.client()) };
    } catch (err) {
      const code = err instanceof LighterApiError ? err.code : null;
      const httpStatus = err instanceof LighterApiError ? err.httpStatus : 0;
      if (httpStatus === 429 || code === 23000) {
        pause(this.budget, this.c.now(), this.c.scale(RATE_LIMIT_PAUSE_MS));
        bumpCounter(this.c.sql, "watch.rest_rate_limited");
        return { ok: false, kind: "rate_limited", pausedUntil: this.budget.pausedUntil!, code, httpStatus };
      }
      bumpCounter(this.c.sql, "watch.rest_failed");
      return { ok: false, kind: "error", message: errorMessage(err), code, httpStatus };
    }
  }

  /** The account's trades from trade id `from` (inclusive), oldest first; or the newest one. */
  trades(opts: { from?: string; newest?: boolean }): Promise<RestOutcome<Trade[]>> {
    const account = this.c.cfg!.accountIndex;
    return this.call("trades", (rest) =>
      rest.trades(account, opts.newest ? { sortDir: "desc", limit: 1 } : { from: opts.from, limit: 100 }),
    );
  }

  /** The account's recently ended orders on a market (evidence for an unexplained fill). */
  inactiveOrders(market: number) {
    const account = this.c.cfg!.accountIndex;
    return this.call("accountInactiveOrders", (rest) =>
      rest.accountInactiveOrders(account, { marketId: market, limit: 20 }),
    );
  }
}
