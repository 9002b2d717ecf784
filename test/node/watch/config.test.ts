/** Watch-mode configuration: defaults, bounds, the Standard budget cap, secret names, watched accounts. */
import { describe, expect, it } from "vitest";
import { loadConfig, parseMonitors } from "../../../worker/config.ts";
import { secretReferenceProblem } from "../../../worker/config/secrets.ts";

const base = { network: "testnet", account_index: 500, api_key_index: 4 };
const parse = (list: unknown[]) => parseMonitors(JSON.stringify(list));
const errors = (list: unknown[]) => parse(list).problems.filter((p) => p.severity === "error");

describe("watch config", () => {
  it("defaults: window 10 s, budget 12 a minute on Standard, the monitor's markets", () => {
    const { monitors, problems } = parse([{ ...base, mode: "watch", markets: [0, 1] }]);
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(monitors[0]!.mode).toBe("watch");
    expect(monitors[0]!.watch).toMatchObject({
      markets: [0, 1],
      windowMs: 10_000,
      restBudgetPerMin: 12,
      tier: "standard",
      maxOrdersTracked: 1000,
      readTokenSecret: null,
    });
  });

  it("a budget above 30 on Standard is an error that names the setting and the fix", () => {
    const e = errors([{ ...base, mode: "watch", watch: { rest_budget_per_min: 31 } }]);
    expect(e).toHaveLength(1);
    expect(e[0]!.setting).toBe("MONITORS[0].watch.rest_budget_per_min");
    expect(e[0]!.message).toMatch(/shared with your bot/);
    expect(e[0]!.fix).toMatch(/at most 30/);
    expect(errors([{ ...base, mode: "watch", watch: { tier: "premium", rest_budget_per_min: 7200 } }])).toEqual([]);
  });

  it("a reconcile period the budget cannot pay for is an error", () => {
    const e = errors([{ ...base, mode: "watch", watch: { reconcile_s: 2, rest_budget_per_min: 12 } }]);
    expect(e.map((p) => p.setting)).toEqual(["MONITORS[0].watch.reconcile_s"]);
    expect(e[0]!.fix).toMatch(/at least 5/);
  });

  it("bad values name the setting: window_s, markets, tier, unknown keys warn", () => {
    const { problems } = parse([
      { ...base, mode: "watch", watch: { window_s: 0, markets: ["x"], tier: "gold", colour: 1 } },
    ]);
    const settings = problems.map((p) => `${p.severity}:${p.setting}`);
    expect(settings).toEqual(
      expect.arrayContaining([
        "error:MONITORS[0].watch.window_s",
        "error:MONITORS[0].watch.markets",
        "error:MONITORS[0].watch.tier",
        "warning:MONITORS[0].watch.colour",
      ]),
    );
  });

  it("read_token_secret must be a LIGHTER_READ_TOKEN__* secret and must be set", () => {
    const e = errors([{ ...base, mode: "watch", watch: { read_token_secret: "ALERT_X" } }]);
    expect(e[0]!.fix).toMatch(/LIGHTER_READ_TOKEN__ALERT_X/);
    expect(secretReferenceProblem("read_token", "LIGHTER_READ_TOKEN__MAIN", "x.read_token_secret")).toBeNull();
    expect(secretReferenceProblem("read_token", "API_TOKEN", "x.read_token_secret")?.severity).toBe("error");
    expect(secretReferenceProblem("private_key", "LIGHTER_READ_TOKEN__MAIN", "x.private_key_secret")).not.toBeNull();
    const monitors = JSON.stringify([
      { ...base, mode: "watch", watch: { read_token_secret: "LIGHTER_READ_TOKEN__M" } },
    ]);
    const missing = loadConfig({ MONITORS: monitors, API_TOKEN: "t" }).problems.filter((p) => p.severity === "error");
    expect(missing.map((p) => p.setting)).toEqual(["LIGHTER_READ_TOKEN__M"]);
    const ok = loadConfig({ MONITORS: monitors, API_TOKEN: "t", LIGHTER_READ_TOKEN__M: "ro:500:all:9:ab" });
    expect(ok.problems).toEqual([]);
  });

  it("a watch monitor with neither key nor read token is an error (it is never a dry run)", () => {
    const monitors = JSON.stringify([{ ...base, mode: "watch" }]);
    const p = loadConfig({ MONITORS: monitors, API_TOKEN: "t" }).problems;
    expect(p.map((x) => `${x.severity}:${x.setting}`)).toEqual(["error:LIGHTER_PRIVATE_KEY__TESTNET_500_4"]);
  });

  it("synthetic checks on a watched account are an error unless allowed", () => {
    const watch = { ...base, mode: "watch" };
    const check = { ...base, api_key_index: 5 };
    const e = errors([watch, check]);
    expect(e.map((p) => p.setting)).toEqual(["MONITORS[1].allow_test_orders_on_watched_account"]);
    expect(e[0]!.message).toMatch(/hedge/);
    expect(errors([watch, { ...check, allow_test_orders_on_watched_account: true }])).toEqual([]);
    expect(errors([watch, { ...check, account_index: 501 }])).toEqual([]);
  });

  it("watch settings outside watch mode are flagged", () => {
    const p = parse([{ ...base, watch: { window_s: 5 } }]).problems;
    expect(p.map((x) => `${x.severity}:${x.setting}`)).toEqual(["warning:MONITORS[0].watch"]);
  });
});
