/**
 * loadConfig parses MONITORS once per distinct input: the same MONITORS and the same secret
 * presence give the cached result (the same object), any edit gives the new config at the next
 * call, and the memo (worker/config/memo.ts) stays bounded.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../worker/config.ts";
import { ReadMemo } from "../../../worker/config/memo.ts";

const entry = (account: number, extra: Record<string, unknown> = {}) => ({
  network: "testnet",
  account_index: account,
  api_key_index: 4,
  ...extra,
});
const slack = { alerts: { targets: [{ type: "slack", url_secret: "ALERT_SLACK_MEMO" }] } };

describe("loadConfig memo", () => {
  it("returns the cached result for an unchanged MONITORS and env", () => {
    const raw = JSON.stringify([entry(71), entry(72, slack)]);
    const a = loadConfig({ MONITORS: raw, API_TOKEN: "t" });
    // A different env object with the same values: still the same inputs.
    const b = loadConfig({ MONITORS: `${raw}`, API_TOKEN: "other" });
    expect(b).toBe(a);
    expect(a.monitors.map((m) => m.id)).toEqual(["testnet:71:4", "testnet:72:4"]);
  });

  it("a changed MONITORS value gives the new config at the next call", () => {
    const env: Record<string, unknown> = { MONITORS: JSON.stringify([entry(73)]), API_TOKEN: "t" };
    const before = loadConfig(env);
    env.MONITORS = JSON.stringify([entry(73, { max_orders_per_day: 7 }), entry(74)]);
    const after = loadConfig(env);
    expect(after).not.toBe(before);
    expect(after.monitors.map((m) => [m.id, m.caps.maxOrdersPerDay])).toEqual([
      ["testnet:73:4", 7],
      ["testnet:74:4", 400],
    ]);
    env.MONITORS = JSON.stringify([entry(73)]);
    expect(loadConfig(env).monitors.map((m) => m.caps.maxOrdersPerDay)).toEqual([400]);
  });

  it("a secret set or removed changes the problems at the next call", () => {
    const env: Record<string, unknown> = { MONITORS: JSON.stringify([entry(75, slack)]), API_TOKEN: "t" };
    const missing = loadConfig(env).problems.map((p) => p.setting);
    expect(missing).toContain("ALERT_SLACK_MEMO");
    env.ALERT_SLACK_MEMO = "https://hooks.example/x";
    expect(loadConfig(env).problems.map((p) => p.setting)).not.toContain("ALERT_SLACK_MEMO");
    expect(loadConfig(env).problemsOf["testnet:75:4"]!.map((p) => p.setting)).not.toContain("ALERT_SLACK_MEMO");
    delete env.ALERT_SLACK_MEMO;
    expect(loadConfig(env).problems.map((p) => p.setting)).toContain("ALERT_SLACK_MEMO");
    env.API_TOKEN = "";
    expect(loadConfig(env).problems.map((p) => p.setting)).toContain("API_TOKEN");
  });

  it("the cached result cannot be changed by a caller", () => {
    const r = loadConfig({ MONITORS: JSON.stringify([entry(76)]) });
    expect(() => r.problems.push(r.problems[0]!)).toThrow(TypeError);
  });

  it("keeps at most maxKeys inputs and perKey env variants", () => {
    const memo = new ReadMemo<string>(3, 2);
    let computed = 0;
    const f = (key: string, env: Record<string, unknown>) =>
      memo.get(key, env, (state) => {
        computed++;
        return `${key}:${state("S")}`;
      });
    for (let i = 0; i < 50; i++) f(`k${i}`, {});
    expect(memo.size).toBe(3);
    expect(computed).toBe(50);
    f("k49", {}); // still kept: no compute
    expect(computed).toBe(50);
    f("k0", {}); // evicted long ago: computed again
    expect(computed).toBe(51);
    expect(f("v", { S: "x" })).toBe("v:set");
    expect(f("v", { S: "" })).toBe("v:empty");
    expect(f("v", {})).toBe("v:unset");
    expect(memo.size).toBeLessThanOrEqual(3 * 2);
    expect(f("v", { S: "y" })).toBe("v:set"); // a variant dropped (perKey 2): computed again, right value
  });
});
