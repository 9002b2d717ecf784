/**
 * The account frames a simulator trading bot produces, for the benches' CPU rows (watch, bot): a
 * raw client subscribed to the account's channels records every frame of `orders` bot orders.
 */
import { RawClient } from "../node/sim/support.ts";
import { startSimulator } from "../sim/server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BotFrames {
  frames: string[];
  account: string;
  /** Frames per bot order. */
  perOrder: number;
}

/** `channels` are channel names without the account suffix (`account_orders/0` for a market's). */
export async function captureBotFrames(opts: {
  simSeed: number;
  botSeed: number;
  channels: string[];
  orders: number;
}): Promise<BotFrames> {
  const sim = await startSimulator({ port: 0, seed: opts.simSeed, bookIntervalMs: 50, executionDelayMs: 0 });
  try {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const token = sim.watch.issueReadToken(a.account_index);
    const c = await RawClient.open(sim.ws);
    for (const ch of opts.channels) c.send({ type: "subscribe", channel: `${ch}/${a.account_index}`, auth: token });
    await sleep(100);
    const before = c.frames.length;
    const res = await fetch(`${sim.rest}/_sim/bot`, {
      method: "POST",
      body: JSON.stringify({ account_index: a.account_index.toString(), paused: true, seed: opts.botSeed }),
    });
    if (res.status !== 201) throw new Error(await res.text());
    const bot = sim.watch.bots.get(a.account_index)!;
    for (let i = 0; i < opts.orders; i++) {
      bot.tradeOnce();
      await sleep(15);
    }
    await sleep(200);
    c.close();
    const frames = c.frames.slice(before).map((f) => f.text);
    return { frames, account: a.account_index.toString(), perOrder: frames.length / opts.orders };
  } finally {
    await sim.close();
  }
}
