/**
 * Watch-mode benchmark: CPU of a watch session's frame handling, per frame and per hour. In
 * continuous mode every frame of a session counts against the one alarm invocation that holds it
 * (10 minutes), so the hourly figure at a given frame rate is what matters. Frames are captured
 * from the simulator with its trading bot on the account (account_all_orders, account_orders,
 * account_all_trades, account_all_positions); the path measured is the watch path (parseFrame →
 * the watch machine's `step`, positions parsed on their frames), with JSON.parse of the same frames as the same-run
 * baseline. Rates: the bot's default (12 orders a minute), a busy Standard account at its per-user
 * tx limit (40 txs a minute, PROTOCOL.md §5.9) and a busy premium account (4 000 sendTx a minute,
 * the smallest premium sendTx bucket in §5.9).
 */
import type { WatchEvent } from "../../worker/monitor/watch/events.ts";
import { step } from "../../worker/monitor/watch/machine.ts";
import { restore, type WatchSettings } from "../../worker/monitor/watch/state.ts";
import { parseFrame } from "../../worker/lighter/messages.ts";
import { parsePositions } from "../../worker/monitor/watch/positions.ts";
import { captureBotFrames } from "./bot-frames.ts";
import type { BenchRow, BenchSuite } from "./types.ts";
import { medianMs } from "./timing.ts";

const ORDERS = 60;

const captureFrames = () =>
  captureBotFrames({
    simSeed: 12,
    botSeed: 3,
    channels: ["account_all_orders", "account_orders/0", "account_all_trades", "account_all_positions"],
    orders: ORDERS,
  });

async function run(): Promise<BenchRow[]> {
  const cap = await captureFrames();
  const frames = Array.from({ length: 20_000 }, (_, i) => cap.frames[i % cap.frames.length]!);
  const parseOnly = medianMs(() => {
    for (const f of frames) JSON.parse(f);
  });
  // The production path: each frame parsed and fed to the watch machine as its event (what
  // durable-objects/watch/feed.ts does), the ledgers updated inside `step`.
  let afterFrames: ReturnType<typeof restore> | null = null;
  const watchPath = medianMs(() => {
    const settings: WatchSettings = {
      account: cap.account,
      markets: [0],
      windowMs: 10_000,
      reconcileMs: 10_000,
      maxOrders: 1000,
      restBudgetPerMin: 12,
      tier: "standard",
      resolveAfterCycles: 3,
      secondMs: 1000,
      budgetWindowMs: 60_000,
      rateLimitPauseMs: 60_000,
      bot: null,
    };
    let s = restore(settings, null, { openStreams: [], bot: { wsAmounts: [], fills: [], reports: [] } }, 0);
    s = step(s, { kind: "tick" }, 0).state;
    s = step(s, { kind: "connected", conn: s.session.conn }, 0).state;
    let at = 0;
    for (const f of frames) {
      at += 1;
      const ev = parseFrame(f);
      let e: WatchEvent | null = null;
      if (ev.kind === "account_all_orders" || ev.kind === "account_orders")
        e = {
          kind: "orders",
          channel: ev.kind,
          market: ev.kind === "account_orders" ? ev.market : null,
          orders: ev.orders,
          snapshot: ev.subscribed,
        };
      else if (ev.kind === "trades") e = { kind: "trades", trades: ev.trades, snapshot: ev.subscribed };
      else if (ev.kind === "update_other" || ev.kind === "subscribed_other") {
        const p = parsePositions(f);
        if (p) e = { kind: "positions", positions: p.positions, snapshot: p.snapshot };
      }
      if (e) s = step(s, e, at).state;
    }
    afterFrames = s;
  });
  // The judging pass the interpreter runs about 4 times a second (every min(1 s, 250 ms) at time_scale 1).
  const TICKS = 20_000;
  const tickPath = medianMs(() => {
    let s = afterFrames!;
    for (let i = 0; i < TICKS; i++) s = step(s, { kind: "tick" }, 1_000_000 + i).state;
  });
  const perFrameUs = (ms: number) => (ms * 1000) / frames.length;
  const rows: BenchRow[] = [
    {
      suite: "watch",
      name: "watch frame: parse + watch machine step (Node)",
      value: perFrameUs(watchPath),
      unit: "µs/frame",
      baseline: { name: "JSON.parse", value: perFrameUs(parseOnly) },
      ratio: watchPath / parseOnly,
      note: `${cap.frames.length} frames captured, ${cap.perOrder.toFixed(1)} frames per bot order`,
    },
  ];
  const tickUs = (tickPath * 1000) / TICKS;
  rows.push({
    suite: "watch",
    name: "watch machine tick: one judging pass, session idle (Node)",
    value: tickUs,
    unit: "µs/tick",
    note: `4 ticks a second at time_scale 1: ${((tickUs * 4 * 3600) / 1000).toFixed(1)} ms CPU/h`,
  });
  for (const [name, ordersPerMin] of [
    ["bot default (12 orders/min)", 12],
    ["busy Standard account (40 txs/min)", 40],
    ["busy premium account (4 000 txs/min)", 4_000],
  ] as const) {
    const framesPerHour = ordersPerMin * 60 * cap.perOrder;
    const msPerHour = (perFrameUs(watchPath) * framesPerHour) / 1000;
    rows.push({
      suite: "watch",
      name: `CPU per hour: ${name}`,
      value: msPerHour,
      unit: "ms CPU/h",
      baseline: { name: "JSON.parse", value: (perFrameUs(parseOnly) * framesPerHour) / 1000 },
      ratio: watchPath / parseOnly,
      note: `${Math.round(framesPerHour)} frames/h; one 10-min alarm invocation: ${(msPerHour / 6).toFixed(1)} ms`,
    });
  }
  return rows;
}

const suite: BenchSuite = { name: "watch", run };
export default suite;
