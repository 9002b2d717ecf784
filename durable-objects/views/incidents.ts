/**
 * Incident history: every incident the alert policy opens (on any stream: checks, flatten,
 * monitor, watch…) is a row in `incidents`, written when it opens, while it stays open (its
 * failures and current diagnosis) and when it resolves, so a resolved incident stays visible with
 * its times, duration, diagnosis and action. Healthy checks write nothing here. Resolved rows are
 * capped at MAX_RESOLVED.
 */

export const MAX_RESOLVED = 500;

export interface IncidentRecord {
  id: string;
  /** The alert stream: checks, flatten, monitor, watch, watch_channel, watch_position, watch_rest. */
  kind: string;
  state: "open" | "resolved";
  opened_at: number;
  resolved_at: number | null;
  /** resolved_at (or now, while open) minus opened_at. */
  duration_ms: number;
  first_check_id: string;
  stage: string | null;
  diagnosis: string | null;
  /** Diagnoses seen before the current one, oldest first. */
  earlier_diagnoses: string[];
  failures: number;
  action: string | null;
}

export interface IncidentFacts {
  id: string;
  openedAt: number;
  firstCheckId: string;
  stage: string | null;
  diagnosis: string | null;
  history: string[];
  failures: number;
}

/** Writes the incident as it now stands (open when resolvedAt is null). */
export function saveIncident(
  sql: SqlStorage,
  stream: string,
  inc: IncidentFacts,
  action: string | null,
  resolvedAt: number | null,
): void {
  sql.exec(
    `INSERT INTO incidents (id, stream, opened_at, resolved_at, first_check_id, stage, diagnosis, history, failures, action)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET resolved_at = excluded.resolved_at, stage = excluded.stage,
       diagnosis = excluded.diagnosis, history = excluded.history, failures = excluded.failures,
       action = COALESCE(excluded.action, action)`,
    inc.id,
    stream,
    inc.openedAt,
    resolvedAt,
    inc.firstCheckId,
    inc.stage,
    inc.diagnosis,
    JSON.stringify(inc.history ?? []),
    inc.failures,
    action,
  );
  if (resolvedAt !== null)
    sql.exec(
      `DELETE FROM incidents WHERE id IN (
         SELECT id FROM incidents WHERE resolved_at IS NOT NULL ORDER BY opened_at DESC LIMIT -1 OFFSET ?)`,
      MAX_RESOLVED,
    );
}

export interface IncidentsQuery {
  limit: number;
  /** Only incidents opened before this (the previous page's next_cursor: `<opened_at>.<id>`). */
  cursor: string | null;
  state: "open" | "resolved" | null;
}

export interface IncidentsPage {
  incidents: IncidentRecord[];
  next_cursor: string | null;
}

interface Row {
  id: string;
  stream: string;
  opened_at: number;
  resolved_at: number | null;
  first_check_id: string;
  stage: string | null;
  diagnosis: string | null;
  history: string;
  failures: number;
  action: string | null;
  [k: string]: SqlStorageValue;
}

export const INCIDENT_CURSOR_RE = /^(0|[1-9][0-9]{0,15})\.(.{1,300})$/;

/** Newest first (by opening time, then id). */
export function listIncidents(sql: SqlStorage, q: IncidentsQuery, now: number): IncidentsPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.cursor !== null) {
    const m = INCIDENT_CURSOR_RE.exec(q.cursor);
    if (!m) throw new RangeError("cursor must be the next_cursor of a previous page");
    where.push("(opened_at < ? OR (opened_at = ? AND id < ?))");
    args.push(Number(m[1]), Number(m[1]), m[2]!);
  }
  if (q.state === "open") where.push("resolved_at IS NULL");
  if (q.state === "resolved") where.push("resolved_at IS NOT NULL");
  const rows = sql
    .exec<Row>(
      `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY opened_at DESC, id DESC LIMIT ?`,
      ...args,
      q.limit + 1,
    )
    .toArray();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    incidents: page.map((r) => toRecord(r, now)),
    next_cursor: rows.length > q.limit && last ? `${last.opened_at}.${last.id}` : null,
  };
}

function toRecord(r: Row, now: number): IncidentRecord {
  const history = JSON.parse(r.history) as string[];
  const resolvedAt = r.resolved_at === null ? null : Number(r.resolved_at);
  const openedAt = Number(r.opened_at);
  return {
    id: r.id,
    kind: r.stream,
    state: resolvedAt === null ? "open" : "resolved",
    opened_at: openedAt,
    resolved_at: resolvedAt,
    duration_ms: Math.max(0, (resolvedAt ?? now) - openedAt),
    first_check_id: r.first_check_id,
    stage: r.stage,
    diagnosis: r.diagnosis,
    earlier_diagnoses: history.slice(0, -1),
    failures: Number(r.failures),
    action: r.action,
  };
}
