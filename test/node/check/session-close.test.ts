/**
 * Issue 18: no session held longer than the next check needs. After an on-demand check the
 * session is kept for the grace period only when the next trigger (the cron handler says when in
 * the tick) is due within it; otherwise it closes at once. Unknown next trigger: the grace period.
 */
import { describe, expect, it } from "vitest";
import { nextFire } from "../../../worker/config/schedule.ts";
import { MS } from "../../../worker/monitor/check/ctx.ts";
import { Harness, TIME_SCALE } from "./harness.ts";
import { World } from "./world.ts";

const grace = Math.round(MS.sessionGrace * TIME_SCALE);

/** Runs one healthy check from a tick at 0, until it finished (flatten included). */
function run(nextAt?: number | null) {
  const w = new World();
  const h = new Harness(w);
  h.tick("k1", "cron", nextAt === undefined ? undefined : nextAt);
  let finishedAt: number | null = null;
  for (let t = 0; t < 20_000 && finishedAt === null; t += 1) {
    h.runUntil(t);
    if (h.state.check === null && h.records.size > 0) finishedAt = h.world.now;
  }
  const rec = [...h.records.values()][0]!;
  return { h, finishedAt: finishedAt!, rec };
}

/** Runs on until the session is closed; when it closed. */
function closedAt(h: Harness): number | null {
  for (let t = h.world.now; t < 60_000; t += 1) {
    if (h.state.session.status === "closed") return h.world.now;
    h.runUntil(t);
  }
  return null;
}

describe("the session after an on-demand check", () => {
  it("closes at once when the next trigger is further away than the grace period", () => {
    const { finishedAt, rec, h } = run(60_000);
    expect(rec.verdict?.verdict).toBe("pass");
    expect(h.state.session.status).toBe("closed");
    expect(closedAt(h)).toBe(finishedAt);
  });
  it("is held for the grace period when the next trigger is due within it, and reused by that check", () => {
    const { h, finishedAt } = run(grace - 1);
    expect(h.state.session.status).toBe("open");
    expect(h.state.session.idleCloseAt).toBe(finishedAt + grace);
    const opens = h.effects.filter((e) => e.kind === "open").length;
    h.tick("k2", "cron", 60_000);
    h.runUntil(h.world.now + 5_000);
    expect(h.effects.filter((e) => e.kind === "open").length).toBe(opens);
    expect(h.records.size).toBe(2);
  });
  it("is held for the grace period when the next trigger is unknown (a manual run, an old interpreter)", () => {
    const { h, finishedAt } = run(undefined);
    expect(h.state.session.status).toBe("open");
    expect(closedAt(h)).toBe(finishedAt + grace);
  });
});

describe("nextFire: when the cron handler says the trigger fires next", () => {
  const at = (iso: string) => Date.parse(iso);
  it.each([
    ["*/5 * * * *", "2026-12-06T10:00:00Z", "2026-12-06T10:05:00.000Z"],
    ["* * * * *", "2026-12-06T10:00:00Z", "2026-12-06T10:01:00.000Z"],
    ["0 */6 * * *", "2026-12-06T06:00:00Z", "2026-12-06T12:00:00.000Z"],
    ["15,45 * * * *", "2026-12-06T10:15:00Z", "2026-12-06T10:45:00.000Z"],
  ])("%s after %s → %s", (cron, from, want) => {
    expect(new Date(nextFire(cron, at(from))!).toISOString()).toBe(want);
  });
  it("an expression that does not parse: unknown", () => {
    expect(nextFire("not a cron", at("2026-12-06T10:00:00Z"))).toBeNull();
  });
});
