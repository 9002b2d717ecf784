/**
 * The bounded event log behind /logs: structured events (never concatenated strings), capped by
 * row count and age, with secrets and auth-token signatures redacted before anything is stored
 * (worker/monitor/redact.ts).
 */
import type { LogLevel } from "../views/logs.ts";
import { redactKeyMaterial, redactValue } from "../monitor/redact.ts";

export const LOG_ROW_CAP = 20_000;
export const LOG_MAX_AGE_MS = 14 * 24 * 3600_000;
/** The timer flush, after the first line not yet written. */
const FLUSH_AFTER_MS = 5_000;
/** While held, lines wait at most this long (a crash loses at most that much of the log) or this many. */
export const HOLD_MAX_MS = 60_000;
const HOLD_MAX_ROWS = 500;

/** An event row waiting to be written (already redacted). */
export interface PendingEvent {
  at: number;
  level: LogLevel;
  event: string;
  check_id: string | null;
  data: string;
}

/**
 * Events and counters are buffered in memory and written together: at most one INSERT for all
 * pending events and one UPSERT for all counter increments per flush (a JSON array bound as one
 * parameter, expanded with json_each). The owner flushes at its save points and before a read;
 * otherwise a timer flushes 5 s after the first pending line, unless the owner holds the log (a
 * check in progress flushes once, at its end), and then at the latest HOLD_MAX_MS after it.
 */
export class EventLog {
  private readonly sql: SqlStorage;
  private secrets: string[] = [];
  private written = 0;
  private pending: PendingEvent[] = [];
  private counts = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Called with the rows of each flush, ids included (the live tail pushes them). */
  onFlush: ((rows: (PendingEvent & { id: number })[]) => void) | null = null;
  /** Whether someone follows the log live (then each event is written at the end of its turn). */
  live: () => boolean = () => false;
  /** Whether the owner will flush at a save point of its own soon (the timer then waits, up to HOLD_MAX_MS). */
  hold: () => boolean = () => false;
  /** When the oldest line or increment not yet written came in. */
  private pendingSince: number | null = null;

  private readonly writes: { count: number };

  /** `writes`: the write statements metered on `sql`, folded into `storage.write_statements` at each flush. */
  constructor(sql: SqlStorage, writes: { count: number } = { count: 0 }) {
    this.sql = sql;
    this.writes = writes;
  }

  /** Values that must never be stored (the private key); replaced wherever they appear. */
  setSecrets(secrets: string[]): void {
    this.secrets = secrets.filter((s) => s.length >= 16);
  }

  write(level: LogLevel, event: string, data: Record<string, unknown>, checkId: string | null, at: number): void {
    let json = JSON.stringify(redactValue(data));
    if (this.secrets.length > 0) json = redactKeyMaterial(json, this.secrets);
    this.pending.push({ at, level, event, check_id: checkId, data: json });
    if (this.pending.length === 1 && this.live()) queueMicrotask(() => this.flushQuietly());
    this.soon();
  }

  count(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
    this.soon();
  }

  /** Counter increments not yet written. */
  pendingCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  /** Writes whatever waits; a crash before this loses at most 5 s of log lines. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pendingSince = null;
    if (this.counts.size === 0 && this.pending.length === 0) return;
    // This flush's own statements are counted here, and taken off the meter that will see them.
    const own = 1 + (this.pending.length > 0 ? 1 : 0);
    this.counts.set(
      "storage.write_statements",
      (this.counts.get("storage.write_statements") ?? 0) + this.writes.count + own,
    );
    this.writes.count = -own;
    const counts = JSON.stringify([...this.counts]);
    this.counts = new Map();
    this.sql.exec(
      `INSERT INTO counters (name, value) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)
       WHERE true ON CONFLICT(name) DO UPDATE SET value = value + excluded.value`,
      counts,
    );
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    const cur = this.sql.exec<{ id: number }>(
      `INSERT INTO events (at, level, event, check_id, data)
       SELECT json_extract(value, '$.at'), json_extract(value, '$.level'), json_extract(value, '$.event'),
              json_extract(value, '$.check_id'), json_extract(value, '$.data') FROM json_each(?) ORDER BY key
       RETURNING id`,
      JSON.stringify(rows),
    );
    const ids = cur.toArray().map((r) => r.id);
    const last = rows[rows.length - 1]!.at;
    this.written += rows.length;
    if (this.written >= 200) {
      this.written = 0;
      this.prune(last);
    }
    ids.sort((a, b) => a - b);
    this.onFlush?.(rows.map((r, i) => ({ ...r, id: ids[i] ?? 0 })));
  }

  private soon(): void {
    this.pendingSince ??= Date.now();
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const waited = Date.now() - (this.pendingSince ?? Date.now());
      if (this.hold() && waited < HOLD_MAX_MS && this.pending.length < HOLD_MAX_ROWS) this.soon();
      else this.flushQuietly();
    }, FLUSH_AFTER_MS);
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch {
      // storage unavailable (the object is shutting down)
    }
  }

  prune(now: number): void {
    this.sql.exec(`DELETE FROM events WHERE at < ?`, now - LOG_MAX_AGE_MS);
    this.sql.exec(`DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?`, LOG_ROW_CAP);
  }
}
