/**
 * The watch machine's branches, one table row each: the session, the trades walk, REST budget and
 * cooldown (429, 405), monitor_blind, misses and late reports, the restart from the saved record,
 * and bot ingest (rate window kept across a restart).
 */
import { describe, expect, it } from "vitest";
import { step } from "../../../worker/monitor/watch/machine.ts";
import { watchView } from "../../../worker/monitor/watch/view.ts";
import { parseOrder } from "../../../worker/lighter/messages.ts";
import { ACCT, SETTINGS, World } from "./machine-world.ts";

/** A world whose watch has connected and read its start cursor. */
function started(settings = SETTINGS): World {
  const w = new World(settings);
  w.wait(250);
  w.answerRest();
  w.wait(250);
  return w;
}

function alerts(w: World, stream: string) {
  return w.effects("alert").filter((a) => a.fx.stream === stream);
}

describe("watch machine: session", () => {
  it("a tick with no session opens one, once, until it answers", () => {
    const w = new World();
    w.tick();
    w.tick();
    expect(w.effects("open")).toHaveLength(1);
    w.connect();
    expect(w.s.session.state).toBe("open");
    expect(w.s.session.subscribed).toEqual(
      expect.arrayContaining(["account_all_orders", "account_orders", "account_all_trades", "account_all_positions"]),
    );
  });

  it("a lost session is reopened on the next tick and the gap is read over REST at once", () => {
    const w = started();
    w.wait(3_000);
    w.answerRest();
    const opens = w.effects("open").length;
    const reads = w.effects("rest_trades").length;
    w.drop();
    expect(w.s.nextReconcileAt).toBe(w.now);
    w.tick();
    expect(w.effects("open")).toHaveLength(opens + 1);
    expect(w.effects("rest_trades")).toHaveLength(reads + 1);
  });

  it("a stale connect answer (an older connection) is closed and changes nothing", () => {
    const w = new World();
    w.tick();
    const { effects } = step(w.s, { kind: "connected", conn: 99 }, w.now);
    expect(w.s.session.state).toBe("connecting");
    expect(effects).toEqual([{ kind: "close", reason: "stale connection" }]);
  });

  it("a connect that completes after a stop (pause, recycle) is closed, never kept open", () => {
    const w = new World();
    w.tick();
    const conn = w.effects("open")[0]!.fx.conn;
    w.feed({ kind: "stopping", reason: "paused" });
    const fx = w.feed({ kind: "connected", conn });
    expect(fx).toEqual([{ kind: "close", reason: "stale connection" }]);
    expect(w.s.session.state).toBe("closed");
  });
});

describe("watch machine: the trades walk", () => {
  it("the first read asks for one trade, logs watch.started and saves the mark", () => {
    const w = new World();
    w.fill("ws");
    w.tick();
    const first = w.effects("rest_trades")[0]!.fx;
    expect(first).toMatchObject({ cursor: null, limit: 1 });
    w.answerRest();
    expect(w.logs("watch.started")).toHaveLength(1);
    expect(w.saved?.mark?.id).toBe("100");
  });

  it("more than a page of new trades is read back through next_cursor and every fill judged", () => {
    const w = started();
    for (let i = 0; i < 130; i++) w.fill("ws");
    for (let i = 0; i < 10; i++) {
      w.wait(2_000);
      w.answerRest();
    }
    expect(w.s.counts.reported).toBe(130);
    expect(w.effects("rest_trades").some((r) => r.fx.cursor !== null)).toBe(true);
  });

  it("a withheld fill on covered channels is fill_not_reported once, in the record's recent misses", () => {
    const w = started();
    const f = w.fill("withheld");
    w.wait(3_000);
    w.answerRest();
    w.wait(500);
    const missed = w.logs("watch.fill_not_reported");
    expect(missed.map((m) => m.trade_id)).toEqual([f.tradeId.toString()]);
    const fail = alerts(w, "watch").at(-1)!.fx.result;
    expect(fail).toMatchObject({ verdict: "fail", diagnosis: "fill_not_reported" });
    expect(w.saved!.recentMisses.map((m) => m.trade_id)).toEqual([f.tradeId.toString()]);
    expect(w.saved!.misses).toHaveLength(1);
  });

  it("a report after the window is late_report with its delay, no alert", () => {
    const w = started();
    w.fill("late");
    w.wait(4_000);
    w.answerRest();
    w.wait(500);
    expect(w.logs("watch.fill_not_reported")).toHaveLength(0);
    const late = w.logs("watch.late_report");
    expect(late.map((l) => l.delay_ms)).toEqual([3 * SETTINGS.windowMs]);
    expect(alerts(w, "watch")).toHaveLength(0);
  });
});

describe("watch machine: REST budget and cooldown", () => {
  for (const mode of ["429", "405"] as const) {
    it(`a ${mode} pauses all REST for the cooldown and opens exchange_rate_limited; an answer resolves it`, () => {
      const w = started();
      w.restMode = mode;
      w.wait(2_000);
      w.answerRest();
      const at = w.now;
      expect(alerts(w, "watch_rest").at(-1)!.fx.result).toMatchObject({
        verdict: "fail",
        diagnosis: "exchange_rate_limited",
      });
      expect(w.saved!.budget.pausedUntil).toBe(at + SETTINGS.rateLimitPauseMs);
      const reads = w.effects("rest_trades").length;
      w.wait(59_000);
      expect(w.effects("rest_trades")).toHaveLength(reads);
      w.restMode = "ok";
      w.wait(2_000);
      w.answerRest();
      expect(alerts(w, "watch_rest").at(-1)!.fx.result.verdict).toBe("pass");
    });
  }

  it("a 405 that carries another code is a failure, not the rate limit", () => {
    const w = started();
    w.wait(2_000);
    const r = w.effects("rest_trades").at(-1)!.fx;
    w.feed({ kind: "trades_page", ref: r.ref, ok: false, message: "bad", code: 20001, httpStatus: 405 });
    expect(w.s.rec.budget.pausedUntil).toBeNull();
    expect(w.logs("watch.rest_failed")).toHaveLength(1);
  });

  it("reads failing for three reconcile periods open monitor_blind; the next answer resolves it", () => {
    const w = started();
    w.restMode = "500";
    for (let i = 0; i < 5; i++) {
      w.wait(2_000);
      w.answerRest();
    }
    expect(alerts(w, "watch_rest").map((a) => a.fx.result.diagnosis)).toContain("monitor_blind");
    w.restMode = "ok";
    w.wait(2_000);
    w.answerRest();
    expect(alerts(w, "watch_rest").at(-1)!.fx.result.verdict).toBe("pass");
  });

  it("the budget is never exceeded: a deferred read is counted, not sent", () => {
    const w = started({ ...SETTINGS, restBudgetPerMin: 3, reconcileMs: 100 });
    for (let i = 0; i < 100; i++) {
      w.wait(100, 50);
      w.answerRest();
    }
    // started() made the first read; 10 s later the minute's other two are spent, no more.
    expect(w.effects("rest_trades").length).toBe(3);
    expect(w.effects("count").some((c) => c.fx.name === "watch.rest_deferred_by_budget")).toBe(true);
  });

  it("a reply to a request a restart forgot (an unknown ref) is ignored", () => {
    const w = started();
    const before = w.s.walk;
    w.feed({ kind: "trades_page", ref: 12345, ok: true, trades: [], nextCursor: "" });
    expect(w.s.walk).toBe(before);
  });
});

describe("watch machine: restart from the saved record", () => {
  it("the walk resumes from the mark, the cooldown holds and the recent misses are still shown", () => {
    const w = started();
    const f = w.fill("withheld");
    w.wait(3_000);
    w.answerRest();
    w.wait(500);
    w.restMode = "429";
    w.wait(2_000);
    w.answerRest();
    const pausedUntil = w.s.rec.budget.pausedUntil!;
    w.restart();
    expect(w.s.walk.seen?.id.toString()).toBe(w.saved!.mark!.id);
    const view = watchView(w.s, w.now) as { recent_misses: { trade_id: string }[]; rest: { paused_until: number } };
    expect(view.recent_misses.map((m) => m.trade_id)).toEqual([f.tradeId.toString()]);
    expect(view.rest.paused_until).toBe(pausedUntil);
    const reads = w.effects("rest_trades").length;
    w.wait(pausedUntil - w.now - 100);
    expect(w.effects("rest_trades")).toHaveLength(reads);
    // A stored miss is never alerted again when REST shows its fill once more.
    w.restMode = "ok";
    w.wait(5_000);
    w.answerRest();
    w.wait(500);
    expect(w.logs("watch.fill_not_reported")).toHaveLength(1);
  });

  it("the first tick stamps when the watch started (the Worker's watchdog reads it)", () => {
    const w = new World();
    w.tick();
    expect(w.saved?.startedAt).toBe(w.now);
  });
});

describe("watch machine: bot ingest", () => {
  it("without a bot block a batch is not_enabled", () => {
    const w = new World({ ...SETTINGS, bot: null });
    w.ingest();
    expect(w.ingests).toEqual([{ at: w.now, outcome: "not_enabled" }]);
  });

  it("120 requests a minute are admitted, the 121st refused; the window is checkpointed every 10, not per request", () => {
    const w = new World();
    for (let i = 0; i < 121; i++) w.ingest();
    expect(w.ingests.filter((x) => x.outcome === "accepted")).toHaveLength(120);
    expect(w.ingests.at(-1)!.outcome).toBe("rate_limited");
    const saves = w.effects("save").length;
    expect(saves).toBeLessThanOrEqual(13);
    expect(saves).toBeGreaterThanOrEqual(12);
  });

  it("a restart keeps the limit: requests admitted before it still count", () => {
    const w = new World();
    for (let i = 0; i < 115; i++) w.ingest();
    w.restart();
    for (let i = 0; i < 10; i++) w.ingest();
    expect(w.ingests.filter((x) => x.outcome === "accepted").length).toBeLessThanOrEqual(120);
    w.now += 60_001;
    w.ingest();
    expect(w.ingests.at(-1)!.outcome).toBe("accepted");
  });

  it("a WebSocket amount is stored at its µs transaction time; one in another unit at its receipt", () => {
    const w = started();
    w.now = 1_800_000_000_000; // a real epoch: transaction times are µs since it
    const us = (w.now - 40) * 1000;
    const o = (index: number, transaction_time: number) =>
      parseOrder({
        order_index: index,
        client_order_index: index + 1000,
        market_index: 0,
        owner_account_index: Number(ACCT),
        filled_base_amount: "0.0100",
        status: "filled",
        transaction_time,
      });
    const fx = w.feed({
      kind: "orders",
      channel: "account_all_orders",
      market: null,
      orders: [o(901, us), o(902, w.now - 40), o(903, 0)],
      snapshot: false,
    });
    const at = Object.fromEntries(
      fx.flatMap((f) => (f.kind === "bot_store_ws" ? [[f.orderIndex, f.at] as const] : [])),
    );
    expect(at).toEqual({ "901": w.now - 40, "902": w.now, "903": w.now });
  });

  it("a fill the bot never reports is bot_missed_fill; a reported one is not", () => {
    const w = started();
    w.ingest();
    const reported = w.fill("ws");
    const missed = w.fill("ws");
    w.ingest([reported]);
    w.wait(3_000);
    w.answerRest();
    w.wait(3_000);
    w.ingest();
    w.wait(500);
    const bot = w.logs("bot.missed_fill").map((m) => m.trade_id);
    expect(bot).toEqual([missed.tradeId.toString()]);
    expect(alerts(w, "bot").at(-1)!.fx.result).toMatchObject({ verdict: "fail", diagnosis: "bot_missed_fill" });
  });
});
