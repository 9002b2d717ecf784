/**
 * Watch mode under faults, with the simulator's bot trading on the account: duplicated and
 * reordered frames and a reconnect with a gap give no false alert; a 429 pauses all REST and opens
 * exchange_rate_limited; a read-only token serves both REST and the private channels.
 */
import { afterAll, describe, expect, it } from "vitest";
import { clearFault, monitorFor, monitorStatus, receivedAlerts, sim, waitFor } from "./helpers.ts";
import { addAccountFault, requestsOf, startBot, startWatch, stopBot, stopWatch, watchStatus } from "./watch-helpers.ts";

afterAll(async () => {
  for (const s of [
    "watch_dup",
    "watch_gap",
    "watch_429",
    "watch_rest_down",
    "watch_ro",
    "watch_position",
    "watch_position_full",
  ])
    await stopWatch(monitorFor(s));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("watch mode under faults", () => {
  it("duplicated and reordered frames: every fill reported, no false alert", async () => {
    const m = await startWatch("watch_dup");
    const dup = await addAccountFault(m, { name: "duplicate_frames" });
    const reorder = await addAccountFault(m, { name: "reorder_frames" });
    await startBot(m, 120, 31);
    const s = await waitFor("several judged fills", async () => {
      const st = await watchStatus(m);
      return (st.watch.fills.reported ?? 0) >= 4 ? st : null;
    });
    await stopBot(m);
    await clearFault(dup);
    await clearFault(reorder);
    expect(s.watch.fills.missed ?? 0).toBe(0);
    expect(s.watch.recent_misses).toEqual([]);
    expect(s.incidents.filter((i) => i.kind.startsWith("watch"))).toEqual([]);
    expect(await receivedAlerts("watch_dup")).toEqual([]);
  });

  it("a transaction_time in ms on the account frames is counted unexpected, never a latency sample", async () => {
    const m = await startWatch("watch_dup");
    type Dl = Record<string, Record<string, { samples: number }>> | undefined;
    const samples = async () => {
      const st = (await monitorStatus(m.id)) as unknown as {
        delivery_latency_ms?: Dl;
        counters: Record<string, number>;
      };
      return {
        orders: st.delivery_latency_ms?.account_all_orders?.["0"]?.samples ?? 0,
        unexpected: st.counters["delivery_latency.unexpected"] ?? 0,
      };
    };
    const fault = await addAccountFault(m, { name: "odd_transaction_time", as: "ms" });
    try {
      const before = await samples();
      await startBot(m, 300, 33);
      const after = await waitFor("unexpected transaction times counted", async () => {
        const now = await samples();
        return now.unexpected > before.unexpected ? now : null;
      });
      await stopBot(m);
      expect(after.orders, "a ms transaction_time is never a sample").toBe(before.orders);
    } finally {
      await clearFault(fault);
    }
  });

  it("a reconnect with a gap: the gap's fills are reconciled over REST, no false alert", async () => {
    const m = await startWatch("watch_gap");
    await startBot(m, 300, 32);
    await waitFor("a reported fill", async () => ((await watchStatus(m)).watch.fills.reported ?? 0) >= 1);
    const refuse = await addAccountFault(m, { name: "refuse_connections" });
    const drop = await addAccountFault(m, { name: "drop_connection" });
    await sleep(1_500); // the bot trades while the session is down
    await clearFault(drop);
    await clearFault(refuse);
    const s = await waitFor("the gap reconciled and the session back", async () => {
      const st = await watchStatus(m);
      return st.session.reconnects >= 1 && st.session.state === "open" && (st.watch.fills.gap ?? 0) >= 1 ? st : null;
    });
    await stopBot(m);
    // Fills after the reconnect are judged normally again.
    const after = await waitFor("fills judged after the reconnect", async () => {
      const st = await watchStatus(m);
      return st.watch.fills.reported! > s.watch.fills.reported! || st.watch.pending_fills === 0 ? st : null;
    });
    expect(after.watch.fills.missed ?? 0).toBe(0);
    expect(after.incidents.filter((i) => i.kind.startsWith("watch"))).toEqual([]);
    expect(await receivedAlerts("watch_gap")).toEqual([]);
  });

  it("a 429 stops all REST for the pause and opens exchange_rate_limited; it resolves when REST answers again", async () => {
    const m = await startWatch("watch_429");
    const fault = await addAccountFault(m, { name: "rest_errors", status: 429 });
    const s = await waitFor("exchange_rate_limited", async () => {
      const st = await watchStatus(m);
      return st.watch.rest.paused_until !== null &&
        st.incidents.some((i) => i.kind === "watch_rest" && i.diagnosis === "exchange_rate_limited")
        ? st
        : null;
    });
    const pausedUntil = s.watch.rest.paused_until!;
    const limitedAt = (await requestsOf(m)).at(-1)!.at;
    // The pause is 60 s at the test's time_scale 0.1: 6 s.
    expect(pausedUntil - limitedAt).toBeGreaterThanOrEqual(5_500);
    await sleep(2_000);
    const during = (await requestsOf(m)).filter((r) => r.at > limitedAt);
    expect(during).toEqual([]);
    await clearFault(fault);
    const alerts = await waitFor(
      "the rate-limit alert and its resolution",
      async () => {
        const a = await receivedAlerts("watch_429");
        const kinds = a.map((x) => String((x.body as { kind?: string }).kind ?? JSON.stringify(x.body)));
        return kinds.some((k) => k.includes("resolve")) ? a : null;
      },
      20_000,
    );
    const text = JSON.stringify(alerts);
    expect(text).toContain("exchange_rate_limited");
    expect(text).toMatch(/shared with your bot/);
    const resumed = (await requestsOf(m)).filter((r) => r.at > limitedAt);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]!.at).toBeGreaterThanOrEqual(pausedUntil);
  });

  it("trades reads that keep failing (HTTP 500) open monitor_blind on watch_rest; it resolves when REST answers again", async () => {
    const m = await startWatch("watch_rest_down");
    // The walk has read its start point; from now on every REST call fails.
    await waitFor("the watch started", async () => ((await watchStatus(m)).watch.cursor_trade_id ? true : null));
    const fault = await addAccountFault(m, { name: "rest_errors", status: 500 });
    const s = await waitFor(
      "monitor_blind while the trades walk fails",
      async () => {
        const st = await watchStatus(m);
        return st.incidents.some((i) => i.kind === "watch_rest" && i.diagnosis === "monitor_blind") ? st : null;
      },
      20_000,
    );
    expect(s.watch.rest.paused_until).toBeNull();
    await clearFault(fault);
    const alerts = await waitFor(
      "the blind alert and its resolution",
      async () => {
        const a = await receivedAlerts("watch_rest_down");
        const kinds = a.map((x) => String((x.body as { kind?: string }).kind ?? ""));
        return kinds.includes("trigger") && kinds.includes("resolve") ? a : null;
      },
      20_000,
    );
    expect(JSON.stringify(alerts)).toContain("monitor_blind");
    expect(JSON.stringify(alerts)).toMatch(/trades/);
  });

  it("a read-only token: REST and the private channels work without a private key", async () => {
    const m = await startWatch("watch_ro");
    await startBot(m, 120, 34);
    const s = await waitFor("reported fills with the read-only token", async () => {
      const st = await watchStatus(m);
      return (st.watch.fills.reported ?? 0) >= 2 ? st : null;
    });
    expect(s.session.subscriptions).toEqual(
      expect.arrayContaining(["account_all_orders", "account_orders", "account_all_trades", "account_all_positions"]),
    );
    const reqs = await requestsOf(m);
    expect(reqs.every((r) => r.authorization_header && !r.token_in_url)).toBe(true);
  });

  it("a position change no fill explains opens position_moved_without_fill", async () => {
    const m = await startWatch("watch_position");
    const res = await sim("/_sim/position_shift", {
      method: "POST",
      body: JSON.stringify({ account_index: String(m.account_index), market: 0, delta: "-150" }),
    });
    expect(res.status).toBe(200);
    const s = await waitFor("position_moved_without_fill", async () => {
      const st = await watchStatus(m);
      return st.incidents.some((i) => i.kind === "watch_position" && i.diagnosis === "position_moved_without_fill")
        ? st
        : null;
    });
    const moves = (
      s.watch as unknown as { recent_position_moves: { market: number; to: string; explained: boolean }[] }
    ).recent_position_moves;
    expect(moves.at(-1)).toMatchObject({ market: 0, to: "-0.0150", explained: false });
    const alerts = await waitFor("the alert", async () => {
      const a = await receivedAlerts("watch_position");
      return a.length > 0 ? a : null;
    });
    expect(JSON.stringify(alerts[0]!.body)).toContain("position_moved_without_fill");
  });

  it("full position frames (positions_frames=full): fills explain the moves they make; a shift with no fill is still caught", async () => {
    const m = monitorFor("watch_position_full");
    const v = await sim("/_sim/variants", {
      method: "POST",
      body: JSON.stringify({ positions_frames: "full", account_index: String(m.account_index) }),
    });
    expect(v.status).toBe(200);
    await sim("/_sim/position_shift", {
      method: "POST",
      body: JSON.stringify({ account_index: String(m.account_index), market: 1, delta: "100" }),
    });
    await startWatch("watch_position_full");
    await startBot(m, 300, 36);
    await waitFor("explained moves on market 0", async () => {
      const st = await watchStatus(m);
      const moves = (st.watch as unknown as { recent_position_moves: { market: number }[] }).recent_position_moves;
      return moves.filter((x) => x.market === 0).length >= 3 ? st : null;
    });
    await stopBot(m);
    const quiet = await watchStatus(m);
    expect(quiet.incidents.filter((i) => i.kind === "watch_position")).toEqual([]);
    await sim("/_sim/position_shift", {
      method: "POST",
      body: JSON.stringify({ account_index: String(m.account_index), market: 1, delta: "-40" }),
    });
    const s = await waitFor("position_moved_without_fill on market 1", async () => {
      const st = await watchStatus(m);
      return st.incidents.some((i) => i.kind === "watch_position") ? st : null;
    });
    const moves = (
      s.watch as unknown as {
        recent_position_moves: { market: number; from: string; to: string; explained: boolean }[];
      }
    ).recent_position_moves;
    const unexplained = moves.filter((x) => !x.explained);
    expect(unexplained).toHaveLength(1);
    expect(unexplained[0]).toMatchObject({ market: 1, from: "0.00100", to: "0.00060" });
  });
});
