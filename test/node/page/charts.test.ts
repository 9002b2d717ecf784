/**
 * The page's chart numbers: nearest-rank percentiles, consecutive buckets oldest first, scaling
 * into the SVG box (bigger values higher up), and human durations.
 */
import { describe, expect, it } from "vitest";
import { humanMs, niceCeil, percentile, percentileSeries, scaleSeries } from "../../../worker/page/charts.ts";

describe("chart numbers", () => {
  it("percentile is nearest-rank", () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("groups samples into consecutive buckets, oldest first, whatever the input order", () => {
    const samples = Array.from({ length: 40 }, (_, i) => ({ t: 1000 + i, v: i < 20 ? 10 + i : 500 + i }));
    const series = percentileSeries([...samples].reverse(), 4);
    expect(series.map((p) => p.n)).toEqual([10, 10, 10, 10]);
    expect(series.map((p) => p.t)).toEqual([1009, 1019, 1029, 1039]);
    expect(series[0]).toMatchObject({ p50: 14, p95: 19 });
    expect(series[3]).toMatchObject({ p50: 534, p95: 539 });
    expect(percentileSeries([{ t: 1, v: 3 }], 12)).toEqual([{ t: 1, p50: 3, p95: 3, n: 1 }]);
    expect(percentileSeries([], 12)).toEqual([]);
  });

  it("scales into the box: larger values are higher (smaller y), the axis top is a round number", () => {
    const s = scaleSeries(
      [
        { t: 1, p50: 100, p95: 180, n: 3 },
        { t: 2, p50: 40, p95: 60, n: 3 },
      ],
      200,
      70,
    );
    expect(s.max).toBe(200);
    expect(s.dots[0]!.y50).toBeLessThan(s.dots[1]!.y50);
    expect(s.dots[0]!.y95).toBeLessThan(s.dots[0]!.y50);
    expect(s.dots[0]!.x).toBe(4);
    expect(s.dots[1]!.x).toBe(196);
    expect(s.p50.split(" ")).toHaveLength(2);
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(1200)).toBe(2000);
  });

  it("humanMs", () => {
    expect(humanMs(850)).toBe("850 ms");
    expect(humanMs(1234)).toBe("1.2 s");
    expect(humanMs(42_000)).toBe("42 s");
    expect(humanMs(180_000)).toBe("3 min");
    expect(humanMs(null)).toBe("–");
  });
});
