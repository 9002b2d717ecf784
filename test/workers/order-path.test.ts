/**
 * The order path against the live-like simulator, one rule per test (issue 9): a lost sendTx reply
 * plus REST lag places exactly one order and never re-signs; a duplicate live client order index
 * is tx_rejected with 21728 from /tx ae; a trigger during a failing check touches nothing; forged
 * fills never pass; a REST outage opens monitor_blind; a broken object gets monitor_stalled from
 * the Worker; a fill withheld on one channel is diagnosed per channel.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { privateKeySecretName } from "../../worker/config.ts";
import { PrivateKey } from "../../worker/lighter/keys.ts";
import { signTx, TX_CREATE_ORDER } from "../../worker/lighter/tx.ts";
import { monitorStub } from "../../worker/stub.ts";
import {
  addFault,
  api,
  clearFault,
  monitorFor,
  monitorStatus,
  nextTick,
  received,
  receivedAlerts,
  runCron,
  settledCheck,
  sim,
  simOrders,
  waitFor,
  waitForVerdict,
  type CheckJson,
} from "./helpers.ts";

interface OrderJson {
  tx_hash: string;
  nonce: string;
  events: { kind: string; source: string; detail: Record<string, unknown> | null }[];
}

async function orderOf(scenario: string, coi: string): Promise<OrderJson> {
  const m = monitorFor(scenario);
  return (await (await api(`/orders/${coi}?monitor=${encodeURIComponent(m.id)}`)).json()) as OrderJson;
}

describe("the order path never double-trades", () => {
  it("a lost sendTx reply plus REST lag: exactly one order on the exchange, the stored tx never changes", async () => {
    const m = monitorFor("op_lost_lag");
    const lost = await addFault({ name: "lose_send_reply", mode: "timeout", account_index: m.account_index });
    const lag = await addFault({ name: "rest_lag_ms", ms: 3_000, account_index: m.account_index });
    try {
      const c = await settledCheck("op_lost_lag");
      const coi = c.client_order_index!;
      expect(coi, JSON.stringify(c)).toMatch(/^\d+$/);
      const mine = (await simOrders(m.account_index)).filter((o) => o.client_order_id === coi);
      expect(mine, JSON.stringify(c)).toHaveLength(1);
      const o = await orderOf("op_lost_lag", coi);
      // Signed once; every transmission carried the same tx hash.
      expect(o.events.filter((e) => e.kind === "signed")).toHaveLength(1);
      const sends = o.events.filter((e) => e.kind === "send");
      expect(sends.length).toBeGreaterThanOrEqual(1);
      for (const s of sends) expect(s.detail?.tx_hash).toBe(o.tx_hash);
      expect(c.evidence.tx_hash).toBe(o.tx_hash);
    } finally {
      await clearFault(lost);
      await clearFault(lag);
    }
  });

  it("a live duplicate client order index: HTTP 200, then tx_rejected with 21728 from /tx ae", async () => {
    const m = monitorFor("op_dup_index");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    // The monitor's next client order index is (apiKey << 40) | (counter + 1): pin the counter,
    // then rest an order of our own under that index so it is live when the monitor signs.
    const counter = (1n << 40n) - 1000n;
    await runInDurableObject(stub, (instance: FillMonitor) => {
      instance.testSetCoiCounter(counter.toString());
    });
    const coi = (BigInt(m.api_key_index) << 40n) | (counter + 1n);
    // A bid 5% under the last trade: inside the price band, far from the asks, so it rests.
    const details = (await (await sim("/api/v1/orderBookDetails?market_id=0")).json()) as {
      order_book_details: { last_trade_price: string; min_quote_amount: string }[];
    };
    const last = Number(details.order_book_details[0]!.last_trade_price);
    const price = Math.round(last * 0.95 * 100);
    const base = BigInt(Math.ceil((20 / (price / 100)) * 10_000));
    const secrets = inject("secrets");
    const key = PrivateKey.fromHex(secrets[privateKeySecretName("custom", BigInt(m.account_index), m.api_key_index)]!);
    const nonceRes = (await (
      await sim(`/api/v1/nextNonce?account_index=${m.account_index}&api_key_index=${m.api_key_index}`)
    ).json()) as { nonce: number };
    const signed = signTx(
      {
        txType: TX_CREATE_ORDER,
        AccountIndex: BigInt(m.account_index),
        ApiKeyIndex: m.api_key_index,
        MarketIndex: 0,
        ClientOrderIndex: coi,
        BaseAmount: base,
        Price: price,
        IsAsk: 0,
        Type: 0,
        TimeInForce: 2,
        ReduceOnly: 0,
        TriggerPrice: 0,
        OrderExpiry: BigInt(Date.now() + 28 * 86_400_000),
        ExpiredAt: BigInt(Date.now() + 599_000),
        Nonce: BigInt(nonceRes.nonce),
      },
      key,
      inject("chainId"),
    );
    const body = new URLSearchParams({ tx_type: String(signed.tx_type), tx_info: signed.tx_info });
    const sent = await sim("/api/v1/sendTx", { method: "POST", body });
    expect(sent.status, await sent.clone().text()).toBe(200);
    await waitFor("resting order", async () =>
      (await simOrders(m.account_index)).some((o) => o.client_order_id === coi.toString() && o.status === "open"),
    );
    const c = await settledCheck("op_dup_index");
    expect(c.client_order_index).toBe(coi.toString());
    expect(c).toMatchObject({ verdict: "fail", first_failing_stage: "order_accepted", diagnosis: "tx_rejected" });
    expect(c.evidence.exchange_code).toBe(21728);
    expect(c.evidence.source).toBe("/tx event_info.ae");
    // The rejected order was never re-signed, and the check's order never reached the book.
    const o = await orderOf("op_dup_index", coi.toString());
    expect(o.events.filter((e) => e.kind === "signed")).toHaveLength(1);
    expect((await simOrders(m.account_index)).filter((x) => x.client_order_id === coi.toString())).toHaveLength(1);
  });
});

describe("triggers, forged frames and blindness", () => {
  it("a second trigger during a failing check touches nothing; the check concludes and alerts; the next tick runs", async () => {
    const m = monitorFor("op_overlap");
    const f = await addFault({ name: "withhold_orders", account_index: m.account_index });
    let first: CheckJson;
    try {
      await runCron("op_overlap", nextTick());
      const running = await waitFor("a running check", async () => {
        const s = await monitorStatus(m.id);
        return s.last_check?.state === "running" ? s.last_check : null;
      });
      await runCron("op_overlap", nextTick());
      const during = await monitorStatus(m.id);
      expect(during.last_check?.id).toBe(running.id);
      expect((during.counters as Record<string, number>)["ticks.skipped_running"]).toBe(1);
      first = await waitForVerdict(m.id, running.id, 30_000);
      expect(first).toMatchObject({ verdict: "fail", diagnosis: "filled_not_reported_on_ws" });
      const alerts = await waitFor("the alert", async () => {
        const got = await receivedAlerts("op_overlap");
        return got.length > 0 ? got : null;
      });
      expect(JSON.stringify(alerts[0]!.body)).toContain("filled_not_reported_on_ws");
      // The dead-man's switch hears about the failure on <url>/fail, never as a success.
      await waitFor("heartbeat /fail", async () => (await received("/heartbeat/op_overlap/fail")).length > 0);
      const plain = async () =>
        (await received("/heartbeat/op_overlap")).filter((r) => r.path === "/heartbeat/op_overlap");
      expect(await plain()).toHaveLength(0);
    } finally {
      await clearFault(f);
    }
    const next = await settledCheck("op_overlap");
    expect(next.id).not.toBe(first!.id);
    expect(next.verdict).toBe("pass");
    await waitFor("heartbeat after the pass", async () =>
      (await received("/heartbeat/op_overlap")).some((r) => r.path === "/heartbeat/op_overlap"),
    );
  });

  it("a forged fill from another account never passes", async () => {
    const m = monitorFor("op_forge_account");
    const a = await addFault({ name: "never_match", account_index: m.account_index });
    const b = await addFault({ name: "forge_fill", mode: "other_account", account_index: m.account_index });
    try {
      const c = await settledCheck("op_forge_account");
      expect(c.verdict, JSON.stringify(c)).toBe("fail");
      expect(c.diagnosis).toBe("not_filled");
      expect(Number(c.evidence.foreign_frames)).toBeGreaterThan(0);
    } finally {
      await clearFault(a);
      await clearFault(b);
    }
  });

  it("a forged fill under another order index never passes", async () => {
    const m = monitorFor("op_forge_order");
    const a = await addFault({ name: "never_match", account_index: m.account_index });
    const b = await addFault({ name: "forge_fill", mode: "other_order", account_index: m.account_index });
    try {
      const c = await settledCheck("op_forge_order");
      expect(c.verdict, JSON.stringify(c)).toBe("fail");
      expect(["not_filled", "ws_rest_mismatch"]).toContain(c.diagnosis);
    } finally {
      await clearFault(a);
      await clearFault(b);
    }
  });

  it("REST answering 500 three checks in a row opens monitor_blind, naming an exchange outage", async () => {
    const m = monitorFor("op_blind");
    const f = await addFault({ name: "rest_errors", status: 500, account_index: m.account_index });
    try {
      for (let i = 0; i < 3; i++) {
        const c = await settledCheck("op_blind");
        expect(c).toMatchObject({ verdict: "skipped", diagnosis: "rest_unavailable" });
      }
      const alerts = await waitFor("monitor_blind", async () => {
        const got = (await receivedAlerts("op_blind")).filter((a) => JSON.stringify(a.body).includes("monitor_blind"));
        return got.length > 0 ? got : null;
      });
      const text = JSON.stringify(alerts[0]!.body);
      expect(text).toContain("rest_unavailable");
      expect(text).not.toMatch(/api_key_unverified/);
      // Skipped checks never ping the heartbeat: a blind deployment goes quiet.
      expect(await received("/heartbeat/op_blind")).toHaveLength(0);
    } finally {
      await clearFault(f);
    }
    // Sight comes back: the next real verdict resolves monitor_blind.
    expect((await settledCheck("op_blind")).verdict).toBe("pass");
    await waitFor("monitor_blind resolved", async () =>
      (await receivedAlerts("op_blind")).some((a) => /RESOLVED/.test(JSON.stringify(a.body))),
    );
  });

  it("a broken object: the Worker itself sends monitor_stalled, at most once an hour", async () => {
    const m = monitorFor("op_stalled");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    await runInDurableObject(stub, (instance: FillMonitor) => {
      instance.testBrokenWatchdog = "storage is wedged (test)";
    });
    const base = 1_900_000_000_000 - (1_900_000_000_000 % 3_600_000);
    await runCron("op_stalled", base + 60_000);
    const got = await waitFor("monitor_stalled", async () => {
      const a = (await receivedAlerts("op_stalled")).filter((x) => JSON.stringify(x.body).includes("monitor_stalled"));
      return a.length > 0 ? a : null;
    });
    expect(JSON.stringify(got[0]!.body)).toContain("did not answer its watchdog");
    await runCron("op_stalled", base + 360_000);
    await new Promise((r) => setTimeout(r, 300));
    const again = (await receivedAlerts("op_stalled")).filter((x) =>
      JSON.stringify(x.body).includes("monitor_stalled"),
    );
    expect(again).toHaveLength(1);
    await runInDurableObject(stub, (instance: FillMonitor) => {
      instance.testBrokenWatchdog = null;
    });
  });

  it("a socket dropped while the book subscription is pending is diagnosed at book_subscribed", async () => {
    const m = monitorFor("op_drop");
    const a = await addFault({ name: "ignore_subscriptions", channel: "order_book", account_index: m.account_index });
    const b = await addFault({ name: "drop_connection", after_ms: 400, account_index: m.account_index });
    try {
      const c = await settledCheck("op_drop");
      expect(c).toMatchObject({
        verdict: "fail",
        first_failing_stage: "book_subscribed",
        diagnosis: "connection_closed",
      });
      expect(c.evidence.at_phase).toBe("book");
      for (const s of Object.values(c.stages)) expect(s.ms).toBeGreaterThanOrEqual(0);
    } finally {
      await clearFault(a);
      await clearFault(b);
    }
  });

  it("a fill withheld on account_all_orders only: fill_missing_on_channel names the silent channel", async () => {
    const m = monitorFor("op_channel");
    const f = await addFault({
      name: "withhold_channel",
      channel: "account_all_orders",
      account_index: m.account_index,
    });
    try {
      const c = await settledCheck("op_channel");
      expect(c).toMatchObject({
        verdict: "fail",
        first_failing_stage: "fill_seen",
        diagnosis: "fill_missing_on_channel",
      });
      expect(c.evidence.reported_on).toBe("account_orders");
      expect(c.evidence.missing_on).toBe("account_all_orders");
    } finally {
      await clearFault(f);
    }
  });
});
