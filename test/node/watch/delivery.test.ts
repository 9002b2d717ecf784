/** Watch delivery latency classifies transaction_time as the check side does: only a µs epoch is a sample. */
import { describe, expect, it } from "vitest";
import { parseOrder, parseTrade } from "../../../worker/lighter/messages.ts";
import { DeliveryLatency } from "../../../worker/monitor/watch/delivery.ts";

const NOW = 1_800_000_000_000;

function order(transaction_time: unknown) {
  return parseOrder({
    order_index: 7,
    market_index: 0,
    status: "open",
    filled_base_amount: "0",
    ...(transaction_time === undefined ? {} : { transaction_time }),
  });
}

function trade(transaction_time: unknown) {
  return parseTrade({ trade_id: 9, market_id: 1, size: "1", transaction_time });
}

describe("watch delivery latency", () => {
  it("samples a µs transaction_time, the newest per market", () => {
    const d = new DeliveryLatency(null, NOW);
    const us = (NOW - 40) * 1000;
    expect(d.onOrders("account_all_orders", [order(us - 5_000_000), order(us)], NOW)).toBe(0);
    const p = d.book.view("1h", NOW).account_all_orders!["0"]!;
    expect(p.samples).toBe(1);
    expect(p.p50).toBeCloseTo(40, -0.5);
  });

  it("an absent transaction_time gives no sample and is not unexpected", () => {
    const d = new DeliveryLatency(null, NOW);
    expect(d.onOrders("account_orders", [order(undefined)], NOW)).toBe(0);
    expect(d.book.view("1h", NOW)).toEqual({});
  });

  it.each([
    ["ms", NOW - 40],
    ["s", Math.floor(NOW / 1000)],
    ["zero", 0],
    ["fraction", NOW * 1000 + 0.5],
  ])("a transaction_time in another unit (%s) is counted malformed, never sampled", (_, v) => {
    const d = new DeliveryLatency(null, NOW);
    expect(d.onOrders("account_all_orders", [order(v), order(undefined)], NOW)).toBe(1);
    expect(d.onTrades([trade(v)], NOW)).toBe(1);
    expect(d.book.view("1h", NOW)).toEqual({});
    expect(d.book.unsaved).toBe(0);
  });
});
