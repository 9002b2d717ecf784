/**
 * Watch mode's state across a restart, in workerd: the bot ingest limit (120 requests a minute)
 * holds across a hard eviction; the recent misses /status shows come back after one; and the
 * Worker's watchdog flags a watch monitor that started and never completed a reconciliation.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import { postSeen } from "./bot-helpers.ts";
import { monitorFor, receivedAlerts, runCron, waitFor, type TestMonitor } from "./helpers.ts";
import { addAccountFault, startBot, startWatch, stopBot, stopWatch, watchStatus } from "./watch-helpers.ts";

afterAll(async () => {
  for (const s of ["watch_restart", "watch_never", "bot_evict"]) await stopWatch(monitorFor(s));
});

/** A hard eviction: the object is aborted (its memory and socket gone); SQLite stays. */
async function evict(m: TestMonitor): Promise<void> {
  const stub = monitorStub(env, { id: m.id, locationHint: null });
  await runInDurableObject(stub as unknown as DurableObjectStub<FillMonitor>, (_i, state) => {
    state.abort("test eviction");
  }).catch(() => undefined);
}

describe("watch state across a restart", () => {
  it("the bot ingest limit holds across a hard eviction (the window is in SQLite)", async () => {
    const m = monitorFor("bot_evict");
    let accepted = 0;
    let refused: Response | null = null;
    for (let i = 0; i < 130 && !refused; i++) {
      const r = await postSeen(m, "[]");
      if (r.status === 429) refused = r;
      else {
        expect(r.status).toBe(200);
        accepted++;
      }
    }
    expect(accepted).toBe(120);
    await evict(m);
    // A fresh instance: the requests of this minute still count.
    const after = await waitFor("the object answers again", async () => {
      try {
        return await postSeen(m, "[]");
      } catch {
        return null;
      }
    });
    expect(after.status).toBe(429);
    expect(Number(after.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("the recent misses on /status come back after a hard eviction", async () => {
    const m = await startWatch("watch_restart");
    await addAccountFault(m, { name: "withhold_orders", every_n: 2 });
    await startBot(m, 120, 41);
    const before = await waitFor(
      "a miss on /status",
      async () => {
        const st = await watchStatus(m);
        return st.watch.recent_misses.length > 0 ? st : null;
      },
      20_000,
    );
    await stopBot(m);
    const ids = before.watch.recent_misses.map((f) => f.trade_id);
    await evict(m);
    const after = await waitFor("/status after the eviction", async () => {
      try {
        return await watchStatus(m);
      } catch {
        return null;
      }
    });
    const shown = after.watch.recent_misses.map((f) => f.trade_id);
    for (const id of ids) expect(shown).toContain(id);
    // Restored, not re-alerted: each miss is listed once.
    expect(new Set(shown).size).toBe(shown.length);
  });

  it("the watchdog flags a watch monitor that started and never completed a reconciliation", async () => {
    const m = monitorFor("watch_never");
    // Every REST call fails from the start: the watch never reads its first page.
    await addAccountFault(m, { name: "rest_errors", status: 500 });
    let t = 1_802_400_000_000;
    await runCron("watch_never", t);
    const stalled = async () =>
      (await receivedAlerts("watch_never")).filter((a) => JSON.stringify(a.body).includes("monitor_stalled"));
    await waitFor("the watch started", async () => {
      const st = await watchStatus(m).catch(() => null);
      return st && (st.watch as unknown as { started_at: number | null }).started_at !== null ? st : null;
    });
    expect((await watchStatus(m)).watch.cursor_trade_id).toBeNull();
    // Started just now: not stalled yet.
    await runCron("watch_never", (t += 300_000));
    expect(await stalled()).toEqual([]);
    // Three schedule periods later, still no reconciliation.
    const stub = monitorStub(env, { id: m.id, locationHint: null });
    await runInDurableObject(stub as unknown as DurableObjectStub<FillMonitor>, (instance) => {
      const parts = (instance as unknown as { parts: { watch: { state: { rec: { startedAt: number } } } } }).parts;
      parts.watch.state.rec.startedAt = Date.now() - 20 * 60_000;
    });
    await runCron("watch_never", t + 300_000);
    const got = await waitFor("the monitor_stalled alert", async () => {
      const a = await stalled();
      return a.length > 0 ? a : null;
    });
    expect(JSON.stringify(got[0]!.body)).toContain("never completed a reconciliation");
  });
});
