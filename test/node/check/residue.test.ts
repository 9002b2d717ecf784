/**
 * Table tests of the residue rule (soak seed 18): a check whose flatten failed leaves its own fill on
 * the account; the machine keeps that residue (durably), sends no new test order while it is open,
 * retries closing it at the next tick through the flatten's own path (sized from the residue only),
 * and the `flatten` incident resolves only when the position is back where the check found it.
 */
import { describe, expect, it } from "vitest";
import { residueEvidence } from "../../../worker/monitor/check/residue.ts";
import { Harness } from "./harness.ts";
import { runSchedule, type Action } from "./model.ts";
import { setup } from "./scenario.ts";
import { World } from "./world.ts";

/** Runs check k1 until its verdict, then evicts the object while no socket can be opened: the flatten fails. */
function failedFlatten(h: Harness, w: World): string {
  h.tick("k1");
  for (let t = w.now; t < 20_000 && !h.state.check?.verdict; t += 5) h.runUntil(t);
  const id = h.state.check!.id;
  expect(h.state.check!.verdict, "k1 concluded").not.toBeNull();
  w.knobs.refuseConnections = true;
  h.restart();
  h.runUntil(w.now + 60_000);
  expect(h.state.check, "the flatten ended").toBeNull();
  expect(h.records.get(id)!.flattenOutcome).toBe("failed");
  return id;
}

const flattenAlerts = (h: Harness) => h.alerts.filter((a) => a.stream === "flatten");
const lastFlattenAlert = (h: Harness) => flattenAlerts(h).at(-1)!.result;
const testSigns = (h: Harness, id: string) => h.signs.filter((s) => s.checkId === id && !s.flatten);
const recordOf = (h: Harness, key: string) => [...h.records.values()].find((r) => r.tickKey === key)!;

describe("a flatten that failed leaves a residue the machine carries", () => {
  it("keeps the residue (market, signed base, expected position, check id), saved durably", () => {
    const { w, h } = setup({}, 300n);
    const id = failedFlatten(h, w);
    // The test order sold (it reduces the long position found), and the flatten could not buy it back.
    expect(w.position).toBe(250n);
    expect(lastFlattenAlert(h).diagnosis).toBe("flatten_failed");
    expect(h.state.residue).toMatchObject({
      checkId: id,
      market: 0,
      base: "-50",
      positionBefore: "300",
    });
    expect(residueEvidence(h.state.residue!).position_expected_base, "where the position stands while it is open").toBe(
      "250",
    );
    const stored = JSON.parse(h.stored) as typeof h.state;
    expect(stored.residue?.base, "the residue is in the saved state").toBe("-50");
  });

  it("the next tick closes it through the flatten (sized from the residue, reduce-only): position restored, incident resolved", () => {
    const { w, h } = setup();
    const id = failedFlatten(h, w);
    expect(w.position).toBe(50n);
    w.knobs.refuseConnections = false;
    h.tick("k2");
    h.runUntil(w.now + 60_000);
    const r2 = recordOf(h, "k2");
    expect([r2.verdict?.verdict, r2.verdict?.diagnosis]).toEqual(["skipped", "residue_open"]);
    expect(testSigns(h, r2.id), "no test order while the residue is open").toEqual([]);
    const closing = h.signs.filter((s) => s.checkId === r2.id && s.flatten);
    expect(closing.length).toBeGreaterThan(0);
    expect(closing.every((s) => s.base === 50n && s.isAsk)).toBe(true);
    // Executed: one reduce-only sell of the residue (a re-sign after a nonce refusal never reached the book).
    const done = [...w.executed.values()].filter((e) => closing.some((s) => s.coi === e.tx.coi));
    expect(done.map((e) => [e.filled, e.tx.isAsk, e.tx.reduceOnly])).toEqual([[50n, true, true]]);
    expect(w.position).toBe(0n);
    expect(h.state.residue ?? null).toBeNull();
    const a = lastFlattenAlert(h);
    expect(a.verdict).toBe("pass");
    expect(a.evidence.residue_of).toBe(id);
    // Then checks run again.
    h.tick("k3");
    h.runUntil(w.now + 60_000);
    const r3 = recordOf(h, "k3");
    expect(r3.verdict?.verdict).toBe("pass");
    expect(testSigns(h, r3.id)).toHaveLength(1);
    expect(w.position).toBe(0n);
  });

  it("a long position found: the residue of a sell is bought back (not reduce-only: it adds to the long)", () => {
    const { w, h } = setup({}, 300n);
    failedFlatten(h, w);
    w.knobs.refuseConnections = false;
    h.tick("k2");
    h.runUntil(w.now + 60_000);
    expect(w.position).toBe(300n);
    expect(h.state.residue ?? null).toBeNull();
    expect(lastFlattenAlert(h).verdict).toBe("pass");
  });

  it("while the residue cannot be closed, no new test order goes out and the flatten incident stays open", () => {
    const { w, h } = setup();
    const id = failedFlatten(h, w);
    for (const k of ["k2", "k3", "k4"]) {
      h.tick(k);
      h.runUntil(w.now + 60_000);
      const r = recordOf(h, k);
      expect([r.verdict?.verdict, r.verdict?.diagnosis]).toEqual(["skipped", "residue_open"]);
      expect(String(JSON.stringify(r.evidence.residue))).toContain('"base":"50"');
      expect(testSigns(h, r.id)).toEqual([]);
    }
    expect(
      h.transmits.map((t) => t.checkId),
      "only k1's test order ever went out",
    ).toEqual([id]);
    expect(h.state.residue?.base).toBe("50");
    expect(flattenAlerts(h).every((a) => a.result.verdict === "fail")).toBe(true);
    expect(w.position).toBe(50n);
    // The exchange heals: the next tick closes it.
    w.knobs.refuseConnections = false;
    h.tick("k5");
    h.runUntil(w.now + 60_000);
    expect(w.position).toBe(0n);
    expect(lastFlattenAlert(h).verdict).toBe("pass");
  });

  it("a restart with a residue in the stored state: the new instance still closes it before any check", () => {
    const { w, h } = setup({}, -300n);
    failedFlatten(h, w);
    w.knobs.refuseConnections = false;
    h.restart();
    expect(h.state.residue?.base).toBe("50");
    h.tick("k2");
    h.runUntil(w.now + 60_000);
    expect(recordOf(h, "k2").verdict?.diagnosis).toBe("residue_open");
    expect(w.position).toBe(-300n);
    expect(h.state.residue ?? null).toBeNull();
    expect(lastFlattenAlert(h).verdict).toBe("pass");
  });

  it("a restart while the residue is being closed goes on from the saved state, never trading more than it", () => {
    const { w, h } = setup();
    failedFlatten(h, w);
    w.knobs.refuseConnections = false;
    h.tick("k2");
    const k2 = h.state.check!.id;
    const end = w.now + 5_000;
    for (let t = w.now; t < end && !h.transmits.some((x) => x.checkId === k2); t += 1) h.runUntil(t);
    expect(
      h.transmits.some((x) => x.checkId === k2),
      "the closing order went out",
    ).toBe(true);
    expect(w.position, "not executed yet when the object restarts").toBe(50n);
    h.restart();
    h.runUntil(w.now + 60_000);
    h.tick("k3");
    h.runUntil(w.now + 60_000);
    expect(w.position).toBe(0n);
    expect(h.state.residue ?? null).toBeNull();
    const sold = [...w.executed.values()].filter((e) => e.tx.isAsk).reduce((a, e) => a + e.filled, 0n);
    expect(sold, "never more than the residue was sold").toBe(50n);
  });

  it("the residue is already gone by the REST position: closed without trading, and said so", () => {
    const { w, h } = setup();
    failedFlatten(h, w);
    w.knobs.refuseConnections = false;
    // Someone closed it by hand.
    w.position = 0n;
    const before = h.signs.length;
    h.tick("k2");
    h.runUntil(w.now + 60_000);
    expect(h.signs.slice(before)).toEqual([]);
    expect(h.state.residue ?? null).toBeNull();
    const a = lastFlattenAlert(h);
    expect(a.verdict).toBe("pass");
    expect(String(a.evidence.how)).toMatch(/already/);
  });

  it("the position moved past the residue (someone traded): never more than the residue is traded, and an alert says why", () => {
    const { w, h } = setup();
    failedFlatten(h, w);
    w.knobs.refuseConnections = false;
    w.position = 500n;
    const before = h.signs.length;
    h.tick("k2");
    h.runUntil(w.now + 60_000);
    const traded = h.signs.slice(before).filter((s) => s.flatten);
    expect(traded.every((s) => s.base <= 50n)).toBe(true);
    expect(w.position).toBe(450n);
    expect(h.state.residue ?? null).toBeNull();
    const a = lastFlattenAlert(h);
    expect(a.verdict).toBe("fail");
    expect(a.diagnosis).toBe("flatten_residual");
  });

  it("the position moved against the residue: nothing is traded and an alert says why", () => {
    const { w, h } = setup();
    failedFlatten(h, w);
    w.knobs.refuseConnections = false;
    w.position = -200n;
    const before = h.signs.length;
    h.tick("k2");
    h.runUntil(w.now + 60_000);
    expect(h.signs.slice(before)).toEqual([]);
    expect(w.position).toBe(-200n);
    expect(lastFlattenAlert(h).verdict).toBe("fail");
  });
});

describe("the model's counterexample on the machine before residues (seed -60463258) replayed", () => {
  it("a flatten whose orders did not fill: the next trigger sends no test order, and no pass resolves the incident while the position differs", () => {
    const schedule: Action[] = [
      { t: "knobs", knobs: { execLatency: 157 } },
      { t: "tick" },
      { t: "advance", ms: 400 },
      { t: "knobs", knobs: { fills: false } },
      { t: "advance", ms: 400 },
      { t: "tick" },
      { t: "advance", ms: 1 },
    ];
    const { h, problems } = runSchedule(schedule);
    expect(problems).toEqual([]);
    const second = [...h.records.values()].find((r) => r.tickKey === "k2");
    expect(second?.verdict?.diagnosis).toBe("residue_open");
  });
});

describe("the long model's counterexample (3000 runs) replayed", () => {
  it("a flatten failed for lack of a key; the key comes back: the residue is closed to the position the check found", () => {
    const schedule: Action[] = [
      { t: "tick" },
      { t: "advance", ms: 29 },
      { t: "config", change: "no_key" },
      { t: "advance", ms: 85 },
      { t: "config", change: "key" },
      { t: "tick" },
      { t: "advance", ms: 1 },
    ];
    const { w, h, problems } = runSchedule(schedule);
    expect(problems).toEqual([]);
    expect(w.position).toBe(0n);
    expect(h.state.residue ?? null).toBeNull();
  });
});

describe("the long model's second counterexample (3000 runs) replayed", () => {
  it("a flatten order unseen after a restart is measured by the position: it had filled, so no residue opens and nothing of someone else's position is traded", () => {
    const schedule: Action[] = [
      { t: "tick" },
      { t: "knobs", knobs: { restLag: 324 } },
      { t: "advance", ms: 49 },
      { t: "restart" },
      { t: "knobs", knobs: { rejectAuth: true } },
      { t: "advance", ms: 1061 },
      { t: "knobs", knobs: { restForget: true } },
      ...[2718, 228, 116].map((ms) => ({ t: "advance" as const, ms })),
      { t: "storm", drops: 12, gap: 32, jitter: 0 },
      { t: "storm", drops: 2, gap: 16, jitter: 0 },
      { t: "advance", ms: 3418 },
      { t: "restart" },
      ...[304, 343, 310, 247, 2378].map((ms) => ({ t: "advance" as const, ms })),
      { t: "knobs", knobs: { partial: true } },
      { t: "advance", ms: 28 },
      { t: "advance", ms: 160 },
      { t: "position", base: 80 },
      { t: "tick" },
      { t: "advance", ms: 1 },
    ];
    const { h, problems } = runSchedule(schedule);
    expect(problems).toEqual([]);
    // Before: the unseen flatten order counted as unfilled, a phantom residue of 50 opened while the
    // position was back at 0, and the next tick sold 30 of the 80 someone else had bought.
    const opened = h.effects.some((e) => e.kind === "log" && e.event === "residue.opened");
    expect(opened, "no residue: the flatten order had filled").toBe(false);
    const first = h.alerts.filter((a) => a.stream === "flatten")[0]!.result;
    expect(first.verdict).toBe("pass");
  });
});

describe("a flatten that failed before REST resolved the test order", () => {
  it.each([
    ["it filled", true, 50n],
    ["it never filled", false, 0n],
  ] as [string, boolean, bigint][])(
    "the residue is the order's size until the lock learns its fill (%s); the next trigger restores the position",
    (_name, fills, moved) => {
      const { w, h } = setup();
      w.knobs.fills = fills;
      h.tick("k1");
      for (let t = w.now; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
      w.knobs.restDown = true;
      h.runUntil(w.now + 60_000);
      expect(h.state.check, "the check and its flatten ended").toBeNull();
      expect(w.position).toBe(moved);
      expect(h.state.residue).toMatchObject({ base: "50", upperBound: true });
      w.knobs.restDown = false;
      h.runUntil(w.now + 10_000);
      expect(h.state.lock, "the lock learned the order's end").toBeNull();
      expect(h.state.residue).toMatchObject({ base: moved.toString(), upperBound: false });
      const before = h.signs.length;
      h.tick("k2");
      h.runUntil(w.now + 60_000);
      expect(recordOf(h, "k2").verdict?.diagnosis).toBe("residue_open");
      expect(h.signs.slice(before).filter((s) => s.flatten).length > 0).toBe(fills);
      expect(w.position).toBe(0n);
      expect(h.state.residue ?? null).toBeNull();
      expect(lastFlattenAlert(h).verdict).toBe("pass");
    },
  );
});
