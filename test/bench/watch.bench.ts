/**
 * Watch-mode benchmark: CPU of a watch session's frame handling, per frame and per hour. In
 * continuous mode every frame of a session counts against the one alarm invocation that holds it
 * (10 minutes), so the hourly figure at a given frame rate is what matters. Frames are captured
 * from the simulator with its trading bot on the account (account_all_orders, account_orders,
 * account_all_trades, account_all_positions); the path measured is the watch path (parseFrame →
 * ledger, positions parsed on their frames), with JSON.parse of the same frames as the same-run
 * baseline. Rates: the bot's default (12 orders a minute), a busy Standard account at its per-user
 * tx limit (40 txs a minute, PROTOCOL.md §5.9) and a busy premium account (4 000 sendTx a minute,
 * the smallest premium sendTx bucket in §5.9).
 */
import { WatchLedger } from "../../worker/monitor/watch/ledger.ts";
import { parseFrame } from "../../worker/lighter/messages.ts";
import { parsePositions } from "../../worker/monitor/watch/positions.ts";
import { startSimulator } from "../sim/server.ts";
import { RawClient } from "../node/sim/support.ts";
import type { BenchRow, BenchSuite } from "./types.ts";
import { medianMs } from "./timing.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ORDERS = 60;

async function captureFrames(): Promise<{ frames: string[]; account: string; perOrder: number }> {
  const sim = await startSimulator({ port: 0, seed: 12, bookIntervalMs: 50, executionDelayMs: 0 });
  try {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const token = sim.watch.issueReadToken(a.account_index);
    const c = await RawClient.open(sim.ws);
    for (const ch of [
      `account_all_orders/${a.account_index}`,
      `account_orders/0/${a.account_index}`,
      `account_all_trades/${a.account_index}`,
      `account_all_positions/${a.account_index}`,
    ])
      c.send({ type: "subscribe", channel: ch, auth: token });
    await sleep(100);
    const before = c.frames.length;
    const res = await fetch(`${sim.rest}/_sim/bot`, {
      method: "POST",
      body: JSON.stringify({ account_index: a.account_index.toString(), paused: true, seed: 3 }),
    });
    if (res.status !== 201) throw new Error(await res.text());
    const bot = sim.watch.bots.get(a.account_index)!;
    for (let i = 0; i < ORDERS; i++) {
      bot.tradeOnce();
      await sleep(15);
    }
    await sleep(200);
    c.close();
    const frames = c.frames.slice(before).map((f) => f.text);
    return { frames, account: a.account_index.toString(), perOrder: frames.length / ORDERS };
  } finally {
    await sim.close();
  }
}

async function run(): Promise<BenchRow[]> {
  const cap = await captureFrames();
  const frames = Array.from({ length: 20_000 }, (_, i) => cap.frames[i % cap.frames.length]!);
  const parseOnly = medianMs(() => {
    for (const f of frames) JSON.parse(f);
  });
  const watchPath = medianMs(() => {
    const l = new WatchLedger({
      account: cap.account,
      windowMs: 10_000,
      maxOrders: 1000,
      skewMs: 1000,
      lateWatchMs: 300_000,
    });
    let at = 0;
    for (const f of frames) {
      at += 1;
      const ev = parseFrame(f);
      if (ev.kind === "account_all_orders") l.noteOrders("account_all_orders", ev.orders, at, ev.subscribed);
      else if (ev.kind === "account_orders") l.noteOrders("account_orders", ev.orders, at, ev.subscribed);
      else if (ev.kind === "trades") l.noteTrades(ev.trades, at, ev.subscribed);
      else if (ev.kind === "update_other" || ev.kind === "subscribed_other") parsePositions(f);
    }
  });
  const perFrameUs = (ms: number) => (ms * 1000) / frames.length;
  const rows: BenchRow[] = [
    {
      suite: "watch",
      name: "watch frame: parse + ledger (Node)",
      value: perFrameUs(watchPath),
      unit: "µs/frame",
      baseline: { name: "JSON.parse", value: perFrameUs(parseOnly) },
      ratio: watchPath / parseOnly,
      note: `${cap.frames.length} frames captured, ${cap.perOrder.toFixed(1)} frames per bot order`,
    },
  ];
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
