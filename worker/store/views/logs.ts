/**
 * The event log read for GET /logs: the filters of a LogsQuery as SQL, newest first (the page is
 * built in worker/views/logs.ts).
 */
import { containsPattern, levelsFrom, logsPage, type LogsPage, type LogsQuery } from "../../views/logs.ts";

export function queryLogs(sql: SqlStorage, q: LogsQuery): LogsPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.before !== null) {
    where.push("id < ?");
    args.push(q.before);
  }
  if (q.level !== null) {
    const allowed = levelsFrom(q.level);
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
    const like = containsPattern(q.text);
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
  return logsPage(rows, q.limit);
}
