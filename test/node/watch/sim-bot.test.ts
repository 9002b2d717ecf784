/**
 * The simulator's side of watch mode: the trading bot trades on the watched account, its fills
 * show on `GET /api/v1/trades` (newest first), a read-only token reads REST and
 * subscribes to account channels, the request log counts per account, and the order-selecting
 * faults (`withhold_orders`, `withhold_channel`, `rest_lag_ms` with `every_n`) pick the bot's orders.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../sim/server.ts";
import { RawClient, isType } from "../sim/support.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 3, bookIntervalMs: 40, executionDelayMs: 5 });
});
afterAll(async () => {
  await sim.close();
});

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(`${sim.rest}${path}`, { method: "POST", body: JSON.stringify(body) });
  return (await r.json()) as Record<string, unknown>;
}

async function readToken(account: bigint): Promise<string> {
  return String((await post("/_sim/read_tokens", { account_index: account.toString() })).api_token);
}

async function trades(account: bigint, token: string, query = "") {
  const r = await fetch(`${sim.rest}/api/v1/trades?account_index=${account}&sort_by=trade_id${query}`, {
    headers: { authorization: token },
  });
  return { status: r.status, body: (await r.json()) as { trades?: Record<string, unknown>[]; code: number } };
}

const until = async (fn: () => Promise<boolean>, ms = 5_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out");
};

describe("simulator trading bot and trades endpoint", () => {
  it("the bot's fills appear on /api/v1/trades newest first, with the account's side; reads need a token", async () => {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const token = await readToken(a.account_index);
    const bot = await post("/_sim/bot", { account_index: a.account_index.toString(), rate_per_min: 1200, seed: 5 });
    expect(bot.orders_sent).toBe(0);
    await until(async () => ((await trades(a.account_index, token, "&limit=100")).body.trades?.length ?? 0) >= 4);
    await fetch(`${sim.rest}/_sim/bot/${a.account_index}`, { method: "DELETE" });
    // An order the bot sent just before the stop still matches a moment later: wait until the list is still.
    let all: Record<string, unknown>[] = [];
    await until(async () => {
      const before = all.length;
      await new Promise((r) => setTimeout(r, 300));
      all = (await trades(a.account_index, token, "&limit=100")).body.trades!;
      return before > 0 && all.length === before;
    });
    const ids = all.map((t) => BigInt(String(t.trade_id_str)));
    expect([...ids].sort((x, y) => (x > y ? -1 : 1))).toEqual(ids);
    for (const t of all) expect([t.ask_account_id, t.bid_account_id].map(String)).toContain(a.account_index.toString());
    // `from` is an upper bound on the sort key (LIVE.md L.13.1).
    const from = ids[2]!;
    const page = (await trades(a.account_index, token, `&from=${from}&limit=100`)).body.trades!;
    expect(BigInt(String(page[0]!.trade_id_str))).toBe(from);
    const newest = (await trades(a.account_index, token, "&sort_dir=desc&limit=1")).body.trades!;
    expect(String(newest[0]!.trade_id_str)).toBe(ids[0]!.toString());
    expect((await fetch(`${sim.rest}/api/v1/trades?account_index=${a.account_index}`)).status).toBe(400);
    const other = sim.createAccount();
    expect((await trades(other.account_index, token)).status).toBe(401);
    // per-account request log: the trades calls above, never a sendTx (the bot bypasses REST)
    const log = (await (await fetch(`${sim.rest}/_sim/requests?account_index=${a.account_index}`)).json()) as {
      requests: { path: string; authorization_header: boolean; token_in_url: boolean }[];
    };
    expect(log.requests.length).toBeGreaterThanOrEqual(5);
    expect(log.requests.every((r) => r.path.startsWith("/api/v1/trades") && !r.token_in_url)).toBe(true);
  });

  it("a read-only token subscribes to account_all_orders; withhold_orders every_n withholds the bot's n-th orders", async () => {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const token = await readToken(a.account_index);
    const ws = await RawClient.open(sim.ws);
    ws.send({ type: "subscribe", channel: `account_all_orders/${a.account_index}`, auth: token });
    await ws.next(isType("subscribed/account_all_orders"));
    await post("/_sim/faults", { name: "withhold_orders", every_n: 2, account_index: a.account_index.toString() });
    await post("/_sim/bot", { account_index: a.account_index.toString(), rate_per_min: 1, seed: 9, paused: true });
    const bot = sim.watch.bots.get(a.account_index)!;
    const cois = [bot.tradeOnce(), bot.tradeOnce(), bot.tradeOnce(), bot.tradeOnce()];
    expect(cois.every((c) => c !== null)).toBe(true);
    await until(
      async () =>
        sim.exchange.trades.filter((t) => t.bid.account === a.account_index || t.ask.account === a.account_index)
          .length >= 4,
    );
    await new Promise((r) => setTimeout(r, 100));
    const seen = new Set(
      ws.frames
        .filter((f) => f.json?.type === "update/account_all_orders")
        .flatMap((f) => Object.values(f.json!.orders as Record<string, { client_order_id: string }[]>).flat())
        .map((o) => o.client_order_id),
    );
    expect([...seen].sort()).toEqual([cois[0], cois[2]].sort());
    ws.close();
  });

  it("withhold_channel and rest_lag_ms with every_n select the bot's orders too", async () => {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const acct = a.account_index.toString();
    const token = await readToken(a.account_index);
    const ws = await RawClient.open(sim.ws);
    ws.send({ type: "subscribe", channel: `account_all_trades/${acct}` });
    await ws.next(isType("subscribed/account_all_trades"));
    await post("/_sim/faults", {
      name: "withhold_channel",
      channel: "account_all_trades",
      every_n: 2,
      account_index: acct,
    });
    await post("/_sim/faults", { name: "rest_lag_ms", ms: 60_000, every_n: 2, account_index: acct });
    await post("/_sim/bot", { account_index: acct, rate_per_min: 1, seed: 11, paused: true });
    const bot = sim.watch.bots.get(a.account_index)!;
    const cois = [bot.tradeOnce(), bot.tradeOnce(), bot.tradeOnce(), bot.tradeOnce()];
    const mine = () =>
      sim.exchange.trades.filter((t) => t.bid.account === a.account_index || t.ask.account === a.account_index);
    await until(async () => mine().length >= 4);
    await new Promise((r) => setTimeout(r, 100));
    const ownCoi = (t: Record<string, unknown>) =>
      String(String(t.ask_account_id) === acct ? t.ask_client_id_str : t.bid_client_id_str);
    const onWs = ws.frames
      .filter((f) => f.json?.type === "update/account_all_trades")
      .flatMap((f) => Object.values(f.json!.trades as Record<string, Record<string, unknown>[]>).flat())
      .map(ownCoi);
    expect([...new Set(onWs)].sort()).toEqual([cois[0], cois[2]].sort());
    // REST rows carry client ids 0 (LIVE.md L.13.2): match them by order index.
    const coiOf = new Map(
      sim.exchange.accounts
        .get(a.account_index)!
        .orders.map((o) => [o.orderIndex.toString(), o.clientOrderIndex.toString()] as const),
    );
    const ownOrder = (t: Record<string, unknown>) =>
      String(String(t.ask_account_id) === acct ? t.ask_id_str : t.bid_id_str);
    const onRest = (await trades(a.account_index, token, "&limit=100")).body.trades!.map((t) => coiOf.get(ownOrder(t)));
    expect([...new Set(onRest)].sort()).toEqual([cois[0], cois[2]].sort());
    ws.close();
  });
});
