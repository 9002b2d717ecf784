/**
 * Issue 16, defects 11-13 in the MONITORS parser: an entry with an error is kept as an invalid
 * entry (id, the targets that parsed, its own problems) instead of disappearing; time_scale is
 * bounded so a test order's ExpiredAt stays within the exchange's window; schedules are read by
 * the cron library.
 */
import { describe, expect, it } from "vitest";
import { loadConfig, parseMonitors } from "../../../worker/config.ts";
import { MAX_TIME_SCALE, ORDER_TX_VALIDITY_MS, MAX_EXPIRED_AT_AHEAD_MS } from "../../../worker/config/time-scale.ts";

const entry = (extra: Record<string, unknown>) => ({
  network: "testnet",
  account_index: 5,
  api_key_index: 4,
  ...extra,
});
const hook = { type: "webhook", url: "https://hooks.example/h" };

describe("an entry with an error is kept, not dropped", () => {
  it("max_slippage_bps 99999: invalid, with its id, its problem and the targets that parsed", () => {
    const raw = JSON.stringify([
      entry({}),
      entry({ account_index: 6, max_slippage_bps: 99_999, alerts: { targets: [hook, { type: "slack" }] } }),
    ]);
    const { monitors, invalid, problemsOf } = parseMonitors(raw);
    expect(monitors.map((m) => m.id)).toEqual(["testnet:5:4"]);
    expect(problemsOf["testnet:5:4"]).toEqual([]);
    expect(invalid).toHaveLength(1);
    const bad = invalid[0]!;
    expect(bad).toMatchObject({ index: 1, id: "testnet:6:4", network: "testnet", chainId: 300, accountIndex: 6n });
    expect(bad.alerts.targets).toEqual([
      { type: "webhook", url: hook.url, urlSecret: null, secretName: null, chatId: null },
    ]);
    expect(bad.problems.map((p) => p.setting).sort()).toEqual([
      "MONITORS[1].alerts.targets[1]",
      "MONITORS[1].max_slippage_bps",
    ]);
  });

  it("an entry without an account is named by its place", () => {
    const { invalid } = parseMonitors(
      JSON.stringify([{ network: "testnet", api_key_index: 4, alerts: { targets: [hook] } }]),
    );
    expect(invalid.map((m) => [m.id, m.accountIndex, m.alerts.targets.length])).toEqual([["MONITORS[0]", null, 1]]);
  });

  it("a duplicate of a valid entry is listed as invalid under its place", () => {
    const { monitors, invalid } = parseMonitors(JSON.stringify([entry({}), entry({ markets: [1] })]));
    expect(monitors).toHaveLength(1);
    expect(invalid.map((m) => [m.id, m.problems[0]!.message])).toEqual([
      ["MONITORS[1]", expect.stringContaining("are the same key") as string],
    ]);
  });

  it("a valid monitor's own warnings (and missing secrets) are its problems", () => {
    const { problemsOf } = loadConfig({
      MONITORS: JSON.stringify([entry({ api_key_index: 2, colour: "red" })]),
      API_TOKEN: "x",
    });
    expect(problemsOf["testnet:5:2"]!.map((p) => p.setting)).toEqual([
      "MONITORS[0].colour",
      "MONITORS[0].api_key_index",
      "LIGHTER_PRIVATE_KEY__TESTNET_5_2",
    ]);
  });
});

describe("time_scale keeps ExpiredAt inside the exchange's window", () => {
  it("the bound follows from the order's tx validity", () => {
    expect(ORDER_TX_VALIDITY_MS * MAX_TIME_SCALE).toBeLessThanOrEqual(MAX_EXPIRED_AT_AHEAD_MS);
    expect(ORDER_TX_VALIDITY_MS * (MAX_TIME_SCALE + 0.01)).toBeGreaterThan(MAX_EXPIRED_AT_AHEAD_MS);
    expect(MAX_TIME_SCALE).toBe(4.99);
  });
  it.each([0.2, 1, 4.99])("time_scale %d is accepted", (ts) => {
    const { monitors, problems } = parseMonitors(JSON.stringify([entry({ time_scale: ts })]));
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(monitors[0]!.timeScale).toBe(ts);
  });
  it.each([5, 10, 100])("time_scale %d is an error naming time_scale and ExpiredAt", (ts) => {
    const { monitors, invalid } = parseMonitors(JSON.stringify([entry({ time_scale: ts })]));
    expect(monitors).toEqual([]);
    const p = invalid[0]!.problems.find((x) => x.setting === "MONITORS[0].time_scale")!;
    expect(p.message).toMatch(
      /ExpiredAt \d+ s ahead; the exchange accepts at most 599 s \(else 21711 invalid expiry\)/,
    );
    expect(p.fix).toMatch(/4\.99 or less/);
  });
});

describe("schedules are read by the cron library", () => {
  it.each(["0 */6 * * *", "0 12 * * *", "15,45 * * * *", "*/5 * * * *", "0 0 1 * MON"])("%j is accepted", (s) => {
    const { monitors, problems } = parseMonitors(JSON.stringify([entry({ schedule: s })]));
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(monitors[0]!.schedule).toBe(s);
  });
  it.each(["61 * * * *", "0 */6 * *", "* * * * * *", "hourly"])("%j is refused naming schedule", (s) => {
    const { invalid } = parseMonitors(JSON.stringify([entry({ schedule: s })]));
    expect(invalid[0]!.problems.map((p) => [p.setting, /cron expression/.test(p.message)])).toEqual([
      ["MONITORS[0].schedule", true],
    ]);
  });
});
