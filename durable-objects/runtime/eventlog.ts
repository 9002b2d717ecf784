/**
 * The bounded event log behind /logs: structured events (never concatenated strings), capped by
 * row count and age, with secrets and auth-token signatures redacted before anything is stored.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_ROW_CAP = 20_000;
export const LOG_MAX_AGE_MS = 14 * 24 * 3600_000;
/** The timer flush, after the first line not yet written. */
const FLUSH_AFTER_MS = 5_000;
/** While held, lines wait at most this long (a crash loses at most that much of the log) or this many. */
export const HOLD_MAX_MS = 60_000;
const HOLD_MAX_ROWS = 500;

const SECRET_KEYS = /^(auth|authorization|private_?key|secret|token|api_token|routing_key|password)$/i;
/** deadline:account:apiKey:<160 hex signature> */
const AUTH_TOKEN_RE = /\b(\d{9,12}:\d{1,19}:\d{1,3}:)[0-9a-f]{160}\b/gi;
const LONG_HEX_KEY_RE = /\b(0x)?[0-9a-f]{80}\b/gi;

/** Redacts auth-token signatures inside a free text (e.g. a raw frame). Tx hashes (80 hex) are kept. */
export function redactText(text: string): string {
  return text.replace(AUTH_TOKEN_RE, "$1[redacted]");
}

/** Deep copy with secret-looking fields replaced; bigints become strings. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[depth]";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEYS.test(k)
        ? typeof v === "string" && v.length > 0
          ? "[redacted]"
          : v
        : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Private keys are 80 hex chars, like tx hashes: only the caller knows which is which. */
export function redactKeyMaterial(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 16) out = out.split(s).join("[redacted]");
    const bare = s.replace(/^0x/i, "");
    if (bare.length >= 16 && bare !== s) out = out.split(bare).join("[redacted]");
  }
  return out.replace(LONG_HEX_KEY_RE, (m) =>
    secrets.some((s) => s.replace(/^0x/i, "").toLowerCase() === m.replace(/^0x/i, "").toLowerCase()) ? "[redacted]" : m,
  );
}

export interface LogRow {
  id: number;
  at: number;
  level: LogLevel;
  event: string;
  check_id: string | null;
  data: Record<string, unknown>;
}

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
