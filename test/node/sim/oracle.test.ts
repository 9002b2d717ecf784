/**
 * The simulator's exact "unresolved orders per API key" oracle: the pure counter (test/sim/oracle.ts)
 * and GET/DELETE /_sim/oracle on a real simulator, including an overlap too short for a 100 ms
 * sampler to see.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnresolvedOracle, isTerminalStatus } from "../../sim/oracle.ts";
import { startSimulator, type Simulator } from "../../sim/server.ts";
import { signTx, type CancelOrderTx } from "../../../worker/lighter/tx.ts";
import { account, bestPrices, http, sendOrder, sleep, type TestAccount } from "./support.ts";

interface KeyReport {
  account_index: number;
  api_key_index: number;
  unresolved: number;
  max_unresolved: number;
  peak_at: number;
  peak_orders: { tx_hash: string; client_order_index: string; order_index: string | null; since: number }[];
  open_orders: { tx_hash: string; client_order_index: string; order_index: string | null }[];
  changes: number;
  recent: { what: string; unresolved: number; tx_hash: string }[];
}

describe("UnresolvedOracle (pure)", () => {
  const acc = 7n;
  const accept = (o: UnresolvedOracle, txHash: string, coi: bigint, at: number, apiKeyIndex = 4) =>
    o.accepted({ account: acc, apiKeyIndex, txHash, clientOrderIndex: coi, at });
  const only = (o: UnresolvedOracle) => o.report(acc);

  it("counts from acceptance to a terminal status and keeps the peak with its orders and time", () => {
    const o = new UnresolvedOracle();
    accept(o, "a", 1n, 100);
    o.executed({ txHash: "a", orderIndex: 11n, status: "open", at: 110 });
    expect(only(o)[0]).toMatchObject({ unresolved: 1, max_unresolved: 1, peak_at: 100 });
    accept(o, "b", 2n, 120);
    expect(only(o)[0]).toMatchObject({ unresolved: 2, max_unresolved: 2, peak_at: 120 });
    expect(only(o)[0]!.peak_orders.map((x) => [x.tx_hash, x.client_order_index, x.order_index])).toEqual([
      ["a", "1", "11"],
      ["b", "2", null],
    ]);
    o.orderChanged({ txHash: "a", orderIndex: 11n, status: "canceled", at: 130 });
    o.executed({ txHash: "b", orderIndex: null, status: null, at: 131 });
    const r = only(o)[0]!;
    expect(r).toMatchObject({ unresolved: 0, max_unresolved: 2, peak_at: 120, changes: 5 });
    expect(r.recent.map((c) => `${c.what}:${c.unresolved}`)).toEqual([
      "accepted:1",
      "resting:1",
      "accepted:2",
      "canceled:1",
      "app_error:0",
    ]);
  });

  it("a fill reported before the execution note resolves once; later notes of that tx change nothing", () => {
    const o = new UnresolvedOracle();
    accept(o, "a", 1n, 0);
    o.orderChanged({ txHash: "a", orderIndex: 5n, status: "filled", at: 10 });
    o.executed({ txHash: "a", orderIndex: 5n, status: "filled", at: 10 });
    o.orderChanged({ txHash: "a", orderIndex: 5n, status: "canceled", at: 11 });
    accept(o, "b", 2n, 20);
    expect(only(o)[0]).toMatchObject({ unresolved: 1, max_unresolved: 1, changes: 3 });
  });

  it("keys are separate: one order on each of two keys is 1 per key", () => {
    const o = new UnresolvedOracle();
    accept(o, "a", 1n, 0, 4);
    accept(o, "b", 1n, 0, 5);
    expect(only(o).map((k) => [k.api_key_index, k.max_unresolved])).toEqual([
      [4, 1],
      [5, 1],
    ]);
    expect(o.report(8n)).toEqual([]);
  });

  it("reset starts the max again from the count now", () => {
    const o = new UnresolvedOracle();
    accept(o, "a", 1n, 0);
    accept(o, "b", 2n, 1);
    o.orderChanged({ txHash: "b", orderIndex: 3n, status: "filled", at: 2 });
    o.reset(acc, 5);
    expect(only(o)[0]).toMatchObject({ unresolved: 1, max_unresolved: 1, peak_at: 5, changes: 0 });
  });

  it("terminal = anything but open / pending / in-progress", () => {
    for (const s of ["filled", "canceled", "canceled-post-only", "canceled-margin-not-allowed", "expired"])
      expect(isTerminalStatus(s), s).toBe(true);
    for (const s of ["open", "pending", "in-progress"]) expect(isTerminalStatus(s), s).toBe(false);
  });
});

describe("GET/DELETE /_sim/oracle on a running simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 11, bookIntervalMs: 20, executionDelayMs: 60, serverPingMs: 1000 });
  });
  afterAll(async () => {
    await sim.close();
  });

  async function oracle(a: TestAccount): Promise<KeyReport> {
    const r = await http(sim, `/_sim/oracle?account_index=${a.index}`);
    expect(r.status, r.text).toBe(200);
    const keys = JSON.parse(r.text).keys as KeyReport[];
    expect(keys.length, r.text).toBe(1);
    return keys[0]!;
  }
  /** The oracle once the key has `unresolved` orders and its last transition is not an acceptance. */
  async function settled(a: TestAccount, unresolved: number): Promise<KeyReport> {
    const until = Date.now() + 3_000;
    for (;;) {
      const k = await oracle(a);
      if ((k.unresolved === unresolved && k.recent.at(-1)?.what !== "accepted") || Date.now() > until) return k;
      await sleep(10);
    }
  }

  it("an IOC that fills: 1 at most, 0 after, the peak names its tx and client order index", async () => {
    const a = account(sim);
    const { ask } = await bestPrices(sim);
    const r = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect(r.json.code, r.text).toBe(200);
    const k = await settled(a, 0);
    expect(k).toMatchObject({ unresolved: 0, max_unresolved: 1, api_key_index: a.apiKey });
    expect(k.peak_orders.map((o) => [o.tx_hash, o.client_order_index])).toEqual([[r.tx.tx_hash, String(r.tx.coi)]]);
    expect(k.recent.map((c) => c.what)).toEqual(["accepted", "filled"]);
  });

  it("two back-to-back IOC orders, the second sent before the first executes (60 ms): max 2, though both fill at once", async () => {
    const a = account(sim);
    const { ask } = await bestPrices(sim);
    const first = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    const second = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false });
    expect([first.json.code, second.json.code]).toEqual([200, 200]);
    const k = await settled(a, 0);
    expect(k.max_unresolved).toBe(2);
    expect(k.peak_orders.map((o) => o.tx_hash)).toEqual([first.tx.tx_hash, second.tx.tx_hash]);
    const orders = (JSON.parse((await http(sim, `/_sim/state?account_index=${a.index}`)).text).orders ?? []) as {
      status: string;
    }[];
    expect(orders.map((o) => o.status)).toEqual(["filled", "filled"]);
  });

  it("resting orders count until canceled; the max stays; DELETE starts it again", async () => {
    const a = account(sim);
    const { bid } = await bestPrices(sim);
    const one = await sendOrder(sim, a, { base: 50n, price: bid - 200, isAsk: false, tif: 1 });
    expect(one.json.code, one.text).toBe(200);
    expect((await settled(a, 1)).recent.map((c) => c.what)).toEqual(["accepted", "resting"]);
    const two = await sendOrder(sim, a, { base: 50n, price: bid - 210, isAsk: false, tif: 1 });
    expect(two.json.code, two.text).toBe(200);
    const k = await settled(a, 2);
    expect(k.max_unresolved).toBe(2);
    expect(k.peak_orders.every((o) => o.order_index === null || /^\d{17,}$/.test(o.order_index))).toBe(true);
    const orderIndex = k.peak_orders[0]!.order_index!;
    const cancel = signTx(
      {
        txType: 15,
        AccountIndex: a.index,
        ApiKeyIndex: a.apiKey,
        MarketIndex: 0,
        Index: BigInt(orderIndex),
        ExpiredAt: BigInt(Date.now() + 590_000),
        Nonce: a.nonce,
      } satisfies CancelOrderTx,
      a.key,
      sim.chainId,
    );
    const c = await http(sim, "/api/v1/sendTx", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ tx_type: String(cancel.tx_type), tx_info: cancel.tx_info }).toString(),
    });
    expect(c.json.code, c.text).toBe(200);
    a.nonce++;
    const after = await settled(a, 1);
    expect(after).toMatchObject({ unresolved: 1, max_unresolved: 2 });
    expect(after.recent.at(-1)?.what).toBe("canceled");
    expect((await http(sim, `/_sim/oracle?account_index=${a.index}`, { method: "DELETE" })).status).toBe(200);
    expect(await oracle(a)).toMatchObject({ unresolved: 1, max_unresolved: 1, changes: 0 });
  });

  it("a resting order filled as maker by another account's taker is resolved then", async () => {
    const a = account(sim);
    const b = account(sim);
    const { bid } = await bestPrices(sim);
    const maker = await sendOrder(sim, a, { base: 50n, price: bid + 1, isAsk: false, tif: 1 });
    expect(maker.json.code, maker.text).toBe(200);
    expect((await settled(a, 1)).recent.map((c) => c.what)).toEqual(["accepted", "resting"]);
    const taker = await sendOrder(sim, b, { base: 50n, price: bid + 1, isAsk: true });
    expect(taker.json.code, taker.text).toBe(200);
    const k = await settled(a, 0);
    expect(k).toMatchObject({ unresolved: 0, max_unresolved: 1 });
    expect(k.recent.map((c) => c.what)).toEqual(["accepted", "resting", "filled"]);
  });

  it("a create refused at once is not counted; an application rejection counts until it executes", async () => {
    const a = account(sim);
    const { ask, bid } = await bestPrices(sim);
    const bad = await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false, nonce: a.nonce + 7n });
    expect(bad.json.code).toBe(21104);
    expect((await http(sim, `/_sim/oracle?account_index=${a.index}`)).text).toContain('"keys":[]');
    // reduce-only with no position: HTTP 200, then /tx status 2 with ae 21732 (deferred, L.2-L.5)
    const ro = await sendOrder(sim, a, { base: 50n, price: bid - 100, isAsk: true, reduceOnly: true });
    expect(ro.json.code, ro.text).toBe(200);
    const k = await settled(a, 0);
    expect(k.max_unresolved).toBe(1);
    expect(k.recent.map((c) => c.what)).toEqual(["accepted", "app_error"]);
  });

  it("scoped per account: another account's orders never move this one's figures", async () => {
    const a = account(sim);
    const b = account(sim);
    const { ask } = await bestPrices(sim);
    for (let i = 0; i < 2; i++)
      expect((await sendOrder(sim, b, { base: 50n, price: ask + 100, isAsk: false })).json.code).toBe(200);
    expect((await sendOrder(sim, a, { base: 50n, price: ask + 100, isAsk: false })).json.code).toBe(200);
    expect((await settled(a, 0)).max_unresolved).toBe(1);
    expect((await settled(b, 0)).max_unresolved).toBe(2);
  });
});
