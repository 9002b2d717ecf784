/**
 * The `checks` table read for GET /checks: filters (verdict, stage, diagnosis, started_at range)
 * and keyset pagination on (started_at, rowid), newest first, so rows inserted while a client
 * pages never cause gaps or duplicates. The page itself is built in worker/views/checks.ts.
 */
import { CURSOR_RE, checksPage, type ChecksPage, type ChecksQuery } from "../../views/checks.ts";

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
    .exec(
      `SELECT rowid AS rid, * FROM checks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY started_at DESC, rowid DESC LIMIT ?`,
      ...args,
      q.limit + 1,
    )
    .toArray();
  return checksPage(rows, q.limit, q.detail);
}
