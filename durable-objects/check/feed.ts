/**
 * The check's Lighter session for the machine: opening connection `conn` (`connecting`, then
 * `connected` / `connect_failed`), the subscription frames we send (account channels with the
 * cached auth token), and every frame received handed to the machine's FrameReader, whose events
 * are dispatched in order (a drop is `closed`). The frames of our own orders are kept in the event
 * log as the order's evidence, and the last frames for a failed check's evidence; every account
 * update frame is also sampled for delivery latency (worker/monitor/check/delivery.ts). Decides nothing.
 */
import {
  accountAllOrdersChannel,
  accountOrdersChannel,
  orderBookChannel,
  pongFrame,
  redactFrameForLog,
  subscribeFrame,
  unsubscribeFrame,
} from "../../worker/lighter/messages.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import type { Event } from "../../worker/monitor/check/events.ts";
import { FrameReader } from "../../worker/monitor/check/frames.ts";
import { frameKind } from "../../worker/monitor/check/interpreter.ts";
import type { SubChannel } from "../../worker/monitor/check/state.ts";
import type { FrameTimes } from "../../worker/monitor/latency.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { isCrash } from "../runtime/crash.ts";
import { redactText } from "../../worker/monitor/redact.ts";
import { KeptSession } from "../runtime/kept-session.ts";
import { CheckDelivery } from "../../worker/monitor/check/delivery.ts";
import { loadDelivery } from "../../worker/store/check/store.ts";

/** What the feed needs from the machine's state: our own orders (their frames are kept as order evidence). */
export interface FeedView {
  ours(): ReadonlySet<string>;
}

const MAX_LAST_FRAMES = 12;
const MAX_FRAME_TEXT = 2_000;
/** Exchange frames naming our orders are stored byte-for-byte up to this size. */
const MAX_STORED_FRAME = 16_384;

export class CheckFeed {
  /** The connection number the machine gave the open socket (null: none). */
  conn: number | null = null;
  readonly session: KeptSession;
  private readonly reader = new FrameReader();
  lastFrames: { at: number; dir: "in" | "out"; frame: string }[] = [];
  /** Frames by kind since the last flush (book frames touch memory only). */
  readonly frameCounts = new Map<string, number>();
  reconnects = 0;
  /** Delivery latency of the account frames (restored from the snapshot saved with the state). */
  readonly delivery: CheckDelivery;
  private readonly c: MonitorContext;
  private readonly dispatch: (e: Event) => void;
  private readonly view: FeedView;

  constructor(c: MonitorContext, view: FeedView, dispatch: (e: Event) => void) {
    this.c = c;
    this.view = view;
    this.dispatch = dispatch;
    this.delivery = new CheckDelivery(loadDelivery(c.sql));
    this.session = new KeptSession(c, "session", {
      onFrame: (text, at) => this.onFrame(text, at),
      onLost: (code, reason) => {
        const conn = this.conn;
        this.forget();
        if (conn !== null) this.dispatch({ type: "closed", conn, code, reason, jitter: Math.random() });
      },
    });
  }

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /** Opens connection `conn` and tells the machine how it went. */
  async open(conn: number, timeoutMs: number): Promise<void> {
    if (this.conn !== null) this.close(this.conn, "reopening");
    const url = this.c.cfg?.wsUrl;
    if (!url) {
      this.dispatch({ type: "connect_failed", conn, status: null, message: "no ws_url", timeout: false, jitter: 0.5 });
      return;
    }
    const started = this.c.now();
    this.dispatch({ type: "connecting", conn });
    const res = await this.session.connect(url, null, timeoutMs);
    if (!res.ok) {
      const timeout = this.c.now() - started >= timeoutMs;
      const e = { type: "connect_failed", conn, status: res.status ?? null, message: res.message, timeout } as const;
      this.dispatch({ ...e, jitter: Math.random() });
      return;
    }
    if (this.session.connects > 1) this.reconnects++;
    this.forget();
    this.conn = conn;
    this.dispatch({ type: "connected", conn });
  }

  /** Closes our side (the machine asked: no `closed` event). */
  close(conn: number, reason: string): void {
    if (conn !== this.conn) return;
    this.session.close(reason);
    this.forget();
  }

  private forget(): void {
    this.conn = null;
    this.reader.reset();
  }

  /** Subscribes a channel on the open connection; account channels carry the cached 7 h token. */
  subscribe(conn: number, channel: SubChannel, market: number, resubscribe: boolean): void {
    if (conn !== this.conn) return;
    if (channel === "order_book") {
      if (resubscribe) this.send(unsubscribeFrame(orderBookChannel(market)));
      this.send(subscribeFrame(orderBookChannel(market)));
      return;
    }
    let token: string;
    try {
      token = this.c.authToken("ws");
    } catch (err) {
      this.dispatch({ type: "refused", conn, code: null, message: errorMessage(err), channel });
      return;
    }
    const account = this.c.cfg!.accountIndex;
    const name =
      channel === "account_orders" ? accountOrdersChannel(market, account) : accountAllOrdersChannel(account);
    if (resubscribe) this.send(unsubscribeFrame(name));
    this.send(subscribeFrame(name, token));
  }

  private send(frame: string): void {
    this.session.send(frame);
    this.remember("out", frame, this.c.now());
  }

  private remember(dir: "in" | "out", frame: string, at: number): void {
    const text = frame.length > MAX_FRAME_TEXT ? `${frame.slice(0, MAX_FRAME_TEXT)}…` : frame;
    this.lastFrames.push({ at, dir, frame: dir === "out" ? redactFrameForLog(text) : redactText(text) });
    if (this.lastFrames.length > MAX_LAST_FRAMES) this.lastFrames.shift();
  }

  private onFrame(text: string, at: number): void {
    try {
      this.route(text, at);
    } catch (err) {
      // A frame must never take the object down: record it and go on.
      if (isCrash(err)) throw err;
      this.c.count("frames.handler_failed");
      const detail = { error: errorMessage(err), frame: redactText(text.slice(0, 500)) };
      this.c.event("error", "frame.handler_failed", detail, null);
    }
  }

  private route(text: string, at: number): void {
    const conn = this.conn;
    if (conn === null) return;
    const r = this.reader.read(text, conn);
    if (r.pong) this.session.send(pongFrame());
    if (r.unexpected) {
      this.c.event(
        "warn",
        "frame.unexpected",
        { reason: r.unexpected, frame: redactText(text.slice(0, MAX_FRAME_TEXT)) },
        null,
      );
    }
    if (r.delivery) this.sample(r.delivery.channel, r.delivery.times, text, at);
    const kind = frameKind(r);
    if (kind !== "order_book_update") this.remember("in", text, at);
    this.frameCounts.set(kind, (this.frameCounts.get(kind) ?? 0) + 1);
    const ours = this.view.ours();
    for (const e of r.events) {
      if (e.type === "book" && e.kind === "gap") this.c.count("book.gaps");
      if (e.type !== "orders") continue;
      for (const o of e.orders) {
        if (!ours.has(o.clientOrderIndex)) continue;
        const frame =
          text.length > MAX_STORED_FRAME ? { frame_truncated: text.slice(0, MAX_STORED_FRAME) } : { frame: text };
        const detail = {
          client_order_index: o.clientOrderIndex,
          channel: e.channel,
          status: o.status,
          filled_base: o.filledBase,
        };
        this.c.event("debug", "order.frame", { ...detail, order_index: o.orderIndex, at, ...frame }, null);
      }
    }
    for (const e of r.events) this.dispatch(e);
  }

  /** Delivery latency; a malformed transaction_time gives no sample and is counted as unexpected. */
  private sample(channel: string, times: FrameTimes, text: string, at: number): void {
    this.delivery.onFrame(channel, times, at);
    if (times.malformed === 0) return;
    this.c.count("delivery_latency.unexpected", times.malformed);
    const frame = redactText(text.slice(0, MAX_FRAME_TEXT));
    this.c.event("warn", "frame.unexpected", { reason: "transaction_time is not a µs timestamp", frame }, null);
  }

  /** Book frames touch memory only; their counts go to the counters as aggregates. */
  flushCounts(): void {
    for (const [k, v] of this.frameCounts) if (v > 0) this.c.count(`frames.${k}`, v);
    this.frameCounts.clear();
  }
}
