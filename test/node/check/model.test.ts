/**
 * Model test of THE check machine (worker/monitor/check/machine.ts), driven through the test
 * interpreter against the model world: random schedules (model.ts) and the properties every run
 * keeps — never a sendTx in a dry run; the account's position after a check equals the one before
 * unless an alert says why; a flatten never exceeds the check's own fill or the caps; no order after
 * a refused account subscription; connects per check bounded; every check concludes by its bound
 * whatever alert delivery does; no verdict from a stale deadline; at most one order per check and
 * never two of ours that could still execute; a verdict never changes; no pass without a fill.
 * FILLWATCH_MODEL_RUNS sets the number of runs (npm run test:model:long).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { action, runSchedule } from "./model.ts";

const RUNS = Number(process.env.FILLWATCH_MODEL_RUNS ?? "300");

describe("check machine model", () => {
  it(`holds every property over ${RUNS} random schedules`, () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 80, size: "max" }), (actions) => {
        const { problems } = runSchedule(actions);
        expect(problems).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
