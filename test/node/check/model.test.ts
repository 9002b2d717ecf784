/**
 * Model test of the check core: random schedules of ticks (some repeated, some overlapping),
 * lost sendTx replies, execution latency, REST lag and outages, deferred rejections, forged and
 * withheld frames, and crashes, against the World model. Invariants: at most one order per check
 * on the exchange and never two of our txs in flight; no new order while the lock is held; every
 * check concludes within its hard bound; a verdict never changes; a tick key runs once; no pass
 * without a real fill.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkBoundMs } from "../../../worker/monitor/check/phases.ts";
import { Harness, TIME_SCALE } from "./harness.ts";
import { World, type WorldKnobs } from "./world.ts";

type Action =
  | { t: "advance"; ms: number }
  | { t: "tick" }
  | { t: "repeat_tick" }
  | { t: "knobs"; knobs: Partial<WorldKnobs> }
  | { t: "forge"; how: "account" | "order_index" }
  | { t: "crash" };

const STEP_MAX = 200;

const knobs = fc.record(
  {
    execLatency: fc.integer({ min: 0, max: 800 }),
    restLag: fc.integer({ min: 0, max: 8_000 }),
    restDown: fc.boolean(),
    replyMode: fc.constantFrom("ok", "5xx", "timeout"),
    appReject: fc.boolean(),
    fills: fc.boolean(),
    withholdWs: fc.boolean(),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Partial<WorldKnobs>>;

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: STEP_MAX }).map((ms) => ({ t: "advance" as const, ms })) },
  { weight: 2, arbitrary: fc.constant({ t: "tick" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "repeat_tick" as const }) },
  { weight: 2, arbitrary: knobs.map((k) => ({ t: "knobs" as const, knobs: k })) },
  { weight: 1, arbitrary: fc.constantFrom("account", "order_index").map((how) => ({ t: "forge" as const, how })) },
  { weight: 1, arbitrary: fc.constant({ t: "crash" as const }) },
);

async function settle(w: World, h: Harness): Promise<void> {
  w.run();
  await h.deliverFrames();
  await h.alarm();
}

async function runSchedule(actions: Action[]): Promise<{ w: World; h: Harness; problems: string[] }> {
  const w = new World();
  const h = new Harness(w);
  const problems: string[] = [];
  let keys = 0;
  const frozen = new Map<string, string>();
  const checkInvariants = () => {
    for (const [id, n] of w.ordersPerCheck()) if (n > 1) problems.push(`check ${id} created ${n} orders`);
    if (w.inFlight() > 1) problems.push(`${w.inFlight()} of our txs in flight at ${w.now}`);
    for (const [id, v] of Object.entries(h.verdicts)) {
      const text = JSON.stringify(v);
      const before = frozen.get(id);
      if (before !== undefined && before !== text) problems.push(`verdict of ${id} changed`);
      frozen.set(id, text);
      if (v.at > v.boundAt + STEP_MAX) problems.push(`${id} concluded ${v.at - v.boundAt} ms after its bound`);
      // A frame with our exact identity and a REST that stays silent is `rest_lagging` by design
      // (the lock still holds the order until REST resolves it); anything else needs a real fill.
      const lagging = v.outcome.diagnosis === "rest_lagging";
      if ((v.outcome.verdict === "pass" || v.outcome.verdict === "degraded") && !lagging && !w.filledFor(id)) {
        problems.push(`${id} is ${v.outcome.verdict} (${v.outcome.diagnosis}) without a fill on the exchange`);
      }
    }
    const r = h.running;
    if (r && w.now > r.boundAt + STEP_MAX)
      problems.push(`${r.checkId} still running ${w.now - r.boundAt} ms past its bound`);
  };
  for (const a of actions) {
    switch (a.t) {
      case "advance":
        w.now += a.ms;
        break;
      case "tick":
        await h.tick(`k${++keys}`);
        break;
      case "repeat_tick":
        if (keys > 0) await h.tick(`k${keys}`);
        break;
      case "knobs":
        Object.assign(w.knobs, a.knobs);
        break;
      case "forge": {
        const r = h.running;
        if (r) w.forge(r.order.coi, a.how);
        break;
      }
      case "crash":
        h.crash();
        break;
    }
    await settle(w, h);
    checkInvariants();
  }
  // Drain: the exchange heals; every check must conclude within its bound.
  Object.assign(w.knobs, { restDown: false, restLag: 0 });
  const end = w.now + checkBoundMs(TIME_SCALE) * 2 + 130_000 * TIME_SCALE;
  while (w.now < end) {
    w.now += 50;
    await settle(w, h);
    checkInvariants();
  }
  if (h.running) problems.push(`${h.running.checkId} never concluded`);
  for (const s of h.signings) if (!s.lockClear) problems.push(`an order was signed at ${s.at} while the lock was held`);
  const ran = Object.values(h.ticks).filter((v) => v !== null);
  if (new Set(ran).size !== ran.length) problems.push("a check id was reused by two ticks");
  return { w, h, problems: [...new Set(problems)] };
}

describe("check core model", () => {
  it("holds every invariant over 1,000 random schedules", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 60 }), async (actions) => {
        const { problems } = await runSchedule(actions);
        expect(problems).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });

  it("a lost reply plus REST lag places exactly one order, and the next tick waits for the lock", async () => {
    const { w, h, problems } = await runSchedule([
      { t: "knobs", knobs: { replyMode: "timeout", restLag: 4_000, execLatency: 100 } },
      { t: "tick" },
      { t: "advance", ms: 200 },
      { t: "tick" },
      { t: "advance", ms: 150 },
    ]);
    expect(problems).toEqual([]);
    expect([...w.ordersPerCheck().values()]).toEqual([1]);
    expect(Object.values(h.ticks)).toEqual(["c1", null]);
    expect(["pass", "degraded"]).toContain(h.verdicts.c1!.outcome.verdict);
  });

  it("a deferred rejection (status 2 + ae) concludes tx_rejected with the code from ae", async () => {
    const { h, problems } = await runSchedule([{ t: "knobs", knobs: { appReject: true } }, { t: "tick" }]);
    expect(problems).toEqual([]);
    const v = Object.values(h.verdicts)[0]!;
    expect(v.outcome.diagnosis).toBe("tx_rejected");
    expect(v.outcome.evidence.exchange_code).toBe(21739);
  });

  it("a forged fill from another account never passes", async () => {
    const { h, problems } = await runSchedule([
      { t: "knobs", knobs: { fills: false, withholdWs: true, execLatency: 30 } },
      { t: "tick" },
      { t: "forge", how: "account" },
      { t: "advance", ms: 40 },
      { t: "forge", how: "account" },
    ]);
    expect(problems).toEqual([]);
    expect(h.verdicts.c1!.outcome.verdict).toBe("fail");
    expect(h.verdicts.c1!.outcome.diagnosis).toBe("not_filled");
  });

  it("a forged fill under another order_index is a ws_rest_mismatch once REST answers", async () => {
    const { h, problems } = await runSchedule([
      { t: "knobs", knobs: { fills: false, withholdWs: true, execLatency: 30 } },
      { t: "tick" },
      { t: "forge", how: "order_index" },
    ]);
    expect(problems).toEqual([]);
    expect(h.verdicts.c1!.outcome.diagnosis).toBe("ws_rest_mismatch");
  });

  it("a second tick during a running check never touches it; the running check still concludes", async () => {
    const { h, problems } = await runSchedule([
      { t: "knobs", knobs: { restDown: true, withholdWs: true } },
      { t: "tick" },
      { t: "advance", ms: 100 },
      { t: "tick" },
      { t: "repeat_tick" },
    ]);
    expect(problems).toEqual([]);
    expect(Object.values(h.ticks)).toEqual(["c1", null]);
    expect(Object.keys(h.verdicts)).toEqual(["c1"]);
  });
});
