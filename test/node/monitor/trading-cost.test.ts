/** The trading cost of the test orders from the planned order and the market's taker fee. */
import { describe, expect, it } from "vitest";
import { tradingCost } from "../../../worker/monitor/trading-cost.ts";

describe("tradingCost", () => {
  it("is the spread on the notional plus the taker fee on the order and its flatten", () => {
    // 0.0050 ETH at 2,373.20 = 11.866 USD, spread 0.84 bps, taker fee 0.02 %.
    const c = tradingCost({ notional_usd: 11.866, spread_bps: 0.84 }, "0.0200")!;
    expect(c.spread_usd_per_check).toBeCloseTo(0.000997, 6);
    expect(c.fees_usd_per_check).toBeCloseTo(0.0047464, 6);
    expect(c.usd_per_check).toBeCloseTo(0.005743, 5);
    expect(c.usd_per_month.every_1_min).toBeCloseTo(0.005743 * 43_200, 0);
    expect(c.usd_per_month.every_5_min).toBeCloseTo((0.005743 * 43_200) / 5, 0);
  });

  it("costs only the spread on a zero-fee (standard) account", () => {
    const c = tradingCost({ notional_usd: 10, spread_bps: 2 }, "0.0000")!;
    expect(c.fees_usd_per_check).toBe(0);
    expect(c.usd_per_check).toBeCloseTo(0.002, 9);
    expect(c.taker_fee_pct).toBe(0);
  });

  it("says nothing without a planned order, and ignores a fee it cannot read", () => {
    expect(tradingCost(null, "0.0200")).toBeNull();
    expect(tradingCost({ notional_usd: "x", spread_bps: 1 }, null)).toBeNull();
    expect(tradingCost({ notional_usd: 10, spread_bps: -1 }, null)).toBeNull();
    expect(tradingCost({ notional_usd: 10, spread_bps: 1 }, "n/a")!.taker_fee_pct).toBeNull();
  });
});
