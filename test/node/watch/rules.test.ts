/** Watch verdict rules: per-fill judgement over channels and coverage, cycle grouping, position moves. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FILL_CHANNELS,
  channelResult,
  cycleResult,
  judgeFill,
  moveExplained,
  type FillChannel,
} from "../../../worker/monitor/watch/rules.ts";

const always = [{ from: -1_000_000, to: null }];
const allCovered = { account_orders: always, account_all_orders: always, account_all_trades: always };

describe("judgeFill", () => {
  it("reported in the window; missing channels are named", () => {
    const j = judgeFill({
      fillAt: 1000,
      reports: { account_all_orders: 1040, account_orders: null, account_all_trades: 1030 },
      coverage: allCovered,
      windowMs: 100,
      now: 1200,
    });
    expect(j).toEqual({ kind: "reported", firstAt: 1030, delayMs: 30, missingOn: ["account_orders"] });
  });

  it("pending while inside the window, missed after it with no report, late when the report came after", () => {
    const base = { fillAt: 1000, coverage: allCovered, windowMs: 100 };
    expect(judgeFill({ ...base, reports: {}, now: 1099 }).kind).toBe("pending");
    expect(judgeFill({ ...base, reports: {}, now: 1101 })).toEqual({ kind: "missed" });
    expect(judgeFill({ ...base, reports: { account_all_trades: 1500 }, now: 1600 })).toEqual({
      kind: "late",
      firstAt: 1500,
      delayMs: 500,
    });
  });

  it("a fill in a coverage gap (or whose window a close cut short) is reconciled, never alerted", () => {
    const gap = [
      { from: 0, to: 900 },
      { from: 1500, to: null },
    ];
    const coverage = { account_orders: gap, account_all_orders: gap, account_all_trades: gap };
    expect(judgeFill({ fillAt: 1000, reports: {}, coverage, windowMs: 100, now: 5000 })).toEqual({ kind: "gap" });
    const cut = [{ from: 0, to: 1050 }];
    expect(
      judgeFill({ fillAt: 1000, reports: {}, coverage: { account_all_orders: cut }, windowMs: 100, now: 5000 }),
    ).toEqual({ kind: "gap" });
  });

  it("property: a fill is alerted iff no covering channel reported it within the window (nor at all by now)", () => {
    const rep = fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null });
    fc.assert(
      fc.property(
        fc.record({ account_orders: rep, account_all_orders: rep, account_all_trades: rep }),
        fc.record({ account_orders: fc.boolean(), account_all_orders: fc.boolean(), account_all_trades: fc.boolean() }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 4000 }),
        (reports, cov, windowMs, now) => {
          const fillAt = 500;
          const coverage: Partial<Record<FillChannel, { from: number; to: number | null }[]>> = {};
          for (const ch of FILL_CHANNELS) coverage[ch] = cov[ch] ? always : [];
          const j = judgeFill({ fillAt, reports, coverage, windowMs, now });
          const owing = FILL_CHANNELS.filter((ch) => cov[ch]);
          const inTime = owing.some((ch) => reports[ch] !== null && reports[ch]! <= fillAt + windowMs);
          const anyReport = owing.some((ch) => reports[ch] !== null);
          const alerted = j.kind === "missed";
          expect(alerted).toBe(owing.length > 0 && now >= fillAt + windowMs && !anyReport);
          if (inTime && now >= fillAt + windowMs) expect(j.kind).toBe("reported");
          if (j.kind === "late") expect(j.delayMs).toBeGreaterThan(windowMs);
        },
      ),
    );
  });
});

describe("channelResult", () => {
  it("a fill missed by one covering channel fails that channel; all channels in time pass; nothing decided is null", () => {
    const r = channelResult([
      { kind: "reported", firstAt: 1, delayMs: 1, missingOn: ["account_orders"] },
      { kind: "reported", firstAt: 2, delayMs: 2, missingOn: ["account_orders", "account_all_trades"] },
      { kind: "missed" },
    ]);
    expect(r).toEqual({ verdict: "fail", missingOn: { account_orders: 2, account_all_trades: 1 } });
    expect(channelResult([{ kind: "reported", firstAt: 1, delayMs: 1, missingOn: [] }]).verdict).toBe("pass");
    expect(channelResult([{ kind: "missed" }, { kind: "gap" }, { kind: "late", firstAt: 9, delayMs: 9 }]).verdict).toBe(
      null,
    );
  });
});

describe("cycleResult", () => {
  it("any miss fails the cycle (one incident), reported fills pass it, gaps and late reports prove nothing", () => {
    expect(cycleResult([{ kind: "missed" }, { kind: "reported", firstAt: 1, delayMs: 1, missingOn: [] }])).toBe("fail");
    expect(cycleResult([{ kind: "reported", firstAt: 1, delayMs: 1, missingOn: [] }])).toBe("pass");
    expect(cycleResult([{ kind: "gap" }, { kind: "late", firstAt: 9, delayMs: 9 }])).toBeNull();
    expect(cycleResult([])).toBeNull();
  });
});

describe("moveExplained", () => {
  it("a position move needs a fill on its market between the previous position report and the window end", () => {
    const m = { market: 0, from: "0", to: "0.0100", at: 2000, prevAt: 1000 };
    expect(moveExplained(m, [{ market: 0, at: 1500 }], 100, 0)).toBe(true);
    expect(moveExplained(m, [{ market: 0, at: 2050 }], 100, 0)).toBe(true);
    expect(moveExplained(m, [{ market: 1, at: 1500 }], 100, 0)).toBe(false);
    expect(moveExplained(m, [{ market: 0, at: 500 }], 100, 0)).toBe(false);
    expect(moveExplained(m, [], 100, 0)).toBe(false);
  });
});

describe("judgeFill for a fill no channel covered", () => {
  const none = { account_orders: [], account_all_orders: [], account_all_trades: [] };
  const base = { fillAt: 1000, coverage: none, windowMs: 100, giveUpAt: 5000 };
  it("a live report decides it; else the reconnect snapshot; else it waits, then is a gap", () => {
    expect(judgeFill({ ...base, reports: { account_all_orders: 1050 }, now: 1060 }).kind).toBe("reported");
    expect(judgeFill({ ...base, reports: { account_all_orders: 1500 }, now: 1600 })).toEqual({
      kind: "late",
      firstAt: 1500,
      delayMs: 500,
    });
    const snap = (reachesBack: boolean, carried: boolean) => ({ reachesBack, carried });
    expect(judgeFill({ ...base, reports: {}, now: 1200, snapshot: snap(true, false) })).toEqual({ kind: "missed" });
    expect(judgeFill({ ...base, reports: {}, now: 1050, snapshot: snap(true, false) }).kind).toBe("pending");
    expect(judgeFill({ ...base, reports: {}, now: 1200, snapshot: snap(true, true) })).toEqual({ kind: "gap" });
    expect(judgeFill({ ...base, reports: {}, now: 1200, snapshot: snap(false, false) })).toEqual({ kind: "gap" });
    expect(judgeFill({ ...base, reports: {}, now: 4999, snapshot: null }).kind).toBe("pending");
    expect(judgeFill({ ...base, reports: {}, now: 5000, snapshot: null })).toEqual({ kind: "gap" });
  });
});
