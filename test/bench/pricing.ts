/**
 * Cloudflare's published Workers Paid rates (read 2026-12-06 through the docs search) and the
 * monthly price of one monitor from measured per-check figures. Sources:
 * - Durable Objects compute: developers.cloudflare.com/durable-objects/platform/pricing — requests
 *   1 million included then $0.15 per million (RPC calls, alarms, WebSocket messages); duration
 *   400,000 GB-s included then $12.50 per million GB-s, an object billed at 128 MB while active.
 * - Durable Objects SQLite storage (same page; billed since 2026-01-07 per the DO release notes):
 *   rows read 25 billion included then $0.001 per million; rows written 50 million included then
 *   $1.00 per million; stored data 5 GB-month included then $0.20 per GB-month.
 * - Workers Standard (developers.cloudflare.com/workflows/reference/pricing/, "identical to
 *   Workers Standard pricing"): requests 10 million included then $0.30 per million; CPU 30 million
 *   ms included then $0.02 per million ms; the Workers Paid plan itself is $5 a month.
 */

export const RATES = {
  planUsdPerMonth: 5,
  doRequests: { included: 1_000_000, usdPerMillion: 0.15 },
  doGbSeconds: { included: 400_000, usdPerMillion: 12.5, gbPerObject: 0.128 },
  rowsRead: { included: 25_000_000_000, usdPerMillion: 0.001 },
  rowsWritten: { included: 50_000_000, usdPerMillion: 1.0 },
  workerRequests: { included: 10_000_000, usdPerMillion: 0.3 },
  workerCpuMs: { included: 30_000_000, usdPerMillion: 0.02 },
} as const;

export const MINUTES_PER_MONTH = 30 * 24 * 60;

export interface PerCheck {
  activeS: number;
  requests: number;
  rowsWritten: number;
  rowsRead: number;
}

export interface MonthlyUse {
  checks: number;
  doRequests: number;
  gbSeconds: number;
  rowsWritten: number;
  rowsRead: number;
  /** Marginal price once the plan's included usage is spent by other monitors (USD). */
  marginalUsd: { requests: number; duration: number; rowsWritten: number; rowsRead: number; total: number };
  /** How many such monitors the included allowances cover (the scarcest one decides). */
  coveredByPlan: number;
}

/**
 * One monitor's monthly usage at a schedule of `periodMin` minutes. `alwaysActive`: the object is
 * active the whole month (continuous and watch modes hold a session), whatever the per-check time.
 */
export function monthly(p: PerCheck, periodMin: number, alwaysActive = false): MonthlyUse {
  const checks = MINUTES_PER_MONTH / periodMin;
  const doRequests = p.requests * checks;
  const activeS = alwaysActive ? MINUTES_PER_MONTH * 60 : p.activeS * checks;
  const gbSeconds = activeS * RATES.doGbSeconds.gbPerObject;
  const rowsWritten = p.rowsWritten * checks;
  const rowsRead = p.rowsRead * checks;
  const usd = (n: number, r: { usdPerMillion: number }) => (n / 1e6) * r.usdPerMillion;
  const marginal = {
    requests: usd(doRequests, RATES.doRequests),
    duration: usd(gbSeconds, RATES.doGbSeconds),
    rowsWritten: usd(rowsWritten, RATES.rowsWritten),
    rowsRead: usd(rowsRead, RATES.rowsRead),
    total: 0,
  };
  marginal.total = marginal.requests + marginal.duration + marginal.rowsWritten + marginal.rowsRead;
  const covered = Math.floor(
    Math.min(
      RATES.doRequests.included / Math.max(1, doRequests),
      RATES.doGbSeconds.included / Math.max(1e-9, gbSeconds),
      RATES.rowsWritten.included / Math.max(1, rowsWritten),
      RATES.rowsRead.included / Math.max(1, rowsRead),
    ),
  );
  return { checks, doRequests, gbSeconds, rowsWritten, rowsRead, marginalUsd: marginal, coveredByPlan: covered };
}

/** List prices of a 1-minute API check elsewhere, for the README's comparison. */
export const ELSEWHERE = {
  /** docs.checklyhq.com/docs/monitoring/check-pricing: API checks $2 per 10k runs (prepaid bundles). */
  checklyUsdPerMonth1Min: (MINUTES_PER_MONTH * 2) / 10_000,
  /**
   * betterstack.com/pricing as recorded 2026-06-12 (api-evangelist/betteruptime plans): a Responder
   * licence $34/month ($29 billed annually), extra monitors $25 per 50; the free tier's 10 monitors
   * check every 3 minutes at best.
   */
  betterStackUsdPerExtraMonitor: 25 / 50,
  betterStackResponderUsd: 34,
} as const;
