/**
 * Every fault and every protocol variant, each scoped to its own account (connections claim their
 * account with ?sim_account= or by subscribing with its token), and the scope holding: a fault on
 * one account never touches another.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULT_NAMES } from "../../sim/faults.ts";
import { startSimulator, type Simulator } from "../../sim/server.ts";
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
  type Frame,
  sleep,
  token,
  type TestAccount,
} from "./support.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 5, bookIntervalMs: 20, executionDelayMs: 10, serverPingMs: 100 });
});
afterAll(async () => {
  await sim.close();
});

async function fault(spec: Record<string, unknown>): Promise<string> {
  const r = await http(sim, "/_sim/faults", { method: "POST", body: JSON.stringify(spec) });
  expect(r.status, r.text).toBe(201);
  return r.json.id as string;
}

const wsFor = (a: TestAccount) => `${sim.ws}?sim_account=${a.index}`;

async function subscribedOrders(a: TestAccount): Promise<RawClient> {
  const c = await RawClient.open(wsFor(a));
  c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
  return c;
}

/** GET /api/v1/tx until the hash is indexed (it executes a few ms after sendTx answers). */
async function txWhenIndexed(hash: string, timeoutMs = 3_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await http(sim, `/api/v1/tx?by=hash&value=${hash}`);
    if (r.json.code === 200) return r.json;
    if (Date.now() > until) throw new Error(`tx ${hash} not indexed: ${r.text}`);
    await sleep(20);
  }
}

const tested = new Set<string>();
function faultIt(name: (typeof FAULT_NAMES)[number], fn: () => Promise<void>) {
  tested.add(name);
  it(name, fn);
}

describe("faults", () => {
  faultIt("refuse_connections", async () => {
    const a = account(sim);
    await fault({ name: "refuse_connections", status: 503, account_index: a.index.toString() });
    await expect(RawClient.open(wsFor(a))).rejects.toThrow(/503/);
    const other = await RawClient.open(sim.ws);
    await other.next(isType("connected"));
    other.close();
  });

  faultIt("close_after_connect", async () => {
    const a = account(sim);
    await fault({ name: "close_after_connect", code: 4001, account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    expect((await c.waitClosed()).code).toBe(4001);
  });

  faultIt("no_connected_frame", async () => {
    const a = account(sim);
    await fault({ name: "no_connected_frame", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    await c.next(isType("subscribed/order_book"));
    expect(c.frames.some(isType("connected"))).toBe(false);
    c.close();
  });

  faultIt("ignore_subscriptions", async () => {
    const a = account(sim);
    await fault({ name: "ignore_subscriptions", channel: "order_book", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_orders"));
    expect(await c.none((f) => /order_book/.test(String(f.json?.type)) || f.json?.error !== undefined, 200, 0)).toBe(
      true,
    );
    c.close();
  });

  faultIt("reject_auth", async () => {
    const a = account(sim);
    await fault({ name: "reject_auth", account_index: a.index.toString() });
    const c = await subscribedOrders(a);
    const e = await c.next(isError(20013));
    expect(JSON.stringify(e.json)).toContain("invalid auth");
    const rest = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=1`, {
      headers: { authorization: token(a) },
    });
    expect(rest.status).toBe(401);
    c.close();
  });

  faultIt("expire_auth", async () => {
    const a = account(sim);
    const c = await subscribedOrders(a);
    await c.next(isType("subscribed/account_orders"));
    await fault({ name: "expire_auth", account_index: a.index.toString() });
    const { ask } = await bestPrices(sim);
    const from = c.frames.length;
    expect((await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false })).json.code).toBe(200);
    expect(await c.none(isType("update/account_orders"), 200, from)).toBe(true);
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    await c.next(isError(20013), 2000, from);
    c.close();
  });

  faultIt("stall", async () => {
    const a = account(sim);
    const c = await RawClient.open(wsFor(a));
    await c.next(isType("connected"));
    await fault({ name: "stall", account_index: a.index.toString() });
    c.send({ type: "ping" });
    c.send({ type: "subscribe", channel: "order_book/0" });
    expect(await c.none(() => true, 200)).toBe(true);
    expect(c.closed).toBeNull();
    c.close();
  });

  faultIt("stop_book_updates", async () => {
    const a = account(sim);
    await fault({ name: "stop_book_updates", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    await c.next(isType("subscribed/order_book"));
    expect(await c.none(isType("update/order_book"), 200)).toBe(true);
    c.close();
  });

  faultIt("book_nonce_gap", async () => {
    const a = account(sim);
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    const snap = await c.next(isType("subscribed/order_book"));
    const first = await c.next(isType("update/order_book"), 2000, c.frames.indexOf(snap) + 1);
    await fault({ name: "book_nonce_gap", account_index: a.index.toString() });
    await sleep(100);
    const ups = c.frames
      .filter(isType("update/order_book"))
      .map((f) => f.json!.order_book as { nonce: number; begin_nonce: number });
    const breaks = ups.slice(1).filter((u, i) => u.begin_nonce !== ups[i]!.nonce);
    expect(first).toBeDefined();
    expect(breaks.length).toBe(1);
    c.close();
  });

  faultIt("duplicate_frames", async () => {
    const a = account(sim);
    await fault({ name: "duplicate_frames", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "ping" });
    await c.next(isType("pong"));
    await sleep(50);
    expect(c.frames.filter(isType("pong")).length).toBe(2);
    c.close();
  });

  faultIt("reorder_frames", async () => {
    const a = account(sim);
    await fault({ name: "reorder_frames", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    await c.next(isType("update/order_book"), 2000);
    await sleep(200);
    const nonces = c.frames
      .filter((f) => f.json?.type === "update/order_book")
      .map((f) => (f.json!.order_book as { nonce: number }).nonce);
    expect(nonces.some((n, i) => i > 0 && n < nonces[i - 1]!)).toBe(true);
    c.close();
  });

  faultIt("delay_frames", async () => {
    const a = account(sim);
    const c = await RawClient.open(wsFor(a));
    await c.next(isType("connected"));
    await fault({ name: "delay_frames", ms: 300, account_index: a.index.toString() });
    const t0 = Date.now();
    c.send({ type: "ping" });
    const p = await c.next(isType("pong"), 2000);
    expect(p.at - t0).toBeGreaterThanOrEqual(280);
    c.close();
  });

  faultIt("throttle_account_frames", async () => {
    const a = account(sim);
    const c = await subscribedOrders(a);
    await c.next(isType("subscribed/account_orders"));
    await fault({ name: "throttle_account_frames", account_index: a.index.toString() });
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(await c.none(isType("update/account_orders"), 250)).toBe(true);
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${r.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect((ao.json.orders as Record<string, unknown>[])[0]).toMatchObject({ status: "filled" });
    c.close();
  });

  faultIt("server_ping", async () => {
    const a = account(sim);
    await fault({ name: "server_ping", expect_pong_ms: 150, every_ms: 50, account_index: a.index.toString() });
    const answered = await RawClient.open(wsFor(a));
    await answered.next(isType("ping"));
    answered.send({ type: "pong" });
    const silent = await RawClient.open(wsFor(a));
    await silent.next(isType("ping"));
    const closed = await silent.waitClosed(2000);
    expect(closed).toEqual({ code: 1008, reason: "no pong" });
    answered.close();
  });

  faultIt("malformed_frames", async () => {
    const a = account(sim);
    await fault({ name: "malformed_frames", every_ms: 20, account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    await c.next(
      (f) => f.json === null || String(f.json.type).includes("mystery") || f.json.order_book === "nope",
      2000,
    );
    c.close();
  });

  faultIt("oversized_frames", async () => {
    const a = account(sim);
    await fault({ name: "oversized_frames", bytes: 300_000, account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    const big = await c.next((f) => f.text.length >= 300_000, 2000);
    expect(big.json!.type).toBe("update/oversized");
    c.close();
  });

  faultIt("withhold_account_orders", async () => {
    const a = account(sim);
    await fault({ name: "withhold_account_orders", account_index: a.index.toString() });
    const c = await subscribedOrders(a);
    await c.next(isType("subscribed/account_orders"));
    const pub = await RawClient.open(sim.ws);
    pub.send({ type: "subscribe", channel: "trade/0" });
    await pub.next(isType("subscribed/trade"));
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(await c.none(isType("update/account_orders"), 250)).toBe(true);
    expect(r.json.code).toBe(200);
    expect(pub.frames.some((f) => f.text.includes(`"bid_account_id":${a.index}`))).toBe(false);
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${r.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect((ao.json.orders as Record<string, unknown>[])[0]).toMatchObject({
      status: "filled",
      filled_base_amount: "0.0050",
    });
    const acct = await http(sim, `/api/v1/account?by=index&value=${a.index}`);
    expect(JSON.stringify(acct.json)).toContain('"position":"0.0050"');
    c.close();
    pub.close();
  });

  faultIt("late_report", async () => {
    const a = account(sim);
    await fault({ name: "late_report", ms: 400, account_index: a.index.toString() });
    const c = await subscribedOrders(a);
    await c.next(isType("subscribed/account_orders"));
    const { ask } = await bestPrices(sim);
    const t0 = Date.now();
    await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const f = await c.next(isType("update/account_orders"), 3000);
    expect(f.at - t0).toBeGreaterThanOrEqual(380);
    c.close();
  });

  faultIt("late_fill", async () => {
    const a = account(sim);
    await fault({ name: "late_fill", ms: 1_500, account_index: a.index.toString() });
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    // Not executed yet, so not indexed: 21500 (unknown_tx=not_found, the default).
    expect((await http(sim, `/api/v1/tx?by=hash&value=${r.tx.tx_hash}`)).json.code).toBe(21500);
    await sleep(2_000);
    expect((await http(sim, `/api/v1/tx?by=hash&value=${r.tx.tx_hash}`)).json.status).toBe(2);
  });

  faultIt("never_match", async () => {
    const a = account(sim);
    await fault({ name: "never_match", account_index: a.index.toString() });
    const c = await subscribedOrders(a);
    await c.next(isType("subscribed/account_orders"));
    const { ask } = await bestPrices(sim);
    await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const f = await c.next(isType("update/account_orders"));
    expect(f.text).toMatch(/"status":"canceled-not-enough-liquidity"/);
    expect(f.text).toContain('"filled_base_amount":"0.0000"');
    c.close();
  });

  faultIt("no_margin", async () => {
    const a = account(sim);
    await fault({ name: "no_margin", account_index: a.index.toString() });
    const c = await subscribedOrders(a);
    await c.next(isType("subscribed/account_orders"));
    const { ask } = await bestPrices(sim);
    expect((await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false })).json.code).toBe(200);
    const f = await c.next(isType("update/account_orders"));
    expect(f.text).toMatch(/"status":"canceled-margin-not-allowed"/);
    expect(f.text).toContain('"filled_base_amount":"0.0000"');
    c.close();
  });

  faultIt("reject_tx", async () => {
    const a = account(sim);
    await fault({ name: "reject_tx", code: 21739, account_index: a.index.toString() });
    const { ask } = await bestPrices(sim);
    expect((await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false })).json.code).toBe(21739);
  });

  faultIt("fail_tx_execution", async () => {
    const a = account(sim);
    await fault({ name: "fail_tx_execution", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_all_orders"));
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(r.json.code).toBe(200);
    const tx = await txWhenIndexed(r.tx.tx_hash);
    expect(tx.status).toBe(2);
    const ae = JSON.parse(JSON.parse(String(tx.event_info)).ae as string) as unknown;
    expect(ae).toEqual({ code: 21739, message: "not enough margin to create the order" });
    expect(c.frames.some(isType("update/account_all_orders"))).toBe(false);
    c.close();
    const n = await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`);
    expect(n.json.nonce).toBe(Number(a.nonce));
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${r.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect(ao.json.orders).toEqual([]);
  });

  faultIt("rest_errors", async () => {
    const a = account(sim);
    const b = account(sim);
    await fault({ name: "rest_errors", status: 429, account_index: a.index.toString() });
    const r = await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`);
    expect(r.status).toBe(429);
    expect(r.json.code).toBe(23000);
    expect((await http(sim, `/api/v1/nextNonce?account_index=${b.index}&api_key_index=${a.apiKey}`)).status).toBe(200);
  });

  faultIt("slow_rest", async () => {
    const a = account(sim);
    await fault({ name: "slow_rest", ms: 300, account_index: a.index.toString() });
    const t0 = Date.now();
    await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  faultIt("drop_connection", async () => {
    const a = account(sim);
    await fault({ name: "drop_connection", after_ms: 100, account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    const closed = await c.waitClosed(2000);
    expect(closed.code).toBe(1006);
  });

  faultIt("lose_send_reply", async () => {
    const a = account(sim);
    const f5 = await fault({ name: "lose_send_reply", mode: "5xx", status: 502, account_index: a.index.toString() });
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(r.status).toBe(502);
    // The tx executed anyway: the nonce moved and the order exists.
    const tx = await txWhenIndexed(r.tx.tx_hash);
    expect(tx.status).toBe(2);
    expect((await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`)).json.nonce).toBe(
      Number(a.nonce) + 1,
    );
    a.nonce++;
    await http(sim, `/_sim/faults/${f5}`, { method: "DELETE" });
    await fault({ name: "lose_send_reply", mode: "timeout", account_index: a.index.toString() });
    const t = orderTx(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const ctl = new AbortController();
    const pending = fetch(`${sim.rest}/api/v1/sendTx`, {
      method: "POST",
      body: new URLSearchParams({ tx_type: "14", tx_info: t.tx_info }),
      signal: ctl.signal,
    }).then(
      () => "answered",
      () => "aborted",
    );
    const tx2 = await txWhenIndexed(t.tx_hash);
    expect(tx2.status).toBe(2);
    ctl.abort();
    expect(await pending).toBe("aborted");
    expect((await http(sim, `/_sim/faults?x=1`)).json.faults as unknown[]).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "lose_send_reply", mode: "timeout" })]),
    );
    const bad = await http(sim, "/_sim/faults", { method: "POST", body: JSON.stringify({ name: "lose_send_reply" }) });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/mode/);
  });

  faultIt("rest_lag_ms", async () => {
    const a = account(sim);
    await fault({ name: "rest_lag_ms", ms: 1_500, every_n: 2, account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_all_orders"));
    const { bid } = await bestPrices(sim);
    const first = await sendOrder(sim, a, { base: 50n, price: bid - 200, isAsk: false, tif: 1 });
    const second = await sendOrder(sim, a, { base: 50n, price: bid - 210, isAsk: false, tif: 1 });
    // Both execute and both are on the socket at once...
    await c.next((f) => f.text.includes(`"client_order_id":"${second.tx.coi}"`));
    const active = async () =>
      JSON.stringify(
        (
          await http(sim, `/api/v1/accountActiveOrders?account_index=${a.index}&market_id=0`, {
            headers: { authorization: token(a) },
          })
        ).json,
      );
    // ...but REST knows only the first (every_n 2 picks the second) until the lag passes.
    const now = await active();
    expect(now).toContain(`"client_order_id":"${first.tx.coi}"`);
    expect(now).not.toContain(`"client_order_id":"${second.tx.coi}"`);
    expect((await http(sim, `/api/v1/tx?by=hash&value=${first.tx.tx_hash}`)).json.status).toBe(2);
    expect((await http(sim, `/api/v1/tx?by=hash&value=${second.tx.tx_hash}`)).json.code).toBe(21500);
    await sleep(1_600);
    expect(await active()).toContain(`"client_order_id":"${second.tx.coi}"`);
    expect((await http(sim, `/api/v1/tx?by=hash&value=${second.tx.tx_hash}`)).json.status).toBe(2);
    c.close();
  });

  faultIt("forge_fill", async () => {
    for (const mode of ["other_account", "other_order"] as const) {
      const a = account(sim);
      await fault({ name: "forge_fill", mode, account_index: a.index.toString() });
      await fault({ name: "never_match", account_index: a.index.toString() });
      const c = await RawClient.open(wsFor(a));
      c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
      c.send({ type: "subscribe", channel: `account_all_trades/${a.index}` });
      await c.next(isType("subscribed/account_all_orders"));
      await c.next(isType("subscribed/account_all_trades"));
      const { ask } = await bestPrices(sim);
      const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
      const mine = (f: Frame) => f.json?.type === "update/account_all_orders";
      const real = await c.next((f) => mine(f) && f.text.includes("canceled-not-enough-liquidity"));
      const realOrder = (real.json!.orders as Record<string, Record<string, unknown>[]>)["0"]![0]!;
      const forged = c.frames.find((f) => mine(f) && f.text.includes('"status":"filled"'));
      expect(forged, mode).toBeDefined();
      const fo = (forged!.json!.orders as Record<string, Record<string, unknown>[]>)["0"]![0]!;
      expect(fo.client_order_id).toBe(String(r.tx.coi));
      expect(fo.filled_base_amount).toBe("0.0050");
      if (mode === "other_account") expect(fo.owner_account_index).not.toBe(realOrder.owner_account_index);
      else expect(fo.order_id).not.toBe(realOrder.order_id);
      const trade = await c.next(isType("update/account_all_trades"));
      expect(trade.text).toContain(`"bid_client_id":${r.tx.coi}`);
      if (mode === "other_account") expect(trade.text).not.toContain(`"bid_account_id":${a.index}`);
      else expect(trade.text).not.toContain(`"bid_id":${realOrder.order_id as string}`);
      // REST tells the truth.
      const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${r.tx.coi}`, {
        headers: { authorization: token(a) },
      });
      expect(ao.json.orders).toEqual([expect.objectContaining({ filled_base_amount: "0.0000" })]);
      c.close();
    }
  });

  faultIt("withhold_channel", async () => {
    const CHANNELS = {
      account_orders: (coi: bigint) => (f: Frame) =>
        f.json?.type === "update/account_orders" && f.text.includes(`"client_order_id":"${coi}"`),
      account_all_orders: (coi: bigint) => (f: Frame) =>
        f.json?.type === "update/account_all_orders" && f.text.includes(`"client_order_id":"${coi}"`),
      account_all_trades: (coi: bigint) => (f: Frame) =>
        f.json?.type === "update/account_all_trades" && f.text.includes(`"bid_client_id":${coi},`),
    };
    for (const channel of Object.keys(CHANNELS) as (keyof typeof CHANNELS)[]) {
      const a = account(sim);
      await fault({ name: "withhold_channel", channel, every_n: 2, account_index: a.index.toString() });
      const c = await RawClient.open(wsFor(a));
      c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
      c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
      c.send({ type: "subscribe", channel: `account_all_trades/${a.index}` });
      await c.next(isType("subscribed/account_all_trades"));
      const { ask, bid } = await bestPrices(sim);
      const first = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
      // The second order (every_n 2) rests as the best bid first: frames without a fill still come everywhere.
      const second = await sendOrder(sim, a, { base: 50n, price: bid + 1, isAsk: false, tif: 1 });
      const third = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
      for (const pred of Object.values(CHANNELS)) await c.next(pred(first.tx.coi));
      for (const pred of [CHANNELS.account_orders, CHANNELS.account_all_orders]) await c.next(pred(second.tx.coi));
      for (const pred of Object.values(CHANNELS)) await c.next(pred(third.tx.coi));
      // Now the resting selected order fills (a taker from another account sells into it)...
      const taker = account(sim);
      const from = c.frames.length;
      expect((await sendOrder(sim, taker, { base: 50n, price: bid + 1, isAsk: true })).json.code).toBe(200);
      const others = (Object.keys(CHANNELS) as (keyof typeof CHANNELS)[]).filter((k) => k !== channel);
      for (const k of others) await c.next(CHANNELS[k](second.tx.coi), 2000, from);
      // ...and the fill is missing on the faulted channel only.
      expect(await c.none(CHANNELS[channel](second.tx.coi), 150, from), channel).toBe(true);
      c.close();
    }
  });

  it("the new faults hold their scope: withhold_channel on one connection, withhold_orders on one account", async () => {
    const a = account(sim);
    const b = account(sim);
    const open = async (who: TestAccount) => {
      const c = await RawClient.open(wsFor(who));
      c.send({ type: "subscribe", channel: `account_all_orders/${who.index}`, auth: token(who) });
      await c.next(isType("subscribed/account_all_orders"));
      return c;
    };
    const c1 = await open(a);
    const c2 = await open(a);
    const cb = await open(b);
    const session = c1.frames.find(isType("connected"))!.json!.session_id as string;
    const f1 = await fault({ name: "withhold_channel", channel: "account_all_orders", connection: session });
    const f2 = await fault({ name: "withhold_orders", account_index: a.index.toString() });
    const { ask } = await bestPrices(sim);
    const ra = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const rb = await sendOrder(sim, b, { base: 50n, price: ask + 100, isAsk: false });
    await cb.next((f) => f.text.includes(`"client_order_id":"${rb.tx.coi}"`));
    expect(await c2.none((f) => f.text.includes(`"client_order_id":"${ra.tx.coi}"`), 150, 0)).toBe(true);
    // Without withhold_orders, the connection-scoped withhold_channel still hides the fill from c1 only.
    await http(sim, `/_sim/faults/${f2}`, { method: "DELETE" });
    const r2 = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    await c2.next((f) => f.text.includes(`"client_order_id":"${r2.tx.coi}"`) && f.text.includes('"status":"filled"'));
    expect(await c1.none((f) => f.text.includes(`"client_order_id":"${r2.tx.coi}"`), 150, 0)).toBe(true);
    await http(sim, `/_sim/faults/${f1}`, { method: "DELETE" });
    for (const c of [c1, c2, cb]) c.close();
  });

  faultIt("withhold_orders", async () => {
    const a = account(sim);
    a.coi = 880_000_000n; // unique on the public trade channel, which every test account shares
    await fault({ name: "withhold_orders", every_n: 2, account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    c.send({ type: "subscribe", channel: `account_all_trades/${a.index}` });
    c.send({ type: "subscribe", channel: "trade/0" });
    await c.next(isType("subscribed/trade"));
    const { ask } = await bestPrices(sim);
    const shown = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const hidden = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const third = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    for (const coi of [shown.tx.coi, third.tx.coi]) {
      await c.next(
        (f) => f.json?.type === "update/account_all_orders" && f.text.includes(`"client_order_id":"${coi}"`),
      );
      await c.next((f) => f.json?.type === "update/account_orders" && f.text.includes(`"client_order_id":"${coi}"`));
      await c.next((f) => f.json?.type === "update/account_all_trades" && f.text.includes(`"bid_client_id":${coi}`));
      await c.next((f) => f.json?.type === "update/trade" && f.text.includes(`"bid_client_id":${coi}`));
    }
    expect(c.frames.some((f) => f.text.includes(`"client_order_id":"${hidden.tx.coi}"`))).toBe(false);
    expect(c.frames.some((f) => f.text.includes(`"bid_client_id":${hidden.tx.coi}`))).toBe(false);
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${hidden.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect(ao.json.orders).toEqual([expect.objectContaining({ status: "filled" })]);
    c.close();
  });

  faultIt("rest_forget", async () => {
    const a = account(sim);
    const b = account(sim);
    const { ask } = await bestPrices(sim);
    const ra = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const rb = await sendOrder(sim, b, { base: 50n, price: ask + 100, isAsk: false });
    const hashA = String(ra.json.tx_hash);
    const lookUp = async (who: TestAccount, coi: bigint) =>
      (
        await http(sim, `/api/v1/accountOrders?account_index=${who.index}&client_order_indexes=${coi}`, {
          headers: { authorization: token(who) },
        })
      ).json.orders as unknown[];
    await txWhenIndexed(hashA);
    expect(await lookUp(a, ra.tx.coi)).toHaveLength(1);
    const f = await fault({ name: "rest_forget", account_index: a.index.toString() });
    // Found before, absent now: every order list and /tx; the other account is untouched.
    expect(await lookUp(a, ra.tx.coi)).toEqual([]);
    const inactive = await http(sim, `/api/v1/accountInactiveOrders?account_index=${a.index}&limit=10`, {
      headers: { authorization: token(a) },
    });
    expect(inactive.json.orders).toEqual([]);
    const tx = await http(sim, `/api/v1/tx?by=hash&value=${hashA}`);
    expect([tx.status, tx.json.code]).toEqual([400, 21500]);
    expect(await lookUp(b, rb.tx.coi)).toHaveLength(1);
    await http(sim, `/_sim/faults/${f}`, { method: "DELETE" });
    expect(await lookUp(a, ra.tx.coi)).toHaveLength(1);
  });

  faultIt("malformed_order_beside", async () => {
    const a = account(sim);
    await fault({ name: "malformed_order_beside", account_index: a.index.toString() });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_all_orders"));
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    for (const type of ["update/account_orders", "update/account_all_orders"]) {
      const f = await c.next((x) => x.json?.type === type && x.text.includes(`"client_order_id":"${r.tx.coi}"`));
      const orders = (f.json!.orders as Record<string, Record<string, unknown>[]>)["0"]!;
      // Ours, well formed, and one order object beside it with wrong field types.
      expect(orders.map((o) => typeof o.order_index)).toEqual(["number", "string"]);
      expect(orders[1]).toMatchObject({ order_index: "not-a-number", client_order_index: null, status: 7 });
    }
    c.close();
  });

  faultIt("odd_transaction_time", async () => {
    const a = account(sim);
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: `account_all_orders/${a.index}`, auth: token(a) });
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_all_orders"));
    const { ask } = await bestPrices(sim);
    const timeOf = async (as: string | null) => {
      const f = as ? await fault({ name: "odd_transaction_time", account_index: a.index.toString(), as }) : null;
      const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
      const seen: unknown[] = [];
      for (const type of ["update/account_orders", "update/account_all_orders"]) {
        const fr = await c.next((x) => x.json?.type === type && x.text.includes(`"client_order_id":"${r.tx.coi}"`));
        const o = (fr.json!.orders as Record<string, Record<string, unknown>[]>)["0"]!.at(-1)!;
        seen.push("transaction_time" in o ? o.transaction_time : "absent");
      }
      if (f) await http(sim, `/_sim/faults/${f}`, { method: "DELETE" });
      return seen;
    };
    const us = (await timeOf(null)) as number[];
    expect(us.every((v) => Number.isSafeInteger(v) && v > 1e15)).toBe(true);
    expect(await timeOf("absent")).toEqual(["absent", "absent"]);
    const ms = (await timeOf("ms")) as number[];
    expect(ms.every((v) => Number.isSafeInteger(v) && v > 1e12 && v < 1e13)).toBe(true);
    expect((await timeOf("string")).every((v) => typeof v === "string" && /^\d{16}$/.test(v))).toBe(true);
    c.close();
  });

  it("/_sim/state lists each WebSocket upgrade naming an account, refused ones too", async () => {
    const a = account(sim);
    const upgrades = async () =>
      ((await http(sim, `/_sim/state?account_index=${a.index}`)).json.accounts as { ws_upgrades: number[] }[])[0]!
        .ws_upgrades;
    expect(await upgrades()).toEqual([]);
    const c = await RawClient.open(wsFor(a));
    const f = await fault({ name: "refuse_connections", account_index: a.index.toString() });
    await expect(RawClient.open(wsFor(a))).rejects.toThrow();
    await http(sim, `/_sim/faults/${f}`, { method: "DELETE" });
    const seen = await upgrades();
    expect(seen).toHaveLength(2);
    expect(seen[1]!).toBeGreaterThanOrEqual(seen[0]!);
    c.close();
  });

  it("every fault name is exercised, unknown names are refused, faults list and clear", async () => {
    expect([...tested].sort()).toEqual([...FAULT_NAMES].sort());
    const r = await http(sim, "/_sim/faults", { method: "POST", body: JSON.stringify({ name: "gremlins" }) });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/unknown fault/);
    const id = await fault({ name: "slow_rest", ms: 1, account_index: "1" });
    expect(((await http(sim, "/_sim/faults")).json.faults as { id: string }[]).some((f) => f.id === id)).toBe(true);
    expect((await http(sim, `/_sim/faults/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await http(sim, `/_sim/faults/${id}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("variants (both sides of PROTOCOL.md's conflicts)", () => {
  const withVariant = (v: Record<string, unknown>) => accountWithVariant(sim, v);

  it("ack_channel market_account spells account_orders:{m}:{acct}", async () => {
    const a = await withVariant({ ack_channel: "market_account" });
    const c = await subscribedOrders(a);
    expect((await c.next(isType("subscribed/account_orders"))).json!.channel).toBe(`account_orders:0:${a.index}`);
    c.close();
  });

  it("error_shape flat sends {type:error, code, message}", async () => {
    const a = await withVariant({ error_shape: "flat" });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book:0" });
    const e = await c.next(isError(30005));
    expect(e.json!.type).toBe("error");
    c.close();
  });

  it("account_orders_ack false sends no subscribed/account_orders, but updates still come", async () => {
    const a = await withVariant({ account_orders_ack: false });
    const c = await subscribedOrders(a);
    const { ask } = await bestPrices(sim);
    await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    await c.next(isType("update/account_orders"));
    expect(c.frames.some(isType("subscribed/account_orders"))).toBe(false);
    c.close();
  });

  it("server_pings on", async () => {
    const a = await withVariant({ server_pings: true });
    const c = await RawClient.open(wsFor(a));
    await c.next(isType("ping"), 2000);
    c.send({ type: "pong" });
    c.close();
  });

  it("begin_nonce false: book updates without begin_nonce (older servers)", async () => {
    const a = await withVariant({ begin_nonce: false });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    const u = await c.next(isType("update/order_book"));
    expect(Object.keys(u.json!.order_book as object).sort()).toEqual(["asks", "bids", "code", "nonce", "offset"]);
    c.close();
  });

  it("unsubscribed_shape family answers unsubscribed/order_book", async () => {
    const a = await withVariant({ unsubscribed_shape: "family" });
    const c = await RawClient.open(wsFor(a));
    c.send({ type: "subscribe", channel: "order_book/0" });
    await c.next(isType("subscribed/order_book"));
    c.send({ type: "unsubscribe", channel: "order_book/0" });
    await c.next(isType("unsubscribed/order_book"));
    c.close();
  });

  it("unknown variants are refused", async () => {
    const r = await http(sim, "/_sim/variants", { method: "POST", body: JSON.stringify({ sparkles: true }) });
    expect(r.status).toBe(400);
  });
});
