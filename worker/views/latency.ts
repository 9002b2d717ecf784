/**
 * The one definition of fill latency, used by /status, /metrics and the status page alike: per
 * check, the time from signing the test order (its write-ahead, just before sendTx) to the first
 * fill of it seen on the WebSocket (`checks.fill_latency_ms`; checks without a WebSocket fill have
 * none). Summaries are nearest-rank percentiles over the last FILL_LATENCY_SAMPLES checks that have
 * one, newest first (the object reads them: worker/store/views/fill-latency.ts). Pure: the page and its Node tests use it too.
 */

export const FILL_LATENCY_DEFINITION =
  "from signing the test order to its first fill seen on the WebSocket (nearest-rank percentiles over the last 200 checks with a fill)";

/** How many recent checks the percentiles cover. */
export const FILL_LATENCY_SAMPLES = 200;

export interface FillLatencySummary {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  samples: number;
}

/** Nearest-rank percentile of an ascending list (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The summary of any set of per-check fill latencies (ms). */
export function summarizeFillLatency(values: readonly number[]): FillLatencySummary {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (p: number) => (xs.length ? percentile(xs, p) : null);
  return { p50: at(50), p90: at(90), p95: at(95), p99: at(99), samples: xs.length };
}
