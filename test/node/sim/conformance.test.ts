/**
 * Simulator conformance against PROTOCOL.md, with raw sockets and raw HTTP: frame shapes, error
 * codes in both shapes, book continuity, order/fill/trade sequences per order type, REST.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../sim/server.ts";
import {
  RawClient,
  account,
  bestPrices,
  http,
  isError,
  isType,
  orderTx,
  sendOrder,
  token,
  type TestAccount,
} from "./support.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, bookIntervalMs: 20, executionDelayMs: 10 });
});
afterAll(async () => {
  await sim.close();
});

describe("WebSocket basics", () => {
  it("first frame is connected with a session id; ping → pong", async () => {
    const c = await RawClient.open(sim.ws);
    const first = await c.next(() => true);
    expect(Object.keys(first.json!).sort()).toEqual(["session_id", "type"]);
    expect(first.json!.type).toBe("connected");
    c.send({ type: "ping" });
    await c.next(isType("pong"));
    c.close();
  });

  it("errors: invalid JSON 30000, invalid type 30001, colon channel 30005 (socket stays open)", async () => {
    const c = await RawClient.open(sim.ws);
    c.send("{nope");
    await c.next(isError(30000));
    c.send({ type: "dance" });
    await c.next(isError(30001));
    c.send({ type: "subscribe", channel: "order_book:0" });
    const e = await c.next(isError(30005));
    expect(Object.keys(e.json!)).toEqual(["error"]);
    c.send({ type: "ping" });
    await c.next(isType("pong"));
    c.close();
  });

  it("order book: snapshot shape, then deltas chained by begin_nonce == previous nonce; 30003 on a duplicate with no new snapshot; unsubscribe", async () => {
    const c = await RawClient.open(sim.ws);
    c.send({ type: "subscribe", channel: "order_book/0" });
    const snap = await c.next(isType("subscribed/order_book"));
    expect(Object.keys(snap.json!).sort()).toEqual([
      "channel",
      "last_updated_at",
      "offset",
      "order_book",
      "timestamp",
      "type",
    ]);
    expect(snap.json!.channel).toBe("order_book:0");
    const ob = snap.json!.order_book as Record<string, unknown>;
    expect(Object.keys(ob).sort()).toEqual([
      "asks",
      "begin_nonce",
      "bids",
      "code",
      "last_updated_at",
      "nonce",
      "offset",
    ]);
    const level = (ob.asks as Record<string, unknown>[])[0]!;
    expect(Object.keys(level).sort()).toEqual(["price", "size"]);
    expect(level.price).toMatch(/^\d+\.\d{2}$/);
    expect(level.size).toMatch(/^\d+\.\d{4}$/);
    let last = ob.nonce as number;
    for (let i = 0; i < 5; i++) {
      const from = c.frames.indexOf(snap) + 1 + i;
      const u = await c.next(isType("update/order_book"), 2000, from);
      const uob = u.json!.order_book as Record<string, unknown>;
      expect(uob.begin_nonce).toBe(last);
      expect(uob.nonce as number).toBeGreaterThan(last);
      last = uob.nonce as number;
    }
    const before = c.frames.length;
    c.send({ type: "subscribe", channel: "order_book/0" });
    await c.next(isError(30003), 2000, before);
    expect(c.frames.slice(before).some(isType("subscribed/order_book"))).toBe(false);
    c.send({ type: "unsubscribe", channel: "order_book/0" });
    const u = await c.next(isType("unsubscribed"));
    expect(u.json).toEqual({ type: "unsubscribed", channel: "order_book:0" });
    c.send({ type: "unsubscribe", channel: "order_book/0" });
    await c.next(isError(30002));
    c.close();
  });

  it("account channels need a valid token: 20001 missing, 20013 bad, subscribed/account_orders on success", async () => {
    const a = account(sim);
    const c = await RawClient.open(sim.ws);
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}` });
    const e1 = await c.next(isError(20001));
    expect(JSON.stringify(e1.json)).toContain("auth field is required");
    c.send({
      type: "subscribe",
      channel: `account_orders/0/${a.index}`,
      auth: token(a).replace(/.$/, (ch) => (ch === "0" ? "1" : "0")),
    });
    await c.next(isError(20013));
    c.send({
      type: "subscribe",
      channel: `account_orders/0/${a.index}`,
      auth: token(a, Math.floor(Date.now() / 1000) + 9 * 3600),
    });
    const far = await c.next(isError(20013), 2000, c.frames.length - 0);
    expect(JSON.stringify(far.json)).toContain("deadline");
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    const ack = await c.next(isType("subscribed/account_orders"));
    expect(ack.json!.channel).toBe("account_orders:0");
    expect(ack.json!.orders).toEqual({ "0": [] });
    c.close();
  });
});

describe("orders, fills and trades", () => {
  let a: TestAccount;
  let c: RawClient;
  beforeAll(async () => {
    a = account(sim);
    c = await RawClient.open(sim.ws);
    c.send({ type: "subscribe", channel: `account_orders/0/${a.index}`, auth: token(a) });
    await c.next(isType("subscribed/account_orders"));
    c.send({ type: "subscribe", channel: "trade/0" });
    await c.next(isType("subscribed/trade"));
  });
  afterAll(() => c.close());

  it("REST: nextNonce, orderBookDetails, apikeys, account", async () => {
    expect((await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`)).json).toEqual({
      code: 200,
      nonce: 1,
    });
    const d = await http(sim, "/api/v1/orderBookDetails?market_id=0");
    const eth = (d.json.order_book_details as Record<string, unknown>[])[0]!;
    expect(eth).toMatchObject({
      symbol: "ETH",
      market_id: 0,
      size_decimals: 4,
      price_decimals: 2,
      min_base_amount: "0.0050",
      min_quote_amount: "10.000000",
    });
    const k = await http(sim, `/api/v1/apikeys?account_index=${a.index}&api_key_index=${a.apiKey}`);
    expect((k.json.api_keys as Record<string, unknown>[])[0]!.public_key).toBe(a.key.publicKeyHex());
    const acct = await http(sim, `/api/v1/account?by=index&value=${a.index}`);
    expect((acct.json.accounts as Record<string, unknown>[])[0]!.positions).toEqual([]);
  });

  it("a marketable IOC buy fills: sendTx returns our tx hash; account_orders and trade frames carry exact ids", async () => {
    const { ask } = await bestPrices(sim);
    const from = c.frames.length;
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(r.status).toBe(200);
    expect(r.json.code).toBe(200);
    expect(r.json.tx_hash).toBe(r.tx.tx_hash);
    expect(typeof r.json.message).toBe("string");
    const upd = await c.next((f) => f.json?.type === "update/account_orders", 2000, from);
    const order = ((upd.json!.orders as Record<string, Record<string, unknown>[]>)["0"] ?? [])[0]!;
    expect(order).toMatchObject({
      client_order_id: String(r.tx.coi),
      status: "filled",
      filled_base_amount: "0.0050",
      is_ask: false,
      time_in_force: "immediate-or-cancel",
      market_index: 0,
    });
    // order_index is above 2^53: the raw text carries it exactly, equal to the string twin.
    expect(BigInt(order.order_id as string)).toBeGreaterThan(2n ** 53n);
    expect(upd.text).toContain(`"order_index":${order.order_id as string},`);
    const trade = await c.next(
      (f) => f.json?.type === "update/trade" && f.text.includes(`"bid_client_id":${r.tx.coi}`),
      2000,
      from,
    );
    const t = (trade.json!.trades as Record<string, unknown>[])[0]!;
    expect(t).toMatchObject({ bid_account_id: Number(a.index), size: "0.0050", type: "trade", tx_hash: r.tx.tx_hash });
    expect(trade.text).toContain(`"bid_id":${order.order_id as string}`);
    const tx = await http(sim, `/api/v1/tx?by=hash&value=${r.tx.tx_hash}`);
    expect(tx.json).toMatchObject({ code: 200, hash: r.tx.tx_hash, status: 2, type: 14 });
    const acct = await http(sim, `/api/v1/account?by=index&value=${a.index}`);
    expect((acct.json.accounts as Record<string, unknown>[])[0]!.positions).toEqual([
      expect.objectContaining({ market_id: 0, sign: 1, position: "0.0050" }),
    ]);
    const ao = await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=${r.tx.coi}`, {
      headers: { authorization: token(a) },
    });
    expect((ao.json.orders as Record<string, unknown>[])[0]).toMatchObject({
      status: "filled",
      client_order_id: String(r.tx.coi),
    });
    expect((await http(sim, `/api/v1/accountOrders?account_index=${a.index}&client_order_indexes=1`)).json.code).toBe(
      20001,
    );
  });

  it("immediate sendTx refusals (HTTP 400, nonce unchanged): 21104 nonce, 21120 signature, 21603/21706 minimums", async () => {
    const { ask } = await bestPrices(sim);
    const nonceNow = async () =>
      (await http(sim, `/api/v1/nextNonce?account_index=${a.index}&api_key_index=${a.apiKey}`)).json.nonce;
    const before = await nonceNow();
    const gap = await sendOrder(sim, a, { base: 50n, price: ask, isAsk: false, nonce: a.nonce + 5n });
    expect([gap.status, gap.json.code]).toEqual([400, 21104]);
    const t = orderTx(sim, a, { base: 50n, price: ask, isAsk: false });
    const tampered = t.tx_info.replace(/"BaseAmount":50/, '"BaseAmount":51');
    const bad = await http(sim, "/api/v1/sendTx", {
      method: "POST",
      body: new URLSearchParams({ tx_type: "14", tx_info: tampered }),
    });
    expect([bad.status, bad.json.code]).toEqual([400, 21120]);
    const small = await sendOrder(sim, a, { base: 10n, price: ask + 50, isAsk: false });
    expect([small.status, small.json.code]).toEqual([400, 21603]);
    expect((await sendOrder(sim, a, { base: 50n, price: 1000, isAsk: false, type: 1 })).json.code).toBe(21706);
    expect(await nonceNow()).toBe(before);
  });

  it("limit GTT rests open; post-only crossing ends canceled-post-only; IOC beyond the top level partially fills and ends canceled-* with its fill", async () => {
    const { ask, bid } = await bestPrices(sim);
    const from = c.frames.length;
    const rest = await sendOrder(sim, a, { base: 50n, price: bid - 200, isAsk: false, tif: 1 });
    const po = await sendOrder(sim, a, { base: 50n, price: ask + 10, isAsk: false, tif: 2 });
    const statusOf = async (coi: bigint, want: RegExp) => {
      const f = await c.next(
        (x) =>
          x.json?.type === "update/account_orders" &&
          x.text.includes(`"client_order_id":"${coi}"`) &&
          want.test(x.text),
        2000,
        from,
      );
      return ((f.json!.orders as Record<string, Record<string, unknown>[]>)["0"] ?? [])[0]!;
    };
    expect((await statusOf(rest.tx.coi, /"status":"open"/)).remaining_base_amount).toBe("0.0050");
    expect((await statusOf(po.tx.coi, /canceled-post-only/)).filled_base_amount).toBe("0.0000");
    const level = (await http(sim, "/_sim/state")).json;
    expect(level.chain_id).toBe(300);
    const big = await sendOrder(sim, a, { base: 5_000n, price: ask, isAsk: false });
    expect(big.json.code).toBe(200);
    const o = await statusOf(big.tx.coi, /canceled-not-enough-liquidity/);
    expect(Number(o.filled_base_amount)).toBeGreaterThan(0);
    // An order that ends canceled* has nothing remaining (live cancel, L.9).
    expect(o.remaining_base_amount).toBe("0.0000");
    expect(o.base_size).toBe(0);
  });
});

describe("determinism and isolation", () => {
  it("the same seed gives the same book", async () => {
    const s1 = await startSimulator({ port: 0, seed: 99, bookIntervalMs: 10_000 });
    const s2 = await startSimulator({ port: 0, seed: 99, bookIntervalMs: 10_000 });
    try {
      const snap = async (s: Simulator) => {
        const c = await RawClient.open(s.ws);
        c.send({ type: "subscribe", channel: "order_book/0" });
        const f = await c.next(isType("subscribed/order_book"));
        c.close();
        const ob = f.json!.order_book as Record<string, unknown>;
        return JSON.stringify([ob.asks, ob.bids, ob.nonce]);
      };
      expect(await snap(s1)).toBe(await snap(s2));
      expect(s1.createAccount().private_key).toBe(s2.createAccount().private_key);
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  it("closes a connection that sends nothing within the idle timeout", async () => {
    const s = await startSimulator({ port: 0, seed: 1, idleTimeoutMs: 300, bookIntervalMs: 50 });
    try {
      const c = await RawClient.open(s.ws);
      const closed = await c.waitClosed(3000);
      expect(closed.reason).toMatch(/idle/);
    } finally {
      await s.close();
    }
  });
});
