/**
 * An IOC that fails margin ends as a real order `canceled-margin-not-allowed` (LIVE.md L.13.8, the
 * simulator's `no_margin` fault): a synthetic check calls it not filled with that reason, and watch
 * mode ignores such orders of the bot as non-fills (no fill, no alert).
 */
import { afterAll, describe, expect, it } from "vitest";
import { addFault, clearFault, monitorFor, runCron, waitFor, waitForVerdict } from "./helpers.ts";
import { addAccountFault, simJson, startBot, startWatch, stopBot, stopWatch, watchStatus } from "./watch-helpers.ts";

afterAll(async () => {
  await stopWatch(monitorFor("watch_margin"));
});

describe("canceled-margin-not-allowed (L.13.8)", () => {
  it("a check whose IOC fails margin is not_filled, naming canceled-margin-not-allowed", async () => {
    const m = monitorFor("margin_check");
    const faultId = await addFault({ name: "no_margin", account_index: m.account_index });
    try {
      await runCron("margin_check", 1_800_900_000_000);
      const c = await waitForVerdict(m.id, undefined, 25_000);
      expect(c.verdict, JSON.stringify(c, null, 1).slice(0, 2000)).toBe("fail");
      expect(c.diagnosis).toBe("not_filled");
      expect(JSON.stringify(c.evidence)).toContain("canceled-margin-not-allowed");
    } finally {
      await clearFault(faultId);
    }
  });

  it("watch mode: the bot's orders canceled for margin are no fills and raise no alert", async () => {
    const m = await startWatch("watch_margin");
    await addAccountFault(m, { name: "no_margin" });
    await startBot(m, 600, 51);
    await waitFor(
      "bot orders canceled for margin",
      async () => {
        const s = await simJson(`/_sim/state?account_index=${m.account_index}`);
        const orders = s.orders as { status: string }[];
        return orders.filter((o) => o.status === "canceled-margin-not-allowed").length >= 5;
      },
      15_000,
    );
    await stopBot(m);
    // Two reconciliations (1 s each) and a window after the last order.
    await new Promise((r) => setTimeout(r, 2_500));
    const s = await watchStatus(m);
    expect(s.watch.fills.fills ?? 0).toBe(0);
    expect(s.watch.recent_misses).toEqual([]);
    expect(s.incidents.filter((i) => i.kind.startsWith("watch"))).toEqual([]);
    expect(s.session.state).toBe("open");
  });
});
