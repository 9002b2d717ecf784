/**
 * The WebSocket side of a watch monitor: one continuous session to the account's private channels
 * (`account_all_orders`, `account_orders/{m}` for the watched markets, `account_all_trades`,
 * `account_all_positions`), keepalive pings and a silence watchdog, and the routing of each parsed
 * frame to the listener. Frame handling is synchronous and never throws. No order book is read.
 */
import {
  accountAllOrdersChannel,
  accountAllTradesChannel,
  accountOrdersChannel,
  parseFrame,
  pongFrame,
  subscribeFrame,
  type Order,
  type Trade,
} from "../../worker/lighter/messages.ts";
import { parsePositions, type PositionReport } from "../../worker/monitor/watch/positions.ts";
import type { FillChannel } from "../../worker/monitor/watch/rules.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { isCrash } from "../runtime/crash.ts";
import { redactText } from "../runtime/eventlog.ts";
import { bumpCounter } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { KeptSession } from "../runtime/kept-session.ts";
import type { ConnectResult } from "../runtime/session.ts";

export type WatchChannel = FillChannel | "account_all_positions";

export interface WatchFeedListener {
  onSubscribed(ch: WatchChannel, at: number): void;
  /** `snapshot`: a `subscribed/…` frame (what is open now), not an update. */
  onOrders(ch: FillChannel, orders: Order[], at: number, snapshot: boolean): void;
  /** `snapshot`: the subscribe snapshot, which can carry historical trades (LIVE.md L.13.9). */
  onTrades(trades: Trade[], at: number, snapshot: boolean): void;
  onPositions(positions: PositionReport[], snapshot: boolean, at: number): void;
  onErrorFrame(code: number | null, message: string, at: number): void;
  onClosed(code: number, reason: string, at: number): void;
}

export class WatchFeed {
  readonly lastFrameAtByChannel = new Map<WatchChannel, number>();
  readonly frameCounts = new Map<string, number>();
  readonly subscribed = new Set<WatchChannel>();
  private readonly ordersAcked = new Set<number>();
  reconnects = 0;
  framesTotal = 0;
  private readonly session: KeptSession;
  private markets: readonly number[] = [];
  private readonly c: MonitorContext;
  private readonly listener: WatchFeedListener;
  private readonly authToken: () => string;

  constructor(c: MonitorContext, listener: WatchFeedListener, authToken: () => string) {
    this.c = c;
    this.listener = listener;
    this.authToken = authToken;
    this.session = new KeptSession(c, "watch.session", {
      onFrame: (text, at) => this.onFrame(text, at, this.markets),
      onLost: (code, reason, at) => {
        this.subscribed.clear();
        this.listener.onClosed(code, reason, at);
      },
    });
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  get openedAt(): number | null {
    return this.session.openedAt;
  }

  get lastFrameAt(): number | null {
    return this.session.lastFrameAt;
  }

  /** Connects and subscribes to every channel of the account. */
  async open(markets: readonly number[]): Promise<ConnectResult> {
    const cfg = this.c.cfg!;
    this.markets = markets;
    const res = await this.session.connect(cfg.wsUrl, null);
    if (!res.ok) return res;
    this.subscribed.clear();
    this.ordersAcked.clear();
    let token: string;
    try {
      token = this.authToken();
    } catch (err) {
      this.c.event("error", "watch.auth_unavailable", { error: errorMessage(err) }, null);
      this.close("no auth token");
      return { ok: false, kind: "error", message: errorMessage(err) };
    }
    const account = cfg.accountIndex;
    this.send(subscribeFrame(accountAllOrdersChannel(account), token));
    for (const m of markets) this.send(subscribeFrame(accountOrdersChannel(m, account), token));
    this.send(subscribeFrame(accountAllTradesChannel(account), token));
    this.send(subscribeFrame(`account_all_positions/${account.toString()}`, token));
    return res;
  }

  /** Closes our side (no onClosed). */
  close(reason: string): void {
    this.session.close(reason);
    this.subscribed.clear();
  }

  private send(frame: string): void {
    this.session.send(frame);
  }

  private onFrame(text: string, at: number, markets: readonly number[]): void {
    this.framesTotal++;
    try {
      this.route(text, at, markets);
    } catch (err) {
      if (isCrash(err)) throw err;
      bumpCounter(this.c.sql, "watch.frame_handler_failed");
      this.c.event(
        "error",
        "watch.frame_failed",
        { error: errorMessage(err), frame: redactText(text.slice(0, 500)) },
        null,
      );
    }
  }

  private count(kind: string): void {
    this.frameCounts.set(kind, (this.frameCounts.get(kind) ?? 0) + 1);
  }

  private seen(ch: WatchChannel, at: number): void {
    this.lastFrameAtByChannel.set(ch, at);
  }

  private ack(ch: WatchChannel, at: number): void {
    if (this.subscribed.has(ch)) return;
    this.subscribed.add(ch);
    this.listener.onSubscribed(ch, at);
  }

  private route(text: string, at: number, markets: readonly number[]): void {
    const ev = parseFrame(text);
    this.count(ev.kind);
    switch (ev.kind) {
      case "ping":
        this.send(pongFrame());
        return;
      case "account_all_orders":
        this.seen("account_all_orders", at);
        this.ack("account_all_orders", at);
        this.listener.onOrders("account_all_orders", ev.orders, at, ev.subscribed);
        return;
      case "account_orders": {
        this.seen("account_orders", at);
        const m = ev.market ?? ev.orders[0]?.marketIndex ?? null;
        if (m !== null && markets.includes(m)) this.ordersAcked.add(m);
        // Coverage starts once every watched market answered (an ack, or its first update).
        if (markets.every((x) => this.ordersAcked.has(x))) this.ack("account_orders", at);
        this.listener.onOrders("account_orders", ev.orders, at, ev.subscribed);
        return;
      }
      case "trades":
        if (ev.family !== "account_all_trades") return;
        this.seen("account_all_trades", at);
        this.ack("account_all_trades", at);
        this.listener.onTrades(ev.trades, at, ev.subscribed);
        return;
      case "subscribed_other":
      case "update_other": {
        if (!ev.type.endsWith("/account_all_positions")) return;
        this.seen("account_all_positions", at);
        this.ack("account_all_positions", at);
        const p = parsePositions(text);
        if (p) this.listener.onPositions(p.positions, p.snapshot, at);
        else this.c.event("warn", "watch.frame_unexpected", { reason: "malformed positions frame" }, null);
        return;
      }
      case "error":
        bumpCounter(this.c.sql, "watch.error_frames");
        this.listener.onErrorFrame(ev.code, ev.message, at);
        return;
      case "unexpected":
        bumpCounter(this.c.sql, "watch.frames_unexpected");
        this.c.event(
          "warn",
          "watch.frame_unexpected",
          { reason: ev.reason, frame: redactText(text.slice(0, 500)) },
          null,
        );
        return;
      default:
        return;
    }
  }

  /** Frame counts are kept in memory and flushed as aggregates. */
  flushCounts(): void {
    for (const [k, v] of this.frameCounts) if (v > 0) bumpCounter(this.c.sql, `watch.frames.${k}`, v);
    this.frameCounts.clear();
  }
}
