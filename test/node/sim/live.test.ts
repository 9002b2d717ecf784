/**
 * The simulator against LIVE.md (the signed testnet run), with raw sockets and raw HTTP: the sendTx
 * body, deferred application errors visible only in /tx, client order index reuse, the nonce table
 * L.4, account_all_* snapshots and updates, the Order object of L.7, and the variants that keep the
 * older (PROTOCOL.md) behaviours.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../sim/server.ts";
import { signTx, type CancelAllOrdersTx, type CancelOrderTx } from "../../../worker/lighter/tx.ts";
import {
  RawClient,
  account,
  accountWithVariant,
  bestPrices,
  http,
  isError,
  isType,
  orderTx,
  sendOrder,
  sleep,
  token,
  type Frame,
  type TestAccount,
} from "./support.ts";

let sim: Simulator;
beforeAll(async () => {
  // A sendTx answer takes 80 ms here, so two sends "in flight at once" overlap for certain.
  sim = await startSimulator({ port: 0, seed: 21, bookIntervalMs: 20, executionDelayMs: 10, sendTxLatencyMs: 80 });
});
afterAll(async () => {
  await sim.close();
});

type Orders = Record<string, Record<string, unknown>[]>;

const nextNonce = async (a: TestAccount) =>
  (await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`)).json;

async function txWhenIndexed(hash: string, timeoutMs = 3_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await http(sim, `/api/v1/tx?by=hash&value=${hash}`);
    if (r.json.code === 200) return r.json;
    if (Date.now() > until) throw new Error(`tx ${hash} not indexed: ${r.text}`);
    await sleep(20);
  }
}

/** event_info → ae, decoded as live needs it (body → event_info string → ae string). */
function appError(tx: Record<string, unknown>): unknown {
  expect(typeof tx.event_info).toBe("string");
  const ev = JSON.parse(tx.event_info as string) as Record<string, unknown>;
  expect(ev).toHaveProperty("to");
  expect(typeof ev.ae).toBe("string");
  return ev.ae === "" ? "" : (JSON.parse(ev.ae as string) as unknown);
}

async function postTx(txType: number, txInfo: string) {
  return http(sim, "/api/v1/sendTx", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ tx_type: String(txType), tx_info: txInfo }).toString(),
  });
}

async function cancel(a: TestAccount, orderIndex: bigint, nonce = a.nonce) {
  const tx: CancelOrderTx = {
    txType: 15,
    AccountIndex: a.index,
    ApiKeyIndex: a.apiKey,
    MarketIndex: 0,
    Index: orderIndex,
    ExpiredAt: BigInt(Date.now() + 590_000),
    Nonce: nonce,
  };
  const t = signTx(tx, a.key, sim.chainId);
  const r = await postTx(t.tx_type, t.tx_info);
  if (r.json.code === 200) a.nonce++;
  return r;
}

async function cancelAll(a: TestAccount) {
  const tx: CancelAllOrdersTx = {
    txType: 16,
    AccountIndex: a.index,
    ApiKeyIndex: a.apiKey,
    TimeInForce: 0,
    Time: 0n,
    ExpiredAt: BigInt(Date.now() + 590_000),
    Nonce: a.nonce,
  };
  const t = signTx(tx, a.key, sim.chainId);
  const r = await postTx(t.tx_type, t.tx_info);
  if (r.json.code === 200) a.nonce++;
  return r;
}

async function allOrders(a: TestAccount): Promise<RawClient> {
  const c = await RawClient.open(`${sim.ws}?sim_account=${a.index}`);
  c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
  await c.next(isType("subscribed/account_all_orders"));
  return c;
}

const updateWith = (coi: bigint, status?: string) => (f: Frame) =>
  f.json?.type === "update/account_all_orders" &&
  f.text.includes(`"client_order_id":"${coi}"`) &&
  (status === undefined || f.text.includes(`"status":"${status}"`));

/** The order index of `coi` from a frame's raw text (exact: it may exceed 2^53). */
function orderIndexIn(f: Frame, coi: bigint): bigint {
  const orders = Object.values(f.json!.orders as Orders).flat();
  const o = orders.find((x) => x.client_order_id === String(coi))!;
  return BigInt(o.order_id as string);
}

async function restingBid(a: TestAccount, offset = 300) {
  const { bid } = await bestPrices(sim);
  return sendOrder(sim, a, { base: 50n, price: bid - offset, isAsk: false, tif: 1 });
}

describe("sendTx (L.2)", () => {
  it("an accepted tx: HTTP 200 with exactly code, message (JSON in a string), tx_hash, predicted_execution_time_ms", async () => {
    const a = account(sim);
    const r = await restingBid(a);
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(["code", "message", "predicted_execution_time_ms", "tx_hash"]);
    expect(r.json.code).toBe(200);
    expect(JSON.parse(r.json.message as string)).toEqual({ ratelimit: "Ratelimit is off" });
    expect(r.json.tx_hash).toMatch(/^[0-9a-f]{80}$/);
    expect(r.json.tx_hash).toBe(r.tx.tx_hash);
    expect(Number.isInteger(r.json.predicted_execution_time_ms)).toBe(true);
    const tx = await txWhenIndexed(r.tx.tx_hash);
    expect(tx.status).toBe(2);
    expect(appError(tx)).toBe("");
    expect(String(tx.expire_at)).toBe(/"ExpiredAt":(\d+)/.exec(r.tx.tx_info)![1]);
  });

  it("a duplicate LIVE client order index: HTTP 200, nonce consumed, no order, no frame; /tx status 2 with ae 21728", async () => {
    const a = account(sim);
    const c = await allOrders(a);
    const first = await restingBid(a);
    await c.next(updateWith(first.tx.coi, "open"));
    const nonceBefore = (await nextNonce(a)).nonce as number;
    const from = c.frames.length;
    const dup = await sendOrder(sim, a, { base: 50n, price: 200_000, isAsk: false, tif: 1, coi: first.tx.coi });
    expect(dup.status).toBe(200);
    expect(Object.keys(dup.json).sort()).toEqual(["code", "message", "predicted_execution_time_ms", "tx_hash"]);
    const tx = await txWhenIndexed(dup.tx.tx_hash);
    expect(tx.status).toBe(2);
    expect(appError(tx)).toEqual({ code: 21728, message: "client order index already exists" });
    expect((await nextNonce(a)).nonce).toBe(nonceBefore + 1);
    expect(await c.none(isType("update/account_all_orders"), 150, from)).toBe(true);
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${first.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect((ao.json.orders as unknown[]).length).toBe(1);
    c.close();
  });

  it("reuse of an ended order's client order index is accepted: after a cancel and after an IOC filled", async () => {
    const a = account(sim);
    const c = await allOrders(a);
    const first = await restingBid(a);
    const open = await c.next(updateWith(first.tx.coi, "open"));
    const idx1 = orderIndexIn(open, first.tx.coi);
    expect((await cancel(a, idx1)).json.code).toBe(200);
    await c.next(updateWith(first.tx.coi, "canceled"));
    const { bid, ask } = await bestPrices(sim);
    const again = await sendOrder(sim, a, { base: 50n, price: bid - 310, isAsk: false, tif: 1, coi: first.tx.coi });
    expect(again.json.code).toBe(200);
    const reopened = await c.next(updateWith(first.tx.coi, "open"), 2000, c.frames.indexOf(open) + 1);
    expect(orderIndexIn(reopened, first.tx.coi)).not.toBe(idx1);
    expect(appError(await txWhenIndexed(again.tx.tx_hash))).toBe("");

    const ioc = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    await c.next(updateWith(ioc.tx.coi, "filled"));
    const reuse = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false, coi: ioc.tx.coi });
    expect(reuse.json.code).toBe(200);
    expect(appError(await txWhenIndexed(reuse.tx.tx_hash))).toBe("");
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${ioc.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect((ao.json.orders as Record<string, unknown>[]).map((o) => o.status)).toEqual(["filled", "filled"]);
    c.close();
  });

  it("margin, price band and reduce-only are application errors too: 200, then /tx ae 21739 / 21734 / 21732", async () => {
    const a = account(sim);
    const { ask, bid } = await bestPrices(sim);
    const band = await sendOrder(sim, a, { base: 50n, price: Math.round(ask * 1.2), isAsk: false, tif: 1 });
    const ro = await sendOrder(sim, a, { base: 50n, price: bid - 50, isAsk: true, reduceOnly: true });
    const margin = await sendOrder(sim, a, { base: 5_000_000n, price: bid - 300, isAsk: false, tif: 1 });
    for (const r of [band, ro, margin]) expect(r.status).toBe(200);
    expect(appError(await txWhenIndexed(band.tx.tx_hash))).toMatchObject({ code: 21734 });
    expect(appError(await txWhenIndexed(ro.tx.tx_hash))).toMatchObject({ code: 21732 });
    expect(appError(await txWhenIndexed(margin.tx.tx_hash))).toEqual({
      code: 21739,
      message: "not enough margin to create the order",
    });
    expect((await nextNonce(a)).nonce).toBe(Number(a.nonce));
  });
});

describe("nonces (L.4 table, one API key)", () => {
  it("fresh 1; create 1→2; replay 400 21104 (2); cancel 2→3; 3 creates 3→6; cancel-all 6→7; skip 400 (7); correct 7→8; n and n+1 in flight: 200 then 400 21104 (8→9)", async () => {
    const a = account(sim);
    expect(await nextNonce(a)).toEqual({ code: 200, nonce: 1 });
    const c = await allOrders(a);
    const first = await restingBid(a);
    expect(first.status).toBe(200);
    expect((await nextNonce(a)).nonce).toBe(2);
    // Replay the very same signed tx.
    const replay = await postTx(first.tx.tx_type, first.tx.tx_info);
    expect([replay.status, replay.json.code, replay.json.message]).toEqual([400, 21104, "invalid nonce"]);
    expect((await nextNonce(a)).nonce).toBe(2);
    const open = await c.next(updateWith(first.tx.coi, "open"));
    expect((await cancel(a, orderIndexIn(open, first.tx.coi))).status).toBe(200);
    expect((await nextNonce(a)).nonce).toBe(3);
    await c.next(updateWith(first.tx.coi, "canceled"));
    const reuse = await restingBid(a, 310);
    const reuseCoi = await sendOrder(sim, a, { base: 50n, price: 200_000, isAsk: false, tif: 1, coi: first.tx.coi });
    const distinct = await restingBid(a, 320);
    for (const r of [reuse, reuseCoi, distinct]) expect(r.status).toBe(200);
    expect((await nextNonce(a)).nonce).toBe(6);
    expect((await cancelAll(a)).status).toBe(200);
    expect((await nextNonce(a)).nonce).toBe(7);
    const gap = await sendOrder(sim, a, { base: 50n, price: 200_000, isAsk: false, tif: 1, nonce: a.nonce + 1n });
    expect([gap.status, gap.json.code]).toEqual([400, 21104]);
    expect((await nextNonce(a)).nonce).toBe(7);
    expect((await restingBid(a, 330)).status).toBe(200);
    expect((await nextNonce(a)).nonce).toBe(8);
    const n = orderTx(sim, a, { base: 50n, price: 200_000, isAsk: false, tif: 1, nonce: 8n });
    const n1 = orderTx(sim, a, { base: 50n, price: 200_100, isAsk: false, tif: 1, nonce: 9n });
    const [r1, r2] = await Promise.all([postTx(14, n.tx_info), sleep(5).then(() => postTx(14, n1.tx_info))]);
    expect([r1.status, r1.json.code]).toEqual([200, 200]);
    expect([r2.status, r2.json.code]).toEqual([400, 21104]);
    expect((await nextNonce(a)).nonce).toBe(9);
    c.close();
  });
});

describe("account_all_* channels (L.7, L.9)", () => {
  it("account_all_orders: {} snapshot, updates grouped by market with only the changed orders, one frame per cancel-all, snapshot after a reconnect", async () => {
    const a = account(sim);
    const c = await allOrders(a);
    const snap = c.frames.find(isType("subscribed/account_all_orders"))!;
    expect(snap.json).toEqual({
      channel: `account_all_orders:${a.index}`,
      orders: {},
      type: "subscribed/account_all_orders",
    });
    const o1 = await restingBid(a, 300);
    const u1 = await c.next(updateWith(o1.tx.coi, "open"));
    expect(Object.keys(u1.json!).sort()).toEqual(["channel", "orders", "type"]);
    expect(u1.json!.channel).toBe(`account_all_orders:${a.index}`);
    expect(Object.keys(u1.json!.orders as Orders)).toEqual(["0"]);
    expect((u1.json!.orders as Orders)["0"]).toHaveLength(1);
    const o2 = await restingBid(a, 310);
    const u2 = await c.next(updateWith(o2.tx.coi, "open"));
    expect(u2.text).not.toContain(`"client_order_id":"${o1.tx.coi}"`);
    // A reconnect (no close handshake) gets both open orders in the snapshot; nothing was canceled.
    c.close();
    const c2 = await allOrders(a);
    const snap2 = c2.frames.find(isType("subscribed/account_all_orders"))!;
    const listed = (snap2.json!.orders as Orders)["0"]!.map((o) => o.client_order_id).sort();
    expect(listed).toEqual([String(o1.tx.coi), String(o2.tx.coi)].sort());
    const from = c2.frames.length;
    expect((await cancelAll(a)).status).toBe(200);
    const all = await c2.next(updateWith(o1.tx.coi, "canceled"), 2000, from);
    const both = (all.json!.orders as Orders)["0"]!;
    expect(both.map((o) => o.status)).toEqual(["canceled", "canceled"]);
    expect(await c2.none(isType("update/account_all_orders"), 150)).toBe(true);
    expect(c2.frames.slice(from).filter(isType("update/account_all_orders"))).toHaveLength(1);
    c2.close();
    const c3 = await allOrders(a);
    expect(c3.frames.find(isType("subscribed/account_all_orders"))!.json!.orders).toEqual({});
    c3.close();
  });

  it("auth: account_all_orders needs a token (20001); account_all_trades, account_all_positions and account_all do not", async () => {
    const a = account(sim);
    const c = await RawClient.open(sim.ws);
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}` });
    const e = await c.next(isError(20001));
    expect(e.json).toEqual({
      error: { code: 20001, message: `invalid param : auth field is required: account_all_orders:${a.index}` },
    });
    c.send({ type: "subscribe", channel: `account_all_trades/${a.index}` });
    const t = await c.next(isType("subscribed/account_all_trades"));
    expect(t.json).toEqual({
      channel: `account_all_trades:${a.index}`,
      trades: {},
      total_volume: 0,
      monthly_volume: 0,
      weekly_volume: 0,
      daily_volume: 0,
      type: "subscribed/account_all_trades",
    });
    c.send({ type: "subscribe", channel: `account_all_positions/${a.index}` });
    const p = await c.next(isType("subscribed/account_all_positions"));
    expect(p.json).toEqual({
      channel: `account_all_positions:${a.index}`,
      positions: {},
      shares: [],
      type: "subscribed/account_all_positions",
    });
    c.send({ type: "subscribe", channel: `account_all/${a.index}` });
    await c.next(isType("subscribed/account_all"));
    // Positions move on placement and on cancel, with no fill (open_order_count 1 → 0).
    await restingBid(a);
    const up = await c.next(isType("update/account_all_positions"));
    const pos = (up.json!.positions as Record<string, Record<string, unknown>>)["0"]!;
    expect(pos).toMatchObject({ market_id: 0, open_order_count: 1, sign: 1, position: "0.0000" });
    expect((await cancelAll(a)).status).toBe(200);
    const down = await c.next((f) => f.json?.type === "update/account_all_positions" && f !== up);
    expect((down.json!.positions as Record<string, Record<string, unknown>>)["0"]!.open_order_count).toBe(0);
    c.close();
  });
});

describe("the Order object (L.7 table, L.9)", () => {
  const NUMBERS = [
    "order_index",
    "client_order_index",
    "market_index",
    "owner_account_index",
    "nonce",
    "parent_order_index",
    "trigger_time",
    "block_height",
    "order_flags",
    "base_size",
    "base_price",
    "timestamp",
    "created_at",
    "updated_at",
    "transaction_time",
    "order_expiry",
  ];
  const STRINGS = [
    "order_id",
    "client_order_id",
    "parent_order_id",
    "to_trigger_order_id_0",
    "to_trigger_order_id_1",
    "to_cancel_order_id_0",
    "initial_base_amount",
    "remaining_base_amount",
    "filled_base_amount",
    "filled_quote_amount",
    "price",
    "trigger_price",
    "side",
    "type",
    "time_in_force",
    "status",
    "trigger_status",
    "integrator_fee_collector_index",
    "integrator_taker_fee",
    "integrator_maker_fee",
  ];

  function checkShape(o: Record<string, unknown>, integrator: string): void {
    expect(Object.keys(o)).toHaveLength(38);
    for (const k of NUMBERS) expect(typeof o[k], k).toBe("number");
    for (const k of STRINGS) expect(typeof o[k], k).toBe("string");
    expect(typeof o.is_ask).toBe("boolean");
    expect(typeof o.reduce_only).toBe("boolean");
    expect(o.side).toBe("");
    expect(o.order_flags).toBe(0);
    for (const k of ["integrator_fee_collector_index", "integrator_taker_fee", "integrator_maker_fee"])
      expect(o[k], k).toBe(integrator);
    const secs = Math.floor(Date.now() / 1000);
    for (const k of ["timestamp", "created_at", "updated_at"]) {
      expect(o[k] as number, k).toBeGreaterThan(secs - 60);
      expect(o[k] as number, k).toBeLessThanOrEqual(secs + 1);
    }
    expect(o.transaction_time as number).toBeGreaterThan(secs * 1_000_000 - 60_000_000);
    expect(o.transaction_time as number).toBeGreaterThanOrEqual((o.updated_at as number) * 1_000_000);
  }

  it('38 keys and their types; update frames say integrator "0", snapshots and REST say ""; a cancel ends at remaining 0, base_size 0, with updated_at and block_height kept', async () => {
    const a = account(sim);
    const c = await allOrders(a);
    const r = await restingBid(a);
    const open = await c.next(updateWith(r.tx.coi, "open"));
    const o = (open.json!.orders as Orders)["0"]![0]!;
    checkShape(o, "0");
    expect(o).toMatchObject({ base_size: 50, remaining_base_amount: "0.0050", initial_base_amount: "0.0050" });
    expect(o.time_in_force).toBe("good-till-time");
    // The order's own nonce is order_index − 2^49 (exact: from the raw text).
    const idx = orderIndexIn(open, r.tx.coi);
    expect(open.text).toContain(`"nonce":${idx - (1n << 49n)},`);
    const c2 = await allOrders(a);
    checkShape((c2.frames.find(isType("subscribed/account_all_orders"))!.json!.orders as Orders)["0"]![0]!, "");
    c2.close();
    const rest = await http(sim, `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0`, {
      headers: { authorization: token(a) },
    });
    checkShape((rest.json.orders as Record<string, unknown>[])[0]!, "");
    expect((await cancel(a, idx)).status).toBe(200);
    const gone = await c.next(updateWith(r.tx.coi, "canceled"));
    const g = (gone.json!.orders as Orders)["0"]![0]!;
    checkShape(g, "0");
    expect(g).toMatchObject({ remaining_base_amount: "0.0000", base_size: 0, filled_base_amount: "0.0000" });
    expect(g.updated_at).toBe(o.updated_at);
    expect(g.block_height).toBe(o.block_height);
    expect(g.transaction_time as number).toBeGreaterThan(o.transaction_time as number);
    c.close();
  });
});

describe("/tx for a hash the exchange has not indexed, and the variants", () => {
  const withVariant = (v: Record<string, unknown>): Promise<TestAccount> => accountWithVariant(sim, v);

  it("unknown hash: 21500 by default; unknown_tx=empty answers HTTP 200 with an empty record", async () => {
    const unknown = "ab".repeat(40);
    const r = await http(sim, `/api/v1/tx?by=hash&value=${unknown}`);
    expect([r.status, r.json.code]).toEqual([400, 21500]);
    expect((await http(sim, "/_sim/variants", { method: "POST", body: '{"unknown_tx":"empty"}' })).status).toBe(200);
    try {
      const e = await http(sim, `/api/v1/tx?by=hash&value=${unknown}`);
      expect(e.status).toBe(200);
      expect(e.json).toMatchObject({ code: 200, hash: "", event_info: "", status: 0 });
    } finally {
      await http(sim, "/_sim/variants", { method: "POST", body: '{"unknown_tx":"not_found"}' });
    }
  });

  it("unknown_tx=pending: a queued tx shows status 1 until it executes", async () => {
    const a = await withVariant({ unknown_tx: "pending" });
    await http(sim, "/_sim/faults", {
      method: "POST",
      body: JSON.stringify({ name: "late_fill", ms: 600, account_index: a.index.toString() }),
    });
    const r = await restingBid(a);
    expect((await http(sim, `/api/v1/tx?by=hash&value=${r.tx.tx_hash}`)).json.status).toBe(1);
    await sleep(800);
    expect((await http(sim, `/api/v1/tx?by=hash&value=${r.tx.tx_hash}`)).json.status).toBe(2);
  });

  it("app_errors=immediate: HTTP 400 with the code, nonce unchanged (also for a duplicate of a queued create)", async () => {
    const a = await withVariant({ app_errors: "immediate" });
    const { ask } = await bestPrices(sim);
    const first = await restingBid(a);
    const dup = await sendOrder(sim, a, { base: 50n, price: 200_000, isAsk: false, tif: 1, coi: first.tx.coi });
    expect([dup.status, dup.json.code, dup.json.message]).toEqual([400, 21728, "client order index already exists"]);
    const band = await sendOrder(sim, a, { base: 50n, price: Math.round(ask * 1.2), isAsk: false, tif: 1 });
    expect([band.status, band.json.code]).toEqual([400, 21734]);
    expect((await nextNonce(a)).nonce).toBe(2);
  });

  it("app_error_shape=name: a failed tx is status 0 with a bare error name in ae", async () => {
    const a = await withVariant({ app_error_shape: "name" });
    const first = await restingBid(a);
    await txWhenIndexed(first.tx.tx_hash);
    const dup = await sendOrder(sim, a, { base: 50n, price: 200_000, isAsk: false, tif: 1, coi: first.tx.coi });
    const tx = await txWhenIndexed(dup.tx.tx_hash);
    expect(tx.status).toBe(0);
    expect(JSON.parse(tx.event_info as string).ae).toBe("AppErrClientOrderIndexAlreadyExists");
  });

  it("ended_remaining=kept: an IOC that partly fills ends canceled-* with its unfilled rest", async () => {
    const a = await withVariant({ ended_remaining: "kept" });
    const c = await allOrders(a);
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 5_000n, price: ask, isAsk: false });
    const f = await c.next(updateWith(r.tx.coi, "canceled-not-enough-liquidity"));
    const o = (f.json!.orders as Orders)["0"]![0]!;
    expect(Number(o.remaining_base_amount)).toBeGreaterThan(0);
    expect(o.base_size).toBe(Math.round(Number(o.remaining_base_amount) * 10_000));
    c.close();
  });

  it("variant values are checked", async () => {
    const r = await http(sim, "/_sim/variants", { method: "POST", body: '{"app_errors":"sometimes"}' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/app_errors must be one of deferred, immediate/);
  });
});

describe("REST auth answers (L.6)", () => {
  it("no token: 20001 naming both places; a malformed token: 401 20013 invalid auth string; header and auth query both work", async () => {
    const a = account(sim);
    const path = `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0`;
    expect((await http(sim, path)).json).toEqual({
      code: 20001,
      message: "invalid param : auth query param and Authorization header are empty",
    });
    const bad = await http(sim, path, { headers: { authorization: "not-a-token" } });
    expect([bad.status, bad.json.code, bad.json.message]).toEqual([401, 20013, "invalid auth: invalid auth string"]);
    const far = await http(sim, path, {
      headers: { authorization: token(a, Math.floor(Date.now() / 1000) + 9 * 3600) },
    });
    expect([far.status, far.json.message]).toEqual([401, "invalid auth: invalid deadline"]);
    expect((await http(sim, path, { headers: { authorization: token(a) } })).json.code).toBe(200);
    expect((await http(sim, `${path}&auth=${encodeURIComponent(token(a))}`)).json.code).toBe(200);
    const limits = await http(sim, `/api/v1/accountLimits?account_index=${a.index}`, {
      headers: { authorization: token(a) },
    });
    expect([limits.status, limits.json.user_tier]).toEqual([200, "standard"]);
    expect((await http(sim, `/api/v1/accountLimits?account_index=${a.index}`)).json.code).toBe(20001);
  });
});

describe("GET /_sim/requests", () => {
  it("lists method, path with query and whether an Authorization header was sent; a token in a URL is flagged and redacted", async () => {
    const a = account(sim);
    const tok = token(a);
    const mark = ((await http(sim, "/_sim/requests?limit=1")).json.requests as { seq: number }[])[0]?.seq ?? 0;
    await http(sim, `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0`, {
      headers: { authorization: tok },
    });
    await http(sim, `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0&auth=${encodeURIComponent(tok)}`);
    const log = await http(sim, `/_sim/requests?since=${mark}`);
    expect(log.text).not.toContain(tok.split(":")[3]!);
    const mine = (log.json.requests as Record<string, unknown>[]).filter((e) =>
      String(e.path).includes(`account_index=${a.index}`),
    );
    expect(mine).toEqual([
      expect.objectContaining({
        method: "GET",
        path: `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0`,
        authorization_header: true,
        token_in_url: false,
      }),
      expect.objectContaining({
        path: `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0&auth=[redacted]`,
        authorization_header: false,
        token_in_url: true,
      }),
    ]);
  });
});
