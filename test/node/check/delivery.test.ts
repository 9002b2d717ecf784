/**
 * Delivery latency on a check session: the FrameReader's side output (newest transaction_time per
 * market of an account update frame, none for a subscription snapshot, malformed ones counted and
 * never sampled) and the check's snapshot policy (worker/monitor/check/delivery.ts: at most once a minute, and with
 * the save that ends a check; restored after an eviction).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CheckDelivery, SNAPSHOT_EVERY_MS } from "../../../worker/monitor/check/delivery.ts";
import { FrameReader } from "../../../worker/monitor/check/frames.ts";
import { FrameTimes, transactionTimeOf } from "../../../worker/monitor/latency.ts";

const T0 = 1_795_979_464_233_735; // µs, as on the testnet (LIVE.md L.7)

function order(coi: number, market: number, tx: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {
    order_index: 1_000_000 + coi,
    order_id: String(1_000_000 + coi),
    client_order_index: coi,
    client_order_id: String(coi),
    market_index: market,
    owner_account_index: 7,
    initial_base_amount: "0.0050",
    remaining_base_amount: "0.0000",
    filled_base_amount: "0.0050",
    filled_quote_amount: "11.75",
    price: "2373.56",
    is_ask: false,
    status: "filled",
  };
  if (tx !== undefined) o.transaction_time = tx;
  return o;
}

function frame(type: string, orders: Record<string, unknown>[], channel = "account_all_orders:7"): string {
  const byMarket: Record<string, unknown[]> = {};
  for (const o of orders) (byMarket[String(o.market_index)] ??= []).push(o);
  return JSON.stringify({ type, channel, orders: byMarket });
}

describe("transaction_time", () => {
  it("is a µs epoch timestamp; absent means no sample; anything else is malformed", () => {
    expect(transactionTimeOf(T0)).toBe(T0);
    expect(transactionTimeOf(undefined)).toBeNull();
    expect(transactionTimeOf(null)).toBeNull();
    for (const bad of [String(T0), 0, -T0, T0 + 0.5, 1_795_979_464_233 /* ms */, 1_795_979_464 /* s */, NaN, {}, true])
      expect(transactionTimeOf(bad), JSON.stringify(bad)).toBe("malformed");
  });

  it("a frame keeps the newest time per market and counts the malformed ones", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5_000_000 }), fc.boolean())),
        (items) => {
          const t = new FrameTimes();
          for (const [m, d, ok] of items) t.note(m, ok ? T0 + d : "soon");
          const want = new Map<number, number>();
          for (const [m, d, ok] of items) if (ok) want.set(m, Math.max(want.get(m) ?? 0, T0 + d));
          expect(t.newest).toEqual(want);
          expect(t.malformed).toBe(items.filter(([, , ok]) => !ok).length);
        },
      ),
    );
  });
});

describe("the check session's frame reader", () => {
  it("an update frame gives one sample per market (the newest), beside the same order events as before", () => {
    const r = new FrameReader().read(
      frame("update/account_all_orders", [order(1, 0, T0), order(2, 0, T0 + 9_000), order(3, 2, T0 + 1)]),
      1,
    );
    expect(r.unexpected).toBeNull();
    expect(r.delivery?.channel).toBe("account_all_orders");
    expect([...r.delivery!.times.newest]).toEqual([
      [0, T0 + 9_000],
      [2, T0 + 1],
    ]);
    expect(r.delivery!.times.malformed).toBe(0);
    const ev = r.events[0];
    expect(ev?.type === "orders" ? ev.orders.map((o) => o.clientOrderIndex) : null).toEqual(["1", "2", "3"]);
  });

  it("account_orders update frames are sampled under their own channel", () => {
    const r = new FrameReader().read(frame("update/account_orders", [order(1, 0, T0)], "account_orders:0:7"), 1);
    expect(r.delivery?.channel).toBe("account_orders");
    expect([...r.delivery!.times.newest]).toEqual([[0, T0]]);
  });

  it("a subscription's snapshot is history: no sample", () => {
    const r = new FrameReader().read(frame("subscribed/account_all_orders", [order(1, 0, T0)]), 1);
    expect(r.events.some((e) => e.type === "orders")).toBe(true);
    expect(r.delivery).toBeNull();
  });

  it("without transaction_time: no sample, no unexpected, the order still counts", () => {
    const r = new FrameReader().read(frame("update/account_all_orders", [order(1, 0, undefined)]), 1);
    expect(r.delivery!.times.newest.size).toBe(0);
    expect(r.delivery!.times.malformed).toBe(0);
    const ev = r.events[0];
    expect(ev?.type === "orders" ? ev.orders.length : -1).toBe(1);
  });

  it("a malformed transaction_time is counted, never sampled, and the frame's orders are kept", () => {
    const r = new FrameReader().read(
      frame("update/account_all_orders", [
        order(1, 0, "1795979464233735"),
        order(2, 1, 1_795_979_464_233),
        order(3, 1, T0),
      ]),
      1,
    );
    expect(r.delivery!.times.malformed).toBe(2);
    expect([...r.delivery!.times.newest]).toEqual([[1, T0]]);
    const ev = r.events[0];
    expect(ev?.type === "orders" ? ev.orders.length : -1).toBe(3);
  });
});

describe("the check's delivery book and its snapshot", () => {
  const times = (pairs: [number, number][]) => {
    const t = new FrameTimes();
    for (const [m, us] of pairs) t.note(m, us);
    return t;
  };
  const at = T0 / 1000;

  it("records receipt minus transaction time per channel and market", () => {
    const d = new CheckDelivery(null);
    d.onFrame("account_orders", times([[0, T0]]), at + 40);
    d.onFrame("account_all_orders", times([[0, T0]]), at + 120);
    const v = d.view(at + 200);
    expect(v.delivery_latency_ms.account_orders!["0"]!.samples).toBe(1);
    expect(Math.abs(v.delivery_latency_ms.account_orders!["0"]!.p50 - 40)).toBeLessThan(0.5);
    expect(Math.abs(v.delivery_latency_ms.account_all_orders!["0"]!.p99 - 120)).toBeLessThan(1.3);
    expect(v.delivery_latency_ms_24h.account_all_orders!["0"]!.samples).toBe(1);
    expect(d.metrics(at + 200).latency["1h"]).toEqual(v.delivery_latency_ms);
  });

  it("a snapshot is due at most once a minute while a check runs, and with the save that ends it", () => {
    const d = new CheckDelivery(null);
    expect(d.due(at, false)).toBeNull(); // nothing recorded
    d.onFrame("account_orders", times([[0, T0]]), at + 40);
    expect(d.due(at + 50, false)).not.toBeNull(); // none stored yet
    d.onFrame("account_orders", times([[0, T0]]), at + 60);
    expect(d.due(at + 70, false)).toBeNull();
    expect(d.due(at + 50 + SNAPSHOT_EVERY_MS - 1, false)).toBeNull();
    expect(d.due(at + 50 + SNAPSHOT_EVERY_MS, false)).not.toBeNull();
    d.onFrame("account_orders", times([[0, T0]]), at + SNAPSHOT_EVERY_MS + 100);
    expect(d.due(at + SNAPSHOT_EVERY_MS + 110, true)).not.toBeNull(); // the check ended
    expect(d.due(at + SNAPSHOT_EVERY_MS + 120, true)).toBeNull(); // nothing new
  });

  it("an evicted object restores the snapshot; a broken one starts empty", () => {
    const d = new CheckDelivery(null);
    for (let i = 0; i < 30; i++) d.onFrame("account_all_orders", times([[i % 3, T0]]), at + 10 * i);
    const snap = d.due(at + 400, true)!;
    const back = new CheckDelivery(snap);
    expect(back.view(at + 500)).toEqual(d.view(at + 500));
    // Restored with its time: the next one is due a minute after it, not at once.
    back.onFrame("account_all_orders", times([[0, T0]]), at + 600);
    expect(back.due(at + 700, false)).toBeNull();
    expect(back.due(at + 400 + SNAPSHOT_EVERY_MS, false)).not.toBeNull();
    for (const broken of ["{", "null", '{"v":2}', "[]"])
      expect(new CheckDelivery(broken).view(at).delivery_latency_ms).toEqual({});
  });
});
