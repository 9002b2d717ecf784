/** The `bot` block of a watch monitor: defaults, bounds, where it is ignored, the ingest-token warning. */
import { describe, expect, it } from "vitest";
import { loadConfig, parseMonitors } from "../../../worker/config.ts";
import { secretReferenceProblem } from "../../../worker/config/secrets.ts";

const base = { network: "testnet", account_index: 500, api_key_index: 4, mode: "watch" };
const parse = (list: unknown[]) => parseMonitors(JSON.stringify(list));

describe("bot config", () => {
  it("absent: no bot reconciliation; present: defaults window 10 s, silence 60 s", () => {
    expect(parse([base]).monitors[0]!.bot).toBeNull();
    expect(parse([{ ...base, bot: {} }]).monitors[0]!.bot).toEqual({ windowMs: 10_000, silenceMs: 60_000 });
    expect(parse([{ ...base, bot: { window_s: 2.5, silence_s: 30 } }]).monitors[0]!.bot).toEqual({
      windowMs: 2_500,
      silenceMs: 30_000,
    });
  });

  it("bad values name the setting; unknown keys and a silence inside the window warn", () => {
    const { problems } = parse([{ ...base, bot: { window_s: 0, silence_s: "x", windw_s: 3 } }]);
    expect(problems.filter((p) => p.severity === "error").map((p) => p.setting)).toEqual([
      "MONITORS[0].bot.window_s",
      "MONITORS[0].bot.silence_s",
    ]);
    expect(problems.some((p) => p.severity === "warning" && p.setting === "MONITORS[0].bot.windw_s")).toBe(true);
    const tight = parse([{ ...base, bot: { window_s: 30, silence_s: 20 } }]).problems;
    expect(tight.map((p) => [p.severity, p.setting])).toEqual([["warning", "MONITORS[0].bot.silence_s"]]);
    expect(parse([{ ...base, bot: [] }]).problems[0]).toMatchObject({ severity: "error", setting: "MONITORS[0].bot" });
  });

  it("ignored (with a warning) unless the monitor watches", () => {
    const { monitors, problems } = parse([{ ...base, mode: "on-demand", bot: {} }]);
    expect(monitors[0]!.bot).toBeNull();
    expect(problems.map((p) => [p.severity, p.setting])).toEqual([["warning", "MONITORS[0].bot"]]);
  });

  it("a bot block without its ingest token is a warning naming the secret; the token can never be referenced", () => {
    const env = { MONITORS: JSON.stringify([{ ...base, bot: {} }]), LIGHTER_PRIVATE_KEY__TESTNET_500_4: "0x1" };
    const warn = loadConfig(env).problems.find((p) => p.setting === "WATCH_INGEST_TOKEN__TESTNET_500_4");
    expect(warn?.severity).toBe("warning");
    expect(warn?.message).toContain("/watch/testnet:500:4/seen");
    expect(
      loadConfig({ ...env, WATCH_INGEST_TOKEN__TESTNET_500_4: "t" }).problems.some((p) =>
        p.setting.startsWith("WATCH_INGEST_TOKEN__"),
      ),
    ).toBe(false);
    expect(secretReferenceProblem("alert", "WATCH_INGEST_TOKEN__TESTNET_500_4", "x.url_secret")?.severity).toBe(
      "error",
    );
  });
});
