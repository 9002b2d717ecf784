/**
 * The numbers behind GET /metrics, from the rows the object reads in one pass: finished checks by
 * verdict, stage and diagnosis; stage and fill latency histograms; alert deliveries by target and
 * state; open incidents and the time of the last verdict. The object adds the order lock (the
 * core's resolution rule) and its live counters; the API formats the text.
 */

/** Histogram upper bounds in milliseconds (+Inf is implied). */
export const LATENCY_BUCKETS_MS: readonly number[] = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

export interface Histogram {
  /** Cumulative counts, one per LATENCY_BUCKETS_MS bound. */
  buckets: number[];
  count: number;
  sum_ms: number;
}

export interface MetricsSnapshot {
  checks: { verdict: string; stage: string; diagnosis: string; count: number }[];
  stage_latency: Record<string, Histogram>;
  fill_latency: Histogram;
  alerts: { target: string; state: string; count: number }[];
  unresolved_orders: number;
  /** Open incidents by alert stream and current diagnosis (views/incidents.ts). */
  open_incidents: { kind: string; diagnosis: string; count: number }[];
  /** When the last check concluded (epoch ms), or null. */
  last_concluded_at: number | null;
}

export function emptyHistogram(): Histogram {
  return { buckets: LATENCY_BUCKETS_MS.map(() => 0), count: 0, sum_ms: 0 };
}

export function observe(h: Histogram, ms: number): void {
  h.count++;
  h.sum_ms += ms;
  LATENCY_BUCKETS_MS.forEach((b, i) => {
    if (ms <= b) h.buckets[i]!++;
  });
}

/** What the object reads for a snapshot (worker/store/views/metrics.ts). */
export interface MetricsRows {
  /** Finished checks grouped by verdict, first failing stage and diagnosis. */
  checks: readonly { verdict: string | null; stage: string | null; diagnosis: string | null; n: number }[];
  /** Each finished check's stage marks (JSON) and fill latency. */
  latencies: Iterable<{ stages: string; fill: number | null }>;
  /** Each outbox item (JSON, with its targetIndex) and its delivery state. */
  outbox: Iterable<{ item: string; state: string }>;
  /** Open incidents grouped by stream and current diagnosis. */
  openIncidents: readonly { kind: string; diagnosis: string | null; n: number }[];
  /** When the last check concluded (epoch ms; worker/store/check/store.ts `lastConcludedAt`). */
  lastConcludedAt: number | null;
}

/** `unresolvedOrders` comes from the check core's lock rule (0 or 1: one unresolved order per key). */
export function metricsOf(
  rows: MetricsRows,
  targetTypes: readonly string[],
  unresolvedOrders: number,
): MetricsSnapshot {
  const checks = rows.checks.map((r) => ({
    verdict: r.verdict ?? "",
    stage: r.stage ?? "",
    diagnosis: r.diagnosis ?? "",
    count: r.n,
  }));

  const stage_latency: Record<string, Histogram> = {};
  const fill_latency = emptyHistogram();
  for (const r of rows.latencies) {
    const stages = JSON.parse(r.stages) as Record<string, { ms?: unknown }>;
    for (const [stage, mark] of Object.entries(stages)) {
      if (typeof mark.ms !== "number") continue;
      observe((stage_latency[stage] ??= emptyHistogram()), mark.ms);
    }
    if (r.fill !== null) observe(fill_latency, r.fill);
  }

  const byKey = new Map<string, number>();
  for (const r of rows.outbox) {
    let index: number;
    try {
      index = Number((JSON.parse(r.item) as { targetIndex?: unknown }).targetIndex);
    } catch {
      index = -1;
    }
    const key = `${targetTypes[index] ?? "unknown"}\u0000${r.state}`;
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
  }
  const alerts = [...byKey].map(([k, count]) => {
    const [target, state] = k.split("\u0000") as [string, string];
    return { target, state, count };
  });

  const open_incidents = rows.openIncidents.map((r) => ({
    kind: r.kind,
    diagnosis: r.diagnosis ?? "",
    count: Number(r.n),
  }));
  return {
    checks,
    stage_latency,
    fill_latency,
    alerts,
    unresolved_orders: unresolvedOrders,
    open_incidents,
    last_concluded_at: rows.lastConcludedAt,
  };
}
