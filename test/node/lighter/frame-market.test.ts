/** The frame parser accepts only small, canonical market ids (0 … 65535) and names the field otherwise. */
import { describe, expect, it } from "vitest";
import { MAX_MARKET_ID, parseFrame } from "../../../worker/lighter/messages.ts";

const bookFrame = (channel: string) =>
  `{"type":"subscribed/order_book","channel":${JSON.stringify(channel)},"order_book":{"asks":[],"bids":[],"nonce":1,"offset":1}}`;
const order = (market: string) =>
  `{"order_index":1,"client_order_index":2,"market_index":${market},"status":"open","filled_base_amount":"0"}`;

describe("market ids in frames", () => {
  it("order_book channels with a huge or non-canonical market id are unexpected, naming the channel", () => {
    for (const channel of [
      "order_book:99999999999999999999999",
      "order_book:65536",
      "order_book:012",
      "order_book:1e3",
      "order_book:-1",
      "order_book/99999999999999999999999",
    ]) {
      const ev = parseFrame(bookFrame(channel));
      expect(ev.kind, channel).toBe("unexpected");
      expect(ev.kind === "unexpected" ? ev.reason : "", channel).toMatch(/^channel/);
    }
  });

  it("the largest and smallest market ids are accepted", () => {
    for (const m of [0, 1, 2048, MAX_MARKET_ID]) {
      const ev = parseFrame(bookFrame(`order_book:${m}`));
      expect(ev.kind).toBe("order_book_snapshot");
      expect(ev.kind === "order_book_snapshot" ? ev.market : null).toBe(m);
    }
  });

  it("account order frames: market_index, the orders key and the channel are bounded too", () => {
    const frame = (channel: string, key: string, market: string) =>
      `{"type":"update/account_orders","channel":"${channel}","account":5,"orders":{"${key}":[${order(market)}]}}`;
    const cases: [string, string][] = [
      [frame("account_orders:0", "0", "1e23"), "market_index"],
      [frame("account_orders:0", "0", "70000"), "market_index"],
      [frame("account_orders:0", "0", "1.5"), "market_index"],
      [frame("account_orders:99999999999999999999999", "0", "0"), "channel"],
      [
        `{"type":"update/account_orders","channel":"account_orders:0","account":5,"orders":{"99999999999999999999999":[${order("null")}]}}`,
        "orders key",
      ],
    ];
    for (const [f, field] of cases) {
      const ev = parseFrame(f);
      expect(ev.kind, f).toBe("unexpected");
      expect(ev.kind === "unexpected" ? ev.reason : "", f).toContain(field);
    }
    const ok = parseFrame(frame("account_orders:7:5", "7", "7"));
    expect(ok.kind === "account_orders" ? [ok.market, ok.orders[0]!.marketIndex] : null).toEqual([7, 7]);
  });

  it("a trade's market_id is bounded", () => {
    const trade = (m: string) =>
      `{"type":"update/trade","channel":"trade:0","trades":[{"trade_id":1,"size":"1","market_id":${m}}]}`;
    expect(parseFrame(trade("0")).kind).toBe("trades");
    const ev = parseFrame(trade("1e23"));
    expect(ev.kind === "unexpected" ? ev.reason : "").toContain("market_id");
  });
});
