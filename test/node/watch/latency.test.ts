/** Delivery-latency sketch: percentiles within the bucket error, sliding windows, bounded series, snapshots. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LatencyBook, MAX_SERIES, bucketOf, bucketValue } from "../../../worker/monitor/latency.ts";

const H = 3_600_000;

function exact(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

describe("latency sketch", () => {
  it("a bucket's value is within 1 % of every delay it holds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 599_999 }), (ms) => {
        const v = bucketValue(bucketOf(ms));
        expect(Math.abs(v - ms) / ms).toBeLessThanOrEqual(0.0102);
      }),
    );
    expect(bucketValue(bucketOf(0))).toBe(0);
    expect(bucketValue(bucketOf(-5))).toBe(0);
  });

  it("p50/p90/p99 match the exact percentiles of the samples within the bucket error", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 400 }), (xs) => {
        const book = new LatencyBook();
        const now = 10 * H;
        for (const x of xs) book.record("account_orders", "0", x, now);
        const p = book.view("1h", now).account_orders!["0"]!;
        expect(p.samples).toBe(xs.length);
        for (const [q, got] of [
          [0.5, p.p50],
          [0.9, p.p90],
          [0.99, p.p99],
        ] as const) {
          const want = exact(xs, q);
          expect(Math.abs(got - want) / want).toBeLessThanOrEqual(0.0102);
        }
      }),
    );
  });

  it("the hour forgets samples older than an hour, the day keeps them; series are per channel and market", () => {
    const book = new LatencyBook();
    const t0 = 100 * H;
    for (let i = 0; i < 50; i++) book.record("account_all_orders", "1", 500, t0);
    book.record("account_all_trades", "1", 20, t0);
    const later = t0 + 2 * H;
    for (let i = 0; i < 10; i++) book.record("account_all_orders", "1", 30, later);
    const hour = book.view("1h", later);
    expect(hour.account_all_orders!["1"]).toMatchObject({ samples: 10 });
    expect(hour.account_all_orders!["1"]!.p99).toBeCloseTo(30, -0.5);
    expect(hour.account_all_trades).toBeUndefined();
    const day = book.view("24h", later);
    expect(day.account_all_orders!["1"]!.samples).toBe(60);
    expect(day.account_all_orders!["1"]!.p90).toBeGreaterThan(400);
    expect(day.account_all_trades!["1"]!.samples).toBe(1);
    expect(book.view("24h", t0 + 27 * H)).toEqual({});
  });

  it("negative delays count as 0 ms and are counted apart", () => {
    const book = new LatencyBook();
    book.record("account_orders", "0", -40, H);
    expect(book.negative).toBe(1);
    expect(book.view("1h", H).account_orders!["0"]).toEqual({ p50: 0, p90: 0, p99: 0, samples: 1 });
  });

  it("is bounded: at most MAX_SERIES series", () => {
    const book = new LatencyBook();
    for (let m = 0; m < MAX_SERIES + 10; m++) book.record("account_orders", String(m), 5, H);
    expect(Object.keys(book.view("1h", H).account_orders!)).toHaveLength(MAX_SERIES);
    expect(book.dropped).toBe(10);
  });

  it("a snapshot restores the same percentiles; garbage restores an empty book", () => {
    const book = new LatencyBook();
    for (let i = 1; i <= 300; i++) book.record("account_orders", "0", i, 5 * H + i * 1000);
    const now = 5 * H + 400_000;
    const snap = JSON.parse(JSON.stringify(book.snapshot(now)));
    expect(book.unsaved).toBe(0);
    const back = LatencyBook.restore(snap);
    expect(back.view("1h", now)).toEqual(book.view("1h", now));
    expect(back.view("24h", now)).toEqual(book.view("24h", now));
    expect(LatencyBook.restore({ v: 2 }).view("1h", now)).toEqual({});
    expect(LatencyBook.restore("x").view("1h", now)).toEqual({});
    expect(
      LatencyBook.restore({
        v: 1,
        series: [{ channel: "a", market: "0", windows: { "1h": [[0, 1, [[-1, 5]]]] } }],
      }).view("1h", 0),
    ).toEqual({});
  });
});
