/**
 * Incident history as the API shows it: every incident the alert policy opens (on any stream:
 * checks, flatten, monitor, watch…) with its times, duration, diagnosis, earlier diagnoses and
 * action, open or resolved, newest first (cursor `<opened_at>.<id>`). The object keeps the rows
 * (worker/store/views/incidents.ts); resolved ones are capped at MAX_RESOLVED.
 */
import type { Incident } from "../alerts/alert-policy.ts";

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

/** What an incident row is written from: the alert policy's incident. */
export type IncidentFacts = Pick<
  Incident,
  "id" | "openedAt" | "firstCheckId" | "stage" | "diagnosis" | "history" | "failures"
>;

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

/** An `incidents` row as SQLite returns it. */
export interface IncidentRow {
  id: string;
  stream: string;
  opened_at: number;
  resolved_at: number | null;
  first_check_id: string;
  stage: string | null;
  diagnosis: string | null;
  /** JSON array of the diagnoses seen, oldest first. */
  history: string;
  failures: number;
  action: string | null;
}

export const INCIDENT_CURSOR_RE = /^(0|[1-9][0-9]{0,15})\.(.{1,300})$/;

/** A page from `limit + 1` rows newest first: the extra row says there is more. */
export function incidentsPage(rows: readonly IncidentRow[], limit: number, now: number): IncidentsPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    incidents: page.map((r) => incidentRecord(r, now)),
    next_cursor: rows.length > limit && last ? `${last.opened_at}.${last.id}` : null,
  };
}

export function incidentRecord(r: IncidentRow, now: number): IncidentRecord {
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
