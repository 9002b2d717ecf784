/**
 * The live tail of the event log (GET /logs/stream) as a protocol, pure: the subprotocol, the
 * header that carries a client's filters from the Worker to the object, the filters (event prefix,
 * minimum level, check id, session expiry) and which rows they let through, and the frames sent.
 * The object keeps the hibernating sockets (durable-objects/runtime/tail.ts).
 */
import type { LogLevel } from "./logs.ts";

export const TAIL_PROTOCOL = "fillwatch.v1";
/** The Worker passes the (already checked) filters in this header of the forwarded upgrade. */
export const TAIL_HEADER = "x-fillwatch-tail";
/** Close code for an expired session (application range). */
export const CLOSE_EXPIRED = 4001;

export interface TailFilter {
  monitor: string;
  /** Exact event name or dotted prefix. */
  event: string | null;
  /** Minimum level. */
  level: LogLevel | null;
  check: string | null;
  /** The socket is closed at the first event or message after this instant (epoch ms). */
  expiresAt: number;
}

/** An event row as the log writes it (data still JSON). */
export interface TailRow {
  id: number;
  at: number;
  level: string;
  event: string;
  check_id: string | null;
  data: string;
}

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The filters of the header, or null when it is missing or malformed. */
export function parseTailFilter(raw: string | null): TailFilter | null {
  if (!raw) return null;
  try {
    const f = JSON.parse(raw) as Partial<TailFilter>;
    if (typeof f.monitor !== "string" || typeof f.expiresAt !== "number") return null;
    return {
      monitor: f.monitor,
      event: typeof f.event === "string" ? f.event : null,
      level: f.level && f.level in LEVELS ? f.level : null,
      check: typeof f.check === "string" ? f.check : null,
      expiresAt: f.expiresAt,
    };
  } catch {
    return null;
  }
}

export function tailMatches(f: TailFilter, row: TailRow): boolean {
  if (f.event && row.event !== f.event && !row.event.startsWith(`${f.event}.`)) return false;
  if (f.level && (LEVELS[row.level as LogLevel] ?? 0) < LEVELS[f.level]) return false;
  if (f.check && row.check_id !== f.check) return false;
  return true;
}

/** The first frame: the filters the session runs with. */
export function tailHello(f: TailFilter): string {
  return JSON.stringify({ type: "hello", filters: { ...f, expires_at: f.expiresAt } });
}

/** One event row as a frame. */
export function tailEvent(row: TailRow): string {
  return JSON.stringify({
    type: "event",
    id: row.id,
    at: row.at,
    at_iso: new Date(row.at).toISOString(),
    level: row.level,
    event: row.event,
    check_id: row.check_id,
    data: JSON.parse(row.data) as unknown,
  });
}

/** The answer to any client message but "ping" (which the runtime answers): the tail talks one way. */
export const TAIL_ONE_WAY = JSON.stringify({
  type: "error",
  message: 'this socket only sends events; send "ping" to keep it alive',
});
