/**
 * The numbers behind the page's charts: checks grouped into consecutive time buckets with the
 * p50 and p95 (nearest rank) of a duration per bucket, and the scaling of such series into an SVG
 * viewBox. Pure functions, no rendering. Percentiles are the nearest-rank ones of views/latency.ts.
 */
import { percentile } from "../views/latency.ts";

export { percentile };

export interface Point {
  /** Bucket time: the start of its newest check (epoch ms). */
  t: number;
  p50: number;
  p95: number;
  n: number;
}

export interface Sample {
  t: number;
  v: number;
}

/** Samples (any order) into at most `buckets` consecutive groups, oldest first, each with p50/p95. */
export function percentileSeries(samples: Sample[], buckets = 12): Point[] {
  const xs = samples.filter((s) => Number.isFinite(s.v)).sort((a, b) => a.t - b.t);
  if (xs.length === 0) return [];
  const groups = Math.min(buckets, xs.length);
  const out: Point[] = [];
  for (let g = 0; g < groups; g++) {
    const part = xs.slice(Math.floor((g * xs.length) / groups), Math.floor(((g + 1) * xs.length) / groups));
    const vs = part.map((s) => s.v).sort((a, b) => a - b);
    out.push({ t: part[part.length - 1]!.t, p50: percentile(vs, 50), p95: percentile(vs, 95), n: vs.length });
  }
  return out;
}

export interface Scaled {
  p50: string;
  p95: string;
  /** The value at the top of the chart (a round number of ms). */
  max: number;
  /** Dots: x, y of p95 per bucket. */
  dots: { x: number; y50: number; y95: number; point: Point }[];
}

/** A ceiling for the axis: 1, 2 or 5 × a power of ten, at least `v`. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

/** Polylines (SVG points attributes) for p50 and p95 inside a width × height box with padding. */
export function scaleSeries(points: Point[], width: number, height: number, pad = 4): Scaled {
  const max = niceCeil(Math.max(0, ...points.map((p) => p.p95)));
  const x = (i: number) => (points.length <= 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v: number) => height - pad - (v / max) * (height - 2 * pad);
  const r = (n: number) => Math.round(n * 10) / 10;
  const dots = points.map((p, i) => ({ x: r(x(i)), y50: r(y(p.p50)), y95: r(y(p.p95)), point: p }));
  return {
    p50: dots.map((d) => `${d.x},${d.y50}`).join(" "),
    p95: dots.map((d) => `${d.x},${d.y95}`).join(" "),
    max,
    dots,
  };
}

/** "850 ms", "1.2 s", "3 min": a duration for people. */
export function humanMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3600_000).toFixed(1)} h`;
}
