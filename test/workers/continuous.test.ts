/** Continuous mode: the session outlives the check, and a dropped connection is re-established. */
import { describe, expect, it } from "vitest";
import { addFault, clearFault, monitorFor, monitorStatus, runCron, waitFor, waitForVerdict } from "./helpers.ts";

describe("continuous mode", () => {
  it("stays connected between checks and reconnects after the exchange drops the socket", async () => {
    const m = monitorFor("continuous");
    await runCron("continuous", 1_800_900_000_000);
    const c = await waitForVerdict(m.id);
    expect(c.verdict).toBe("pass");
    // Past the on-demand grace period (3 s at time_scale 0.2) the session is still open.
    await new Promise((r) => setTimeout(r, 3_500));
    const open = await monitorStatus(m.id);
    expect((open.session as { state: string }).state).toBe("open");
    const before = (open.session as { reconnects: number }).reconnects;
    const f = await addFault({ name: "drop_connection", account_index: m.account_index });
    await new Promise((r) => setTimeout(r, 100));
    await clearFault(f);
    const after = await waitFor(
      "reconnected",
      async () => {
        const s = await monitorStatus(m.id);
        const session = s.session as { state: string; reconnects: number; subscriptions: { order_book: string[] } };
        return session.state === "open" && session.reconnects > before && session.subscriptions.order_book.length > 0
          ? session
          : null;
      },
      15_000,
    );
    expect(after.subscriptions.order_book).toEqual(["order_book:0"]);
  });
});
