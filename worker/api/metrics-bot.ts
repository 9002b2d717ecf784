/**
 * The watch monitor's delivery-latency and bot-reconciliation families of GET /metrics, as a pure
 * function of the snapshots (appended to metrics-format.ts's text): exchange delivery latency and
 * the bot-reported lag as p50/p90/p99 gauges per channel, market and window, with their sample
 * counts, and the bot's judged fills and ingest requests as counters.
 */
import type { Percentiles } from "../monitor/latency.ts";
import { Out, type Labels } from "./metrics-text.ts";

/** What a watch monitor adds to its metrics snapshot. */
export interface DeliveryMetrics {
  /** window ("1h" | "24h") → channel → market → percentiles (the bot's lag under channel "bot"). */
  latency: Record<string, Record<string, Record<string, Percentiles>>>;
  /** verdict → fills judged since the object started (reported, late, missed, phantom). */
  bot_fills: Record<string, number> | null;
  /** batches, reports, heartbeats, duplicates, rate_limited since the object started. */
  bot_ingest: Record<string, number> | null;
}

export function formatDeliveryMetrics(monitors: readonly ({ monitor: string } & Partial<DeliveryMetrics>)[]): string {
  const o = new Out();
  const family = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    each: (push: (l: Labels, v: number) => void) => void,
  ) => o.family(name, type, help, () => each((l, v) => o.sample(name, l, v)));
  const series = (f: (m: string, w: string, ch: string, mk: string, p: Percentiles) => void) => {
    for (const m of monitors)
      for (const [w, chans] of Object.entries(m.latency ?? {}))
        for (const [ch, markets] of Object.entries(chans))
          for (const [mk, p] of Object.entries(markets)) f(m.monitor, w, ch, mk, p);
  };
  family(
    "fillwatch_delivery_latency_ms",
    "gauge",
    "Exchange transaction_time to receipt of account frames (channel \"bot\": the bot's seen_at minus the trade's time), by quantile over the window.",
    (push) =>
      series((monitor, window, channel, market, p) => {
        for (const [q, v] of [
          ["0.5", p.p50],
          ["0.9", p.p90],
          ["0.99", p.p99],
        ] as const)
          push({ monitor, channel, market, window, quantile: q }, v);
      }),
  );
  family("fillwatch_delivery_latency_samples", "gauge", "Samples behind fillwatch_delivery_latency_ms.", (push) =>
    series((monitor, window, channel, market, p) => push({ monitor, channel, market, window }, p.samples)),
  );
  family(
    "fillwatch_bot_fills_total",
    "counter",
    "Fills judged against the bot's reports since the object started, by verdict (reported, late, missed, phantom).",
    (push) => {
      for (const m of monitors)
        for (const [verdict, v] of Object.entries(m.bot_fills ?? {}).sort(([a], [b]) => a.localeCompare(b)))
          push({ monitor: m.monitor, verdict }, v);
    },
  );
  family(
    "fillwatch_bot_ingest_total",
    "counter",
    "Requests to POST /watch/{monitor}/seen since the object started, by kind (batches, heartbeats, duplicates, rate_limited) and reports accepted.",
    (push) => {
      for (const m of monitors)
        for (const [kind, v] of Object.entries(m.bot_ingest ?? {}).sort(([a], [b]) => a.localeCompare(b)))
          push({ monitor: m.monitor, kind }, v);
    },
  );
  return o.text();
}
