/**
 * Interruptions on the order path: a graceful eviction mid-check and a hard crash (ctx.abort) at
 * each point of the order path. Each must resume or conclude the check with exactly one order
 * for the tick on the exchange, the fill recorded, and never two unresolved orders of the key at
 * once (the simulator's exact oracle).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CrashPoint } from "../../durable-objects/runtime/crash.ts";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import {
  api,
  expectOneUnresolvedAtMost,
  monitorFor,
  monitorStatus,
  runCron,
  simOrders,
  waitFor,
  waitForVerdict,
} from "./helpers.ts";

function stubFor(id: string) {
  return monitorStub(env, { id, locationHint: null });
}

let tick = 1_800_200_000_000;

describe("interruptions never place a second order and never lose a fill", () => {
  const points: CrashPoint[] = ["after_write_ahead", "after_send", "after_accept", "after_seen", "after_fill"];
  for (const point of points) {
    it(`hard crash at ${point}`, async () => {
      const m = monitorFor(`crash_${point}`);
      const stub = stubFor(m.id);
      await stub.status(m.id);
      await runInDurableObject(stub, (instance: FillMonitor) => {
        instance.testCrashAt = point;
      });
      const before = (await simOrders(m.account_index)).length;
      await runCron(`crash_${point}`, (tick += 300_000));
      const check = await waitForVerdict(m.id, undefined, 30_000);
      expect(["pass", "degraded"], JSON.stringify(check, null, 2)).toContain(check.verdict);
      const testOrders = (await simOrders(m.account_index))
        .slice(before)
        .filter((o) => o.client_order_id === check.client_order_index);
      expect(testOrders).toHaveLength(1);
      const order = (await (
        await api(`/orders/${check.client_order_index}?monitor=${encodeURIComponent(m.id)}`)
      ).json()) as { filled_base_raw: string };
      expect(BigInt(order.filled_base_raw)).toBeGreaterThan(0n);
      await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(check), true);
    });
  }

  it("graceful eviction while waiting for the fill", async () => {
    const m = monitorFor("evict");
    const stub = stubFor(m.id);
    await runCron("evict", (tick += 300_000));
    await waitFor("order sent", async () => {
      const s = await monitorStatus(m.id);
      return s.last_check?.stages.order_accepted ? s : null;
    });
    await evictDurableObject(stub);
    const check = await waitForVerdict(m.id, undefined, 30_000);
    expect(["pass", "degraded"]).toContain(check.verdict);
    const orders = (await simOrders(m.account_index)).filter((o) => o.client_order_id === check.client_order_index);
    expect(orders).toHaveLength(1);
    await expectOneUnresolvedAtMost(m.account_index, JSON.stringify(check), true);
  });
});
