/**
 * Regression test of the open residue (soak seed 18): a check's flatten fails and leaves the test
 * order's fill on the account; no later trigger sends a test order while it is open, one closes it
 * through the flatten, and only then is the account back where the first check found it.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import {
  acceptedCheck,
  addFault,
  clearFault,
  explained,
  monitorFor,
  monitorStatus,
  nextTick,
  runCron,
  simPosition,
  waitFor,
  waitForVerdict,
  type CheckJson,
} from "./helpers.ts";

/** Runs one trigger and waits until a check other than `after` is done (its flatten included). */
async function nextCheck(monitorId: string, after: string): Promise<CheckJson> {
  await runCron("reg_residue", nextTick());
  return explained(
    monitorId,
    waitFor(
      "the next trigger done",
      async () => {
        const c = (await monitorStatus(monitorId)).last_check;
        return c && c.id !== after && c.state === "done" ? c : null;
      },
      60_000,
    ),
  );
}

describe("a failed flatten's residue is carried to the next trigger", () => {
  it("no test order while it is open; a later trigger closes it and the position is back", async () => {
    const m = monitorFor("reg_residue");
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await stub.status(m.id);
    const before = await simPosition(m.account_index);
    // Keep the check waiting for its fill so the configuration can break under it: the flatten then
    // has nothing to sign with and fails with the fill on the account.
    const late = await addFault({ name: "late_fill", ms: 1_500, account_index: m.account_index });
    const broken = (JSON.parse(inject("monitorsJson")) as Record<string, unknown>[]).map((cfg) =>
      Number(cfg.account_index) === m.account_index ? { ...cfg, max_slippage_bps: 99_999 } : cfg,
    );
    let first: CheckJson;
    try {
      await acceptedCheck("reg_residue");
      await runInDurableObject(stub, (instance: FillMonitor) => {
        (instance as unknown as { env: Record<string, unknown> }).env = { ...env, MONITORS: JSON.stringify(broken) };
      });
      first = await explained(m.id, waitForVerdict(m.id, undefined, 60_000));
    } finally {
      await clearFault(late);
      await runInDurableObject(stub, (instance: FillMonitor) => {
        (instance as unknown as { env: Record<string, unknown> }).env = env as unknown as Record<string, unknown>;
      });
    }
    expect(first.flatten, JSON.stringify(first)).toBe("failed");
    expect(await simPosition(m.account_index), "the failed flatten left the test order's fill").not.toBe(before);

    // The lock may hold a trigger or two (previous_order_unresolved) until REST shows the order's end.
    let last = first;
    const seen: CheckJson[] = [];
    for (let i = 0; i < 12 && last.diagnosis !== "residue_open"; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 2_000));
      last = await nextCheck(m.id, last.id);
      seen.push(last);
    }
    for (const c of seen) {
      expect(c.client_order_index, `no test order while the residue is open: ${JSON.stringify(c)}`).toBeNull();
      expect(["residue_open", "previous_order_unresolved"]).toContain(c.diagnosis);
    }
    expect([last.verdict, last.diagnosis], JSON.stringify(last)).toEqual(["skipped", "residue_open"]);
    expect(last.flatten, JSON.stringify(last)).toBe("ok");
    expect(await simPosition(m.account_index)).toBe(before);
  }, 240_000);
});
