/**
 * Pre-flight as a pure decision: from everything the Durable Object gathered (configuration,
 * book, REST answers, budget, key state), either skip with a reason and evidence, wait for a
 * fresh book snapshot, or go with the order plan. The order of the rules is the order a person
 * would check them in; the first one that refuses names the cause. (Pause acts at the trigger:
 * a check that started before the pause runs to its end.)
 */
import { errorMessage } from "../../lighter/errors.ts";
import type { Diagnosis } from "../diagnosis.ts";
import { planTestOrder, spreadBps, type MarketSpec, type OrderPlan } from "../sizing.ts";

/** A REST answer the pre-flight needed, or why it is missing. */
export type Fetched<T> =
  { ok: true; value: T } | { ok: false; outage: boolean; evidence: Record<string, string | number | null> };

/** The settings pre-flight reads (MonitorConfig and the machine's CheckSettings both fit). */
export interface PreflightConfig {
  chainId: number;
  allowMainnet: boolean;
  allowNonflatStart: boolean;
  timeScale: number;
  caps: {
    maxNotionalPerOrderUsd: number | null;
    maxOrdersPerDay: number | null;
    maxDailyNotionalUsd: number | null;
    maxResidualBase: number | null;
  };
  thresholds: { maxSpreadBps: number | null; maxSlippageBps: number; bookStaleMs: number | null };
}

export interface PreflightInputs {
  now: number;
  configErrors: number;
  cfg: PreflightConfig;
  market: number;
  spec: Fetched<MarketSpec | null>;
  book: {
    ready: boolean;
    bestBid: { price: bigint; text: string } | null;
    bestAsk: { price: bigint; text: string } | null;
    updatedAt: number;
    /** Levels per side, for the evidence of a refused book. */
    bids: number;
    asks: number;
  };
  /** Signed position in size units; not fetched in a dry run without key. */
  position: Fetched<bigint> | null;
  /** The market was traded by this monitor before (a non-flat mainnet start is ours). */
  tradedBefore: boolean;
  budget: { ordersToday: number; notionalTodayUsd: number };
  key: { present: boolean; error: string | null };
  apiKey: Fetched<{ matches: boolean; detail: Record<string, string | number | null> }> | null;
}

export type PreflightDecision =
  | { kind: "skip"; diagnosis: Diagnosis; evidence: Record<string, unknown> }
  | { kind: "wait_book" }
  | { kind: "resubscribe_book_and_skip"; evidence: Record<string, unknown> }
  | { kind: "go"; plan: OrderPlan; evidence: Record<string, unknown> };

const skip = (diagnosis: Diagnosis, evidence: Record<string, unknown> = {}): PreflightDecision => ({
  kind: "skip",
  diagnosis,
  evidence,
});

/** A REST failure is an exchange outage (5xx, timeout, network), never a bad key. */
const restSkip = (f: { outage: boolean; evidence: Record<string, unknown> }, otherwise: Diagnosis, step: string) =>
  skip(f.outage ? "rest_unavailable" : otherwise, { step, ...f.evidence });

export function preflight(x: PreflightInputs): PreflightDecision {
  const { cfg } = x;
  if (x.configErrors > 0) return skip("config_invalid");
  if (cfg.chainId === 304 && !cfg.allowMainnet) return skip("mainnet_not_allowed", { chain_id: cfg.chainId });
  if (!x.spec.ok) return restSkip(x.spec, "market_unknown", "orderBookDetails");
  const spec = x.spec.value;
  if (!spec) return skip("market_unknown", { market: x.market });
  if (!x.book.ready) return { kind: "wait_book" };
  const { bestBid, bestAsk } = x.book;
  if (!bestBid || !bestAsk) {
    return skip("book_stale", { reason: "one side of the book is empty", bids: x.book.bids, asks: x.book.asks });
  }
  const staleMs = cfg.thresholds.bookStaleMs ?? Math.round(30_000 * cfg.timeScale);
  if (x.now - x.book.updatedAt > staleMs) return skip("book_stale", { last_update_at: x.book.updatedAt });
  if (bestBid.price >= bestAsk.price) {
    return { kind: "resubscribe_book_and_skip", evidence: { best_bid: bestBid.text, best_ask: bestAsk.text } };
  }
  const spread = spreadBps(bestBid.price, bestAsk.price);
  if (cfg.thresholds.maxSpreadBps !== null && spread > cfg.thresholds.maxSpreadBps) {
    return skip("spread_too_wide", { spread_bps: spread, max_spread_bps: cfg.thresholds.maxSpreadBps });
  }
  // Position (REST, not the WebSocket) decides the side, the residual cap and the mainnet gate.
  let position = 0n;
  if (x.position) {
    if (!x.position.ok) {
      if (x.key.present) return restSkip(x.position, "api_key_unverified", "account position");
    } else {
      position = x.position.value;
    }
  }
  const abs = position < 0n ? -position : position;
  const residualCap = cfg.caps.maxResidualBase;
  if (residualCap !== null && abs > BigInt(Math.round(residualCap * 10 ** spec.sizeDecimals))) {
    return skip("residual_over_cap", { position_base: position.toString(), max_residual_base: residualCap });
  }
  if (cfg.chainId === 304 && position !== 0n && !cfg.allowNonflatStart && !x.tradedBefore) {
    return skip("position_not_flat", { position_base: position.toString() });
  }
  const isAsk = position > 0n;
  let plan: OrderPlan;
  try {
    plan = planTestOrder(spec, isAsk, isAsk ? bestBid.price : bestAsk.price, cfg.thresholds.maxSlippageBps);
  } catch (err) {
    return skip("book_stale", { reason: errorMessage(err) });
  }
  const caps = cfg.caps;
  if (caps.maxNotionalPerOrderUsd !== null && plan.notionalUsd > caps.maxNotionalPerOrderUsd) {
    return skip("notional_cap", {
      order_notional_usd: plan.notionalUsd,
      max_notional_per_order_usd: caps.maxNotionalPerOrderUsd,
    });
  }
  // The budget must cover the test order AND its flatten: two orders, twice the notional.
  if (caps.maxOrdersPerDay !== null && x.budget.ordersToday + 2 > caps.maxOrdersPerDay) {
    return skip("orders_per_day_cap", { orders_today: x.budget.ordersToday, max_orders_per_day: caps.maxOrdersPerDay });
  }
  if (
    caps.maxDailyNotionalUsd !== null &&
    x.budget.notionalTodayUsd + 2 * plan.notionalUsd > caps.maxDailyNotionalUsd
  ) {
    return skip("daily_notional_cap", {
      notional_today_usd: x.budget.notionalTodayUsd,
      order_and_flatten_usd: 2 * plan.notionalUsd,
      max_daily_notional_usd: caps.maxDailyNotionalUsd,
    });
  }
  const planned = {
    side: isAsk ? "sell" : "buy",
    base_amount: plan.baseAmount.toString(),
    price: plan.price,
    reference_price: plan.referencePrice.toString(),
    notional_usd: plan.notionalUsd,
    spread_bps: spread,
    position_base: position.toString(),
  };
  if (!x.key.present) {
    return x.key.error
      ? skip("config_invalid", { planned_order: planned, key_error: x.key.error })
      : skip("dry_run", { planned_order: planned });
  }
  if (x.apiKey && !x.apiKey.ok) return restSkip(x.apiKey, "api_key_unverified", "apikeys");
  if (x.apiKey?.ok && !x.apiKey.value.matches) return skip("api_key_mismatch", x.apiKey.value.detail);
  return { kind: "go", plan, evidence: { planned_order: planned } };
}
