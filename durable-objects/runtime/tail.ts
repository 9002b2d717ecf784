/**
 * The hibernating live tail behind GET /logs/stream: WebSockets the object ACCEPTS with the
 * Hibernation API (tag "tail"), each with its filters and session expiry in its serialized
 * attachment, so they survive the object's eviction. Each new event row is pushed to the matching
 * sockets; "ping" is answered by the runtime without waking the object. The Worker authenticates
 * the client before it forwards the upgrade here. The protocol itself: worker/views/tail.ts.
 */
import {
  CLOSE_EXPIRED,
  TAIL_HEADER,
  TAIL_ONE_WAY,
  TAIL_PROTOCOL,
  parseTailFilter,
  tailEvent,
  tailHello,
  tailMatches,
  type TailFilter,
  type TailRow,
} from "../../worker/views/tail.ts";

export const TAIL_TAG = "tail";

/** Ping/pong without waking a hibernated object. */
export function setupTail(ctx: DurableObjectState): void {
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
}

/** Accepts a tail socket (hibernatable) for the upgrade the Worker forwarded. */
export function acceptTail(ctx: DurableObjectState, request: Request): Response {
  if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket")
    return new Response("expected a WebSocket upgrade", { status: 426 });
  const filter = parseTailFilter(request.headers.get(TAIL_HEADER));
  if (!filter) return new Response(`missing or malformed ${TAIL_HEADER}`, { status: 400 });
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server, [TAIL_TAG]);
  server.serializeAttachment(filter);
  server.send(tailHello(filter));
  return new Response(null, { status: 101, webSocket: client, headers: { "Sec-WebSocket-Protocol": TAIL_PROTOCOL } });
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
export function pushEvents(ctx: DurableObjectState, rows: readonly TailRow[]): void {
  const sockets = ctx.getWebSockets(TAIL_TAG);
  if (sockets.length === 0) return;
  const now = Date.now();
  const open = sockets.filter((ws) => !expired(ws, now));
  for (const row of rows) {
    let text: string | null = null;
    for (const ws of open) {
      if (!tailMatches(ws.deserializeAttachment() as TailFilter, row)) continue;
      text ??= tailEvent(row);
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
  ws.send(TAIL_ONE_WAY);
}

export function tailClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // already closed
  }
}
