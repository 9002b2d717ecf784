/**
 * The simulator follows the public evidence of LIVE.md L.13 by default, each kinder behaviour kept
 * only as a named variant: /trades desc only with next_cursor and `from` as an upper bound, trade
 * rows with client ids 0 and a tx_hash of their own, 405 as a rate limit, server pings at random
 * intervals (1008 "no pong"), API key index 4, an IOC without margin as a real
 * `canceled-margin-not-allowed` order, the account_all_trades snapshot with recent trades,
 * positions as deltas or full frames, the OrderExpiry window (21711) and sendTxBatch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../sim/server.ts";
import {
  RawClient,
  account,
  bestPrices,
  http,
  isType,
  orderTx,
  sendOrder,
  sleep,
  token,
  type TestAccount,
} from "./support.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 13, bookIntervalMs: 20, executionDelayMs: 5, serverPingMs: 200 });
});
afterAll(async () => {
  await sim.close();
});

const wsFor = (a: TestAccount) => `${sim.ws}?sim_account=${a.index}`;

async function post(path: string, body: unknown) {
  return http(sim, path, { method: "POST", body: JSON.stringify(body) });
}

async function variant(a: TestAccount, v: Record<string, unknown>): Promise<void> {
  const r = await post("/_sim/variants", { ...v, account_index: a.index.toString() });
  expect(r.status, r.text).toBe(200);
}

/** An account with `n` of its own fills: IOC buys that cross the market maker's asks. */
async function accountWithFills(n: number): Promise<TestAccount> {
  const a = account(sim);
  const { ask, bid } = await bestPrices(sim);
  for (let i = 0; i < n; i++) {
    const sell = i % 2 === 1;
    const r = await sendOrder(sim, a, { base: 50n, price: sell ? bid - 500 : ask + 500, isAsk: sell });
    expect(r.json.code, r.text).toBe(200);
    await sleep(12);
  }
  await sleep(60);
  return a;
}

function trades(a: TestAccount, query: string) {
  return http(sim, `/api/v1/trades?account_index=${a.index}${query}`, { headers: { authorization: token(a) } });
}

type Row = { trade_id_str: string; ask_client_id: number; bid_client_id: number; tx_hash: string; timestamp: number };

describe("GET /api/v1/trades (L.13.1, L.13.2)", () => {
  let a: TestAccount;
  beforeAll(async () => {
    a = await accountWithFills(12);
  });

  it("desc only, newest first; asc, a missing sort_by and a limit outside 1-100 are 20001", async () => {
    const r = await trades(a, "&sort_by=trade_id&limit=100");
    const ids = (r.json.trades as Row[]).map((t) => BigInt(t.trade_id_str));
    expect(ids.length).toBeGreaterThanOrEqual(12);
    expect([...ids].sort((x, y) => (x > y ? -1 : 1))).toEqual(ids);
    expect(r.json.next_cursor).toBe("");
    for (const q of ["&sort_by=trade_id&limit=10&sort_dir=asc", "&limit=10", "&sort_by=trade_id&limit=101"]) {
      const bad = await trades(a, q);
      expect([bad.status, bad.json.code], q).toEqual([400, 20001]);
    }
    expect((await trades(a, "&sort_by=trade_id&limit=0")).json.code).toBe(20001);
  });

  it("next_cursor pages back with no trade twice and none skipped; `from` is an upper bound on the sort key", async () => {
    const all = ((await trades(a, "&sort_by=trade_id&limit=100")).json.trades as Row[]).map((t) => t.trade_id_str);
    const paged: string[] = [];
    let cursor = "";
    let pages = 0;
    do {
      const r = await trades(a, `&sort_by=trade_id&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      paged.push(...(r.json.trades as Row[]).map((t) => t.trade_id_str));
      cursor = String(r.json.next_cursor);
      pages++;
    } while (cursor !== "" && pages < 20);
    expect(paged).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 5));
    const from = all[4]!;
    const bounded = (await trades(a, `&sort_by=trade_id&limit=100&from=${from}`)).json.trades as Row[];
    expect(bounded.map((t) => t.trade_id_str)).toEqual(all.slice(4));
    const ts = (await trades(a, "&sort_by=timestamp&limit=100")).json.trades as Row[];
    const t0 = ts[3]!.timestamp;
    const byTime = (await trades(a, `&sort_by=timestamp&limit=100&from=${t0}`)).json.trades as Row[];
    expect(byTime.every((t) => t.timestamp <= t0)).toBe(true);
    expect(byTime.length).toBeGreaterThan(0);
    expect((await trades(a, "&sort_by=trade_id&limit=5&cursor=nonsense")).json.code).toBe(20001);
  });

  it("rows carry client ids 0 and a tx_hash that is not the signed tx's hash", async () => {
    const rows = (await trades(a, "&sort_by=trade_id&limit=100")).json.trades as Row[];
    const state = await http(sim, `/_sim/state?account_index=${a.index}`);
    const orderHashes = new Set((state.json.orders as { tx_hash?: string }[]).map((o) => o.tx_hash));
    expect(rows.length).toBeGreaterThanOrEqual(12);
    for (const t of rows) {
      expect([t.ask_client_id, t.bid_client_id]).toEqual([0, 0]);
      expect(orderHashes.has(t.tx_hash)).toBe(false);
      expect(t.tx_hash).toMatch(/^[0-9a-f]{80}$/);
    }
  });

  it("the trades_rest=asc variant keeps the older reading: ascending from a trade id, real client ids", async () => {
    const b = await accountWithFills(3);
    await variant(b, { trades_rest: "asc" });
    const rows = (await trades(b, "&sort_by=trade_id")).json.trades as Row[];
    const ids = rows.map((t) => BigInt(t.trade_id_str));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
    expect(rows.some((t) => t.ask_client_id !== 0 || t.bid_client_id !== 0)).toBe(true);
    const from = (await trades(b, `&sort_by=trade_id&from=${ids[1]}`)).json.trades as Row[];
    expect(from[0]!.trade_id_str).toBe(ids[1]!.toString());
  });
});

describe("rate limits, pings, keys (L.13.3-L.13.5)", () => {
  it("rest_errors 405 is a rate limit: code 23000", async () => {
    const a = account(sim);
    await post("/_sim/faults", { name: "rest_errors", status: 405, account_index: a.index.toString() });
    const r = await trades(a, "&sort_by=trade_id&limit=1");
    expect([r.status, r.json.code, r.json.message]).toEqual([405, 23000, "Too Many Requests!"]);
  });

  it("server pings by default at random intervals; a socket that never answers is closed 1008 no pong", async () => {
    const a = account(sim);
    const c = await RawClient.open(wsFor(a));
    await c.next(isType("ping"), 2_000);
    // Answered pings keep the socket open; the intervals differ.
    for (let i = 0; i < 3; i++) {
      const n = c.frames.length;
      c.send({ type: "pong" });
      await c.next(isType("ping"), 2_000, n);
    }
    const at = c.frames.filter(isType("ping")).map((f) => f.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(new Set(gaps.map((g) => Math.round(g / 20))).size).toBeGreaterThan(1);
    expect(c.closed).toBeNull();
    c.close();
  });

  it("server_ping ignore_pongs: pongs are lost and the socket is closed 1008 no pong", async () => {
    const a = account(sim);
    await post("/_sim/faults", {
      name: "server_ping",
      every_ms: 50,
      expect_pong_ms: 150,
      ignore_pongs: true,
      account_index: a.index.toString(),
    });
    const c = await RawClient.open(wsFor(a));
    await c.next(isType("ping"));
    c.send({ type: "pong" });
    expect(await c.waitClosed(2_000)).toEqual({ code: 1008, reason: "no pong" });
  });

  it("a new account's API key index is 4 (0-3 are reserved)", () => {
    const a = sim.createAccount();
    expect(a.api_key_index).toBeGreaterThanOrEqual(4);
  });
});

describe("orders (L.13.7, L.13.8, L.13.10)", () => {
  it("an IOC without margin ends as a real canceled-margin-not-allowed order; ioc_margin=deferred keeps /tx ae 21739", async () => {
    const a = account(sim);
    await post("/_sim/faults", { name: "no_margin", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_all_orders"));
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(r.json.code).toBe(200);
    const f = await c.next(isType("update/account_all_orders"));
    expect(f.text).toContain('"status":"canceled-margin-not-allowed"');
    expect(f.text).toContain('"remaining_base_amount":"0.0000"');
    expect(f.text).toContain('"filled_base_amount":"0.0000"');
    c.close();
    const b = account(sim);
    await post("/_sim/faults", { name: "no_margin", account_index: b.index.toString() });
    await variant(b, { ioc_margin: "deferred" });
    const d = await sendOrder(sim, b, { base: 50n, price: ask + 100, isAsk: false });
    let tx: Record<string, unknown> = {};
    for (let i = 0; i < 100 && tx.code !== 200; i++) {
      await sleep(20);
      tx = (await http(sim, `/api/v1/tx?by=hash&value=${d.tx.tx_hash}`)).json;
    }
    const info = JSON.parse(String(tx.event_info)) as { ae: string };
    expect(JSON.parse(info.ae)).toMatchObject({ code: 21739 });
  });

  it("GTT and post-only orders need an OrderExpiry 5 minutes to 30 days ahead (21711); IOC needs none", async () => {
    const a = account(sim);
    const { bid } = await bestPrices(sim);
    const now = Date.now();
    for (const [tif, expiry] of [
      [1, now + 60_000],
      [2, now + 31 * 86_400_000],
    ] as const) {
      const r = await sendOrder(sim, a, {
        base: 50n,
        price: bid - 300,
        isAsk: false,
        tif,
        orderExpiry: BigInt(expiry),
      });
      expect([r.status, r.json.code]).toEqual([400, 21711]);
    }
    const ok = await sendOrder(sim, a, {
      base: 50n,
      price: bid - 300,
      isAsk: false,
      tif: 1,
      orderExpiry: BigInt(now + 10 * 60_000),
    });
    expect(ok.json.code).toBe(200);
  });

  it("sendTxBatch: one code for the batch, tx_hash an array; 21513, 21514, 21105, 21121", async () => {
    const a = account(sim);
    const { bid } = await bestPrices(sim);
    const tx = (nonce: bigint) => orderTx(sim, a, { base: 50n, price: bid - 400, isAsk: false, tif: 1, nonce });
    const batch = (types: number[], infos: string[]) =>
      http(sim, "/api/v1/sendTxBatch", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ tx_types: JSON.stringify(types), tx_infos: JSON.stringify(infos) }).toString(),
      });
    const t1 = tx(a.nonce);
    const t2 = tx(a.nonce + 1n);
    expect((await batch([14], [t1.tx_info, t2.tx_info])).json.code).toBe(21513);
    expect((await batch(new Array(51).fill(14), new Array(51).fill(t1.tx_info))).json.code).toBe(21514);
    expect((await batch([14, 14], [t2.tx_info, t1.tx_info])).json.code).toBe(21105);
    const other = account(sim);
    const t3 = orderTx(sim, other, { base: 50n, price: bid - 400, isAsk: false, tif: 1 });
    expect((await batch([14, 14], [t1.tx_info, t3.tx_info])).json.code).toBe(21121);
    const r = await batch([14, 14], [t1.tx_info, t2.tx_info]);
    expect(r.json).toMatchObject({ code: 200, tx_hash: [t1.tx_hash, t2.tx_hash] });
    a.nonce += 2n;
  });
});

describe("account channels (L.13.9)", () => {
  it("the account_all_trades snapshot carries recent trades; trades_snapshot=empty does not", async () => {
    const a = await accountWithFills(3);
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_trades/${a.index}`, auth: token(a) });
    const snap = await c.next(isType("subscribed/account_all_trades"));
    const rows = Object.values(snap.json!.trades as Record<string, Row[]>).flat();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    c.close();
    await variant(a, { trades_snapshot: "empty" });
    const d = await RawClient.open(wsFor(a));
    d.send({ type: "subscribe", channel: `account_all_trades/${a.index}`, auth: token(a) });
    expect((await d.next(isType("subscribed/account_all_trades"))).json!.trades).toEqual({});
    d.close();
  });

  it("account_all_positions updates carry only the changed market (delta) or every market (full)", async () => {
    for (const mode of ["delta", "full"] as const) {
      const a = account(sim);
      await variant(a, { positions_frames: mode });
      await post("/_sim/position_shift", { account_index: a.index.toString(), market: 1, delta: "100" });
      const c = await RawClient.open(wsFor(a));
      c.send({ type: "subscribe", channel: `account_all_positions/${a.index}` });
      await c.next(isType("subscribed/account_all_positions"));
      await post("/_sim/position_shift", { account_index: a.index.toString(), market: 0, delta: "50" });
      const f = await c.next(isType("update/account_all_positions"));
      const markets = Object.keys(f.json!.positions as Record<string, unknown>).sort();
      expect(markets, mode).toEqual(mode === "delta" ? ["0"] : ["0", "1"]);
      c.close();
    }
  });
});
