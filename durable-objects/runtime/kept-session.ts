/**
 * A Lighter WebSocket session kept alive, the one both the check and the watch use: connect with a
 * deadline, reconnects paced by exponential backoff with jitter (the check machine bounds its own
 * connects per check), the server's `{"type":"ping"}` answered with a pong (LIVE.md L.13.4: a
 * silent client is closed with 1008), our own keepalive pings, the silence watchdog (no frame for
 * 90 s → close and report the loss), and closing our side. The rules (backoff, silence, what a
 * ping is) are worker/monitor/runtime.ts. Events and counters are named `<prefix>.connected`, `.silent`…
 */
import { pingFrame, pongFrame } from "../../worker/lighter/messages.ts";
import type { MonitorContext } from "./context.ts";
import { LighterSession, type ConnectResult } from "./session.ts";
import { isServerPing, lossesAfter, reconnectDelayMs, silent } from "../../worker/monitor/runtime.ts";

const BASE_PING_MS = 30_000;
const BASE_SILENCE_MS = 90_000;
const BASE_CONNECT_MS = 10_000;

export interface KeptSessionHandlers {
  /** Every text frame except the server's pings (answered here), synchronously. */
  onFrame(text: string, at: number): void;
  /** The peer closed, the socket failed, or the silence watchdog gave up. */
  onLost(code: number, reason: string, at: number): void;
}

export class KeptSession {
  /** Connects of this session so far (the check machine bounds its own per check). */
  connects = 0;
  /** Losses since the last session that stayed up, for the backoff. */
  private losses = 0;
  private notBefore = 0;
  private session: LighterSession | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private readonly c: MonitorContext;
  private readonly prefix: string;
  private readonly handlers: KeptSessionHandlers;

  constructor(c: MonitorContext, prefix: string, handlers: KeptSessionHandlers) {
    this.c = c;
    this.prefix = prefix;
    this.handlers = handlers;
  }

  get isOpen(): boolean {
    return this.session?.isOpen ?? false;
  }

  /** The open session's figures for /status (opened at, last frame at, frames in). */
  get figures(): Pick<LighterSession, "openedAt" | "lastFrameAt" | "framesIn"> {
    return this.session ?? { openedAt: null, lastFrameAt: null, framesIn: 0 };
  }

  /** Connects, first waiting out the backoff. */
  async connect(url: string, checkId: string | null, timeoutMs?: number): Promise<ConnectResult> {
    const wait = this.notBefore - this.c.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.connects++;
    const session: LighterSession = new LighterSession(
      url,
      {
        onFrame: (text, at) => {
          if (this.session !== session) return;
          if (isServerPing(text)) {
            session.send(pongFrame());
            return;
          }
          this.handlers.onFrame(text, at);
        },
        onClose: (code, reason, at) => {
          if (this.session !== session) return;
          this.stop();
          this.backoff(at, at - (session.openedAt ?? at));
          this.c.count(`${this.prefix}.closed_by_peer`);
          this.c.event("warn", `${this.prefix}.closed_by_peer`, { code, reason }, checkId);
          this.handlers.onLost(code, reason, at);
        },
      },
      () => this.c.now(),
    );
    const started = this.c.now();
    const res = await session.connect(timeoutMs ?? this.c.scale(BASE_CONNECT_MS));
    const ms = this.c.now() - started;
    if (!res.ok) {
      this.backoff(this.c.now());
      this.c.count(`${this.prefix}.connect_failed`);
      const detail = { kind: res.kind, status: res.status ?? null, message: res.message, ms };
      this.c.event("warn", `${this.prefix}.connect_failed`, detail, checkId);
      return res;
    }
    this.session = session;
    this.c.count(`${this.prefix}.connected`);
    this.c.event("info", `${this.prefix}.connected`, { url, ms, attempt: this.connects }, checkId);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.keepalive(), this.c.scale(BASE_PING_MS));
    return res;
  }

  send(frame: string): boolean {
    return this.session?.send(frame) ?? false;
  }

  /** Closes our side (no onLost). */
  close(reason: string): void {
    const s = this.session;
    this.stop();
    if (s?.isOpen) {
      s.close(1000, reason);
      this.c.event("info", `${this.prefix}.closed`, { reason }, null);
    }
  }

  /** A session that stayed up a while resets the backoff; a quick loss lengthens it. */
  private backoff(at: number, upMs = 0): void {
    this.losses = lossesAfter(this.losses, upMs, this.c.scale(BASE_SILENCE_MS));
    this.notBefore = at + reconnectDelayMs(this.losses, (ms) => this.c.scale(ms), Math.random());
  }

  private stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.session = null;
  }

  private keepalive(): void {
    const s = this.session;
    if (!s?.isOpen) return;
    const now = this.c.now();
    if (silent(s.lastFrameAt, now, this.c.scale(BASE_SILENCE_MS))) {
      this.c.event("warn", `${this.prefix}.silent`, { silent_ms: now - s.lastFrameAt! }, null);
      this.c.count(`${this.prefix}.watchdog_reconnects`);
      this.close("watchdog: no frames");
      this.backoff(now);
      this.handlers.onLost(4000, "watchdog", now);
      return;
    }
    this.send(pingFrame());
  }
}
