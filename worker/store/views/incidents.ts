/**
 * The `incidents` table: an incident's row is written when it opens, while it stays open (its
 * failures and current diagnosis) and when it resolves; healthy checks write nothing here. Resolved
 * rows are capped at MAX_RESOLVED. The records are built in worker/views/incidents.ts.
 */
import {
  INCIDENT_CURSOR_RE,
  MAX_RESOLVED,
  incidentsPage,
  type IncidentFacts,
  type IncidentRow,
  type IncidentsPage,
  type IncidentsQuery,
} from "../../views/incidents.ts";

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
    .exec<IncidentRow & Record<string, SqlStorageValue>>(
      `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY opened_at DESC, id DESC LIMIT ?`,
      ...args,
      q.limit + 1,
    )
    .toArray();
  return incidentsPage(rows, q.limit, now);
}
