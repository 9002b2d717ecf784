/**
 * The WebSocket side of a watch monitor, as an interpreter: one kept session (runtime/) to the
 * account's private channels, subscribed on connect, and each frame turned into a machine event
 * (orders, trades, positions, error frames); frame kinds are counted and the exchange's delivery
 * latency is measured on update frames. It decides nothing: what a frame means is the machine's.
 */
import {
  accountAllOrdersChannel,
  accountAllTradesChannel,
  accountOrdersChannel,
  parseFrame,
  subscribeFrame,
} from "../../worker/lighter/messages.ts";
import type { WatchEvent } from "../../worker/monitor/watch/events.ts";
import { parsePositions } from "../../worker/monitor/watch/positions.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { isCrash } from "../runtime/crash.ts";
import { redactText } from "../../worker/monitor/redact.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { KeptSession } from "../runtime/kept-session.ts";
import type { DeliveryLatency } from "../../worker/monitor/watch/delivery.ts";

export class WatchFeed {
  private readonly session: KeptSession;
  private conn = 0;
  private readonly c: MonitorContext;
  private readonly emit: (e: WatchEvent) => void;
  private readonly latency: DeliveryLatency;

  constructor(c: MonitorContext, emit: (e: WatchEvent) => void, latency: DeliveryLatency) {
    this.c = c;
    this.emit = emit;
    this.latency = latency;
    this.session = new KeptSession(c, "watch.session", {
      onFrame: (text, at) => this.onFrame(text, at),
      onLost: (code, reason) => this.emit({ kind: "closed", conn: this.conn, code, reason }),
    });
  }

  /** Connects (after the session's backoff) and subscribes to every channel of the account. */
  async open(conn: number, markets: readonly number[], token: () => string): Promise<void> {
    this.conn = conn;
    const res = await this.session.connect(this.c.cfg!.wsUrl, null);
    if (!res.ok) return this.emit({ kind: "connect_failed", conn, message: res.message });
    let t: string;
    try {
      t = token();
    } catch (err) {
      this.c.event("error", "watch.auth_unavailable", { error: errorMessage(err) }, null);
      this.session.close("no auth token");
      return this.emit({ kind: "connect_failed", conn, message: errorMessage(err) });
    }
    const account = this.c.cfg!.accountIndex;
    this.emit({ kind: "connected", conn });
    this.session.send(subscribeFrame(accountAllOrdersChannel(account), t));
    for (const m of markets) this.session.send(subscribeFrame(accountOrdersChannel(m, account), t));
    this.session.send(subscribeFrame(accountAllTradesChannel(account), t));
    this.session.send(subscribeFrame(`account_all_positions/${account.toString()}`, t));
  }

  /** Closes our side (no `closed` event). */
  close(reason: string): void {
    this.session.close(reason);
  }

  private onFrame(text: string, at: number): void {
    try {
      const e = this.eventOf(text, at);
      if (e) this.emit(e);
    } catch (err) {
      if (isCrash(err)) throw err;
      this.c.count("watch.frame_handler_failed");
      const frame = redactText(text.slice(0, 500));
      this.c.event("error", "watch.frame_failed", { error: errorMessage(err), frame }, null);
    }
  }

  /** Items of a frame whose transaction_time is no µs timestamp: no sample, counted unexpected (as on a check). */
  private malformedTimes(n: number, text: string): void {
    if (n === 0) return;
    this.c.count("delivery_latency.unexpected", n);
    const frame = redactText(text.slice(0, 500));
    this.c.event("warn", "frame.unexpected", { reason: "transaction_time is not a µs timestamp", frame }, null);
  }

  private eventOf(text: string, at: number): WatchEvent | null {
    const ev = parseFrame(text);
    this.c.count(`watch.frames.${ev.kind}`);
    switch (ev.kind) {
      case "account_all_orders":
      case "account_orders": {
        if (!ev.subscribed) this.malformedTimes(this.latency.onOrders(ev.kind, ev.orders, at), text);
        const market = ev.kind === "account_orders" ? ev.market : null;
        return { kind: "orders", channel: ev.kind, market, orders: ev.orders, snapshot: ev.subscribed };
      }
      case "trades":
        if (ev.family !== "account_all_trades") return null;
        if (!ev.subscribed) this.malformedTimes(this.latency.onTrades(ev.trades, at), text);
        return { kind: "trades", trades: ev.trades, snapshot: ev.subscribed };
      case "subscribed_other":
      case "update_other": {
        if (!ev.type.endsWith("/account_all_positions")) return null;
        const p = parsePositions(text);
        return p
          ? { kind: "positions", positions: p.positions, snapshot: p.snapshot }
          : { kind: "positions_malformed" };
      }
      case "error":
        return { kind: "error_frame", code: ev.code, message: ev.message };
      case "unexpected":
        this.c.count("watch.frames_unexpected");
        this.c.event(
          "warn",
          "watch.frame_unexpected",
          { reason: ev.reason, frame: redactText(text.slice(0, 500)) },
          null,
        );
        return null;
      default:
        return null;
    }
  }
}
