/**
 * Read-only view of the `checks` table for GET /checks: filters (verdict, stage, diagnosis,
 * started_at range) and keyset pagination on (started_at, rowid), newest first, so rows inserted
 * while a client pages never cause gaps or duplicates. Rows are returned as stored (epoch ms, raw
 * units); the API adds human units. Summaries leave out evidence and stored frames.
 */

export interface ChecksQuery {
  limit: number;
  /** Opaque cursor from a previous page: `<started_at>.<rowid>`. */
  cursor: string | null;
  verdict: string | null;
  stage: string | null;
  diagnosis: string | null;
  /** Inclusive lower bound on started_at (epoch ms). */
  since: number | null;
  /** Exclusive upper bound on started_at (epoch ms). */
  until: number | null;
  detail: "summary" | "full";
}

export interface CheckRecord {
  id: string;
  state: string;
  verdict: string | null;
  first_failing_stage: string | null;
  diagnosis: string | null;
  reasons: string[];
  market: number;
  trigger: string | null;
  started_at: number;
  finished_at: number | null;
  stages: Record<string, { at: number; ms: number }>;
  action: string | null;
  flatten: string | null;
  client_order_index: string | null;
  fill_latency_ms: number | null;
  evidence?: Record<string, unknown>;
  flatten_detail?: Record<string, unknown> | null;
}

export interface ChecksPage {
  checks: CheckRecord[];
  next_cursor: string | null;
}

export const CURSOR_RE = /^(0|[1-9][0-9]{0,15})\.([1-9][0-9]{0,15})$/;

interface Row {
  rid: number;
  id: string;
  state: string;
  verdict: string | null;
  first_failing_stage: string | null;
  diagnosis: string | null;
  reasons: string;
  market: number;
  started_at: number;
  finished_at: number | null;
  stages: string;
  evidence: string;
  action: string | null;
  flatten: string | null;
  flatten_detail: string | null;
  coi: string | null;
  fill_latency_ms: number | null;
  [k: string]: SqlStorageValue;
}

function stagesOnly(parsed: Record<string, { at: number; ms: number }>): Record<string, { at: number; ms: number }> {
  const out: Record<string, { at: number; ms: number }> = {};
  for (const [k, v] of Object.entries(parsed)) out[k] = { at: v.at, ms: v.ms };
  return out;
}

export function listChecks(sql: SqlStorage, q: ChecksQuery): ChecksPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.cursor !== null) {
    const m = CURSOR_RE.exec(q.cursor);
    if (!m) throw new RangeError("cursor must be the next_cursor of a previous page");
    where.push("(started_at < ? OR (started_at = ? AND rowid < ?))");
    args.push(Number(m[1]), Number(m[1]), Number(m[2]));
  }
  for (const [col, v] of [
    ["verdict", q.verdict],
    ["first_failing_stage", q.stage],
    ["diagnosis", q.diagnosis],
  ] as const) {
    if (v !== null) {
      where.push(`${col} = ?`);
      args.push(v);
    }
  }
  // A running check has no verdict yet: filtering on a verdict means finished checks only.
  if (q.verdict !== null) where.push("state = 'done'");
  if (q.since !== null) {
    where.push("started_at >= ?");
    args.push(q.since);
  }
  if (q.until !== null) {
    where.push("started_at < ?");
    args.push(q.until);
  }
  const rows = sql
    .exec<Row>(
      `SELECT rowid AS rid, * FROM checks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY started_at DESC, rowid DESC LIMIT ?`,
      ...args,
      q.limit + 1,
    )
    .toArray();
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  const checks = page.map((r) => toRecord(r, q.detail));
  const last = page[page.length - 1];
  return { checks, next_cursor: more && last ? `${last.started_at}.${last.rid}` : null };
}

/**
 * Whether the check in the machine's state (running, or flattening after its verdict: no history
 * row until it ends) belongs on the first page of `q`. As for rows, a verdict filter means finished
 * checks only; stage and diagnosis filters match its verdict's.
 */
export function liveMatches(
  q: ChecksQuery,
  live: { started_at: number; first_failing_stage: string | null; diagnosis: string | null },
): boolean {
  if (q.cursor !== null || q.verdict !== null) return false;
  if (q.stage !== null && live.first_failing_stage !== q.stage) return false;
  if (q.diagnosis !== null && live.diagnosis !== q.diagnosis) return false;
  return (q.since === null || live.started_at >= q.since) && (q.until === null || live.started_at < q.until);
}

/** The API record of a check that has no history row yet, from its row fields. */
export function checkRecordOf(
  r: {
    id: string;
    state: string;
    verdict: string | null;
    first_failing_stage: string | null;
    diagnosis: string | null;
    reasons: string[];
    market: number;
    started_at: number;
    finished_at: number | null;
    stages: Record<string, { at: number; ms: number }>;
    evidence: Record<string, unknown>;
    action: string | null;
    flatten: string | null;
    flatten_detail: Record<string, unknown> | null;
    coi: string | null;
    fill_latency_ms: number | null;
  },
  detail: "summary" | "full",
): CheckRecord {
  const rec: CheckRecord = {
    id: r.id,
    state: r.state,
    verdict: r.state === "done" ? r.verdict : null,
    first_failing_stage: r.first_failing_stage,
    diagnosis: r.diagnosis,
    reasons: r.reasons,
    market: r.market,
    trigger: typeof r.evidence.trigger === "string" ? r.evidence.trigger : null,
    started_at: r.started_at,
    finished_at: r.finished_at,
    stages: stagesOnly(r.stages),
    action: r.action,
    flatten: r.flatten,
    client_order_index: r.coi,
    fill_latency_ms: r.fill_latency_ms,
  };
  if (detail === "full") {
    rec.evidence = r.evidence;
    rec.flatten_detail = r.flatten_detail;
  }
  return rec;
}

function toRecord(r: Row, detail: "summary" | "full"): CheckRecord {
  return checkRecordOf(
    {
      ...r,
      market: Number(r.market),
      started_at: Number(r.started_at),
      finished_at: r.finished_at === null ? null : Number(r.finished_at),
      fill_latency_ms: r.fill_latency_ms === null ? null : Number(r.fill_latency_ms),
      reasons: JSON.parse(r.reasons) as string[],
      stages: JSON.parse(r.stages) as Record<string, { at: number; ms: number }>,
      evidence: JSON.parse(r.evidence) as Record<string, unknown>,
      flatten_detail: r.flatten_detail ? (JSON.parse(r.flatten_detail) as Record<string, unknown>) : null,
    },
    detail,
  );
}
