/**
 * Monitor benchmark.
 * 1. CPU per processed frame (Node, the monitor's own code path: parseFrame + OrderBook for book
 *    deltas; parseFrame + the check core's identity match and fill reducer (observed + noteWsOrder,
 *    what the check machine runs on an order report) for order updates), with JSON.parse of the same frames as the
 *    floor: the overhead is (process N − parse N) / N.
 * 2. In workerd, driven through the Miniflare API at the version wrangler brings: the real bundled
 *    Worker and FillMonitor against the in-process simulator — fill-detection latency (simulator
 *    execution → fill recorded in SQLite) p50/p99, and storage write statements per 1,000 frames.
 */
import { privateKeySecretName } from "../../worker/config.ts";
import { newOrderFacts, noteWsOrder, observed, type OrderFacts } from "../../worker/monitor/check/order.ts";
import { parseFrame } from "../../worker/lighter/messages.ts";
import { OrderBook } from "../../worker/lighter/orderbook.ts";
import { startSimulator } from "../sim/server.ts";
import { RawClient, account, bestPrices, isType, sendOrder, token } from "../node/sim/support.ts";
import type { BenchRow, BenchSuite } from "./types.ts";
import { apiOf, bundle, sleep, workerd } from "./workerd/harness.ts";
import { medianMs } from "./timing.ts";

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function captureFrames(): Promise<{ book: string[]; orders: string[] }> {
  const sim = await startSimulator({ port: 0, seed: 8, bookIntervalMs: 2, executionDelayMs: 0 });
  try {
    const a = account(sim);
    const c = await RawClient.open(sim.ws);
    c.send({ type: "subscribe", channel: "order_book/0" });
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_orders"));
    for (let i = 0; i < 40; i++) {
      const top = await bestPrices(sim);
      const sell = i % 2 === 1;
      await sendOrder(sim, a, { base: 50n, price: sell ? top.bid - 300 : top.ask + 300, isAsk: sell });
    }
    await sleep(300);
    c.close();
    const frames = c.frames.map((f) => f.text);
    return {
      book: frames.filter((f) => f.includes('"order_book"')),
      orders: frames.filter((f) => f.includes('"update/account_orders"')),
    };
  } finally {
    await sim.close();
  }
}

function cpuRows(frames: { book: string[]; orders: string[] }): BenchRow[] {
  const rows: BenchRow[] = [];
  const rep = <T>(xs: T[], n: number) => Array.from({ length: n }, (_, i) => xs[i % xs.length]!);
  const book = rep(frames.book.slice(1), 20_000);
  const snapshot = frames.book[0]!;
  const parseOnly = medianMs(() => {
    for (const f of book) JSON.parse(f);
  });
  const processBook = medianMs(() => {
    const b = new OrderBook(0);
    const s = parseFrame(snapshot);
    if (s.kind === "order_book_snapshot") b.apply(s);
    for (const f of book) {
      const ev = parseFrame(f);
      if (ev.kind === "order_book_update" && b.apply(ev).kind === "gap")
        b.apply(s.kind === "order_book_snapshot" ? s : ev);
    }
  });
  const per = (ms: number) => (ms * 1000) / book.length;
  rows.push({
    suite: "monitor",
    name: "book delta: parse + apply (Node)",
    value: per(processBook),
    unit: "µs/frame",
    baseline: { name: "JSON.parse", value: per(parseOnly) },
    ratio: processBook / parseOnly,
    note: `overhead ${(per(processBook) - per(parseOnly)).toFixed(2)} µs/frame over ${book.length} frames`,
  });
  const orders = rep(frames.orders, 5_000);
  const parseOrders = medianMs(() => {
    for (const f of orders) JSON.parse(f);
  });
  const processOrders = medianMs(() => {
    const ours = new Map<string, OrderFacts>();
    for (let c = 1000n; c < 1100n; c++) {
      const coi = c.toString();
      ours.set(coi, newOrderFacts({ coi, account: "1", market: 0, txHash: "h", expiredAt: 0 }));
    }
    let at = 0;
    for (const f of orders) {
      const ev = parseFrame(f);
      if (ev.kind !== "account_orders") continue;
      const account = ev.account?.toString() ?? null;
      for (const o of ev.orders) {
        let facts = ours.get(o.clientOrderIndex.toString());
        if (!facts) continue;
        // The captured frames belong to the simulator's account: track our orders under it.
        if (facts.account !== account && account !== null) facts = { ...facts, account };
        ours.set(facts.coi, noteWsOrder(facts, observed(o, account, 4), ++at, "account_orders").facts);
      }
    }
  });
  const perO = (ms: number) => (ms * 1000) / orders.length;
  rows.push({
    suite: "monitor",
    name: "order update: parse + identity match + fill reducer (Node)",
    value: perO(processOrders),
    unit: "µs/frame",
    baseline: { name: "JSON.parse", value: perO(parseOrders) },
    ratio: processOrders / parseOrders,
    note: `overhead ${(perO(processOrders) - perO(parseOrders)).toFixed(2)} µs/frame`,
  });
  return rows;
}

async function workerdRows(): Promise<BenchRow[]> {
  const out = bundle();
  const sim = await startSimulator({ port: 0, seed: 9, bookIntervalMs: 50, executionDelayMs: 5 });
  const acct = sim.createAccount({ collateral: 1_000_000_000n });
  const monitor = {
    network: "custom",
    rest_url: sim.rest,
    ws_url: sim.ws,
    chain_id: sim.chainId,
    account_index: Number(acct.account_index),
    api_key_index: acct.api_key_index,
    markets: [0],
    time_scale: 0.3,
    max_slippage_bps: 100,
  };
  const mf = workerd(out, {
    bindings: {
      MONITORS: JSON.stringify([monitor]),
      [privateKeySecretName("custom", acct.account_index, acct.api_key_index)]: acct.private_key!,
    },
  });
  const api = apiOf(mf);
  try {
    const latencies: number[] = [];
    // Manual runs are limited to 12 per 10 minutes per monitor (MANUAL_RUNS).
    const n = 12;
    for (let i = 0; i < n; i++) {
      const { check_id } = (await api("/checks/run", { method: "POST" })) as { check_id: string };
      let c: Record<string, unknown> = {};
      for (let k = 0; k < 200; k++) {
        c = await api(`/checks/${check_id}`);
        if (c.state === "done" && c.flatten !== null) break;
        await sleep(25);
      }
      if (c.verdict !== "pass") throw new Error(`check ${i} ended ${String(c.verdict)} ${String(c.diagnosis)}`);
      const coi = BigInt(String(c.client_order_index));
      const trade = sim.exchange.trades.find((t) => t.ask.clientOrderIndex === coi || t.bid.clientOrderIndex === coi);
      const processed = (c.stages as Record<string, { at: number }>).processed!.at;
      if (trade) latencies.push(processed - trade.timestamp);
    }
    const status = (await api("/status")) as { monitors: { counters: Record<string, number> }[] };
    const counters = status.monitors[0]!.counters;
    const frames = Object.entries(counters)
      .filter(([k]) => k.startsWith("frames."))
      .reduce((s, [, v]) => s + v, 0);
    const writes = counters["storage.write_statements"] ?? 0;
    return [
      {
        suite: "monitor",
        name: "fill detection latency p50 (simulator execution → fill in SQLite, workerd)",
        value: pct(latencies, 50),
        unit: "ms",
        note: `${latencies.length} checks`,
      },
      { suite: "monitor", name: "fill detection latency p99 (workerd)", value: pct(latencies, 99), unit: "ms" },
      {
        suite: "monitor",
        name: "storage write statements per 1,000 frames (workerd, whole checks)",
        value: frames ? (writes * 1000) / frames : 0,
        unit: "writes",
        note: `${writes} writes over ${frames} frames in ${n} checks (book frames write none)`,
      },
      {
        suite: "monitor",
        name: "storage write statements per healthy check (workerd, check + flatten + alerts + log)",
        value: writes / n,
        unit: "writes",
        note: `${writes} write statements in ${n} passing checks (issue 16 bar: ≤ 15; issue 18 target ≤ 10)`,
      },
    ];
  } finally {
    await mf.dispose();
    await sim.close();
  }
}

const suite: BenchSuite = {
  name: "monitor",
  async run(): Promise<BenchRow[]> {
    const frames = await captureFrames();
    return [...cpuRows(frames), ...(await workerdRows())];
  },
};

export default suite;
