/**
 * Read-only view of the event log for GET /logs: filters on minimum level, event (exact or dotted
 * prefix), check id, time range and a case-insensitive text match over the event name and its
 * JSON data; newest first, cursor = the last id seen (ids only grow, so new rows never shift a page).
 */
import type { LogLevel, LogRow } from "../runtime/eventlog.ts";

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

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function queryLogs(sql: SqlStorage, q: LogsQuery): LogsPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.before !== null) {
    where.push("id < ?");
    args.push(q.before);
  }
  if (q.level !== null) {
    const allowed = LEVELS.slice(LEVELS.indexOf(q.level));
    where.push(`level IN (${allowed.map(() => "?").join(", ")})`);
    args.push(...allowed);
  }
  if (q.event !== null) {
    where.push("(event = ? OR substr(event, 1, ?) = ?)");
    args.push(q.event, q.event.length + 1, `${q.event}.`);
  }
  if (q.checkId !== null) {
    where.push("check_id = ?");
    args.push(q.checkId);
  }
  if (q.since !== null) {
    where.push("at >= ?");
    args.push(q.since);
  }
  if (q.until !== null) {
    where.push("at < ?");
    args.push(q.until);
  }
  if (q.text !== null) {
    const like = `%${escapeLike(q.text)}%`;
    where.push("(event LIKE ? ESCAPE '\\' OR data LIKE ? ESCAPE '\\')");
    args.push(like, like);
  }
  const rows = sql
    .exec<{ id: number; at: number; level: string; event: string; check_id: string | null; data: string }>(
      `SELECT id, at, level, event, check_id, data FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      ...args,
      q.limit + 1,
    )
    .toArray();
  const more = rows.length > q.limit;
  const events = rows.slice(0, q.limit).map((r) => ({
    id: r.id,
    at: r.at,
    level: r.level as LogLevel,
    event: r.event,
    check_id: r.check_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  }));
  const last = events[events.length - 1];
  return { events, next_cursor: more && last ? String(last.id) : null };
}
