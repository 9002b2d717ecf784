/**
 * The event log as GET /logs and the live tail show it: levels, rows, the query (minimum level,
 * event exact or dotted prefix, check id, time range, case-insensitive text over the event name and
 * its JSON data) and pages newest first, cursor = the last id seen (ids only grow, so new rows
 * never shift a page). The object runs the query (worker/store/views/logs.ts).
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogRow {
  id: number;
  at: number;
  level: LogLevel;
  event: string;
  check_id: string | null;
  data: Record<string, unknown>;
}

export interface LogsQuery {
  limit: number;
  /** Return rows with id below this (the previous page's next_cursor). */
  before: number | null;
  level: LogLevel | null;
  event: string | null;
  checkId: string | null;
  since: number | null;
  until: number | null;
  text: string | null;
}

export interface LogsPage {
  events: LogRow[];
  next_cursor: string | null;
}

export const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** The levels at or above `level`. */
export function levelsFrom(level: LogLevel): LogLevel[] {
  return LEVELS.slice(LEVELS.indexOf(level));
}

/** A LIKE pattern (escaped with a backslash: ESCAPE '\\') that matches `text` anywhere. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A page from `limit + 1` rows newest first: the extra row says there is more. */
export function logsPage(
  rows: readonly { id: number; at: number; level: string; event: string; check_id: string | null; data: string }[],
  limit: number,
): LogsPage {
  const events = rows.slice(0, limit).map((r) => ({
    id: r.id,
    at: r.at,
    level: r.level as LogLevel,
    event: r.event,
    check_id: r.check_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  }));
  const last = events[events.length - 1];
  return { events, next_cursor: rows.length > limit && last ? String(last.id) : null };
}
