/** The fill-latency summary of /status and the page, read from the checks table (definition: latency.ts). */
import { FILL_LATENCY_SAMPLES, summarizeFillLatency, type FillLatencySummary } from "../../views/latency.ts";

export function fillLatencySummary(sql: SqlStorage): FillLatencySummary {
  const xs = sql
    .exec<{ ms: number }>(
      `SELECT fill_latency_ms AS ms FROM checks WHERE fill_latency_ms IS NOT NULL ORDER BY started_at DESC LIMIT ?`,
      FILL_LATENCY_SAMPLES,
    )
    .toArray()
    .map((r) => Number(r.ms));
  return summarizeFillLatency(xs);
}
