/**
 * The check machine run from Node (`fillwatch check --once`): an interpreter like the Durable
 * Object's, with REST and signing effects over `fetch` (the shared carrier, monitor/check/carrier.ts)
 * and the `ws` WebSocket. Events are fed one at a time;
 * the one alarm is a timer; alerts go to stderr. It runs one tick until the check and its flatten
 * have ended (or a hard limit passes) and returns the check's record.
 */
import { createRequire } from "node:module";
import type { WebSocket as WsSocket } from "ws";
import { createAuthToken } from "../../lighter/auth.ts";
import { errorMessage } from "../../lighter/errors.ts";
import {
  accountAllOrdersChannel,
  accountOrdersChannel,
  orderBookChannel,
  pingFrame,
  pongFrame,
  subscribeFrame,
  unsubscribeFrame,
} from "../../lighter/messages.ts";
import type { Effect } from "../../monitor/check/effects.ts";
import type { Event } from "../../monitor/check/events.ts";
import { FrameReader } from "../../monitor/check/frames.ts";
import { step } from "../../monitor/check/machine.ts";
import { initialState, type CheckRecord, type MachineState, type Setup } from "../../monitor/check/state.ts";
import type { EffectCarrier, Identity } from "../../monitor/check/carrier.ts";

const require = createRequire(import.meta.url);

/** Auth tokens for the account subscriptions (at most 8 h; short is enough for one check). */
const WS_TOKEN_LIFETIME_S = 3_600;
const PING_MS = 30_000;

export interface LoopOptions {
  io: EffectCarrier;
  /** Who the account subscriptions are for (the key signs their auth token). */
  id: Identity;
  wsUrl: string;
  setup: Setup;
  /** Stop after this long whatever happens (ms). */
  limitMs: number;
  /** Progress lines (log effects, alerts) to stderr. */
  verbose: (line: string) => void;
}

export interface LoopResult {
  record: CheckRecord | null;
  state: MachineState;
  /** The loop stopped at its limit with the check still running. */
  timedOut: boolean;
}

export async function runOnce(o: LoopOptions): Promise<LoopResult> {
  const WebSocket = require("ws") as typeof import("ws").WebSocket;
  let state = initialState();
  const queue: Event[] = [];
  let notify: (() => void) | null = null;
  const push = (e: Event) => {
    queue.push(e);
    notify?.();
  };
  const sockets = new Map<number, { ws: WsSocket; reader: FrameReader; ping: ReturnType<typeof setInterval> | null }>();
  let alarm: ReturnType<typeof setTimeout> | null = null;
  let record: CheckRecord | null = null;

  const open = (conn: number, timeoutMs: number) => {
    const ws = new WebSocket(o.wsUrl);
    const entry = { ws, reader: new FrameReader(), ping: null as ReturnType<typeof setInterval> | null };
    sockets.set(conn, entry);
    let opened = false;
    let over = false;
    const timer = setTimeout(() => {
      if (opened || over) return;
      over = true;
      ws.terminate();
      push({
        type: "connect_failed",
        conn,
        status: null,
        message: `no connection within ${timeoutMs} ms`,
        timeout: true,
        jitter: Math.random(),
      });
    }, timeoutMs);
    ws.on("open", () => {
      if (over) return;
      opened = true;
      clearTimeout(timer);
      entry.ping = setInterval(() => ws.send(pingFrame()), PING_MS);
      push({ type: "connected", conn });
    });
    ws.on("unexpected-response", (_req: unknown, res: { statusCode?: number }) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      push({
        type: "connect_failed",
        conn,
        status: res.statusCode ?? null,
        message: `HTTP ${res.statusCode}`,
        timeout: false,
        jitter: Math.random(),
      });
      ws.terminate();
    });
    ws.on("message", (data) => {
      const r = entry.reader.read(data.toString(), conn);
      if (r.pong) ws.send(pongFrame());
      if (r.unexpected) o.verbose(`frame.unexpected: ${r.unexpected}`);
      for (const e of r.events) push(e);
    });
    ws.on("error", (e) => {
      if (opened || over) return;
      over = true;
      clearTimeout(timer);
      push({
        type: "connect_failed",
        conn,
        status: null,
        message: errorMessage(e),
        timeout: false,
        jitter: Math.random(),
      });
    });
    ws.on("close", (code, reason) => {
      if (entry.ping) clearInterval(entry.ping);
      if (!opened || !sockets.has(conn)) return;
      sockets.delete(conn);
      push({ type: "closed", conn, code, reason: reason.toString(), jitter: Math.random() });
    });
  };

  const close = (conn: number) => {
    const s = sockets.get(conn);
    if (!s) return;
    sockets.delete(conn);
    if (s.ping) clearInterval(s.ping);
    s.ws.close(1000, "done");
  };

  const token = () =>
    createAuthToken(o.id.key!, {
      deadline: Math.floor(Date.now() / 1000) + WS_TOKEN_LIFETIME_S,
      accountIndex: o.id.account,
      apiKeyIndex: o.id.apiKeyIndex,
    });

  const apply = (fx: Effect) => {
    switch (fx.kind) {
      case "save":
        return;
      case "wake_at":
        if (alarm) clearTimeout(alarm);
        alarm =
          fx.at === null
            ? null
            : setTimeout(() => push({ type: "wake", jitter: Math.random() }), Math.max(0, fx.at - Date.now()));
        return;
      case "open":
        return open(fx.conn, fx.timeoutMs);
      case "close":
        return close(fx.conn);
      case "subscribe": {
        const ws = sockets.get(fx.conn)?.ws;
        if (!ws) return;
        const channel =
          fx.channel === "order_book"
            ? orderBookChannel(fx.market)
            : fx.channel === "account_orders"
              ? accountOrdersChannel(fx.market, o.id.account)
              : accountAllOrdersChannel(o.id.account);
        if (fx.resubscribe) ws.send(unsubscribeFrame(channel));
        ws.send(fx.channel === "order_book" ? subscribeFrame(channel) : subscribeFrame(channel, token()));
        return;
      }
      case "alert":
        o.verbose(`alert [${fx.stream}] ${fx.result.verdict}${fx.result.diagnosis ? ` ${fx.result.diagnosis}` : ""}`);
        push({ type: "alert_done", ref: fx.ref, ok: true, error: null });
        return;
      case "heartbeat":
        return;
      case "record":
        record = fx.check;
        return;
      case "log":
        o.verbose(`${fx.level} ${fx.event} ${JSON.stringify(fx.data)}`);
        return;
      default:
        void o.io.perform(fx)?.then(
          (e) => push(e),
          (err: unknown) => o.verbose(`effect ${fx.kind} failed: ${errorMessage(err)}`),
        );
    }
  };

  const feed = (e: Event) => {
    const r = step(state, e, Date.now());
    state = r.state;
    for (const fx of r.effects) apply(fx);
  };

  const limit = Date.now() + o.limitMs;
  feed({ type: "tick", key: `cli:${Date.now()}`, trigger: "manual", setup: o.setup });
  let timedOut = false;
  while (state.check !== null) {
    if (Date.now() >= limit) {
      timedOut = true;
      break;
    }
    const e = queue.shift();
    if (e) {
      feed(e);
      continue;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(1, limit - Date.now()));
      notify = () => {
        clearTimeout(t);
        resolve();
      };
    });
    notify = null;
  }
  if (alarm) clearTimeout(alarm);
  for (const conn of [...sockets.keys()]) close(conn);
  return { record: record ?? state.check, state, timedOut };
}
