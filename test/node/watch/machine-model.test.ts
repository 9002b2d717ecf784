/**
 * The watch machine's model test: random schedules of fills (reported, late, withheld), REST
 * answers (ok, 429, 405, timeouts, 500), session drops, restarts from the saved record and bot
 * batches (bursts of requests, reports of real fills), run through the real `step`. Properties:
 * the REST budget and the 429/405 cooldown hold across restarts; no fill reported in time is ever
 * alerted; every withheld fill of an undisturbed session is alerted, exactly once; no fill is
 * alerted twice, restarts included; nothing is left undecided once REST answers again; the bot's
 * rolling minute never admits more than 120 requests, restarts included.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SETTINGS, World, type RestMode } from "./machine-world.ts";

const RUNS = Number(process.env.FILLWATCH_MODEL_RUNS ?? 150);

type Action =
  | { t: "wait"; ms: number }
  | { t: "fill"; mode: "ws" | "late" | "withheld" }
  | { t: "rest"; mode: RestMode }
  | { t: "drop" }
  | { t: "restart" }
  | { t: "burst"; n: number }
  | { t: "report" };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("wait" as const), ms: fc.integer({ min: 50, max: 6_000 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("fill" as const),
      mode: fc.constantFrom("ws" as const, "late" as const, "withheld" as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("rest" as const),
      mode: fc.constantFrom(
        "ok" as const,
        "ok" as const,
        "429" as const,
        "405" as const,
        "timeout" as const,
        "500" as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "drop" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "restart" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("burst" as const), n: fc.integer({ min: 1, max: 90 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: "report" as const }) },
);

function run(actions: Action[]): World {
  const w = new World();
  w.wait(250);
  w.answerRest();
  w.wait(250);
  for (const a of actions) {
    if (a.t === "wait") w.wait(a.ms);
    else if (a.t === "fill") w.fill(a.mode);
    else if (a.t === "rest") {
      w.restMode = a.mode;
      w.answerRest();
    } else if (a.t === "drop") w.drop();
    else if (a.t === "restart") w.restart();
    else if (a.t === "burst") for (let i = 0; i < a.n; i++) w.ingest();
    else w.ingest(w.fills.filter((f) => f.mode !== "withheld").slice(-3));
    w.tick();
  }
  // The calm after: REST answers, time passes past every cooldown and watch window.
  w.restMode = "ok";
  for (let i = 0; i < 60; i++) {
    w.wait(2_000);
    w.answerRest();
  }
  return w;
}

function check(w: World): void {
  // The REST budget: no rolling window holds more calls than the budget.
  const calls = [...w.effects("rest_trades"), ...w.effects("rest_orders")].map((c) => c.at).sort((a, b) => a - b);
  for (const at of calls) {
    const inWindow = calls.filter((x) => x > at - SETTINGS.budgetWindowMs && x <= at).length;
    expect(inWindow, `REST calls in the minute up to ${at}`).toBeLessThanOrEqual(SETTINGS.restBudgetPerMin);
  }
  // The cooldown: after a rate-limited answer, no REST until it ends (restarts included).
  const order = w.log.map((x, i) => ({ ...x, i }));
  const restAt = order.filter((x) => x.fx.kind === "rest_trades" || x.fx.kind === "rest_orders");
  for (const a of order) {
    if (a.fx.kind !== "alert" || a.fx.result.diagnosis !== "exchange_rate_limited") continue;
    const until = a.fx.result.evidence.paused_until as number;
    const inside = restAt.filter((c) => c.i > a.i && c.at < until).map((c) => c.at);
    expect(inside, `REST inside the cooldown from ${a.at} to ${until}`).toEqual([]);
  }
  const missed = w.logs("watch.fill_not_reported").map((m) => String(m.trade_id));
  // No fill alerted twice.
  expect(new Set(missed).size).toBe(missed.length);
  for (const f of w.fills) {
    const id = f.tradeId.toString();
    // A fill reported in time on an open session is never alerted.
    if (f.mode === "ws") expect(missed, `fill ${id} was reported in time`).not.toContain(id);
    // A withheld fill on a session that stayed up is alerted.
    if (f.mode === "withheld" && f.covered && !f.disturbed) expect(missed, `withheld fill ${id}`).toContain(id);
  }
  // Nothing left undecided: the walk reached the newest trade and no fill waits.
  expect(w.s.ledger.pendingFills).toBe(0);
  const newest = w.fills.at(-1);
  if (newest) expect(w.s.walk.seen!.id >= newest.tradeId).toBe(true);
  // The bot's rolling minute never admits more than 120 requests, restarts included.
  const admitted = w.ingests.filter((x) => x.outcome === "accepted").map((x) => x.at);
  for (const at of admitted) expect(admitted.filter((x) => x > at - 60_000 && x <= at).length).toBeLessThanOrEqual(120);
}

describe("watch machine model", () => {
  it(`${RUNS} random schedules: budget, cooldown, no false or double alert, no fill lost`, () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 60 }), (actions) => {
        check(run(actions));
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
