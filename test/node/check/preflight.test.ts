/** Table-driven tests of the pre-flight decision: each rule refuses with its reason, in order. */
import { describe, expect, it } from "vitest";
import { parseMonitors } from "../../../worker/config.ts";
import { preflight, type PreflightInputs } from "../../../worker/monitor/check/preflight.ts";

const cfg = (extra: Record<string, unknown> = {}) => {
  const m = parseMonitors(
    JSON.stringify([
      {
        network: "custom",
        rest_url: "http://127.0.0.1:1",
        ws_url: "ws://127.0.0.1:1/stream",
        chain_id: 300,
        account_index: 5,
        api_key_index: 4,
        ...extra,
      },
    ]),
  ).monitors[0];
  if (!m) throw new Error("test config invalid");
  return m;
};

const spec = {
  marketIndex: 0,
  sizeDecimals: 4,
  priceDecimals: 2,
  minBase: 50n,
  minQuote: 10_000_000n,
  quoteDecimals: 6,
};
const inputs = (over: Partial<PreflightInputs> = {}): PreflightInputs => ({
  now: 1_000,
  configErrors: 0,
  cfg: cfg(),
  market: 0,
  spec: { ok: true, value: spec },
  book: {
    ready: true,
    bestBid: { price: 235_000n, text: "2350.00" },
    bestAsk: { price: 235_010n, text: "2350.10" },
    updatedAt: 900,
    bids: 40,
    asks: 40,
  },
  position: { ok: true, value: 0n },
  tradedBefore: false,
  budget: { ordersToday: 0, notionalTodayUsd: 0 },
  key: { present: true, error: null },
  apiKey: { ok: true, value: { matches: true, detail: {} } },
  ...over,
});
const outage = { ok: false as const, outage: true, evidence: { http_status: 503 } };
const refused = { ok: false as const, outage: false, evidence: { http_status: 400 } };

describe("preflight", () => {
  const rows: [string, Partial<PreflightInputs>, string][] = [
    ["all good → go", {}, "go"],
    ["config error on the key secret", { configErrors: 1 }, "config_invalid"],
    ["mainnet without allow_mainnet", { cfg: cfg({ chain_id: 304 }) }, "mainnet_not_allowed"],
    ["market spec: outage", { spec: outage }, "rest_unavailable"],
    ["market spec: refused", { spec: refused }, "market_unknown"],
    ["market not listed", { spec: { ok: true, value: null } }, "market_unknown"],
    ["book resyncing", { book: { ...inputs().book, ready: false } }, "wait_book"],
    ["one side empty", { book: { ...inputs().book, bestAsk: null } }, "book_stale"],
    ["book too old", { now: 1_000_000 }, "book_stale"],
    [
      "crossed",
      { book: { ...inputs().book, bestBid: { price: 235_020n, text: "2350.20" } } },
      "resubscribe_book_and_skip",
    ],
    [
      "spread too wide",
      { book: { ...inputs().book, bestAsk: { price: 260_000n, text: "2600.00" } } },
      "spread_too_wide",
    ],
    ["position REST outage with a key", { position: outage }, "rest_unavailable"],
    ["position refused with a key", { position: refused }, "api_key_unverified"],
    [
      "residual over the cap",
      { cfg: cfg({ max_residual_base: 0.001 }), position: { ok: true, value: 100n } },
      "residual_over_cap",
    ],
    [
      "budget cannot cover order + flatten",
      { budget: { ordersToday: 399, notionalTodayUsd: 0 } },
      "orders_per_day_cap",
    ],
    [
      "notional cannot cover order + flatten",
      { budget: { ordersToday: 0, notionalTodayUsd: 4_985 } },
      "daily_notional_cap",
    ],
    ["no key → dry run", { key: { present: false, error: null }, apiKey: null, position: null }, "dry_run"],
    ["malformed key", { key: { present: false, error: "bad key" }, apiKey: null, position: null }, "config_invalid"],
    ["apikeys outage", { apiKey: outage }, "rest_unavailable"],
    ["apikeys refused", { apiKey: refused }, "api_key_unverified"],
    ["apikeys mismatch", { apiKey: { ok: true, value: { matches: false, detail: {} } } }, "api_key_mismatch"],
  ];
  it.each(rows)("%s", (_n, over, want) => {
    const d = preflight(inputs(over));
    expect(d.kind === "skip" ? d.diagnosis : d.kind).toBe(want);
  });

  it("a long position sells; the plan is the market's true minimum", () => {
    const d = preflight(inputs({ position: { ok: true, value: 30n } }));
    if (d.kind !== "go") throw new Error(JSON.stringify(d));
    expect(d.plan.isAsk).toBe(true);
    expect(d.plan.baseAmount).toBeGreaterThanOrEqual(50n);
  });
});
