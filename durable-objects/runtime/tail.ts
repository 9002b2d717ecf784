/**
 * The hibernating live tail behind GET /logs/stream: WebSockets the object ACCEPTS with the
 * Hibernation API (tag "tail"), each with its filters (event prefix, minimum level, check id) and
 * session expiry in its serialized attachment, so they survive the object's eviction. Each new
 * event row is pushed to the matching sockets; "ping" is answered by the runtime without waking
 * the object. The Worker authenticates the client before it forwards the upgrade here.
 */
import type { LogLevel } from "../../worker/views/logs.ts";

export const TAIL_TAG = "tail";
export const TAIL_PROTOCOL = "fillwatch.v1";
/** The Worker passes the (already checked) filters in this header of the forwarded upgrade. */
export const TAIL_HEADER = "x-fillwatch-tail";

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

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
/** Close code for an expired session (application range). */
export const CLOSE_EXPIRED = 4001;

/** Ping/pong without waking a hibernated object. */
export function setupTail(ctx: DurableObjectState): void {
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
}

function parseFilter(raw: string | null): TailFilter | null {
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

/** Accepts a tail socket (hibernatable) for the upgrade the Worker forwarded. */
export function acceptTail(ctx: DurableObjectState, request: Request): Response {
  if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket")
    return new Response("expected a WebSocket upgrade", { status: 426 });
  const filter = parseFilter(request.headers.get(TAIL_HEADER));
  if (!filter) return new Response(`missing or malformed ${TAIL_HEADER}`, { status: 400 });
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server, [TAIL_TAG]);
  server.serializeAttachment(filter);
  server.send(JSON.stringify({ type: "hello", filters: { ...filter, expires_at: filter.expiresAt } }));
  return new Response(null, { status: 101, webSocket: client, headers: { "Sec-WebSocket-Protocol": TAIL_PROTOCOL } });
}

interface EventRow {
  id: number;
  at: number;
  level: string;
  event: string;
  check_id: string | null;
  data: string;
}

function matches(f: TailFilter, row: EventRow): boolean {
  if (f.event && row.event !== f.event && !row.event.startsWith(`${f.event}.`)) return false;
  if (f.level && (LEVELS[row.level as LogLevel] ?? 0) < LEVELS[f.level]) return false;
  if (f.check && row.check_id !== f.check) return false;
  return true;
}

function expired(ws: WebSocket, now: number): boolean {
  const f = ws.deserializeAttachment() as TailFilter | null;
  if (f && f.expiresAt > now) return false;
  try {
    ws.close(CLOSE_EXPIRED, "session expired");
  } catch {
    // already closing
  }
  return true;
}

/** Pushes event rows just written to every matching tail socket. */
export function pushEvents(ctx: DurableObjectState, rows: readonly EventRow[]): void {
  const sockets = ctx.getWebSockets(TAIL_TAG);
  if (sockets.length === 0) return;
  const now = Date.now();
  const open = sockets.filter((ws) => !expired(ws, now));
  for (const row of rows) {
    let text: string | null = null;
    for (const ws of open) {
      if (!matches(ws.deserializeAttachment() as TailFilter, row)) continue;
      text ??= JSON.stringify({
        type: "event",
        id: row.id,
        at: row.at,
        at_iso: new Date(row.at).toISOString(),
        level: row.level,
        event: row.event,
        check_id: row.check_id,
        data: JSON.parse(row.data) as unknown,
      });
      try {
        ws.send(text);
      } catch {
        // the socket is closing; the runtime drops it
      }
    }
  }
}

/** A client message (other than the auto-answered "ping"): the tail only talks one way. */
export function tailMessage(ws: WebSocket, _message: string | ArrayBuffer): void {
  if (expired(ws, Date.now())) return;
  ws.send(JSON.stringify({ type: "error", message: 'this socket only sends events; send "ping" to keep it alive' }));
}

export function tailClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // already closed
  }
}
