/**
 * Regression tests for issue 16's defects 11-14, outside the check path: a MONITORS entry with a
 * config error disappears, a time_scale that makes every order expire out of range, schedule
 * periods guessed by a regex (monitor_stalled on every trigger), and a prefix test for the
 * loopback exception of alert URLs. Each reads /status, the alerts received, or the exchange.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FillMonitor } from "../../durable-objects/FillMonitor.ts";
import { monitorStub } from "../../worker/stub.ts";
import {
  api,
  monitorFor,
  receivedAlerts,
  runCron,
  simOrders,
  simRequests,
  waitFor,
  waitForVerdict,
} from "./helpers.ts";

interface Problem {
  severity: string;
  setting: string;
  message: string;
  fix: string;
}

/** The /status entry of `monitorId`, valid or not. */
async function statusEntry(
  monitorId: string,
): Promise<(Record<string, unknown> & { config_problems?: Problem[] }) | null> {
  const res = await api("/status");
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    monitors: (Record<string, unknown> & { id: string; config_problems?: Problem[] })[];
  };
  return body.monitors.find((x) => x.id === monitorId) ?? null;
}

const HOUR = 3_600_000;

describe("issue 16: every MONITORS entry shows, valid or not", { timeout: 60_000 }, () => {
  // regression for defect 11 (issue 16)
  it("an entry with max_slippage_bps 99999 is listed in /status with its problem, and alerts through its targets", async () => {
    const m = monitorFor("reg_broken");
    const entry = await statusEntry(m.id);
    expect(entry, "the broken entry is missing from /status").not.toBeNull();
    expect(entry!.config_problems?.map((p) => p.setting).join(", ")).toMatch(/max_slippage_bps/);
    expect(entry!.valid).toBe(false);
    // A valid entry lists its own problems only (none here), not every entry's.
    const healthy = await statusEntry(monitorFor("pass").id);
    expect(healthy).toMatchObject({ valid: true, config_problems: [] });
    // The cron trigger (and the Worker's watchdog on it) pages through the entry's own target.
    await runCron("reg_broken", 1_802_000_000_000);
    const alerts = await waitFor("config alert", async () => {
      const got = await receivedAlerts("reg_broken");
      return got.length > 0 ? got : null;
    });
    const text = JSON.stringify(alerts[0]!.body);
    expect(text).toContain("config_invalid");
    expect(text).toContain("max_slippage_bps");
    // At most once an hour: a second trigger in the same hour sends nothing more.
    await runCron("reg_broken", 1_802_000_300_000);
    expect(await receivedAlerts("reg_broken")).toHaveLength(1);
  });

  // regression for defect 12 (issue 16)
  it("time_scale 10 is refused with a problem naming time_scale and ExpiredAt; no order is sent", async () => {
    const m = monitorFor("reg_time_scale");
    const entry = await statusEntry(m.id);
    expect(entry, "the entry is missing from /status").not.toBeNull();
    const p = entry!.config_problems?.find((x) => /time_scale/.test(x.setting));
    expect(p, JSON.stringify(entry!.config_problems ?? null)).toBeDefined();
    expect(p!.message).toMatch(/ExpiredAt/);
    await runCron("reg_time_scale", 1_802_100_000_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const sends = (await simRequests()).filter(
      (r) => r.path.startsWith("/api/v1/sendTx") && r.account === String(m.account_index),
    );
    expect(sends).toEqual([]);
    expect(await simOrders(m.account_index)).toEqual([]);
  });

  // regression for defect 14 (issue 16)
  it("http://127.0.0.1.evil.example/h is refused as an alert URL, with a problem naming the field", async () => {
    const m = monitorFor("reg_evil_url");
    const entry = await statusEntry(m.id);
    expect(entry, "the entry is missing from /status").not.toBeNull();
    const p = entry!.config_problems?.find((x) => x.setting.endsWith("alerts.targets[0].url"));
    expect(p, JSON.stringify(entry)).toBeDefined();
    expect(p!.message).toContain("127.0.0.1.evil.example");
    // The entry runs no check; its one good target hears why.
    await runCron("reg_evil_url", 1_802_150_000_000);
    const alerts = await waitFor("config alert", async () => {
      const got = await receivedAlerts("reg_evil_url");
      return got.length > 0 ? got : null;
    });
    expect(JSON.stringify(alerts[0]!.body)).toContain("alerts.targets[0].url");
  });
});

/** Sets when the monitor's last check concluded, as the Worker's watchdog reads it. */
async function lastConcludedAgo(monitorId: string, agoMs: number): Promise<void> {
  const stub = monitorStub(env, { id: monitorId, locationHint: null });
  await stub.status(monitorId);
  // The watchdog reads the newest finished_at of the history rows (the check machine keeps no meta key).
  await runInDurableObject(stub, (_i: FillMonitor, state) => {
    const sql = state.storage.sql;
    const at = Date.now() - agoMs;
    const n = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM checks`).toArray()[0]!.n;
    if (n === 0) {
      sql.exec(
        `INSERT INTO checks (id, tick_key, market, state, phase, started_at, finished_at, verdict) VALUES ('seed', 'seed', 0, 'done', 'done', ?, ?, 'pass')`,
        at,
        at,
      );
    }
    sql.exec(`UPDATE checks SET started_at = MIN(started_at, ?), finished_at = ?`, at, at);
  });
}

async function stalledAlerts(scenario: string) {
  return (await receivedAlerts(scenario)).filter((a) => JSON.stringify(a.body).includes("monitor_stalled"));
}

describe("issue 16: the watchdog reads real cron fire times", { timeout: 60_000 }, () => {
  const cases = [
    // scenario, schedule, one period (the last check concluded a little more than that ago), stale
    { scenario: "reg_cron_6h", cron: "0 */6 * * *", fine: 6 * HOUR + 600_000, stale: 25 * HOUR },
    { scenario: "reg_cron_daily", cron: "0 12 * * *", fine: 25 * HOUR, stale: 4 * 24 * HOUR + HOUR },
    { scenario: "reg_cron_quarter", cron: "15,45 * * * *", fine: 35 * 60_000, stale: 3 * HOUR },
  ];
  let hour = 1_802_200_000_000 - (1_802_200_000_000 % HOUR);
  for (const c of cases) {
    // regression for defect 13 (issue 16)
    it(`schedule "${c.cron}": a check one period ago is not stalled; none for 3 fire times is`, async () => {
      const m = monitorFor(c.scenario);
      await lastConcludedAgo(m.id, c.fine);
      await runCron(c.scenario, (hour += 2 * HOUR), c.cron);
      expect((await stalledAlerts(c.scenario)).map((a) => JSON.stringify(a.body))).toEqual([]);
      // The check that trigger started concludes; then the monitor goes quiet for 3 fire times.
      await waitForVerdict(m.id, undefined, 30_000);
      await lastConcludedAgo(m.id, c.stale);
      await runCron(c.scenario, (hour += 2 * HOUR), c.cron);
      expect(await stalledAlerts(c.scenario)).toHaveLength(1);
      await waitForVerdict(m.id, undefined, 30_000);
    });
  }
});
