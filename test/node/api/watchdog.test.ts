/**
 * The Worker watchdog's pure rules: fire times of a cron (from croner, as Cloudflare reads the
 * expression: five fields, UTC) and when a monitor is stalled (no verdict since the 4th most
 * recent fire time, or a check a minute past its hard bound).
 */
import { describe, expect, it } from "vitest";
import { cronProblem, previousFires } from "../../../worker/config/schedule.ts";
import { stallReason } from "../../../worker/watchdog.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("cron fire times", () => {
  const now = at("2026-12-06T08:10:00Z");
  it.each([
    ["*/5 * * * *", ["2026-12-06T08:10:00.000Z", "2026-12-06T08:05:00.000Z", "2026-12-06T08:00:00.000Z"]],
    ["0 */6 * * *", ["2026-12-06T06:00:00.000Z", "2026-12-06T00:00:00.000Z", "2026-12-05T18:00:00.000Z"]],
    ["0 12 * * *", ["2026-12-05T12:00:00.000Z", "2026-12-04T12:00:00.000Z", "2026-12-03T12:00:00.000Z"]],
    ["15,45 * * * *", ["2026-12-06T07:45:00.000Z", "2026-12-06T07:15:00.000Z", "2026-12-06T06:45:00.000Z"]],
    ["17 3 * * *", ["2026-12-06T03:17:00.000Z", "2026-12-05T03:17:00.000Z", "2026-12-04T03:17:00.000Z"]],
    // day-of-month OR day-of-week, as Cloudflare (and Vixie cron) read both: the 1st, or any Monday
    ["0 0 1 * 1", ["2026-12-01T00:00:00.000Z", "2026-11-30T00:00:00.000Z", "2026-11-23T00:00:00.000Z"]],
  ] as const)("%s fired at %j", (cron, fires) => {
    expect(previousFires(cron, now, 3).map(iso)).toEqual(fires);
  });

  it("a fire exactly at now counts", () => {
    expect(previousFires("0 */6 * * *", at("2026-12-06T06:00:00Z"), 1).map(iso)).toEqual(["2026-12-06T06:00:00.000Z"]);
  });

  it.each(["* * * *", "0 */6 * * * *", "61 * * * *", "0 25 * * *", "every hour", ""])(
    "%j is not a usable cron",
    (c) => {
      expect(cronProblem(c)).toMatch(/cron expression/);
      expect(previousFires(c, now, 3)).toEqual([]);
    },
  );
});

describe("when a monitor is stalled", () => {
  const report = (over: Partial<Parameters<typeof stallReason>[0]>) => ({
    monitorId: "m",
    lastConcludedAt: 0,
    runningCheck: null,
    now: at("2026-12-06T08:10:00Z"),
    ...over,
  });
  it("a fresh monitor (nothing concluded yet) is live", () => {
    expect(stallReason(report({ lastConcludedAt: null }), "*/5 * * * *")).toBeNull();
  });

  it("a watch that started within three periods and never reconciled is live; one that started before is stalled", () => {
    const cron = "*/5 * * * *";
    expect(stallReason(report({ lastConcludedAt: null, watchStartedAt: at("2026-12-06T07:55:00Z") }), cron)).toBeNull();
    expect(stallReason(report({ lastConcludedAt: null, watchStartedAt: null }), cron)).toBeNull();
    expect(stallReason(report({ lastConcludedAt: null, watchStartedAt: at("2026-12-06T07:54:59Z") }), cron)).toMatch(
      /the watch started 15 min ago and never completed a reconciliation/,
    );
  });

  it.each([
    // cron, last verdict one period ago (live), last verdict before the 4th fire back (stalled)
    ["*/5 * * * *", "2026-12-06T08:05:30Z", "2026-12-06T07:54:59Z"],
    ["0 */6 * * *", "2026-12-06T00:00:30Z", "2026-12-05T11:59:59Z"],
    ["0 12 * * *", "2026-12-05T07:00:00Z", "2026-12-02T11:59:59Z"],
    ["15,45 * * * *", "2026-12-06T07:35:00Z", "2026-12-06T06:14:59Z"],
  ] as const)("%s: live after a verdict at %s, stalled after one at %s", (cron, live, stale) => {
    expect(stallReason(report({ lastConcludedAt: at(live) }), cron)).toBeNull();
    expect(stallReason(report({ lastConcludedAt: at(stale) }), cron)).toMatch(
      new RegExp(
        `no check concluded for \\d+ min \\(three schedule periods: the fire times of "${cron.replace(/[*]/g, "\\*")}"`,
      ),
    );
  });

  it("the 4th fire back is the limit: a verdict exactly then is live", () => {
    expect(stallReason(report({ lastConcludedAt: at("2026-12-05T12:00:00Z") }), "0 */6 * * *")).toBeNull();
  });

  it("an expression the library cannot read falls back to three 5-minute periods", () => {
    expect(stallReason(report({ lastConcludedAt: at("2026-12-06T07:55:00Z") }), "not a cron")).toBeNull();
    expect(stallReason(report({ lastConcludedAt: at("2026-12-06T07:54:59Z") }), "not a cron")).toMatch(/15 min/);
  });

  it("a running check a minute past its hard bound is stalled, whatever the last verdict", () => {
    const now = at("2026-12-06T08:10:00Z");
    const running = { id: "c1", startedAt: now - 200_000, boundAt: now - 60_000 };
    expect(stallReason(report({ lastConcludedAt: now - 10_000, runningCheck: running }), "*/5 * * * *")).toBeNull();
    expect(
      stallReason(report({ lastConcludedAt: now - 10_000, runningCheck: running, now: now + 1 }), "*/5 * * * *"),
    ).toMatch(/c1 is 60 s past its hard bound/);
  });
});
