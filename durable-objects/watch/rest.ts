/**
 * The REST side of a watch monitor: one client whose every call first takes from the monitor's
 * budget (budget.ts: a rolling minute, shared with the user's bot), authenticated with the
 * read-only token when one is configured (else a short-lived auth token from the API key; never
 * a transaction), and the rate-limit rule: a 429 or 405 (codes 23000–23003, LIVE.md L.13.3) stops
 * all REST for at least 60 s (at time_scale). The budget window and the cooldown are written to
 * the watch store on every change, so a restarted object never calls inside a cooldown.
 * This module never sends a transaction.
 */
import { LighterApiError, LighterRestClient } from "../../worker/lighter/rest.ts";
import type { Trade } from "../../worker/lighter/messages.ts";
import {
  RATE_LIMIT_PAUSE_MS,
  callWeight,
  callsPerMinute,
  isPaused,
  isRateLimited,
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
import type { WatchStore } from "./store.ts";

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
  private readonly store: WatchStore;

  constructor(c: MonitorContext, authToken: () => string, store: WatchStore) {
    this.c = c;
    this.authToken = authToken;
    this.store = store;
    // time_scale multiplies every duration, the budget's minute included (tests only).
    this.budget = newBudget(c.scale(WINDOW_MS));
    const saved = store.budget();
    if (saved) {
      this.budget.spent = saved.spent.filter(([t]) => t > c.now() - this.budget.windowMs);
      this.budget.pausedUntil = saved.pausedUntil;
    }
  }

  private save(): void {
    this.store.saveBudget({ spent: this.budget.spent, pausedUntil: this.budget.pausedUntil }, this.c.now());
  }

  /** How many `trades` calls the budget allows in a minute (never above 40 on Standard, L.13.3). */
  tradesPerMinute(): number {
    return callsPerMinute(this.c.cfg?.watch?.tier ?? "standard", "trades", this.perMinute);
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
    this.save();
    bumpCounter(this.c.sql, `watch.rest.${endpoint}`);
    try {
      return { ok: true, value: await fn(this.client()) };
    } catch (err) {
      const code = err instanceof LighterApiError ? err.code : null;
      const httpStatus = err instanceof LighterApiError ? err.httpStatus : 0;
      if (isRateLimited(httpStatus, code)) {
        pause(this.budget, this.c.now(), this.c.scale(RATE_LIMIT_PAUSE_MS));
        this.save();
        bumpCounter(this.c.sql, "watch.rest_rate_limited");
        return { ok: false, kind: "rate_limited", pausedUntil: this.budget.pausedUntil!, code, httpStatus };
      }
      bumpCounter(this.c.sql, "watch.rest_failed");
      return { ok: false, kind: "error", message: errorMessage(err), code, httpStatus };
    }
  }

  /** One page of the account's trades, newest first: the newest page, or the one at `cursor`. */
  tradesPage(cursor: string | null, limit: number): Promise<RestOutcome<{ trades: Trade[]; nextCursor: string }>> {
    const account = this.c.cfg!.accountIndex;
    return this.call("trades", (rest) => rest.tradesPage(account, { cursor, limit }));
  }

  /** The account's recently ended orders on a market (evidence for an unexplained fill). */
  inactiveOrders(market: number) {
    const account = this.c.cfg!.accountIndex;
    return this.call("accountInactiveOrders", (rest) =>
      rest.accountInactiveOrders(account, { marketId: market, limit: 20 }),
    );
  }
}
