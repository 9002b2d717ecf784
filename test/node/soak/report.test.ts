/**
 * The soak report's position rule: a check that leaves the position moved is drift, unless a flatten
 * alert of its lane followed and a later tick of the lane put the position back (a residue).
 */
import { describe, expect, it } from "vitest";
import { figures, type PartInput, type Trace } from "../../soak/report.ts";

function trace(tick: string, before: string, after: string, startedAt: number): Trace {
  return {
    tick,
    fault: "none",
    params: {},
    restartAt: null,
    startedAt,
    boundAt: startedAt + 10_000,
    concludedAt: startedAt + 100,
    label: "pass",
    ordersCreated: 1,
    positionBefore: before,
    positionAfter: after,
    filledOnExchange: true,
  };
}

function part(traces: Trace[], alerts: PartInput["alerts"]): PartInput {
  return {
    part: "worker",
    machine: "test",
    seed: 1,
    traces,
    frames: 0,
    restarts: 0,
    wallMs: 1,
    cpuUs: null,
    frameCpuUs: null,
    writes: null,
    storage: null,
    alerts,
    notCovered: [],
    flattens: true,
    timeScale: 1,
  };
}

const flattenAlert = (lane: string, at: number) => ({
  key: `${lane}:custom:1:4:flatten:c1:flatten`,
  kind: "trigger",
  checkId: null,
  at,
});

describe("soak report: position drift and residues", () => {
  const moved = [trace("soak2:cron:1", "0", "50", 1_000), trace("soak2:cron:2", "50", "0", 5_000)];

  it("a moved position with a flatten alert, put back by a later tick, is a residue, not drift", () => {
    const f = figures(part(moved, [flattenAlert("soak2", 1_500)]));
    expect(f.position_drift).toBe(0); // nor is the tick that closed it (50 → 0)
    expect(f.residues_alerted_and_closed).toBe(1);
  });

  it("without the alert it is drift", () => {
    const f = figures(part(moved, []));
    expect(f.residues_alerted_and_closed).toBe(0);
    expect(f.position_drift).toBe(2);
  });

  it("an alert of another lane, or one before the check started, explains nothing", () => {
    expect(figures(part(moved, [flattenAlert("soak1", 1_500)])).residues_alerted_and_closed).toBe(0);
    expect(figures(part(moved, [flattenAlert("soak2", 500)])).residues_alerted_and_closed).toBe(0);
  });

  it("with the alert but never put back it is drift", () => {
    const f = figures(part([trace("soak2:cron:1", "0", "50", 1_000)], [flattenAlert("soak2", 1_500)]));
    expect(f.residues_alerted_and_closed).toBe(0);
    expect(f.position_drift).toBe(1);
  });
});
