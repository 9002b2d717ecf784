/**
 * Simulator throughput, so it is never the bottleneck when it drives the monitor: book deltas per
 * second to 1 and to 20 subscribers, and order round trips per second (sendTx → account frame).
 * Baselines in the same run: a bare `ws` server pushing the same frame text, and a bare node:http
 * round trip.
 */
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { startSimulator } from "../sim/server.ts";
import { RawClient, account, bestPrices, isType, sendOrder } from "../node/sim/support.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const require = createRequire(import.meta.url);
const { WebSocketServer } = require("ws") as typeof import("ws");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bookRate(subscribers: number, ms: number): Promise<number> {
  const sim = await startSimulator({ port: 0, seed: 3, bookIntervalMs: 1, levelsPerDelta: 3, idleTimeoutMs: 60_000 });
  try {
    const clients = await Promise.all(Array.from({ length: subscribers }, () => RawClient.open(sim.ws)));
    for (const c of clients) c.send({ type: "subscribe", channel: "order_book/0" });
    await Promise.all(clients.map((c) => c.next(isType("subscribed/order_book"))));
    const start = clients.map((c) => c.frames.length);
    await sleep(ms);
    const got = clients.reduce((s, c, i) => s + c.frames.slice(start[i]).filter(isType("update/order_book")).length, 0);
    for (const c of clients) c.close();
    return got / (ms / 1000);
  } finally {
    await sim.close();
  }
}

async function rawWsRate(subscribers: number, ms: number, frame: string): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const port = (wss.address() as { port: number }).port;
  const timer = setInterval(() => {
    for (const c of wss.clients) c.send(frame);
  }, 1);
  try {
    const clients = await Promise.all(
      Array.from({ length: subscribers }, () => RawClient.open(`ws://127.0.0.1:${port}`)),
    );
    const start = clients.map((c) => c.frames.length);
    await sleep(ms);
    const got = clients.reduce((s, c, i) => s + c.frames.length - start[i]!, 0);
    for (const c of clients) c.close();
    return got / (ms / 1000);
  } finally {
    clearInterval(timer);
    await new Promise((r) => wss.close(r));
  }
}

const suite: BenchSuite = {
  name: "simulator",
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const frame = JSON.stringify({
      channel: "order_book:0",
      offset: 1,
      order_book: {
        code: 0,
        asks: [{ price: "2350.05", size: "1.2000" }],
        bids: [
          { price: "2349.95", size: "0.5000" },
          { price: "2349.90", size: "0.0000" },
        ],
        offset: 1,
        nonce: 2,
        begin_nonce: 1,
      },
      timestamp: 1,
      type: "update/order_book",
    });
    for (const n of [1, 20]) {
      const sim = await bookRate(n, 1500);
      const raw = await rawWsRate(n, 1500, frame);
      rows.push({
        suite: "simulator",
        name: `book deltas/s delivered to ${n} subscriber${n > 1 ? "s" : ""} (1 ms book interval)`,
        value: sim,
        unit: "frames/s",
        baseline: { name: "bare ws, same frame, 1 ms timer", value: raw },
        ratio: sim / raw,
      });
    }
    const sim = await startSimulator({ port: 0, seed: 4, bookIntervalMs: 50, executionDelayMs: 0 });
    const server = createServer((_req, res) => res.end("{}"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const a = account(sim);
      const c = await RawClient.open(sim.ws);
      c.send({
        type: "subscribe",
        channel: `account_orders/0/${a.index}`,
        auth: (await import("../node/sim/support.ts")).token(a),
      });
      await c.next(isType("subscribed/account_orders"));
      const n = 100;
      const t0 = performance.now();
      let top = await bestPrices(sim);
      for (let i = 0; i < n; i++) {
        if (i % 20 === 0) top = await bestPrices(sim);
        const from = c.frames.length;
        const sell = i % 2 === 1;
        const r = await sendOrder(sim, a, { base: 50n, price: sell ? top.bid - 500 : top.ask + 500, isAsk: sell });
        if (r.json.code !== 200) throw new Error(`sendTx failed: ${r.text}`);
        await c.next((f) => f.json?.type === "update/account_orders", 2000, from);
      }
      const simRate = n / ((performance.now() - t0) / 1000);
      const port = (server.address() as { port: number }).port;
      const t1 = performance.now();
      for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${port}/`)).text();
      const httpRate = n / ((performance.now() - t1) / 1000);
      rows.push({
        suite: "simulator",
        name: "order round trips/s (signed sendTx → account_orders frame)",
        value: simRate,
        unit: "orders/s",
        baseline: { name: "bare node:http round trip", value: httpRate },
        ratio: simRate / httpRate,
        note: "includes signing each order (~1.7 ms) and verifying it (~6 ms)",
      });
      c.close();
    } finally {
      server.close();
      await sim.close();
    }
    return rows;
  },
};

export default suite;
