/**
 * Issue 18's cost targets on the real object: a healthy on-demand check writes at most 10 SQL
 * statements (the object's own meter, `storage.write_statements` in /status: machine saves, history
 * row, alert state, log and counter flushes, everything), and the session is not held after a
 * check when no check is due within the grace period.
 */
import { describe, expect, it } from "vitest";
import { monitorFor, monitorStatus, runCron, waitFor } from "./helpers.ts";

type Status = Awaited<ReturnType<typeof monitorStatus>> & {
  counters: Record<string, number>;
  session: { state: string };
};

describe("a healthy check's cost", () => {
  it("writes at most 10 statements per healthy check (steady state, 3 checks after a first one)", async () => {
    const m = monitorFor("writes");
    const t0 = 1_900_000_000_000;
    /** Runs one cron check and waits until it is over: verdict, flatten done, session closed, log flushed. */
    let prev: string | null = null;
    const checkDone = async (k: number) => {
      await runCron("writes", t0 + k * 60_000);
      return waitFor(
        `check ${k} done and its session closed`,
        async () => {
          const s = (await monitorStatus(m.id)) as Status;
          const c = s.last_check;
          if (!c || c.id === prev || c.state !== "done" || c.flatten === null) return null;
          if (s.session.state !== "closed") return null;
          prev = c.id;
          expect(c.verdict, JSON.stringify(c)).toBe("pass");
          expect(c.flatten).toBe("ok");
          return s;
        },
        30_000,
        100,
      );
    };
    const writes = (s: Status) => s.counters["storage.write_statements"] ?? 0;
    const first = await checkDone(0);
    let last = first;
    for (let k = 1; k <= 3; k++) last = await checkDone(k);
    const perCheck = (writes(last) - writes(first)) / 3;
    expect(perCheck, JSON.stringify(last.counters)).toBeGreaterThan(0);
    expect(perCheck, JSON.stringify(last.counters)).toBeLessThanOrEqual(10);
  }, 150_000);
});
