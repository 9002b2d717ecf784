/**
 * The REST side of a watch monitor, as an interpreter: carries out the machine's `rest_trades` and
 * `rest_orders` effects with the monitor's read token (or a short-lived auth token from the API
 * key; never a transaction) and answers each with an event. Whether a failure is the exchange's
 * rate limit, and what the budget allows, is the machine's to decide. Runs wherever `fetch` does
 * (the object's watch/shell.ts carries the effects out with it).
 */
import { LighterApiError, LighterRestClient } from "../../lighter/rest.ts";
import type { WatchEffect } from "./effects.ts";
import type { RestFailure, WatchEvent } from "./events.ts";
import { errorMessage } from "../../lighter/errors.ts";
import type { MonitorConfig } from "../../config.ts";

const REST_TIMEOUT_MS = 10_000;

function failure(err: unknown): RestFailure {
  return {
    message: errorMessage(err),
    code: err instanceof LighterApiError ? err.code : null,
    httpStatus: err instanceof LighterApiError ? err.httpStatus : 0,
  };
}

/** `scale`: the monitor's time_scale applied to a duration (the REST timeout). */
export async function carryOutRest(
  cfg: MonitorConfig | null,
  scale: (ms: number) => number,
  token: () => string,
  e: Extract<WatchEffect, { kind: "rest_trades" | "rest_orders" }>,
): Promise<WatchEvent> {
  const kind = e.kind === "rest_trades" ? "trades_page" : "orders_page";
  if (!cfg)
    return { kind, ref: e.ref, ok: false, message: "the monitor's configuration is gone", code: null, httpStatus: 0 };
  const rest = new LighterRestClient({ baseUrl: cfg.restUrl, timeoutMs: scale(REST_TIMEOUT_MS), authToken: token });
  try {
    if (e.kind === "rest_trades") {
      const page = await rest.tradesPage(cfg.accountIndex, { cursor: e.cursor, limit: e.limit });
      return { kind: "trades_page", ref: e.ref, ok: true, trades: page.trades, nextCursor: page.nextCursor };
    }
    const r = await rest.accountInactiveOrders(cfg.accountIndex, { marketId: e.market, limit: 20 });
    return { kind: "orders_page", ref: e.ref, ok: true, orders: r.orders };
  } catch (err) {
    return { kind, ref: e.ref, ok: false, ...failure(err) };
  }
}
