/**
 * Regression tests for issue 16's defects 1-5, the ones that can leave money exposed: dry run
 * trades, the flatten sells the whole position, a restarted object trades after a refused
 * account subscription, the flatten after an eviction never sends, the flatten is silently
 * skipped. Each asserts what a person would see on the exchange or in their alerts, and that the
 * account's key never had two unresolved orders at once (the simulator's exact oracle).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import {
  acceptedCheck,
  addFault,
  clearFault,
  expectOneUnresolvedAtMost,
  explained,
  monitorFor,
  monitorStatus,
  nextTick,
  receivedAlerts,
  runCron,
  settledCheck,
  sim,
  simAccount,
  simOrders,
  simPosition,
  simRequests,
  tradingCheck,
  waitFor,
  waitForVerdict,
} from "./helpers.ts";

async function lastRequestSeq(): Promise<number> {
  const res = await sim("/_sim/requests?limit=1");
  return ((await res.json()) as { requests: { seq: number }[] }).requests.at(-1)?.seq ?? 0;
}

function sendTxsOf(requests: Awaited<ReturnType<typeof simRequests>>, account: number) {
  return requests.filter((r) => r.path.startsWith("/api/v1/sendTx") && r.account === String(account));
}

// Each test has its own scenario's monitor and account (faults scoped to it): they run concurrently.
describe.concurrent("issue 16: checks never put money at risk", { timeout: 90_000 }, () => {
  // regression for defect 1, fixed by the check machine (issue 16)
  it("dry_run: true with a private key sends nothing: no sendTx reaches the exchange, the verdict is skipped / dry_run", async () => {
    const m = monitorFor("reg_dry_run");
    const since = await lastRequestSeq();
    const nonceBefore = (await simAccount(m.account_index)).api_keys.find(
      (k) => k.api_key_index === m.api_key_index,
    )!.next_nonce;
    const c = await settledCheck("reg_dry_run");
    // Whatever the verdict says, the exchange saw no transaction: no request, no order, no nonce used.
    expect(sendTxsOf(await simRequests(since), m.account_index), JSON.stringify(c)).toEqual([]);
    expect(await simOrders(m.account_index)).toEqual([]);
    const nonceAfter = (await simAccount(m.account_index)).api_keys.find(
      (k) => k.api_key_index === m.api_key_index,
    )!.next_nonce;
    expect(nonceAfter).toBe(nonceBefore);
    expect(c).toMatchObject({ verdict: "skipped", diagnosis: "dry_run" });
    // The oracle saw no order at all.
    expect(await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(c))).toBe(0);
  });

  // regression for defect 2, fixed by the check machine (issue 16)
  it("a position already open (5 ETH long) is still 5 ETH after the check: the flatten closes only the check's own fill", async () => {
    const m = monitorFor("reg_position");
    const shifted = await sim("/_sim/position_shift", {
      method: "POST",
      body: JSON.stringify({ account_index: m.account_index, market: 0, delta: "50000" }),
    });
    expect(shifted.status).toBe(200);
    const before = await simPosition(m.account_index);
    expect(before).toBe(50_000n);
    const c = await tradingCheck("reg_position");
    const after = await simPosition(m.account_index);
    // Within the order's rounding: the test order is a few minimum sizes at most (0.0050 ETH = 50).
    const drift = after - before;
    expect(drift < 0n ? -drift : drift, `position ${before} → ${after}; check ${JSON.stringify(c)}`).toBeLessThan(100n);
    // The check traded (else the position proves nothing): its test order filled, and a flatten
    // went out, no order of ours larger than the check's own test order.
    const orders = await simOrders(m.account_index);
    const test = orders.find((o) => o.client_order_id === c.client_order_index);
    expect(test, `the check's test order is not on the exchange: ${JSON.stringify(c)}`).toBeDefined();
    expect(Number(test!.filled_base_amount), JSON.stringify(test)).toBeGreaterThan(0);
    expect(c.flatten, JSON.stringify(c)).toBe("ok");
    for (const o of orders)
      expect(Number(o.initial_base_amount), JSON.stringify(o)).toBeLessThanOrEqual(
        Number(test!.initial_base_amount) * 2,
      );
    await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(c), true);
  });

  // regression for defect 3, fixed by the check machine (issue 16)
  it("a restarted object whose account subscriptions are refused (20013) sends no order: the verdict is auth_rejected", async () => {
    const m = monitorFor("reg_fresh_auth");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    // One healthy check, then the object is evicted between checks (on-demand objects always are).
    const first = await settledCheck("reg_fresh_auth");
    expect(first.verdict).toBe("pass");
    await evictDurableObject(stub);
    const ordersBefore = (await simOrders(m.account_index)).length;
    const since = await lastRequestSeq();
    const f = await addFault({ name: "reject_auth", account_index: m.account_index });
    try {
      await runCron("reg_fresh_auth", nextTick());
      // Stop at the first sendTx (the defect) or at the verdict, whichever comes first.
      const sent = await explained(
        m.id,
        waitFor(
          "a verdict or a sendTx",
          async () => {
            const sends = sendTxsOf(await simRequests(since), m.account_index);
            if (sends.length > 0) return { sends, c: null };
            const c = (await monitorStatus(m.id)).last_check;
            return c && c.id !== first.id && c.verdict !== null ? { sends, c } : null;
          },
          60_000,
        ),
      );
      expect(sent.sends, "an order was sent after the account subscriptions were refused").toEqual([]);
      const c = sent.c!;
      expect((await simOrders(m.account_index)).length).toBe(ordersBefore);
      expect(c).toMatchObject({
        verdict: "fail",
        first_failing_stage: "orders_subscribed",
        diagnosis: "auth_rejected",
      });
      await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(c), true);
    } finally {
      await clearFault(f);
    }
  });

  // regression for defect 4, fixed by the check machine (issue 16)
  it("a flatten interrupted by a restart still closes the position: it opens its own session and sends", async () => {
    const m = monitorFor("reg_evict_flatten");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    const before = await simPosition(m.account_index);
    // The object dies right before the flatten's order goes out (the crash point no other test
    // arms); the next instance has no book and no session in memory.
    await runInDurableObject(stub, (instance: FillMonitor) => {
      instance.testCrashAt = "before_flatten_send";
    });
    // The restart now comes inside the flatten (its write-ahead durable, the order never sent): the
    // flatten waits until that order's ExpiredAt has passed (24 s at time_scale 0.2, plus margin)
    // before the position may say nothing closed and it sends one (measured: done after ~39 s).
    const c = await settledCheck("reg_evict_flatten", 80_000);
    expect(["pass", "degraded"], JSON.stringify(c)).toContain(c.verdict);
    const after = await simPosition(m.account_index);
    expect(after, `position ${before} → ${after}; flatten ${c.flatten} ${JSON.stringify(c)}`).toBe(before);
    expect(c.flatten).toBe("ok");
    await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(c), true);
  });

  // regression for defect 5, fixed by the check machine (issue 16)
  it("a flatten that cannot run because the monitor's config became invalid alerts; it is never a silent skipped", async () => {
    const m = monitorFor("reg_flatten_config");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    // Keep the check waiting for its fill so the config can change under it.
    const late = await addFault({ name: "late_fill", ms: 1_500, account_index: m.account_index });
    const broken = (JSON.parse(inject("monitorsJson")) as Record<string, unknown>[]).map((cfg) =>
      Number(cfg.account_index) === m.account_index ? { ...cfg, max_slippage_bps: 99_999 } : cfg,
    );
    try {
      await acceptedCheck("reg_flatten_config");
      // A config edit between the order and its flatten: the entry is now invalid.
      await runInDurableObject(stub, (instance: FillMonitor) => {
        (instance as unknown as { env: Record<string, unknown> }).env = { ...env, MONITORS: JSON.stringify(broken) };
      });
      // A check whose config is gone concludes at the latest at its bound (13 s at time_scale 0.1).
      const c = await explained(m.id, waitForVerdict(m.id, undefined, 60_000));
      expect(c.flatten, JSON.stringify(c)).not.toBe("skipped");
      const alerts = await waitFor(
        "an alert about the flatten",
        async () => {
          const got = (await receivedAlerts("reg_flatten_config")).filter((a) =>
            /flatten/.test(JSON.stringify(a.body)),
          );
          return got.length > 0 ? got : null;
        },
        10_000,
      );
      expect(alerts.length).toBeGreaterThan(0);
      await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(c), true);
    } finally {
      await clearFault(late);
      await runInDurableObject(stub, (instance: FillMonitor) => {
        (instance as unknown as { env: Record<string, unknown> }).env = env as unknown as Record<string, unknown>;
      });
    }
  });
});
