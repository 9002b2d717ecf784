/**
 * Watch mode against the exchange as LIVE.md L.13 has it, with the simulator's bot trading: the
 * watch object is hard-evicted while withhold_orders hides fills and still alerts each hidden one;
 * more than 100 trades between two reconciliations are all judged by paging back through
 * next_cursor; a budget that cannot reach back says watch_gap with the unchecked range; a 405 rate
 * limit pauses REST and a restarted object never calls /trades inside the cooldown; a session that
 * does not answer the server's pings is closed (1008) and reconnects.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import { api, clearFault, monitorFor, runCron, waitFor, type TestMonitor } from "./helpers.ts";
import {
  addAccountFault,
  requestsOf,
  simJson,
  startBot,
  startWatch,
  stopBot,
  stopWatch,
  watchStatus,
} from "./watch-helpers.ts";

const SCENARIOS = ["watch_evict", "watch_pages", "watch_budget", "watch_405", "watch_ping"];
afterAll(async () => {
  for (const s of SCENARIOS) await stopWatch(monitorFor(s));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let tick = 1_900_000_000_000;

/** A hard eviction: the object is aborted mid-hold (its socket and memory gone); SQLite stays. */
async function evict(m: TestMonitor): Promise<void> {
  const stub = monitorStub(env, { id: m.id, locationHint: null });
  await runInDurableObject(stub as unknown as DurableObjectStub<FillMonitor>, (_instance, state) => {
    state.abort("test eviction");
  }).catch(() => undefined);
}

interface SimTradeRow {
  trade_id_str: string;
  ask_account_id: number | string;
  bid_account_id: number | string;
  ask_id_str: string;
  bid_id_str: string;
  timestamp: number;
}

async function simState(m: TestMonitor) {
  const s = await simJson(`/_sim/state?account_index=${m.account_index}`);
  return {
    orders: s.orders as { order_id: string; selected_by: string[]; filled_base_amount: string }[],
    trades: s.trades as SimTradeRow[],
  };
}

/** The account's own side of each trade: its order index. */
function ownOrder(m: TestMonitor, t: SimTradeRow): string {
  return String(t.ask_account_id) === String(m.account_index) ? t.ask_id_str : t.bid_id_str;
}

async function events(m: TestMonitor, event: string): Promise<{ data: Record<string, unknown> }[]> {
  const res = await api(`/logs?monitor=${encodeURIComponent(m.id)}&event=${event}&limit=1000`);
  return ((await res.json()) as { events: { data: Record<string, unknown> }[] }).events;
}

describe("watch mode across evictions and as the exchange serves trades (L.13)", () => {
  it("a hard eviction while the bot trades: every fill withhold_orders hid, in the gap too, is fill_not_reported", async () => {
    const m = await startWatch("watch_evict");
    const startedAfter = BigInt((await watchStatus(m)).watch.cursor_trade_id!);
    const faultId = await addAccountFault(m, { name: "withhold_orders", every_n: 3 });
    await startBot(m, 300, 41);
    await waitFor(
      "a judged fill before the eviction",
      async () => ((await watchStatus(m)).watch.fills.fills ?? 0) >= 2,
    );
    await evict(m);
    // The object is away while the bot trades on: nothing touches it for 2 s (window 1 s, reconcile 1 s).
    const awayFrom = Date.now();
    await sleep(2_000);
    const awayTo = Date.now();
    await runCron("watch_evict", (tick += 300_000));
    await sleep(1_500);
    await stopBot(m);
    const { orders, trades } = await simState(m);
    const hidden = new Set(
      orders.filter((o) => o.selected_by.includes(faultId) && o.filled_base_amount !== "0.0000").map((o) => o.order_id),
    );
    const hiddenTrades = trades.filter((t) => BigInt(t.trade_id_str) > startedAfter && hidden.has(ownOrder(m, t)));
    const inGap = hiddenTrades.filter((t) => t.timestamp >= awayFrom && t.timestamp <= awayTo);
    expect(inGap.length).toBeGreaterThan(0);
    const missed = await waitFor(
      "fill_not_reported for every hidden fill",
      async () => {
        const ev = await events(m, "watch.fill_not_reported");
        const ids = new Set(ev.map((e) => String(e.data.trade_id)));
        return hiddenTrades.every((t) => ids.has(t.trade_id_str)) ? ev : null;
      },
      20_000,
    );
    // Each hidden fill once; no fill the fault did not hide was called missed.
    const ids = missed.map((e) => String(e.data.trade_id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of missed) expect(hidden.has(String(e.data.order_index))).toBe(true);
    // The restarted object resumed from where it stopped (SQLite), not from the newest trade.
    const resumed = await events(m, "watch.resumed");
    expect(resumed.length).toBeGreaterThan(0);
    expect(BigInt(String(resumed[0]!.data.after_trade_id))).toBeGreaterThanOrEqual(startedAfter);
    // The fills the exchange did report in the gap were reconciled over it (the reconnect snapshot), not alerted.
    const s = await watchStatus(m);
    expect(s.watch.fills.gap ?? 0).toBeGreaterThan(0);
    await clearFault(faultId);
  });

  it("more than 100 trades between two reconciliations are all judged, paging back through next_cursor", async () => {
    const m = await startWatch("watch_pages");
    const startedAfter = BigInt((await watchStatus(m)).watch.cursor_trade_id!);
    // REST fails while the bot trades, so the next reconciliation that reads has more than 100 trades to read.
    const down = await addAccountFault(m, { name: "rest_errors", status: 500 });
    await startBot(m, 3000, 42);
    await waitFor(
      "more than 100 trades of the account",
      async () => {
        const { trades } = await simState(m);
        return trades.filter((t) => BigInt(t.trade_id_str) > startedAfter).length > 110;
      },
      15_000,
    );
    await stopBot(m);
    await sleep(300); // orders already sent still execute
    await clearFault(down);
    const { trades } = await simState(m);
    const mine = trades.filter((t) => BigInt(t.trade_id_str) > startedAfter);
    const s = await waitFor(
      "every trade judged",
      async () => {
        const st = await watchStatus(m);
        return (st.watch.fills.fills ?? 0) >= mine.length && st.watch.pending_fills === 0 ? st : null;
      },
      20_000,
    );
    expect(s.watch.fills.fills).toBe(mine.length);
    expect(s.watch.fills.missed ?? 0).toBe(0);
    expect(s.watch.fills.reported).toBe(mine.length);
    const reqs = (await requestsOf(m)).filter((r) => r.path.startsWith("/api/v1/trades"));
    expect(reqs.some((r) => r.path.includes("cursor="))).toBe(true);
    expect(reqs.every((r) => r.path.includes("sort_dir=desc") && /limit=(1|100)(&|$)/.test(r.path))).toBe(true);
    expect(await events(m, "watch.watch_gap")).toEqual([]);
  });

  it("a budget that cannot reach back reports watch_gap with the unchecked time range", async () => {
    const m = await startWatch("watch_budget");
    // REST fails while the bot makes more than 100 trades; then one page is all the budget gives a walk.
    const down = await addAccountFault(m, { name: "rest_errors", status: 500 });
    await startBot(m, 6000, 43);
    await waitFor("more than 100 trades of the account", async () => (await simState(m)).trades.length > 110, 15_000);
    await stopBot(m);
    await clearFault(down);
    const gap = await waitFor(
      "watch_gap",
      async () => {
        const ev = await events(m, "watch.watch_gap");
        return ev[0] ?? null;
      },
      30_000,
    );
    const d = gap.data as {
      unchecked_from: number;
      unchecked_to: number;
      after_trade_id: string;
      before_trade_id: string;
    };
    expect(d.unchecked_to).toBeGreaterThanOrEqual(d.unchecked_from);
    expect(BigInt(d.before_trade_id)).toBeGreaterThan(BigInt(d.after_trade_id));
    const s = await watchStatus(m);
    expect(s.incidents.some((i) => i.kind === "watch_rest" && i.diagnosis === "watch_gap")).toBe(true);
  });

  it("a 405 rate limit pauses REST; a restarted object never calls /trades inside the cooldown", async () => {
    const m = await startWatch("watch_405");
    const fault = await addAccountFault(m, { name: "rest_errors", status: 405 });
    const s = await waitFor("exchange_rate_limited on a 405", async () => {
      const st = await watchStatus(m);
      return st.watch.rest.paused_until !== null &&
        st.incidents.some((i) => i.kind === "watch_rest" && i.diagnosis === "exchange_rate_limited")
        ? st
        : null;
    });
    const limited = await events(m, "watch.exchange_rate_limited");
    expect(limited[0]!.data.http_status).toBe(405);
    await clearFault(fault);
    const pausedUntil = s.watch.rest.paused_until!;
    const limitedAt = (await requestsOf(m)).at(-1)!.at;
    await evict(m);
    await runCron("watch_405", (tick += 300_000));
    await waitFor("the restarted session", async () => (await watchStatus(m)).session.state === "open");
    const after = await watchStatus(m);
    expect(after.watch.rest.paused_until).toBe(pausedUntil);
    await waitFor(
      "REST again after the cooldown",
      async () => (await requestsOf(m)).some((r) => r.at > limitedAt),
      15_000,
    );
    const later = (await requestsOf(m)).filter((r) => r.at > limitedAt);
    expect(later[0]!.at).toBeGreaterThanOrEqual(pausedUntil);
  });

  it("a session whose pongs never reach the server is closed 1008 no pong and reconnects; answered pings keep it", async () => {
    const m = await startWatch("watch_ping");
    const answered = await addAccountFault(m, { name: "server_ping", every_ms: 100, expect_pong_ms: 400 });
    await sleep(1_500);
    const kept = await watchStatus(m);
    expect([kept.session.state, kept.session.reconnects]).toEqual(["open", 0]);
    await clearFault(answered);
    const lost = await addAccountFault(m, {
      name: "server_ping",
      every_ms: 100,
      expect_pong_ms: 400,
      ignore_pongs: true,
    });
    await waitFor("the 1008 close", async () => {
      const ev = await events(m, "watch.session.closed_by_peer");
      return ev.some((e) => e.data.code === 1008 && e.data.reason === "no pong") ? ev : null;
    });
    await clearFault(lost);
    const back = await waitFor("the reconnected session", async () => {
      const st = await watchStatus(m);
      return st.session.state === "open" && st.session.reconnects >= 1 && st.session.subscriptions.length >= 4
        ? st
        : null;
    });
    expect(back.session.reconnects).toBeGreaterThanOrEqual(1);
  });
});
