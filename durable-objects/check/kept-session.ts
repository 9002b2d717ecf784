/**
 * A Lighter WebSocket session kept alive, shared by the check feed and the watch feed: connect with
 * a deadline, our own keepalive pings, the silence watchdog (no frame for 90 s → close and report
 * the loss), and closing our side. Events and counters are named `<prefix>.connected`, `.silent`…
 */
import { pingFrame } from "../../worker/lighter/messages.ts";
import { bumpCounter } from "../schema.ts";
import type { MonitorContext } from "./context.ts";
import { LighterSession, type ConnectResult } from "./session.ts";

const BASE_PING_MS = 30_000;
const BASE_SILENCE_MS = 90_000;
const BASE_CONNECT_MS = 10_000;

export interface KeptSessionHandlers {
  /** Every text frame, synchronously. */
  onFrame(text: string, at: number): void;
  /** The peer closed, the socket failed, or the silence watchdog gave up. */
  onLost(code: number, reason: string, at: number): void;
}

export class KeptSession {
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

  get openedAt(): number | null {
    return this.session?.openedAt ?? null;
  }

  get lastFrameAt(): number | null {
    return this.session?.lastFrameAt ?? null;
  }

  get framesIn(): number {
    return this.session?.framesIn ?? 0;
  }

  async connect(url: string, checkId: string | null): Promise<ConnectResult> {
    const session: LighterSession = new LighterSession(
      url,
      {
        onFrame: (text, at) => {
          if (this.session === session) this.handlers.onFrame(text, at);
        },
        onClose: (code, reason, at) => {
          if (this.session !== session) return;
          this.stop();
          bumpCounter(this.c.sql, `${this.prefix}.closed_by_peer`);
          this.c.event("warn", `${this.prefix}.closed_by_peer`, { code, reason }, null);
          this.handlers.onLost(code, reason, at);
        },
      },
      () => this.c.now(),
    );
    const started = this.c.now();
    const res = await session.connect(this.c.scale(BASE_CONNECT_MS));
    const ms = this.c.now() - started;
    if (!res.ok) {
      bumpCounter(this.c.sql, `${this.prefix}.connect_failed`);
      const detail = { kind: res.kind, status: res.status ?? null, message: res.message, ms };
      this.c.event("warn", `${this.prefix}.connect_failed`, detail, checkId);
      return res;
    }
    this.session = session;
    bumpCounter(this.c.sql, `${this.prefix}.connected`);
    this.c.event("info", `${this.prefix}.connected`, { url, ms }, checkId);
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

  private stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.session = null;
  }

  private keepalive(): void {
    const s = this.session;
    if (!s?.isOpen) return;
    const now = this.c.now();
    if (s.lastFrameAt !== null && now - s.lastFrameAt > this.c.scale(BASE_SILENCE_MS)) {
      this.c.event("warn", `${this.prefix}.silent`, { silent_ms: now - s.lastFrameAt }, null);
      bumpCounter(this.c.sql, `${this.prefix}.watchdog_reconnects`);
      this.close("watchdog: no frames");
      this.handlers.onLost(4000, "watchdog", now);
      return;
    }
    this.send(pingFrame());
  }
}
