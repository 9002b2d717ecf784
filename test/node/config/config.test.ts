/** MONITORS validation: every problem names the setting and the fix; exact account indexes. */
import { describe, expect, it } from "vitest";
import { checkConfigFiles, parseDevVars } from "../../../worker/config-check.ts";
import { loadConfig, parseMonitors, privateKeySecretName } from "../../../worker/config.ts";

const ok = (extra = "") => `[{"network":"testnet","account_index":123456,"api_key_index":4${extra}}]`;

describe("parseMonitors", () => {
  it("defaults: testnet URLs and chain 300, market 0, on-demand, caps", () => {
    const { monitors, problems } = parseMonitors(ok());
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(monitors[0]).toMatchObject({
      id: "testnet:123456:4",
      chainId: 300,
      restUrl: "https://testnet.zklighter.elliot.ai",
      wsUrl: "wss://testnet.zklighter.elliot.ai/stream",
      markets: [0],
      mode: "on-demand",
      timeScale: 1,
    });
    expect(monitors[0]!.privateKeySecretName).toBe("LIGHTER_PRIVATE_KEY__TESTNET_123456_4");
  });

  it("each bad setting is an error naming it and the fix", () => {
    const cases: [string, string][] = [
      ["[{", "MONITORS"],
      ['{"a":1}', "MONITORS[0].account_index"],
      ['[{"account_index":0,"api_key_index":4}]', "MONITORS[0].account_index"],
      ['[{"account_index":281474976710655,"api_key_index":4}]', "MONITORS[0].account_index"],
      ['[{"account_index":1,"api_key_index":255}]', "MONITORS[0].api_key_index"],
      ['[{"account_index":1,"api_key_index":4,"network":"moon"}]', "MONITORS[0].network"],
      ['[{"account_index":1,"api_key_index":4,"network":"custom"}]', "MONITORS[0].rest_url"],
      ['[{"account_index":1,"api_key_index":4,"markets":[]}]', "MONITORS[0].markets"],
      ['[{"account_index":1,"api_key_index":4,"mode":"always"}]', "MONITORS[0].mode"],
      ['[{"account_index":1,"api_key_index":4,"location_hint":"mars"}]', "MONITORS[0].location_hint"],
      [
        '[{"account_index":1,"api_key_index":4,"alerts":{"targets":[{"type":"pigeon"}]}}]',
        "MONITORS[0].alerts.targets[0].type",
      ],
      [
        '[{"account_index":1,"api_key_index":4,"alerts":{"targets":[{"type":"pagerduty"}]}}]',
        "MONITORS[0].alerts.targets[0]",
      ],
      ['[{"account_index":1,"api_key_index":4},{"account_index":1,"api_key_index":4}]', "MONITORS[1]"],
    ];
    for (const [raw, setting] of cases) {
      const { problems } = parseMonitors(raw);
      const p = problems.find((x) => x.severity === "error");
      expect(p, raw).toBeDefined();
      expect(p!.setting, raw).toBe(setting);
      expect(p!.fix.length, raw).toBeGreaterThan(5);
    }
  });

  it("the mainnet gate keys on chain id 304, whatever the URL", () => {
    const { monitors, problems } = parseMonitors(
      '[{"network":"custom","rest_url":"https://example.test","ws_url":"wss://example.test/stream","chain_id":304,"account_index":7,"api_key_index":4}]',
    );
    expect(monitors[0]!.allowMainnet).toBe(false);
    expect(problems.some((p) => p.setting.endsWith("allow_mainnet"))).toBe(true);
  });

  it("refuses the reserved API key indexes 0-3 with the reason (LIVE.md L.13.5); warns about unknown settings", () => {
    for (const index of [0, 1, 2, 3]) {
      const { monitors, problems } = parseMonitors(`[{"account_index":7,"api_key_index":${index},"colour":"red"}]`);
      expect(monitors).toEqual([]);
      const key = problems.find((p) => p.setting === "MONITORS[0].api_key_index")!;
      expect(key.severity).toBe("error");
      expect(key.message).toMatch(/reserved: Lighter keeps indexes 0-3/);
      expect(key.fix).toMatch(/index 4/);
      expect(problems.find((p) => p.setting === "MONITORS[0].colour")!.severity).toBe("warning");
    }
    expect(parseMonitors('[{"account_index":7,"api_key_index":4}]').problems).toEqual([]);
  });

  it("loadConfig reports missing secrets by name, never by value", () => {
    const r = loadConfig({
      MONITORS: ok(',"alerts":{"targets":[{"type":"slack","url_secret":"ALERT_SLACK_URL"}]}'),
      API_TOKEN: "t",
    });
    expect(r.problems.map((p) => p.setting)).toEqual(
      expect.arrayContaining(["LIGHTER_PRIVATE_KEY__TESTNET_123456_4", "ALERT_SLACK_URL"]),
    );
    const withKey = loadConfig({
      MONITORS: ok(),
      API_TOKEN: "t",
      [privateKeySecretName("testnet", 123456n, 3)]: "0xsecret-value-here",
    });
    expect(JSON.stringify(withKey, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(
      "secret-value-here",
    );
  });
});

describe("config files", () => {
  it("reads MONITORS from wrangler.toml in each TOML string form, and .dev.vars", () => {
    const cron = '[triggers]\ncrons = ["*/5 * * * *", "17 3 * * *"]\n';
    const vars = "API_TOKEN=x\nLIGHTER_PRIVATE_KEY__TESTNET_123456_4=0x1";
    for (const lit of [`'${ok()}'`, `'''${ok()}'''`, JSON.stringify(ok())]) {
      const r = checkConfigFiles(`name="x"\n${cron}[vars]\nMONITORS = ${lit}\n[other]\nMONITORS='no'`, vars);
      expect(r, lit).toEqual({ ok: true, problems: [] });
    }
    expect(parseDevVars("# c\nA=1\nB=\"two words\"\n  C = '3'\n")).toEqual({ A: "1", B: "two words", C: "3" });
  });
  it("a monitor's schedule must be one of the cron triggers", () => {
    const toml = (schedule: string) =>
      `[triggers]\ncrons = ["*/5 * * * *", "17 3 * * *"]\n[vars]\nMONITORS='[{"account_index":5,"api_key_index":4,"schedule":"${schedule}"}]'`;
    const vars = "API_TOKEN=x\nLIGHTER_PRIVATE_KEY__TESTNET_5_4=0x1";
    expect(checkConfigFiles(toml("*/5 * * * *"), vars).ok).toBe(true);
    const bad = checkConfigFiles(toml("*/7 * * * *"), vars);
    expect(bad.ok).toBe(false);
    expect(bad.problems.map((p) => p.message).join(" ")).toMatch(/never run/);
    expect(parseMonitors('[{"account_index":5,"api_key_index":4,"schedule":"often"}]').problems[0]!.setting).toBe(
      "MONITORS[0].schedule",
    );
  });

  it("flags a missing cron and loopback URLs shipped to production", () => {
    const r = checkConfigFiles(
      `[vars]\nMONITORS='[{"network":"custom","rest_url":"http://127.0.0.1:1","ws_url":"ws://localhost:1/stream","chain_id":300,"account_index":5,"api_key_index":4}]'`,
      "API_TOKEN=x\nLIGHTER_PRIVATE_KEY__CUSTOM_5_4=0x1",
    );
    expect(r.ok).toBe(false);
    expect(
      r.problems
        .filter((p) => p.severity === "error")
        .map((p) => p.message)
        .join(" "),
    ).toMatch(/loopback.*loopback.*cron|cron.*loopback/s);
  });
});
