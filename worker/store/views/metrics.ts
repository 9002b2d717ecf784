/** The rows behind GET /metrics, read from SQLite in one pass (the snapshot: worker/views/metrics.ts). */
import { metricsOf, type MetricsSnapshot } from "../../views/metrics.ts";

export function metricsSnapshot(
  sql: SqlStorage,
  targetTypes: readonly string[],
  unresolvedOrders: number,
  lastConcludedAt: number | null,
): MetricsSnapshot {
  const rows = {
    checks: sql
      .exec<{ verdict: string | null; stage: string | null; diagnosis: string | null; n: number }>(
        `SELECT verdict, first_failing_stage AS stage, diagnosis, COUNT(*) AS n FROM checks
         WHERE state = 'done' GROUP BY verdict, first_failing_stage, diagnosis`,
      )
      .toArray(),
    latencies: sql
      .exec<{ stages: string; fill: number | null }>(
        `SELECT stages, fill_latency_ms AS fill FROM checks WHERE state = 'done'`,
      )
      .toArray(),
    outbox: sql.exec<{ item: string; state: string }>(`SELECT item, state FROM outbox`).toArray(),
    openIncidents: sql
      .exec<{ kind: string; diagnosis: string | null; n: number }>(
        `SELECT stream AS kind, diagnosis, COUNT(*) AS n FROM incidents WHERE resolved_at IS NULL GROUP BY stream, diagnosis`,
      )
      .toArray(),
    lastConcludedAt,
  };
  return metricsOf(rows, targetTypes, unresolvedOrders);
}
