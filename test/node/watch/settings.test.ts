/**
 * A watch monitor's settings from its config entry (worker/monitor/watch/settings.ts), pure: the
 * durations at its time_scale, what a changed entry means for a running watch, and how often the
 * alarm loop turns the machine.
 */
import { describe, expect, it } from "vitest";
import { parseMonitors } from "../../../worker/config.ts";
import { settingsChange, watchSettings, watchTurnMs } from "../../../worker/monitor/watch/settings.ts";

const entry = (over: Record<string, unknown> = {}) =>
  parseMonitors(
    JSON.stringify([
      { network: "testnet", account_index: 500, api_key_index: 4, mode: "watch", markets: [0], ...over },
    ]),
  ).monitors[0]!;
const half = (ms: number) => ms / 2;

describe("watch settings", () => {
  it("durations at the time_scale, counts and the tier as configured; a check entry has none", () => {
    const s = watchSettings(entry(), half)!;
    expect(s).toMatchObject({ account: "500", markets: [0], windowMs: 5_000, secondMs: 500, maxOrders: 1000 });
    expect(s.tier).toBe("standard");
    expect(s.bot).toBeNull();
    const check = parseMonitors(`[{"network":"testnet","account_index":500,"api_key_index":4}]`).monitors[0]!;
    expect(watchSettings(check, half)).toBeNull();
  });

  it("a changed entry: nothing, new settings, or (another account) a restart", () => {
    const s = watchSettings(entry(), half)!;
    const table: [Record<string, unknown>, string][] = [
      [{}, "same"],
      [{ markets: [0, 1] }, "settings"],
      [{ watch: { window_s: 20 } }, "settings"],
      [{ account_index: 501 }, "restart"],
      [{ account_index: 501, markets: [0, 1] }, "restart"],
    ];
    for (const [over, change] of table)
      expect(settingsChange(s, watchSettings(entry(over), half)!), JSON.stringify(over)).toBe(change);
  });

  it("the alarm loop turns the machine every second at time_scale, 5 ms … 250 ms", () => {
    const table: [number, number][] = [
      [1, 250],
      [0.1, 100],
      [0.001, 5],
    ];
    for (const [scale, ms] of table)
      expect(watchTurnMs(watchSettings(entry(), (x) => Math.max(1, Math.round(x * scale)))!)).toBe(ms);
  });
});
