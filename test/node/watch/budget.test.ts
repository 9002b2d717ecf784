/** The watch REST budget: a rolling-minute cap that is never exceeded, and the pause after a 429. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  callWeight,
  isPaused,
  newBudget,
  nextAvailable,
  pause,
  spentIn,
  tryTake,
  WINDOW_MS,
} from "../../../worker/monitor/watch/budget.ts";

describe("watch REST budget", () => {
  it("allows the budget in a minute, refuses the next call, and frees a unit 60 s after it was spent", () => {
    const b = newBudget();
    for (let i = 0; i < 12; i++) expect(tryTake(b, 12, 1, 1_000 + i)).toBe(true);
    expect(tryTake(b, 12, 1, 30_000)).toBe(false);
    expect(nextAvailable(b, 12, 1, 30_000)).toBe(1_000 + WINDOW_MS);
    expect(tryTake(b, 12, 1, 1_000 + WINDOW_MS)).toBe(true);
    expect(spentIn(b, 1_000 + WINDOW_MS)).toBe(12);
  });

  it("a 429 stops every call for the pause, then the budget applies again", () => {
    const b = newBudget();
    pause(b, 5_000);
    expect(isPaused(b, 64_999)).toBe(true);
    expect(tryTake(b, 12, 1, 64_999)).toBe(false);
    expect(nextAvailable(b, 12, 1, 10_000)).toBe(65_000);
    expect(tryTake(b, 12, 1, 65_000)).toBe(true);
    expect(isPaused(b, 65_000)).toBe(false);
  });

  it("weights: one unit per call on Standard, PROTOCOL.md §5.9 weights on premium tiers", () => {
    expect(callWeight("standard", "trades")).toBe(1);
    expect(callWeight("premium", "trades")).toBe(600);
    expect(callWeight("premium", "accountInactiveOrders")).toBe(100);
    expect(callWeight("premium", "account")).toBe(300);
  });

  it("property: over random schedules no rolling minute ever holds more than the budget", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 20_000 }), units: fc.integer({ min: 1, max: 5 }) }), {
          maxLength: 300,
        }),
        fc.array(fc.integer({ min: 0, max: 299 }), { maxLength: 5 }),
        (budget, schedule, pauses) => {
          const b = newBudget();
          const taken: [number, number][] = [];
          let now = 0;
          schedule.forEach(({ dt, units }, i) => {
            now += dt;
            if (pauses.includes(i)) pause(b, now);
            const paused = isPaused(b, now);
            if (tryTake(b, budget, units, now)) {
              expect(paused).toBe(false);
              taken.push([now, units]);
            }
          });
          for (const [t] of taken) {
            const inWindow = taken.filter(([u]) => u > t - WINDOW_MS && u <= t).reduce((a, [, n]) => a + n, 0);
            expect(inWindow).toBeLessThanOrEqual(budget);
          }
        },
      ),
    );
  });

  it("property: nextAvailable is exact — a take succeeds there and not a millisecond earlier", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (gaps, budget) => {
          const b = newBudget();
          let now = 0;
          for (const g of gaps) {
            now += g;
            tryTake(b, budget, 1, now);
          }
          const at = nextAvailable(b, budget, 1, now);
          if (at > now) expect(tryTake(structuredClone(b), budget, 1, at - 1)).toBe(false);
          expect(tryTake(b, budget, 1, at)).toBe(true);
        },
      ),
    );
  });
});
