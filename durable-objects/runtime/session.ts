/**
 * The outbound Lighter WebSocket, as the FillMonitor uses it. Connects with a fetch upgrade (so a
 * refusal comes back with its HTTP status), hands every text frame to `onFrame` synchronously,
 * answers nothing by itself: the monitor decides. Outbound sockets never hibernate (workerd #4864):
 * while one is open the object stays in memory.
 */
import { errorMessage } from "../../worker/lighter/errors.ts";

export interface SessionHandlers {
  onFrame(text: string, at: number): void;
  onClose(code: number, reason: string, at: number): void;
}

export type ConnectResult =
  { ok: true } | { ok: false; kind: "refused" | "http_status" | "error"; status?: number; message: string };

export class LighterSession {
  readonly url: string;
  private socket: WebSocket | null = null;
  private closed = false;
  openedAt: number | null = null;
  lastFrameAt: number | null = null;
  framesIn = 0;

  private readonly handlers: SessionHandlers;
  private readonly now: () => number;

  constructor(url: string, handlers: SessionHandlers, now: () => number) {
    this.url = url;
    this.handlers = handlers;
    this.now = now;
  }

  get isOpen(): boolean {
    return this.socket !== null && !this.closed;
  }

  /**
   * Opens the socket, giving up after `timeoutMs`. The abort signal is dropped once connected: a
   * signal attached to the upgrade request stays bound to the socket, and aborting it later (as
   * AbortSignal.timeout would) tears the live socket down.
   */
  async connect(timeoutMs: number): Promise<ConnectResult> {
    const httpUrl = this.url.replace(/^ws(s?):\/\//i, "http$1://");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    let res: Response;
    try {
      res = await fetch(httpUrl, { headers: { Upgrade: "websocket" }, signal: controller.signal });
    } catch (err) {
      const message = errorMessage(err);
      return { ok: false, kind: /connection lost|refused/i.test(message) ? "refused" : "error", message };
    } finally {
      clearTimeout(timer);
    }
    const ws = res.webSocket;
    if (res.status !== 101 || !ws) {
      return { ok: false, kind: "http_status", status: res.status, message: `expected 101, got HTTP ${res.status}` };
    }
    ws.accept();
    this.socket = ws;
    this.openedAt = this.now();
    ws.addEventListener("message", (event) => {
      const at = this.now();
      this.lastFrameAt = at;
      this.framesIn++;
      const data = event.data;
      const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
      this.handlers.onFrame(text, at);
    });
    ws.addEventListener("close", (event) => {
      if (this.closed) return;
      this.closed = true;
      this.handlers.onClose(event.code, event.reason, this.now());
    });
    ws.addEventListener("error", () => {
      if (this.closed) return;
      this.closed = true;
      this.handlers.onClose(1006, "socket error", this.now());
    });
    return { ok: true };
  }

  send(text: string): boolean {
    if (!this.socket || this.closed) return false;
    try {
      this.socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes without calling onClose (the monitor initiated it). */
  close(code = 1000, reason = "done"): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket?.close(code, reason);
    } catch {
      // already closing
    }
  }
}
