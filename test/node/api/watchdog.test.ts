/** The Worker watchdog's pure rules: the schedule period of a cron, and when a monitor is stalled. */
import { describe, expect, it } from "vitest";
import { cronPeriodMs, stallReason } from "../../../worker/watchdog.ts";

describe("watchdog rules", () => {
  it.each([
    ["*/5 * * * *", 300_000],
    ["*/1 * * * *", 60_000],
    ["17 * * * *", 3_600_000],
    ["17 3 * * *", 300_000],
    [null, 300_000],
  ] as const)("cronPeriodMs(%s) = %d", (cron, ms) => expect(cronPeriodMs(cron)).toBe(ms));

  const report = (over: Partial<Parameters<typeof stallReason>[0]>) => ({
    monitorId: "m",
    lastConcludedAt: 0,
    runningCheck: null,
    now: 0,
    ...over,
  });
  it("fresh and recently concluded monitors are live", () => {
    expect(stallReason(report({ lastConcludedAt: null, now: 10_000_000 }), 300_000)).toBeNull();
    expect(stallReason(report({ lastConcludedAt: 0, now: 900_000 }), 300_000)).toBeNull();
  });
  it("no check concluded for three periods is stalled", () => {
    expect(stallReason(report({ lastConcludedAt: 0, now: 900_001 }), 300_000)).toMatch(/no check concluded for 15 min/);
  });
  it("a running check a minute past its hard bound is stalled, whatever the last verdict", () => {
    const running = { id: "c1", startedAt: 0, boundAt: 100_000 };
    expect(stallReason(report({ lastConcludedAt: 150_000, runningCheck: running, now: 160_000 }), 300_000)).toBeNull();
    expect(stallReason(report({ lastConcludedAt: 150_000, runningCheck: running, now: 160_001 }), 300_000)).toMatch(
      /c1 is 60 s past its hard bound/,
    );
  });
});
