/**
 * Regression tests for the position drift soak (b) found (issue 18's position_drift): checks whose
 * test order filled while REST could not show it — the account's orders forgotten (rest_forget),
 * our auth token refused on a session whose account subscriptions were already live (reject_auth,
 * expire_auth) — left the fill on the account. And a forged frame under another order index
 * beside our real order's frames (forge_fill other_order) failed a check whose fill both channels
 * reported. Each asserts what a person sees on the exchange: the position the check found. And a
 * session whose account subscriptions died silently is not kept for the next check.
 */
import { describe, expect, it } from "vitest";
import { addFault, clearFault, monitorFor, simOrders, simPosition, tradingCheck, type CheckJson } from "./helpers.ts";

/** The check's own test order filled on the exchange (else the case proves nothing). */
async function testOrderFilled(account: number, c: CheckJson): Promise<boolean> {
  const o = (await simOrders(account)).find((x) => x.client_order_id === c.client_order_index);
  return o !== undefined && Number(o.filled_base_amount) > 0;
}

const flattenDetail = (c: CheckJson) => (c.evidence.flatten_detail ?? {}) as Record<string, unknown>;

// Each test has its own scenario's monitor and account (faults scoped to it): they run concurrently.
const SUITE_OPTIONS = { timeout: 240_000 };
describe.concurrent("soak position_drift: a check leaves the account's position as it found it", SUITE_OPTIONS, () => {
  it("REST forgets the account's orders during the check (rest_forget): the flatten still closes the fill", async () => {
    const m = monitorFor("reg_drift_forget");
    const before = await simPosition(m.account_index);
    const f = await addFault({ name: "rest_forget", account_index: m.account_index });
    let c: CheckJson;
    try {
      c = await tradingCheck("reg_drift_forget");
    } finally {
      await clearFault(f);
    }
    expect(await testOrderFilled(m.account_index, c), JSON.stringify(c)).toBe(true);
    const after = await simPosition(m.account_index);
    expect(after, `position ${before} → ${after}; ${JSON.stringify(c.evidence)}`).toBe(before);
    expect(c.flatten).toBe("ok");
    expect(flattenDetail(c).own_fill_source).toBe("position");
  });

  it.each([
    ["reject_auth", "reg_drift_auth"],
    ["expire_auth", "reg_drift_expire"],
  ])(
    "our auth token refused (%s) on a session subscribed before: the order fills, REST cannot show it, the flatten closes it",
    async (fault, scenario) => {
      const m = monitorFor(scenario);
      // A first check opens the (continuous) session and its account subscriptions.
      expect((await tradingCheck(scenario)).verdict).not.toBeNull();
      const before = await simPosition(m.account_index);
      const f = await addFault({ name: fault, account_index: m.account_index });
      let c: CheckJson;
      try {
        c = await tradingCheck(scenario);
      } finally {
        await clearFault(f);
      }
      expect(await testOrderFilled(m.account_index, c), JSON.stringify(c)).toBe(true);
      const after = await simPosition(m.account_index);
      expect(after, `position ${before} → ${after}; ${JSON.stringify(c.evidence)}`).toBe(before);
      expect(c.flatten).toBe("ok");
      expect(flattenDetail(c).own_fill_source).toBe("position");
      // The fault gone, the next check passes: a session whose account stream went silent about our
      // order (expire_auth drops its subscriptions without a word) is not handed to it.
      const next = await tradingCheck(scenario);
      expect([next.verdict, next.diagnosis], JSON.stringify(next.evidence)).toEqual(["pass", null]);
    },
  );

  it("a forged frame under another order index beside our order's frames (forge_fill other_order): REST overrules it, the check passes", async () => {
    const m = monitorFor("reg_forge_real");
    const before = await simPosition(m.account_index);
    const f = await addFault({ name: "forge_fill", mode: "other_order", account_index: m.account_index });
    let c: CheckJson;
    try {
      c = await tradingCheck("reg_forge_real");
    } finally {
      await clearFault(f);
    }
    expect([c.verdict, c.diagnosis], JSON.stringify(c.evidence)).toEqual(["pass", null]);
    // The forged frame is in the evidence, not believed.
    expect(c.evidence.unexpected_order_indexes, JSON.stringify(c.evidence)).toBeTruthy();
    expect(await simPosition(m.account_index)).toBe(before);
  });
});
